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
	for _, name := range []string{ColPartition, ColOffset, ColTimestamp} {
		if _, ok := sc.Root.Field(name); ok {
			return fmt.Errorf("%w: %s schema %016x: field %s clashes with a Kafka column", ErrIncompatibleSchema, e.Name, sc.Fingerprint, name)
		}
	}
	return nil
}
