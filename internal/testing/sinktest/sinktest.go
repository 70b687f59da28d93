// Package sinktest is the conformance suite every sink must pass, and an in-memory
// reference sink (Memory).
//
// A sink's test calls Run with a function that returns a fresh destination for each
// sub-test:
//
//	func TestConformance(t *testing.T) {
//		sinktest.Run(t, func(t *testing.T) sinktest.Target { ... })
//	}
package sinktest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
	"github.com/gorgias-kafka/gorgias-kafka/schemas"
)

// Target is one fresh destination under test.
type Target struct {
	// Open opens the sink on the destination, applying deletions as deletes says. It is
	// called again after Close to reopen the same destination.
	Open func(t testing.TB, deletes sink.DeleteMode) sink.Sink
	// Rows reads an entity table through the open sink: one map per row, column → value,
	// in the forms of avrocodec.Registry.DecodeRow (integers of any width, time.Time,
	// map[string]any for records, []any for lists, JSON text as string).
	Rows func(t testing.TB, s sink.Sink, e catalog.Entity) []map[string]any
	// Changelog reads an entity's changelog table, or is nil when the sink keeps none.
	Changelog func(t testing.TB, s sink.Sink, e catalog.Entity) []map[string]any
	// Registry is the registry the test's records are encoded with; evolved schemas are
	// registered into it. If nil, the suite makes one.
	Registry *avrocodec.Registry
	// Form says which representations of the destination count as equal to the records
	// (e.g. BigQuery stores a NULL array as empty).
	Form Form
}

// Form lists the ways a destination may legitimately represent a value differently
// from the record it stored. The zero Form allows none.
type Form struct {
	// NullArrayIsEmpty: the destination cannot store a NULL array and stores it as an
	// empty one (BigQuery REPEATED columns).
	NullArrayIsEmpty bool
	// Deletes is the destination's deletion mode, for CheckTruth (zero: soft).
	Deletes sink.DeleteMode
}

// Fixture is realistic test data: simulator objects encoded and decoded like the
// producer and the runner do.
type Fixture struct {
	Reg *avrocodec.Registry
	Sim *gorgiassim.Sim
}

// NewFixture returns a fixture on a small deterministic simulator.
func NewFixture(t testing.TB, reg *avrocodec.Registry) *Fixture {
	t.Helper()
	if reg == nil {
		var err error
		if reg, err = avrocodec.NewRegistry(); err != nil {
			t.Fatal(err)
		}
	}
	return &Fixture{Reg: reg, Sim: gorgiassim.New(gorgiassim.Config{Seed: 11, Customers: 40, Tickets: 60, RateLimit: -1})}
}

// Topic is the topic name the suite uses for an entity.
func Topic(e catalog.Entity) string { return e.Topic("conformance.") }

// Records returns the current version of up to n objects of e (n <= 0: all), with
// consecutive offsets from offset on partition 0.
func (f *Fixture) Records(t testing.TB, e catalog.Entity, n int, offset int64) []sink.Record {
	t.Helper()
	enc, err := avrocodec.NewEncoder(e)
	if err != nil {
		t.Fatal(err)
	}
	return f.encode(t, e, enc, f.Sim.Objects(e.Resource), n, offset)
}

func (f *Fixture) encode(t testing.TB, e catalog.Entity, enc *avrocodec.Encoder, objs []json.RawMessage, n int, offset int64) []sink.Record {
	t.Helper()
	if n > 0 && n < len(objs) {
		objs = objs[:n]
	}
	var out []sink.Record
	now := f.Sim.Now()
	for i, raw := range objs {
		rec, err := enc.Encode(raw, avrocodec.Meta{Domain: "acme", ExtractedAt: now, AsOf: now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f.Decode(t, e, rec.Value, 0, offset+int64(i)))
	}
	return out
}

// Decode turns an encoded value into a sink.Record at the given coordinates.
func (f *Fixture) Decode(t testing.TB, e catalog.Entity, value []byte, partition int32, offset int64) sink.Record {
	t.Helper()
	s, vals, err := f.Reg.DecodeRow(value)
	if err != nil {
		t.Fatal(err)
	}
	return sink.Record{
		Entity: e, Schema: s, Values: vals,
		ID: vals[s.Root.FieldIndex(catalog.Key)].(int64), Version: vals[s.Root.FieldIndex(e.VersionField)].(time.Time),
		Partition: partition, Offset: offset, Timestamp: time.UnixMilli(1_700_000_000_000 + offset).UTC(),
	}
}

// Batch builds a batch of recs (all on partition 0 of their entity's topic) covering
// [first, last offset + 1) of each topic.
func Batch(first map[string]int64, recs ...sink.Record) sink.Batch {
	b := sink.Batch{Records: recs}
	next := map[string]int64{}
	var order []string
	for _, r := range recs {
		tp := Topic(r.Entity)
		if _, ok := next[tp]; !ok {
			order = append(order, tp)
		}
		next[tp] = max(next[tp], r.Offset+1)
	}
	for _, tp := range order {
		f, ok := first[tp]
		if !ok {
			f = sink.NoOffset
		}
		b.Ranges = append(b.Ranges, sink.Range{TopicPartition: sink.TopicPartition{Topic: tp, Partition: 0}, First: f, Next: next[tp]})
	}
	return b
}

// EvolvedSchema returns the current schema of e with one more nullable string field,
// x_new_field, before _extra: the kind of change a new schema version may make.
func EvolvedSchema(t testing.TB, e catalog.Entity) string {
	t.Helper()
	text, err := schemas.Current(e.Name)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	fields := doc["fields"].([]any)
	last := fields[len(fields)-1]
	fields = append(fields[:len(fields)-1], map[string]any{"name": "x_new_field", "type": []any{"null", "string"}, "default": nil}, last)
	doc["fields"] = fields
	b, _ := json.Marshal(doc)
	return string(b)
}

var bg = context.Background()

// prepared opens a fresh target in the given deletion mode, prepared for ents.
func prepared(t *testing.T, newTarget func(t *testing.T) Target, mode sink.DeleteMode, ents []catalog.Entity) (Target, sink.Sink, *Fixture) {
	t.Helper()
	tg := newTarget(t)
	fx := NewFixture(t, tg.Registry)
	s := tg.Open(t, mode)
	if err := s.Prepare(bg, ents, fx.Reg.Schemas("")); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return tg, s, fx
}

// Run runs the conformance suite against fresh targets from newTarget.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	tickets, _ := catalog.Lookup("tickets")
	messages, _ := catalog.Lookup("ticket_messages")

	// prepare opens a fresh target prepared for ents. The cases about tables and types
	// take every entity; the cases about batches and offsets take tickets and messages,
	// which is quicker on destinations where DDL is slow.
	prepare := func(t *testing.T, ents []catalog.Entity) (Target, sink.Sink, *Fixture) {
		return prepared(t, newTarget, sink.SoftDelete, ents)
	}
	setup := func(t *testing.T) (Target, sink.Sink, *Fixture) {
		return prepare(t, []catalog.Entity{tickets, messages})
	}

	t.Run("PrepareCreatesTablesIdempotently", func(t *testing.T) {
		tg, s, fx := prepare(t, catalog.All())
		defer s.Close()
		if err := s.Prepare(bg, catalog.All(), fx.Reg.Schemas("")); err != nil {
			t.Fatalf("second Prepare: %v", err)
		}
		for _, e := range catalog.All() {
			if rows := tg.Rows(t, s, e); len(rows) != 0 {
				t.Fatalf("%s: new table has %d rows", e.Name, len(rows))
			}
		}
		offs, err := s.Offsets(bg)
		if err != nil || len(offs) != 0 {
			t.Fatalf("new sink offsets %v, %v", offs, err)
		}
	})

	t.Run("RowsEqualRecords", func(t *testing.T) {
		tg, s, fx := prepare(t, catalog.All())
		defer s.Close()
		var all []sink.Record
		for _, e := range catalog.All() {
			all = append(all, fx.Records(t, e, 0, 0)...)
		}
		if err := s.Write(bg, Batch(nil, all...)); err != nil {
			t.Fatalf("Write: %v", err)
		}
		for _, e := range catalog.All() {
			var recs []sink.Record
			for _, r := range all {
				if r.Entity.Name == e.Name {
					recs = append(recs, r)
				}
			}
			compareTable(t, tg.Form, e, tg.Rows(t, s, e), recs)
			if tg.Changelog != nil {
				compareRows(t, tg.Form, e.Name+" changelog", tg.Changelog(t, s, e), recs)
			}
		}
	})

	t.Run("OffsetsRoundTrip", func(t *testing.T) {
		tg, s, fx := setup(t)
		recs := fx.Records(t, tickets, 5, 0)
		b := Batch(nil, recs...)
		b.Ranges = append(b.Ranges,
			sink.Range{TopicPartition: sink.TopicPartition{Topic: Topic(tickets), Partition: 1}, First: sink.NoOffset, Next: 3}, // markers only
		)
		if err := s.Write(bg, b); err != nil {
			t.Fatal(err)
		}
		want := map[sink.TopicPartition]int64{{Topic: Topic(tickets), Partition: 0}: 5, {Topic: Topic(tickets), Partition: 1}: 3}
		checkOffsets(t, s, want)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = tg.Open(t, sink.SoftDelete)
		defer s.Close()
		checkOffsets(t, s, want)
		if got := len(tg.Rows(t, s, tickets)); got != 5 {
			t.Fatalf("after reopen %d rows, want 5", got)
		}
	})

	t.Run("SameBatchTwiceNoDuplicates", func(t *testing.T) {
		tg, s, fx := setup(t)
		defer s.Close()
		b := Batch(nil, fx.Records(t, tickets, 10, 0)...)
		if err := s.Write(bg, b); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(bg, b); !errors.Is(err, sink.ErrStaleOffset) {
			t.Fatalf("replayed batch: %v, want ErrStaleOffset", err)
		}
		if got := len(tg.Rows(t, s, tickets)); got != 10 {
			t.Fatalf("%d rows, want 10", got)
		}
		if tg.Changelog != nil {
			if got := len(tg.Changelog(t, s, tickets)); got != 10 {
				t.Fatalf("changelog has %d rows, want 10", got)
			}
		}
	})

	t.Run("StaleFirstOffsetRefused", func(t *testing.T) {
		tg, s, fx := setup(t)
		defer s.Close()
		recs := fx.Records(t, messages, 20, 0)
		if err := s.Write(bg, Batch(nil, recs[:10]...)); err != nil {
			t.Fatal(err)
		}
		// A zombie that read from offset 7 and a batch claiming "no offset stored".
		for _, first := range []int64{7, sink.NoOffset, 11} {
			err := s.Write(bg, Batch(map[string]int64{Topic(messages): first}, recs[7:20]...))
			if !errors.Is(err, sink.ErrStaleOffset) {
				t.Fatalf("first=%d: %v, want ErrStaleOffset", first, err)
			}
		}
		if got := len(tg.Rows(t, s, messages)); got != 10 {
			t.Fatalf("a refused batch stored rows: %d, want 10", got)
		}
		checkOffsets(t, s, map[sink.TopicPartition]int64{{Topic: Topic(messages), Partition: 0}: 10})
		if err := s.Write(bg, Batch(map[string]int64{Topic(messages): 10}, recs[10:20]...)); err != nil {
			t.Fatalf("the right continuation: %v", err)
		}
		if got := len(tg.Rows(t, s, messages)); got != 20 {
			t.Fatalf("%d rows, want 20", got)
		}
	})

	t.Run("OlderVersionNeverOverwritesNewer", func(t *testing.T) {
		tg, s, fx := setup(t)
		defer s.Close()
		id := fx.Sim.IDs("tickets")[3]
		v1 := fx.one(t, tickets, id, 0)
		if err := fx.Sim.EditTicket(id); err != nil {
			t.Fatal(err)
		}
		v2 := fx.one(t, tickets, id, 1)
		if !v2.Version.After(v1.Version) {
			t.Fatal("edit did not move the version")
		}
		// In one batch, the newer first; then the older again in a later batch.
		if err := s.Write(bg, Batch(nil, v2, withOffset(v1, 2))); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(bg, Batch(map[string]int64{Topic(tickets): 3}, withOffset(v1, 3), withOffset(v2, 4))); err != nil {
			t.Fatal(err)
		}
		rows := tg.Rows(t, s, tickets)
		if len(rows) != 1 {
			t.Fatalf("%d rows, want 1", len(rows))
		}
		if got := asTime(rows[0]["updated_datetime"]); !got.Equal(v2.Version) {
			t.Fatalf("row has version %v, want the newer %v", got, v2.Version)
		}
		compareTable(t, tg.Form, tickets, rows, []sink.Record{v2})
		if tg.Changelog != nil {
			if got := len(tg.Changelog(t, s, tickets)); got != 4 {
				t.Fatalf("changelog has %d rows, want every version written (4)", got)
			}
		}
		// And a newer version does replace it.
		if err := fx.Sim.EditTicket(id); err != nil {
			t.Fatal(err)
		}
		v3 := fx.one(t, tickets, id, 5)
		if err := s.Write(bg, Batch(map[string]int64{Topic(tickets): 5}, v3)); err != nil {
			t.Fatal(err)
		}
		compareTable(t, tg.Form, tickets, tg.Rows(t, s, tickets), []sink.Record{v3})
	})

	t.Run("NewFieldBecomesColumn", func(t *testing.T) {
		tg, s, fx := setup(t)
		defer s.Close()
		old := fx.Records(t, tickets, 3, 0)
		if err := s.Write(bg, Batch(nil, old...)); err != nil {
			t.Fatal(err)
		}
		text := EvolvedSchema(t, tickets)
		if _, err := fx.Reg.Register(tickets.Name, text); err != nil {
			t.Fatal(err)
		}
		enc, err := avrocodec.NewEncoderWithSchema(tickets, text)
		if err != nil {
			t.Fatal(err)
		}
		raw := fx.Sim.Objects("tickets")[10]
		raw = append(raw[:len(raw)-1], []byte(`,"x_new_field":"hello"}`)...)
		rec, err := enc.Encode(raw, avrocodec.Meta{Domain: "acme", ExtractedAt: fx.Sim.Now(), AsOf: fx.Sim.Now()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		nr := fx.Decode(t, tickets, rec.Value, 0, 3)
		if err := s.Write(bg, Batch(map[string]int64{Topic(tickets): 3}, nr)); err != nil {
			t.Fatalf("write with the new schema version: %v", err)
		}
		rows := tg.Rows(t, s, tickets)
		if len(rows) != 4 {
			t.Fatalf("%d rows, want 4", len(rows))
		}
		for _, row := range rows {
			v, ok := row["x_new_field"]
			if !ok {
				t.Fatalf("no x_new_field column: %v", keys(row))
			}
			if asInt(row["id"]) == nr.ID {
				if v != "hello" {
					t.Fatalf("new row x_new_field = %#v", v)
				}
			} else if v != nil {
				t.Fatalf("old row x_new_field = %#v, want NULL", v)
			}
		}
		// Old versions still write after the new one.
		more := fx.Records(t, tickets, 6, 4)[3:]
		if err := s.Write(bg, Batch(map[string]int64{Topic(tickets): 4}, more...)); err != nil {
			t.Fatalf("old schema after new: %v", err)
		}
	})

	t.Run("ResetRebuilds", func(t *testing.T) {
		tg, s, fx := setup(t)
		defer s.Close()
		if err := s.Write(bg, Batch(nil, fx.Records(t, tickets, 10, 0)...)); err != nil {
			t.Fatal(err)
		}
		next := map[sink.TopicPartition]int64{{Topic: Topic(tickets), Partition: 0}: 0, {Topic: Topic(tickets), Partition: 1}: 0}
		if err := s.Reset(bg, next); err != nil {
			t.Fatal(err)
		}
		if got := len(tg.Rows(t, s, tickets)); got != 0 {
			t.Fatalf("%d rows after Reset", got)
		}
		checkOffsets(t, s, next)
		if err := s.Write(bg, Batch(map[string]int64{Topic(tickets): 0}, fx.Records(t, tickets, 10, 0)...)); err != nil {
			t.Fatalf("rebuild after Reset: %v", err)
		}
		if got := len(tg.Rows(t, s, tickets)); got != 10 {
			t.Fatalf("%d rows after rebuild", got)
		}
	})

	for _, mode := range []sink.DeleteMode{sink.SoftDelete, sink.HardDelete} {
		t.Run("Deletes/"+string(mode), func(t *testing.T) {
			runDeletes(t, newTarget, mode)
		})
	}

	t.Run("NoGoroutineLeftAfterClose", func(t *testing.T) {
		before := runtime.NumGoroutine()
		tg, s, fx := setup(t)
		if err := s.Write(bg, Batch(nil, fx.Records(t, messages, 50, 0)...)); err != nil {
			t.Fatal(err)
		}
		_ = tg
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				n := runtime.Stack(buf, true)
				t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:n])
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func (f *Fixture) one(t testing.TB, e catalog.Entity, id int64, offset int64) sink.Record {
	t.Helper()
	enc, _ := avrocodec.NewEncoder(e)
	for _, raw := range f.Sim.Objects(e.Resource) {
		var probe struct {
			ID int64 `json:"id"`
		}
		_ = json.Unmarshal(raw, &probe)
		if probe.ID == id {
			return f.encode(t, e, enc, []json.RawMessage{raw}, 1, offset)[0]
		}
	}
	t.Fatalf("%s %d not found", e.Name, id)
	return sink.Record{}
}

func withOffset(r sink.Record, off int64) sink.Record {
	r.Offset = off
	r.Timestamp = time.UnixMilli(1_700_000_000_000 + off).UTC()
	return r
}

func checkOffsets(t testing.TB, s sink.Sink, want map[sink.TopicPartition]int64) {
	t.Helper()
	got, err := s.Offsets(bg)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sortedOffsets(got)) != fmt.Sprint(sortedOffsets(want)) {
		t.Fatalf("offsets %v, want %v", sortedOffsets(got), sortedOffsets(want))
	}
}

func sortedOffsets(m map[sink.TopicPartition]int64) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s[%d]=%d", k.Topic, k.Partition, v))
	}
	sort.Strings(out)
	return out
}

// compareTable checks that the table holds exactly one row per record id, equal to the
// record (the newest of each id in recs), plus the Kafka columns.
func compareTable(t testing.TB, form Form, e catalog.Entity, rows []map[string]any, recs []sink.Record) {
	t.Helper()
	latest := map[int64]sink.Record{}
	for _, r := range recs {
		if old, ok := latest[r.ID]; !ok || r.Version.After(old.Version) {
			latest[r.ID] = r
		}
	}
	var want []sink.Record
	for _, r := range latest {
		want = append(want, r)
	}
	compareRows(t, form, e.Name, rows, want)
}

// compareRows checks that rows and recs are the same multiset, field for field.
func compareRows(t testing.TB, form Form, what string, rows []map[string]any, recs []sink.Record) {
	t.Helper()
	if len(rows) != len(recs) {
		t.Fatalf("%s: %d rows, want %d", what, len(rows), len(recs))
	}
	want := make([]map[string]any, len(recs))
	for i, r := range recs {
		want[i] = RowOf(r)
	}
	compareMaps(t, form, recs[0].Schema.Root, what, rows, want)
}

// compareMaps checks that rows and want (rows of root's fields, Kafka and deletion
// columns) are the same multiset, field for field.
func compareMaps(t testing.TB, form Form, root *avrocodec.Type, what string, rows, want []map[string]any) {
	t.Helper()
	if len(rows) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(rows), len(want))
	}
	wantKeys := map[string]int{}
	for _, w := range want {
		wantKeys[form.Canonical(root, w)]++
	}
	for _, row := range rows {
		k := form.Canonical(root, row)
		if wantKeys[k] == 0 {
			var all []string
			for w, n := range wantKeys {
				if n > 0 {
					all = append(all, w)
				}
			}
			t.Fatalf("%s: row not among the rows expected:\n got %.900s\nwant one of %.2400s", what, k, strings.Join(all, "\n"))
		}
		wantKeys[k]--
	}
}

// Canonical renders a row (schema fields plus Kafka columns) in a form that does not
// depend on the destination's Go types: integers as int64, times as microseconds, JSON
// text re-encoded, records and lists recursively.
func Canonical(root *avrocodec.Type, row map[string]any) string { return Form{}.Canonical(root, row) }

// Canonical is the package function Canonical, with the representations f allows
// mapped to one form.
func (f Form) Canonical(root *avrocodec.Type, row map[string]any) string {
	out := map[string]any{}
	for _, fd := range root.Fields {
		out[fd.Name] = f.canon(fd.Type, row[fd.Name])
	}
	for _, k := range []string{"_kafka_partition", "_kafka_offset", "_kafka_timestamp", sink.ColDeletedAt, sink.ColDeletedReason, sink.ColMergedInto} {
		out[k] = f.canon(nil, row[k])
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func canon(t *avrocodec.Type, v any) any { return Form{}.canon(t, v) }

func (f Form) canon(t *avrocodec.Type, v any) any {
	if v == nil {
		if f.NullArrayIsEmpty && t != nil && t.Kind == avrocodec.KindArray {
			return []any{}
		}
		return nil
	}
	switch x := v.(type) {
	case time.Time:
		return x.UnixMicro()
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	case string:
		if t != nil && t.Kind == avrocodec.KindJSON {
			var j any
			if json.Unmarshal([]byte(x), &j) == nil {
				return j
			}
		}
		return x
	case map[string]any:
		m := map[string]any{}
		for k, inner := range x {
			var ft *avrocodec.Type
			if t != nil {
				if f, ok := t.Field(k); ok {
					ft = f.Type
				}
			}
			m[k] = f.canon(ft, inner)
		}
		return m
	case []any:
		var it *avrocodec.Type
		if t != nil {
			it = t.Items
		}
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = f.canon(it, inner)
		}
		return out
	}
	return v
}

func asTime(v any) time.Time {
	t, _ := v.(time.Time)
	return t
}

func asInt(v any) int64 {
	switch x := canon(nil, v).(type) {
	case int64:
		return x
	}
	return 0
}

func keys(m map[string]any) string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return strings.Join(k, ",")
}

// CheckTruth asserts that rows (an entity table) hold exactly the simulator's objects of
// e, each at its current version, field for field (extraction metadata and Kafka
// columns aside), with NULL deletion columns: none missing, none extra, no duplicate
// id. Objects the simulator deleted are rows marked deleted (soft deletes; see
// checkDeleted) or absent (hard deletes).
func CheckTruth(t testing.TB, reg *avrocodec.Registry, sim *gorgiassim.Sim, e catalog.Entity, rows []map[string]any) {
	t.Helper()
	Form{}.CheckTruth(t, reg, sim, e, rows)
}

// CheckTruth is the package function CheckTruth, with the representations f allows
// counted as equal.
func (f Form) CheckTruth(t testing.TB, reg *avrocodec.Registry, sim *gorgiassim.Sim, e catalog.Entity, rows []map[string]any) {
	t.Helper()
	enc, err := avrocodec.NewEncoder(e)
	if err != nil {
		t.Fatal(err)
	}
	now := testenv.TruthAsOf(sim)
	want := map[int64]string{}
	var root *avrocodec.Type
	for _, raw := range sim.Objects(e.Resource) {
		rec, err := enc.Encode(raw, avrocodec.Meta{Domain: "acme", AsOf: now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, vals, err := reg.DecodeRow(rec.Value)
		if err != nil {
			t.Fatal(err)
		}
		root = s.Root
		want[rec.ID] = f.truthKey(s.Root.Fields, vals)
	}
	if len(want) == 0 {
		t.Fatalf("%s: the simulator has no objects; the check proves nothing", e.Name)
	}
	seen := map[int64]bool{}
	var missing, extra, dup, diff []string
	rows = f.checkDeleted(t, sim, e, rows)
	for _, row := range rows {
		id := asInt(row[catalog.Key])
		if seen[id] {
			dup = append(dup, fmt.Sprint(id))
		}
		seen[id] = true
		w, ok := want[id]
		if !ok {
			extra = append(extra, fmt.Sprint(id))
			continue
		}
		vals := make([]any, len(root.Fields))
		for i, f := range root.Fields {
			vals[i] = row[f.Name]
		}
		if got := f.truthKey(root.Fields, vals); got != w && len(diff) < 2 {
			diff = append(diff, fmt.Sprintf("%d:\n  got  %.600s\n  want %.600s", id, got, w))
		}
	}
	for id := range want {
		if !seen[id] {
			missing = append(missing, fmt.Sprint(id))
		}
	}
	for _, p := range []struct {
		what string
		ids  []string
	}{{"missing", missing}, {"unknown", extra}, {"duplicated", dup}, {"different", diff}} {
		if len(p.ids) > 0 {
			sort.Strings(p.ids)
			t.Errorf("%s: %d %s rows, e.g. %v", e.Name, len(p.ids), p.what, p.ids[:min(3, len(p.ids))])
		}
	}
}

func (form Form) truthKey(fields []avrocodec.Field, vals []any) string {
	m := map[string]any{}
	for i, f := range fields {
		if f.Name == "_extracted_at" {
			continue
		}
		m[f.Name] = form.canon(f.Type, vals[i])
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// checkDeleted checks the rows of objects the simulator deleted and returns the other
// rows. Soft deletes: every deleted object the pipeline detects (see
// testenv.Detectable) has its row, marked with the deletion's time, reason and survivor
// (an object a snapshot never saw may have none), and no live row is marked. Hard
// deletes: no deleted object has a row.
func (f Form) checkDeleted(t testing.TB, sim *gorgiassim.Sim, e catalog.Entity, rows []map[string]any) []map[string]any {
	t.Helper()
	gone := map[int64]gorgiassim.Deletion{}
	for _, d := range sim.Deleted(e.Resource) {
		gone[d.ID] = d
	}
	var live []map[string]any
	seen := map[int64]bool{}
	var bad []string
	for _, row := range rows {
		id := asInt(row[catalog.Key])
		d, deleted := gone[id]
		switch {
		case !deleted && row[sink.ColDeletedAt] != nil:
			bad = append(bad, fmt.Sprintf("%d: live object marked deleted", id))
		case !deleted || !testenv.Detectable(e):
			live = append(live, row)
		case f.Deletes.Hard():
			bad = append(bad, fmt.Sprintf("%d: deleted (%s) but still a row", id, d.Reason))
		case row[sink.ColDeletedAt] == nil:
			bad = append(bad, fmt.Sprintf("%d: deleted (%s) but its row is not marked", id, d.Reason))
		default:
			seen[id] = true
			if w := testenv.WantTombstone(e, deletionOf(row), d, false); w != "" {
				bad = append(bad, fmt.Sprintf("%d: %s", id, w))
			}
		}
	}
	for id, d := range gone {
		if !seen[id] && !f.Deletes.Hard() && testenv.Detectable(e) && e.Mode != catalog.Snapshot {
			bad = append(bad, fmt.Sprintf("%d: deleted (%s) but no row records it", id, d.Reason))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		t.Errorf("%s (%s deletes): %d deletion problems, e.g. %v", e.Name, cmp.Or(f.Deletes, sink.SoftDelete), len(bad), bad[:min(3, len(bad))])
	}
	return live
}

// deletionOf reads the deletion columns of a row (the event id is not stored).
func deletionOf(row map[string]any) tombstone.Deletion {
	d := tombstone.Deletion{ID: asInt(row[catalog.Key]), At: asTime(row[sink.ColDeletedAt]).UTC()}
	if r, ok := row[sink.ColDeletedReason].(string); ok {
		d.Reason = tombstone.Reason(r)
	}
	if row[sink.ColMergedInto] != nil {
		d.MergedInto = asInt(row[sink.ColMergedInto])
	}
	return d
}
