package duckdbsink

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

const topicPrefix = "gorgias."

// fixture is sinktest's Fixture on a frozen clock, with the current version of every
// object of every entity encoded and decoded as the runner would.
type fixture struct {
	*sinktest.Fixture
	recs map[string][]sink.Record // by entity, sorted by id, offsets 0..n-1 on partition 0
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	// A frozen clock makes the fixture identical in every process (sim.Now is Start).
	frozen := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	sim := gorgiassim.New(gorgiassim.Config{Seed: 1, Clock: func() time.Time { return frozen }})
	f := &fixture{Fixture: &sinktest.Fixture{Reg: reg, Sim: sim}, recs: map[string][]sink.Record{}}
	for _, e := range catalog.All() {
		f.recs[e.Name] = f.Records(t, e, 0, 0)
	}
	return f
}

// encode encodes raw objects with enc (e.g. of an evolved schema) and decodes them like
// Fixture.Records; offsets count from 0 on partition 0.
func (f *fixture) encode(t testing.TB, e catalog.Entity, enc *avrocodec.Encoder, raws []json.RawMessage) []sink.Record {
	t.Helper()
	now := f.Sim.Now()
	out := make([]sink.Record, 0, len(raws))
	for i, raw := range raws {
		rec, err := enc.Encode(raw, avrocodec.Meta{Domain: "acme", ExtractedAt: now, AsOf: now}, nil)
		if err != nil {
			t.Fatalf("encode %s: %v", e.Name, err)
		}
		out = append(out, f.Decode(t, e, rec.Value, 0, int64(i)))
	}
	return out
}

// openSink opens a sink on a fresh file and prepares every entity.
func (f *fixture) openSink(t testing.TB, cfg Config) *Sink {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "test.duckdb")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Prepare(context.Background(), catalog.All(), f.Reg.Schemas("")); err != nil {
		t.Fatal(err)
	}
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// variant returns a copy of r with another version (and version field value), offset
// and, if subject is not "", another value of the field named field.
func variant(r sink.Record, version time.Time, offset int64, field string, value any) sink.Record {
	v := r
	v.Values = append([]any(nil), r.Values...)
	for i, f := range r.Schema.Root.Fields {
		switch f.Name {
		case r.Entity.VersionField:
			v.Values[i] = version
		case field:
			v.Values[i] = value
		}
	}
	v.Version = version
	v.Offset = offset
	return v
}

// batchOf builds a batch of recs on partition 0 of the entity topic, starting at first.
func batchOf(first int64, recs ...sink.Record) sink.Batch {
	b := sink.Batch{Records: recs}
	next := first
	if first == sink.NoOffset {
		next = 0
	}
	for _, r := range recs {
		if r.Offset+1 > next {
			next = r.Offset + 1
		}
	}
	if len(recs) > 0 {
		b.Ranges = []sink.Range{{TopicPartition: sink.TopicPartition{Topic: recs[0].Entity.Topic(topicPrefix), Partition: 0}, First: first, Next: next}}
	}
	return b
}

// wantRow is the row the table must hold for record r.
func wantRow(r sink.Record) map[string]any {
	m := map[string]any{
		ColPartition: r.Partition,
		ColOffset:    r.Offset,
		ColTimestamp: r.Timestamp.UTC(),
	}
	for i, f := range r.Schema.Root.Fields {
		m[f.Name] = r.Values[i]
	}
	return m
}

// diffRow reports the first difference between a read row and the wanted one.
func diffRow(t testing.TB, got, want map[string]any) bool {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, ok := got[k]
		if !ok {
			t.Errorf("id %v: column %s missing", want[catalog.Key], k)
			return true
		}
		if !reflect.DeepEqual(g, want[k]) {
			t.Errorf("id %v: column %s = %#v, want %#v", want[catalog.Key], k, g, want[k])
			return true
		}
	}
	return false
}

// snapshot is the whole visible state of a sink, for before/after comparisons.
type snapshot struct {
	rows, changelog map[string][]map[string]any
	offsets         map[sink.TopicPartition]int64
}

func takeSnapshot(t testing.TB, s *Sink) snapshot {
	t.Helper()
	ctx := context.Background()
	snap := snapshot{rows: map[string][]map[string]any{}, changelog: map[string][]map[string]any{}}
	for _, e := range catalog.All() {
		rows, err := s.Rows(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		snap.rows[e.Name] = rows
		if s.cfg.Changelog {
			cl, err := s.ChangelogRows(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			snap.changelog[e.Name] = cl
		}
	}
	offs, err := s.Offsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap.offsets = offs
	return snap
}

// logBuffer collects log lines at Info and above.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
