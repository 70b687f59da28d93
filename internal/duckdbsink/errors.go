package duckdbsink

import (
	"errors"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Sentinel errors of the DuckDB sink. Lock conflicts wrap sink.ErrLocked, batches
// that do not continue the stored offsets wrap sink.ErrStaleOffset and malformed
// batches (sink.CheckBatch) wrap sink.ErrBadBatch; these cover what is specific to
// this package.
var (
	// ErrBadURI means a destination URI is not of the form duckdb:///relative/path or
	// duckdb:////absolute/path.
	ErrBadURI = errors.New("bad DuckDB destination URI")
	// ErrClosed means the sink was used after Close.
	ErrClosed = errors.New("duckdb sink is closed")
	// ErrIncompatibleSchema means a schema version changes the type of a field the
	// tables already hold (released schemas may only add nullable fields).
	ErrIncompatibleSchema = sink.ErrIncompatibleSchema
)
