package bigquerysink

import (
	"errors"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestBadBatch: malformed batches and reset offsets are refused with sink.ErrBadBatch,
// as by every sink, before any job runs; nothing is stored.
func TestBadBatch(t *testing.T) {
	srv := newFake(t)
	tg := newTarget(srv, "conformance.")
	fx := sinktest.NewFixture(t, nil)
	tickets, _ := catalog.Lookup("tickets")
	customers, _ := catalog.Lookup("customers")
	s := tg.open(t)
	defer s.Close()
	if err := s.Prepare(bg, catalog.All(), fx.Reg.Schemas("")); err != nil {
		t.Fatal(err)
	}
	recs := fx.Records(t, tickets, 3, 0)
	foreign := recs[0]
	foreign.Entity = customers // a tickets schema on a customers record
	misaligned := recs[0]
	misaligned.Values = misaligned.Values[:2]
	tp := sink.TopicPartition{Topic: sinktest.Topic(tickets)}
	one := func(r sink.Record) sink.Batch {
		return sink.Batch{Records: []sink.Record{r}, Ranges: []sink.Range{{TopicPartition: tp, First: sink.NoOffset, Next: r.Offset + 1}}}
	}
	beyond := sinktest.Batch(nil, recs...)
	beyond.Ranges[0].Next = 2
	jobs := len(srv.Jobs())
	for _, tc := range []struct {
		name string
		b    sink.Batch
	}{
		{"schema of another entity", sinktest.Batch(nil, foreign)},
		{"misaligned values", one(misaligned)},
		{"record beyond its range", beyond},
		{"partition twice", sink.Batch{Ranges: []sink.Range{{TopicPartition: tp, First: sink.NoOffset, Next: 1}, {TopicPartition: tp, First: 1, Next: 2}}}},
		{"range backwards", sink.Batch{Ranges: []sink.Range{{TopicPartition: tp, First: 5, Next: 2}}}},
		{"topic outside the prefix", sink.Batch{Ranges: []sink.Range{{TopicPartition: sink.TopicPartition{Topic: "other.tickets"}, First: sink.NoOffset, Next: 1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Write(bg, tc.b); !errors.Is(err, sink.ErrBadBatch) {
				t.Fatalf("Write = %v, want sink.ErrBadBatch", err)
			}
		})
	}
	for _, next := range []map[sink.TopicPartition]int64{{tp: -1}, {{Topic: "other.tickets"}: 0}} {
		if err := s.Reset(bg, next); !errors.Is(err, sink.ErrBadBatch) {
			t.Errorf("Reset(%v) = %v, want sink.ErrBadBatch", next, err)
		}
	}
	if n := len(srv.Jobs()); n != jobs {
		t.Errorf("%d jobs ran for refused input", n-jobs)
	}
	offs, err := s.Offsets(bg)
	if err != nil {
		t.Fatal(err)
	}
	if len(offs) != 0 {
		t.Errorf("offsets stored: %v", offs)
	}
}
