package sink_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

func TestCheckBatch(t *testing.T) {
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	entity := func(name string) catalog.Entity {
		e, err := catalog.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	customers, tickets, messages := entity("customers"), entity("tickets"), entity("ticket_messages")
	rec := func(e catalog.Entity, partition int32, offset int64) sink.Record {
		sc := reg.Schemas(e.Name)[0]
		return sink.Record{Entity: e, Schema: sc, Values: make([]any, len(sc.Root.Fields)), Partition: partition, Offset: offset}
	}
	rg := func(topic string, partition int32, first, next int64) sink.Range {
		return sink.Range{TopicPartition: sink.TopicPartition{Topic: topic, Partition: partition}, First: first, Next: next}
	}
	recs := func(rs ...sink.Record) []sink.Record { return rs }
	ranges := func(rs ...sink.Range) []sink.Range { return rs }
	const none = sink.NoOffset

	misaligned := rec(customers, 0, 0)
	misaligned.Values = misaligned.Values[:3]
	foreign := rec(customers, 0, 0)
	foreign.Entity = tickets // a customers schema on a tickets record
	noSchema := rec(customers, 0, 0)
	noSchema.Schema = nil
	noEntity := rec(customers, 0, 0)
	noEntity.Entity = catalog.Entity{}
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	deletion := sink.Record{Entity: customers, ID: 5, Version: at, Delete: &tombstone.Deletion{ID: 5, At: at, Reason: tombstone.Deleted}, Offset: 1}
	deletionWithValues := deletion
	deletionWithValues.Values = make([]any, 3)
	deletionOtherID := deletion
	deletionOtherID.ID = 6

	for _, tc := range []struct {
		name    string
		b       sink.Batch
		wantErr string // "" means valid
	}{
		{"empty", sink.Batch{}, ""},
		{"markers only", sink.Batch{Ranges: ranges(rg("gorgias.tickets", 1, none, 3), rg("gorgias.tickets", 2, 7, 7))}, ""},
		{"records from the start", sink.Batch{Records: recs(rec(customers, 0, 0), rec(customers, 0, 4)), Ranges: ranges(rg("gorgias.customers", 0, none, 5))}, ""},
		{"records after a stored offset", sink.Batch{Records: recs(rec(customers, 0, 10), rec(customers, 0, 19)), Ranges: ranges(rg("gorgias.customers", 0, 10, 20))}, ""},
		{"several entities and partitions", sink.Batch{
			Records: recs(rec(tickets, 1, 3), rec(messages, 1, 8), rec(tickets, 0, 2), rec(messages, 1, 9), rec(tickets, 1, 4)),
			Ranges:  ranges(rg("x.tickets", 0, 2, 3), rg("x.tickets", 1, 3, 5), rg("x.ticket_messages", 1, none, 12)),
		}, ""},
		{"no topic prefix", sink.Batch{Records: recs(rec(customers, 0, 0)), Ranges: ranges(rg("customers", 0, none, 1))}, ""},
		// A record below First is the stale-offset check's business (see CheckBatch).
		{"record below First", sink.Batch{Records: recs(rec(customers, 0, 7)), Ranges: ranges(rg("gorgias.customers", 0, 11, 20))}, ""},

		{"partition twice", sink.Batch{Ranges: ranges(rg("gorgias.customers", 0, none, 1), rg("gorgias.customers", 0, 1, 2))}, "appears twice"},
		{"range backwards", sink.Batch{Ranges: ranges(rg("gorgias.customers", 0, 5, 2))}, "is invalid"},
		{"negative next", sink.Batch{Ranges: ranges(rg("gorgias.customers", 0, none, -1))}, "is invalid"},
		{"negative first", sink.Batch{Ranges: ranges(rg("gorgias.customers", 0, -2, 3))}, "is invalid"},
		{"no topic", sink.Batch{Ranges: ranges(rg("", 0, none, 1))}, "names no topic partition"},
		{"negative partition", sink.Batch{Ranges: ranges(rg("gorgias.customers", -1, none, 1))}, "names no topic partition"},
		{"record without entity", sink.Batch{Records: recs(noEntity), Ranges: ranges(rg("gorgias.customers", 0, none, 1))}, "has no entity"},
		{"record without schema", sink.Batch{Records: recs(noSchema), Ranges: ranges(rg("gorgias.customers", 0, none, 1))}, "has no schema"},
		{"a deletion among versions", sink.Batch{Records: recs(rec(customers, 0, 0), deletion), Ranges: ranges(rg("gorgias.customers", 0, none, 2))}, ""},
		{"a deletion with values", sink.Batch{Records: recs(deletionWithValues), Ranges: ranges(rg("gorgias.customers", 0, none, 2))}, "carries a version's schema"},
		{"a deletion of another id", sink.Batch{Records: recs(deletionOtherID), Ranges: ranges(rg("gorgias.customers", 0, none, 2))}, "another id"},
		{"schema of another entity", sink.Batch{Records: recs(foreign), Ranges: ranges(rg("gorgias.tickets", 0, none, 1))}, "of entity customers"},
		{"misaligned values", sink.Batch{Records: recs(misaligned), Ranges: ranges(rg("gorgias.customers", 0, none, 1))}, "3 values"},
		{"negative offset", sink.Batch{Records: recs(rec(customers, 0, -1)), Ranges: ranges(rg("gorgias.customers", 0, none, 1))}, "negative offset"},
		{"record without range", sink.Batch{Records: recs(rec(customers, 0, 0))}, "no range"},
		{"record in another partition", sink.Batch{Records: recs(rec(customers, 1, 0)), Ranges: ranges(rg("gorgias.customers", 0, none, 1))}, "no range"},
		{"record in another topic's range", sink.Batch{Records: recs(rec(customers, 0, 0)), Ranges: ranges(rg("gorgias.tickets", 0, none, 1))}, "no range"},
		{"record at Next", sink.Batch{Records: recs(rec(customers, 0, 5)), Ranges: ranges(rg("gorgias.customers", 0, none, 5))}, "not below"},
		{"record in an empty range", sink.Batch{Records: recs(rec(customers, 0, 5)), Ranges: ranges(rg("gorgias.customers", 0, 5, 5))}, "not below"},
		{"record twice", sink.Batch{Records: recs(rec(customers, 0, 1), rec(customers, 0, 1)), Ranges: ranges(rg("gorgias.customers", 0, none, 5))}, "Kafka order"},
		{"records out of order", sink.Batch{Records: recs(rec(customers, 0, 2), rec(customers, 0, 1)), Ranges: ranges(rg("gorgias.customers", 0, none, 5))}, "Kafka order"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkBadBatch(t, "CheckBatch", sink.CheckBatch(tc.b), tc.wantErr) })
	}
}

func TestCheckReset(t *testing.T) {
	tp := func(topic string, partition int32) sink.TopicPartition {
		return sink.TopicPartition{Topic: topic, Partition: partition}
	}
	for _, tc := range []struct {
		name    string
		next    map[sink.TopicPartition]int64
		wantErr string
	}{
		{"nothing", nil, ""},
		{"to the start and further", map[sink.TopicPartition]int64{tp("gorgias.tickets", 0): 0, tp("gorgias.tickets", 1): 42}, ""},
		{"negative offset", map[sink.TopicPartition]int64{tp("gorgias.tickets", 0): sink.NoOffset}, "negative offset"},
		{"no topic", map[sink.TopicPartition]int64{tp("", 0): 0}, "names no topic partition"},
		{"negative partition", map[sink.TopicPartition]int64{tp("gorgias.tickets", -1): 0}, "names no topic partition"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkBadBatch(t, "CheckReset", sink.CheckReset(tc.next), tc.wantErr) })
	}
}

// checkBadBatch fails the test unless err is nil when want is "", or wraps
// sink.ErrBadBatch and says want.
func checkBadBatch(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("%s = %v, want nil", what, err)
	case want == "":
	case !errors.Is(err, sink.ErrBadBatch):
		t.Fatalf("%s = %v, want ErrBadBatch", what, err)
	case !strings.Contains(err.Error(), want):
		t.Fatalf("%s = %v, want it to say %q", what, err, want)
	}
}
