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
	"fmt"
	"strings"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
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
	// applies each deletion as Dest.Deletes says (see DeleteMode), appends every record
	// and deletion to the changelog tables if enabled, and sets the stored next
	// offset of every range in b.Ranges. It refuses the whole batch with an error
	// wrapping ErrStaleOffset when a range's First does not match the stored next offset
	// (or First is NoOffset and an offset is stored, or vice versa). A record whose schema
	// has fields the tables lack adds the columns first (nullable; old rows get NULL).
	Write(ctx context.Context, b Batch) error
	// Reset empties the entity, changelog and deletions tables and replaces every stored offset by
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

// Record is one decoded Kafka record of an entity topic: a version of an object, or a
// deletion (Delete set; Schema and Values nil).
type Record struct {
	// Entity is the entity of the record's topic.
	Entity catalog.Entity
	// Schema is the writer schema; Values are aligned with Schema.Root.Fields.
	Schema *avrocodec.Schema
	// Values holds one value per field as produced by avrocodec.Registry.DecodeRow.
	Values []any
	// ID and Version are the record's id and version (the entity's VersionField); for a
	// deletion, the deleted id and the deletion time.
	ID      int64
	Version time.Time
	// Delete, when set, makes the record a deletion (a tombstone on the topic).
	Delete *tombstone.Deletion
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

// DeleteMode says how a sink applies deletions (sink.deletes). In both modes a version
// of an object that is not newer than its latest deletion is ignored (a replay of older
// history never brings it back), while a version newer than the deletion (the object
// really came back) is stored as usual and clears the deletion columns; a deletion older
// than the stored version is ignored; and the changelog, when enabled, gets one row per
// deletion (id, the deletion columns, the Kafka columns; the object's fields NULL).
// Within a batch the versions are applied first (checked against the deletions stored
// by earlier batches), then the deletions, so that the result does not depend on how
// the history was cut into batches.
type DeleteMode string

const (
	// SoftDelete (the default) keeps the row in the entity table with ColDeletedAt,
	// ColDeletedReason and ColMergedInto set. A deletion of an id the sink never saw
	// inserts a row holding only the id and those columns.
	SoftDelete DeleteMode = "soft"
	// HardDelete removes the row from the entity table; a deletion of an id the sink
	// never saw changes no entity row.
	HardDelete DeleteMode = "hard"
)

// UnmarshalText accepts "soft" and "hard" (any case); empty means SoftDelete.
func (m *DeleteMode) UnmarshalText(b []byte) error {
	switch v := DeleteMode(strings.ToLower(strings.TrimSpace(string(b)))); v {
	case "":
		*m = SoftDelete
	case SoftDelete, HardDelete:
		*m = v
	default:
		return fmt.Errorf("must be soft or hard, not %q", b)
	}
	return nil
}

// Hard reports whether deleted rows leave the entity table.
func (m DeleteMode) Hard() bool { return m == HardDelete }
