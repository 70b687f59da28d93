package sink

import (
	"fmt"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// Names of the Kafka coordinate columns every sink adds to its entity tables.
const (
	ColPartition = "_kafka_partition"
	ColOffset    = "_kafka_offset"
	ColTimestamp = "_kafka_timestamp"
)

// Names of the deletion columns every sink adds to its entity and changelog tables (see
// package tombstone and DeleteMode). They are NULL on a live object's row.
const (
	// ColDeletedAt (timestamp) is when the object was deleted.
	ColDeletedAt = "_deleted_at"
	// ColDeletedReason (string) is why: deleted, merged or disappeared.
	ColDeletedReason = "_deleted_reason"
	// ColMergedInto (int64) is the surviving object's id of a merge.
	ColMergedInto = "_merged_into"
)

// DeletionsTable is the table, in the sink's schema, that remembers every deletion a
// sink applied (columns: table_name, id, _deleted_at, _deleted_reason, _merged_into,
// primary key table_name and id, the latest deletion kept), so that an older version
// read after the delete (a replay, a late page) never brings the object back, in either
// DeleteMode.
const DeletionsTable = "_deletions"

// CheckSchema verifies that a schema version of entity e can be stored by a sink: it
// has the key (long) and version (timestamp) fields the upsert relies on, and no field
// named like a Kafka column. Its errors wrap ErrIncompatibleSchema. It does not check
// that sc belongs to e.
func CheckSchema(e catalog.Entity, sc *avrocodec.Schema) error {
	for _, need := range []struct {
		name string
		kind avrocodec.Kind
	}{{catalog.Key, avrocodec.KindLong}, {e.VersionField, avrocodec.KindTimestamp}} {
		f, ok := sc.Root.Field(need.name)
		if !ok || f.Type.Kind != need.kind {
			return fmt.Errorf("%w: %s schema %016x: field %s must be a %s", ErrIncompatibleSchema, e.Name, sc.Fingerprint, need.name, need.kind)
		}
	}
	for _, name := range []string{ColPartition, ColOffset, ColTimestamp, ColDeletedAt, ColDeletedReason, ColMergedInto} {
		if _, ok := sc.Root.Field(name); ok {
			return fmt.Errorf("%w: %s schema %016x: field %s clashes with a column the sink adds", ErrIncompatibleSchema, e.Name, sc.Fingerprint, name)
		}
	}
	return nil
}
