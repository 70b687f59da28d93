package bigquerysink

import (
	"errors"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Sentinel errors of the BigQuery sink.
var (
	// ErrBadURI means the destination URI is not bigquery://<project>?....
	ErrBadURI = errors.New("invalid BigQuery destination URI")
	// ErrIncompatibleSchema means a schema version cannot be stored in the tables (a
	// column would change type, or the key/version fields are missing).
	ErrIncompatibleSchema = sink.ErrIncompatibleSchema
	// ErrNotPrepared means Offsets or Write was called before Prepare.
	ErrNotPrepared = errors.New("BigQuery sink used before Prepare")
	// ErrClosed means the sink was used after Close.
	ErrClosed = errors.New("BigQuery sink closed")
)
