package sink_test

import (
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

func TestGroupByEntity(t *testing.T) {
	customers, tickets := catalog.Entity{Name: "customers"}, catalog.Entity{Name: "tickets"}
	c1 := &avrocodec.Schema{Entity: "customers", Fingerprint: 1}
	c2 := &avrocodec.Schema{Entity: "customers", Fingerprint: 2}
	t1 := &avrocodec.Schema{Entity: "tickets", Fingerprint: 3}
	rec := func(e catalog.Entity, sc *avrocodec.Schema, offset int64) sink.Record {
		return sink.Record{Entity: e, Schema: sc, Offset: offset}
	}
	// group is what one EntityRecords should hold: records as indexes into the batch.
	type group struct {
		entity  string
		recs    []int
		schemas []*avrocodec.Schema
	}
	for _, tc := range []struct {
		name string
		recs []sink.Record
		want []group
	}{
		{"no records", nil, nil},
		{"one entity, one schema", []sink.Record{rec(tickets, t1, 0), rec(tickets, t1, 1)},
			[]group{{"tickets", []int{0, 1}, []*avrocodec.Schema{t1}}}},
		{"entities in order of first record, records in batch order",
			[]sink.Record{rec(tickets, t1, 0), rec(customers, c1, 0), rec(tickets, t1, 1), rec(customers, c1, 1)},
			[]group{
				{"tickets", []int{0, 2}, []*avrocodec.Schema{t1}},
				{"customers", []int{1, 3}, []*avrocodec.Schema{c1}},
			}},
		{"distinct schemas in order of first use",
			[]sink.Record{rec(customers, c2, 0), rec(customers, c1, 1), rec(customers, c2, 2), rec(customers, c1, 3)},
			[]group{{"customers", []int{0, 1, 2, 3}, []*avrocodec.Schema{c2, c1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sink.GroupByEntity(tc.recs)
			if len(got) != len(tc.want) {
				t.Fatalf("%d groups, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Entity.Name != w.entity {
					t.Errorf("group %d: entity %s, want %s", i, g.Entity.Name, w.entity)
				}
				if len(g.Records) != len(w.recs) {
					t.Fatalf("group %d: %d records, want %d", i, len(g.Records), len(w.recs))
				}
				for j, k := range w.recs {
					if g.Records[j] != &tc.recs[k] {
						t.Errorf("group %d record %d: not record %d of the batch (pointer into it)", i, j, k)
					}
				}
				if len(g.Schemas) != len(w.schemas) {
					t.Fatalf("group %d: schemas %v, want %v", i, g.Schemas, w.schemas)
				}
				for j := range w.schemas {
					if g.Schemas[j] != w.schemas[j] {
						t.Errorf("group %d schema %d: %016x, want %016x", i, j, g.Schemas[j].Fingerprint, w.schemas[j].Fingerprint)
					}
				}
			}
		})
	}
}
