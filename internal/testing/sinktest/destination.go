package sinktest

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Destination is a fresh destination of one sink for tests of the consumer binary:
// how a consumer process reaches it, and how the test reads back what it holds.
type Destination struct {
	// Env is the environment of a consumer writing the destination (DEST_URI and the
	// sink's own keys).
	Env []string
	// Form says which representations of the destination count as equal.
	Form Form
	// Read returns what the destination holds; no consumer may run meanwhile.
	Read func(t *testing.T) DestState
	// Batch is the chaos test's batch size and MaxKill the highest batch count after
	// which a run is killed, so that the kills land while most of the load is still to
	// come; SubDelay bounds the random delay after that batch (about one batch's write
	// time, so kills also land inside writes).
	Batch, MaxKill int
	SubDelay       time.Duration
}

// DestState is what a destination holds: entity tables and changelogs (one map per
// row, in the forms of Target.Rows) by entity name, and the stored offsets.
type DestState struct {
	Rows, Changelog map[string][]map[string]any
	Offsets         map[sink.TopicPartition]int64
}

// NewDestination makes a fresh destination of one sink in the world w.
type NewDestination func(t *testing.T, w *World) *Destination

var (
	destMu sync.Mutex
	dests  = map[string]NewDestination{}
)

// RegisterDestination makes a sink's test destination available to the tests of the
// consumer binary, which run each of them; a sink's test package calls it from init.
func RegisterDestination(name string, d NewDestination) {
	destMu.Lock()
	defer destMu.Unlock()
	if _, dup := dests[name]; dup {
		panic("sinktest: destination registered twice: " + name)
	}
	dests[name] = d
}

// NamedDestination is a registered test destination and the sink's name.
type NamedDestination struct {
	Name string
	New  NewDestination
}

// Destinations returns every registered test destination, by name.
func Destinations() []NamedDestination {
	destMu.Lock()
	defer destMu.Unlock()
	var out []NamedDestination
	for n, d := range dests {
		out = append(out, NamedDestination{n, d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DestinationOf returns the registered test destination of the named sink.
func DestinationOf(t *testing.T, name string) NewDestination {
	t.Helper()
	destMu.Lock()
	defer destMu.Unlock()
	d, ok := dests[name]
	if !ok {
		t.Fatalf("no test destination registered for sink %s", name)
	}
	return d
}

// Reader is a sink that reads its own tables back (the DuckDB and PostgreSQL sinks).
type Reader interface {
	Rows(ctx context.Context, e catalog.Entity) ([]map[string]any, error)
	ChangelogRows(ctx context.Context, e catalog.Entity) ([]map[string]any, error)
	Offsets(ctx context.Context) (map[sink.TopicPartition]int64, error)
}

// ReadState reads every entity table and changelog, and the stored offsets, through r.
func ReadState(t *testing.T, r Reader) DestState {
	t.Helper()
	ctx := context.Background()
	st := DestState{Rows: map[string][]map[string]any{}, Changelog: map[string][]map[string]any{}}
	var err error
	for _, e := range catalog.All() {
		if st.Rows[e.Name], err = r.Rows(ctx, e); err != nil {
			t.Fatal(err)
		}
		if st.Changelog[e.Name], err = r.ChangelogRows(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if st.Offsets, err = r.Offsets(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// ReadRows and ReadChangelog serve as Target.Rows and Target.Changelog for a sink that
// reads its own tables back (a Reader).
func ReadRows(t testing.TB, s sink.Sink, e catalog.Entity) []map[string]any {
	t.Helper()
	return readWith(t, s, e, Reader.Rows)
}

// ReadChangelog: see ReadRows.
func ReadChangelog(t testing.TB, s sink.Sink, e catalog.Entity) []map[string]any {
	t.Helper()
	return readWith(t, s, e, Reader.ChangelogRows)
}

func readWith(t testing.TB, s sink.Sink, e catalog.Entity, read func(Reader, context.Context, catalog.Entity) ([]map[string]any, error)) []map[string]any {
	t.Helper()
	r, ok := s.(Reader)
	if !ok {
		t.Fatalf("sink %T cannot read its tables back (it is not a sinktest.Reader)", s)
	}
	rows, err := read(r, context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
