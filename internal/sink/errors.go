package sink

import "errors"

// Sentinel errors shared by the runner and every sink.
var (
	// ErrStaleOffset means a batch did not start at the stored next offset of a
	// partition: another consumer wrote it meanwhile (this one is a zombie), or the batch
	// was already written. Nothing of the batch was stored.
	ErrStaleOffset = errors.New("stale offset: batch does not start at the stored next offset")
	// ErrLocked means the destination is in use by another writer (e.g. a DuckDB file
	// opened by another process).
	ErrLocked = errors.New("destination locked by another writer")
	// ErrIncompatibleSchema means a schema version cannot be stored: a field would
	// change type, or the key or version field is missing (released schemas only add
	// nullable fields).
	ErrIncompatibleSchema = errors.New("incompatible schema")
	// ErrBadBatch means the input of a Write or Reset is malformed: a partition twice in
	// the ranges or a range that runs backwards, a record without a schema of its
	// entity, with misaligned values, outside its range or out of Kafka order, a
	// negative reset offset. CheckBatch and CheckReset list what every sink refuses; a
	// sink may refuse more (BigQuery: a topic outside its prefix). The runner never
	// builds such input, so it is a caller's bug, not a condition to retry. Nothing of
	// it was stored.
	ErrBadBatch = errors.New("malformed batch")
	// ErrUnknownSchemaID means a Schema Registry does not know the schema id of a
	// Confluent wire-format record (a 404). A SchemaSource reports it with an error
	// matching it (see UnknownIDs); the runner dead-letters such records.
	ErrUnknownSchemaID = errors.New("schema id unknown to the schema registry")
	// ErrNoSchemaRegistry means a record in the Confluent wire format (first byte 0x00)
	// arrived while the runner has no SchemaSource (Config.Schemas): Run stops with it,
	// nothing of the pending batch is written and nothing is dead-lettered.
	ErrNoSchemaRegistry = errors.New("no schema registry configured")
	// ErrSchemaRegistryRefused means the schema registry refused to answer (bad
	// credentials, a wrong URL path, a forbidden subject): retrying cannot help and no
	// record is at fault, so the runner stops instead of retrying or dead-lettering.
	ErrSchemaRegistryRefused = errors.New("schema registry refused the request")
)
