// Package sink holds everything a destination needs from Kafka: the Runner consumes the
// entity topics (consumer group, read_committed), batches records by count, bytes and
// time, decodes them by schema fingerprint, dead-letters what cannot be decoded, and
// hands each batch to a Sink, which writes rows and offsets atomically. Offsets live in
// the destination; Kafka group commits are only for lag monitoring.
//
// A new destination is one package implementing Sink, plus a run of the conformance
// suite in package sinktest.
package sink

import (
	"context"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// Sink is a destination. The Runner calls Prepare once, then Offsets, then Write for
// each batch, from one goroutine; Close last. Implementations must make Write atomic:
// after a crash at any point either the whole batch (rows and offsets) is stored or
// nothing of it.
type Sink interface {
	// Prepare creates what the destination needs (schema/dataset, entity tables,
	// changelog tables if enabled, the offsets table) for every given schema version, and
	// adds missing columns. It is idempotent.
	Prepare(ctx context.Context, entities []catalog.Entity, schemas []*avrocodec.Schema) error
	// Offsets returns the stored next offset of every topic partition the sink has
	// written.
	Offsets(ctx context.Context) (map[TopicPartition]int64, error)
	// Write stores one batch atomically: upserts each record into its entity table
	// (latest version per id; an older or equal version never replaces a newer one),
	// appends every record to the changelog tables if enabled, and sets the stored next
	// offset of every range in b.Ranges. It refuses the whole batch with an error
	// wrapping ErrStaleOffset when a range's First does not match the stored next offset
	// (or First is NoOffset and an offset is stored, or vice versa). A record whose schema
	// has fields the tables lack adds the columns first (nullable; old rows get NULL).
	Write(ctx context.Context, b Batch) error
	// Reset empties the entity and changelog tables and replaces every stored offset by
	// next, atomically, for a replay.
	Reset(ctx context.Context, next map[TopicPartition]int64) error
	// Close releases the destination's resources. It stops every goroutine the sink
	// started.
	Close() error
}

// NoOffset as a Range's First means the sink must have no stored offset for the
// partition yet (the runner started it from the beginning of the topic).
const NoOffset int64 = -1

// TopicPartition names one Kafka partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Range is the part of one partition a batch covers: the runner read from First (the
// stored next offset, or NoOffset) up to Next (one past the last offset consumed,
// control records included). A range may hold no records, e.g. when every record in it
// was dead-lettered or was a transaction marker.
type Range struct {
	TopicPartition
	First, Next int64
}

// Record is one decoded Kafka record of an entity topic.
type Record struct {
	// Entity is the entity of the record's topic.
	Entity catalog.Entity
	// Schema is the writer schema; Values are aligned with Schema.Root.Fields.
	Schema *avrocodec.Schema
	// Values holds one value per field as produced by avrocodec.Registry.DecodeRow.
	Values []any
	// ID and Version are the record's id and version (the entity's VersionField).
	ID      int64
	Version time.Time
	// Kafka coordinates of the record.
	Partition int32
	Offset    int64
	Timestamp time.Time
}

// Batch is what one Write stores.
type Batch struct {
	// Records in Kafka order within each partition.
	Records []Record
	// Ranges, one per partition the batch advances.
	Ranges []Range
}
