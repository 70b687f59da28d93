package sink_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

func TestSchemasOf(t *testing.T) {
	customers, tickets := catalog.Entity{Name: "customers"}, catalog.Entity{Name: "tickets"}
	c1 := &avrocodec.Schema{Entity: "customers", Fingerprint: 1}
	c2 := &avrocodec.Schema{Entity: "customers", Fingerprint: 2}
	t1 := &avrocodec.Schema{Entity: "tickets", Fingerprint: 3}
	m1 := &avrocodec.Schema{Entity: "ticket_messages", Fingerprint: 4}
	for _, tc := range []struct {
		name     string
		entities []catalog.Entity
		schemas  []*avrocodec.Schema
		want     []sink.EntitySchemas
		err      string // substring of the error; "" for none
	}{
		{"no entities", nil, []*avrocodec.Schema{c1}, []sink.EntitySchemas{}, ""},
		{"one entity, its versions in order", []catalog.Entity{customers}, []*avrocodec.Schema{c2, t1, c1},
			[]sink.EntitySchemas{{Entity: customers, Schemas: []*avrocodec.Schema{c2, c1}}}, ""},
		{"entities in their order, others ignored", []catalog.Entity{tickets, customers}, []*avrocodec.Schema{c1, m1, t1, c2},
			[]sink.EntitySchemas{
				{Entity: tickets, Schemas: []*avrocodec.Schema{t1}},
				{Entity: customers, Schemas: []*avrocodec.Schema{c1, c2}},
			}, ""},
		{"entity without schema", []catalog.Entity{customers, tickets}, []*avrocodec.Schema{c1, m1}, nil,
			"no schema given for entity tickets"},
		{"no schemas at all", []catalog.Entity{customers}, nil, nil, "no schema given for entity customers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sink.SchemasOf(tc.entities, tc.schemas)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				if got != nil {
					t.Fatalf("got %v with the error, want nil", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFreshSchemas(t *testing.T) {
	s1 := &avrocodec.Schema{Entity: "tickets", Fingerprint: 1}
	s2 := &avrocodec.Schema{Entity: "tickets", Fingerprint: 2}
	s3 := &avrocodec.Schema{Entity: "tickets", Fingerprint: 3}
	knows := func(fps ...uint64) func(uint64) bool {
		return func(fp uint64) bool {
			for _, k := range fps {
				if k == fp {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		name    string
		schemas []*avrocodec.Schema
		known   func(uint64) bool
		want    []*avrocodec.Schema
	}{
		{"nothing known", []*avrocodec.Schema{s2, s1}, knows(), []*avrocodec.Schema{s2, s1}},
		{"all known", []*avrocodec.Schema{s1, s2}, knows(1, 2), nil},
		{"some known, order kept", []*avrocodec.Schema{s3, s1, s2}, knows(1), []*avrocodec.Schema{s3, s2}},
		{"repetitions kept", []*avrocodec.Schema{s2, s1, s2}, knows(1), []*avrocodec.Schema{s2, s2}},
		{"no schemas", nil, knows(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sink.FreshSchemas(tc.schemas, tc.known); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
