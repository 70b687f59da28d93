package duckdbsink

import (
	"errors"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Sentinel errors of the DuckDB sink. Lock conflicts wrap sink.ErrLocked and refused
// batches wrap sink.ErrStaleOffset; these cover what is specific to this package.
var (
	// ErrBadURI means a destination URI is not of the form duckdb:///relative/path or
	// duckdb:////absolute/path.
	ErrBadURI = errors.New("bad DuckDB destination URI")
	// ErrClosed means the sink was used after Close.
	ErrClosed = errors.New("duckdb sink is closed")
	// ErrIncompatibleSchema means a schema version changes the type of a field the
	// tables already hold (released schemas may only add nullable fields).
	ErrIncompatibleSchema = sink.ErrIncompatibleSchema
	// ErrBadBatch means a batch is malformed (a record without a schema of its entity,
	// values not aligned with the schema, the same partition twice, a range ending
	// before it starts). Nothing of it was stored.
	ErrBadBatch = errors.New("malformed batch")
)
