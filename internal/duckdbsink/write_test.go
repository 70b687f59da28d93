package duckdbsink

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

// A batch large enough to be converted by several goroutines and flushed in several
// rounds, with every id twice (the later version must win), lands exactly once per id.
func TestLargeBatch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := testenv.Entity(t, "ticket_messages")
	defer func(n int) { roundRows = n }(roundRows)
	roundRows = 1500 // 3000 winners: two rounds of two appenders

	for _, changelog := range []bool{false, true} {
		s := f.openSink(t, Config{Changelog: changelog})
		g := newRowGen(t, f, e)
		const n = 6000
		recs := make([]sink.Record, n)
		for i := range recs {
			// Rows 0..2999 are the first versions, 3000..5999 the second ones, in
			// reverse order so that duplicates sit in different parts.
			seq, gen := int64(i), 0
			if i >= n/2 {
				seq, gen = int64(n-1-i), 1
			}
			g.record(&recs[i], seq, gen, int64(i))
		}
		if err := s.Write(ctx, batchOf(sink.NoOffset, recs...)); err != nil {
			t.Fatal(err)
		}
		rows, err := s.Rows(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != n/2 {
			t.Fatalf("changelog=%v: %d rows, want %d", changelog, len(rows), n/2)
		}
		for i, row := range rows {
			want := wantRow(recs[n-1-i])
			if diffRow(t, row, want) {
				break
			}
		}
		if changelog {
			cl, err := s.ChangelogRows(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if len(cl) != n {
				t.Errorf("%d changelog rows, want %d", len(cl), n)
			}
		} else if _, err := s.ChangelogRows(ctx, e); err == nil {
			t.Error("changelog table exists although disabled")
		}
	}
}

// A canceled Write stores nothing and the sink keeps working.
func TestCanceledWrite(t *testing.T) {
	f := newFixture(t)
	s := f.openSink(t, Config{Changelog: true})
	recs := f.recs["ticket_messages"]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, batchOf(sink.NoOffset, recs...)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a canceled context = %v, want context.Canceled", err)
	}
	snap := takeSnapshot(t, s)
	if len(snap.offsets) != 0 || len(snap.rows["ticket_messages"]) != 0 {
		t.Fatalf("canceled write stored %d offsets, %d rows", len(snap.offsets), len(snap.rows["ticket_messages"]))
	}
	if err := s.Write(context.Background(), batchOf(sink.NoOffset, recs...)); err != nil {
		t.Fatal(err)
	}
	rows, _ := s.Rows(context.Background(), testenv.Entity(t, "ticket_messages"))
	if len(rows) != len(recs) {
		t.Fatalf("%d rows, want %d", len(rows), len(recs))
	}
}

// Close stops every goroutine the sink started.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before := runtime.NumGoroutine()
	s, err := Open(ctx, Config{Path: t.TempDir() + "/g.duckdb", Changelog: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	g := newRowGen(t, f, testenv.Entity(t, "tickets"))
	recs := make([]sink.Record, 5000)
	for i := range recs {
		g.record(&recs[i], int64(i), 0, int64(i))
	}
	if err := s.Write(ctx, batchOf(sink.NoOffset, recs...)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rows(ctx, testenv.Entity(t, "tickets")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
