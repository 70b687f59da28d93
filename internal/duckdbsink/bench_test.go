package duckdbsink

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// benchThreads is DuckDB's thread count in the benchmarks: the bar is set on two
// cores.
const benchThreads = 2

// rowGen makes any number of distinct, realistic rows of an entity by cycling through
// the simulator's decoded records and giving each a new id (and, for updates, a later
// version).
type rowGen struct {
	tmpl          []sink.Record
	idIdx, verIdx int
}

func newRowGen(b testing.TB, f *fixture, e catalog.Entity) *rowGen {
	g := &rowGen{tmpl: f.recs[e.Name], idIdx: -1, verIdx: -1}
	for i, fl := range g.tmpl[0].Schema.Root.Fields {
		switch fl.Name {
		case catalog.Key:
			g.idIdx = i
		case e.VersionField:
			g.verIdx = i
		}
	}
	if g.idIdx < 0 || g.verIdx < 0 {
		b.Fatal("no id or version field")
	}
	return g
}

// record returns row number seq (its id is 1e9+seq) at generation gen (its version is
// gen hours after the template's), at the given offset. It reuses dst's Values.
func (g *rowGen) record(dst *sink.Record, seq int64, gen int, offset int64) {
	t := &g.tmpl[seq%int64(len(g.tmpl))]
	vals := dst.Values
	if cap(vals) < len(t.Values) {
		vals = make([]any, len(t.Values))
	}
	vals = vals[:len(t.Values)]
	copy(vals, t.Values)
	id := 1_000_000_000 + seq
	ver := t.Version.Add(time.Duration(gen) * time.Hour)
	vals[g.idIdx], vals[g.verIdx] = id, ver
	*dst = sink.Record{
		Entity: t.Entity, Schema: t.Schema, Values: vals, ID: id, Version: ver,
		Partition: 0, Offset: offset, Timestamp: t.Timestamp,
	}
}

// deletion returns the deletion of row number seq, a year after its first version, at
// the given offset.
func (g *rowGen) deletion(seq int64, offset int64) sink.Record {
	t := &g.tmpl[seq%int64(len(g.tmpl))]
	d := &tombstone.Deletion{ID: 1_000_000_000 + seq, At: t.Version.Add(365 * 24 * time.Hour), Reason: tombstone.Deleted}
	return sink.Record{Entity: t.Entity, ID: d.ID, Version: d.At, Delete: d, Offset: offset, Timestamp: t.Timestamp}
}

// upsertBench drives batches of n rows, half new ids and half updates of the ids the
// previous batch added.
type upsertBench struct {
	g      *rowGen
	s      *Sink
	topic  string
	n      int
	recs   []sink.Record
	nextID int64 // next new row number
	offset int64 // next Kafka offset
	first  int64 // stored next offset (NoOffset before the first batch)
	gen    int
	dels   int   // deletions per batch, of rows of the first batches (never updated)
	delSeq int64 // next row number to delete
}

// batch builds the next batch: half new rows, half new versions of the previous
// batch's new rows (all new rows if there is no previous batch).
func (u *upsertBench) batch() sink.Batch {
	u.recs = u.recs[:cap(u.recs)][:u.n]
	half := u.n / 2
	u.gen++
	prevStart := u.nextID - int64(half)
	for i := range u.recs {
		var seq int64
		gen := 0
		if i < half {
			seq = u.nextID
			u.nextID++
		} else {
			seq = prevStart + int64(i-half)
			gen = u.gen
		}
		u.g.record(&u.recs[i], seq, gen, u.offset)
		u.offset++
	}
	for range u.dels {
		u.recs = append(u.recs, u.g.deletion(u.delSeq, u.offset))
		u.delSeq++
		u.offset++
	}
	b := sink.Batch{Records: u.recs, Ranges: []sink.Range{{
		TopicPartition: sink.TopicPartition{Topic: u.topic}, First: u.first, Next: u.offset}}}
	u.first = u.offset
	return b
}

// BenchmarkUpsert measures Write on realistic rows: each batch is half new ids and
// half new versions of ids the previous batch added, on a table that starts with 20
// batches of rows. The final CHECKPOINT (the work DuckDB defers from the WAL to the
// file) is inside the timer. Run with -benchtime=40x or more: the first checkpoints
// only happen after a few hundred MB of WAL.
func BenchmarkUpsert(b *testing.B) {
	f := newFixture(b)
	for _, name := range []string{"tickets", "ticket_messages"} {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/batch=%d", name, n), func(b *testing.B) {
				runUpsert(b, f, testenv.Entity(b, name), n, Config{Threads: benchThreads})
			})
		}
	}
}

// BenchmarkUpsertDeletes is BenchmarkUpsert (batches of 10,000) with 1% more records
// in each batch: (soft) deletions of rows written before the timer, so every batch
// runs the deletion steps and the versions' check against the deletions table.
func BenchmarkUpsertDeletes(b *testing.B) {
	f := newFixture(b)
	for _, name := range []string{"tickets", "ticket_messages"} {
		b.Run(fmt.Sprintf("%s/batch=%d", name, 10000), func(b *testing.B) {
			runUpsertDeletes(b, f, testenv.Entity(b, name), 10000, Config{Threads: benchThreads}, 100)
		})
	}
}

// BenchmarkUpsertChangelog is BenchmarkUpsert with the changelog tables enabled.
func BenchmarkUpsertChangelog(b *testing.B) {
	f := newFixture(b)
	for _, name := range []string{"tickets", "ticket_messages"} {
		b.Run(fmt.Sprintf("%s/batch=%d", name, 10000), func(b *testing.B) {
			runUpsert(b, f, testenv.Entity(b, name), 10000, Config{Threads: benchThreads, Changelog: true})
		})
	}
}

func runUpsert(b *testing.B, f *fixture, e catalog.Entity, n int, cfg Config) {
	runUpsertDeletes(b, f, e, n, cfg, 0)
}

// runUpsertDeletes is runUpsert with dels deletions in each timed batch.
func runUpsertDeletes(b *testing.B, f *fixture, e catalog.Entity, n int, cfg Config, dels int) {
	ctx := context.Background()
	cfg.Logger = discardLogger()
	s := f.openSink(b, cfg)
	u := &upsertBench{g: newRowGen(b, f, e), s: s, topic: e.Topic(topicPrefix), n: n,
		recs: make([]sink.Record, n, n+dels), first: sink.NoOffset, dels: dels}
	for range 20 {
		if err := s.Write(ctx, u.batchAllNew()); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		bt := u.batch()
		b.StartTimer()
		if err := s.Write(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64((n+dels)*b.N)/b.Elapsed().Seconds(), "rows/s") // records: versions and deletions
	b.ReportMetric(0, "ns/op")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxRSS-MiB") // the whole test process
	}
	var rows int64
	if err := s.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+s.qualified(e.Table())).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	if want := int64(20*n + b.N*n/2); rows != want {
		b.Fatalf("%d rows in the table, want %d", rows, want)
	}
	if err := s.DB().QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s IS NOT NULL",
		s.qualified(e.Table()), ColDeletedAt)).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	if want := int64(b.N * dels); rows != want {
		b.Fatalf("%d deleted rows in the table, want %d", rows, want)
	}
}

// batchAllNew builds a batch of new rows only.
func (u *upsertBench) batchAllNew() sink.Batch {
	u.recs = u.recs[:u.n]
	for i := range u.recs {
		u.g.record(&u.recs[i], u.nextID, 0, u.offset)
		u.nextID++
		u.offset++
	}
	b := sink.Batch{Records: u.recs, Ranges: []sink.Range{{
		TopicPartition: sink.TopicPartition{Topic: u.topic}, First: u.first, Next: u.offset}}}
	u.first = u.offset
	u.gen = 0
	return b
}

// BenchmarkBulkLoadBaseline measures DuckDB's own bulk load of the same rows: the rows
// are written once (outside the timer) as JSON lines by DuckDB itself, then each
// iteration creates a table from them with read_json and the sink's column types.
func BenchmarkBulkLoadBaseline(b *testing.B) {
	f := newFixture(b)
	const rows = 50000
	for _, name := range []string{"tickets", "ticket_messages"} {
		e := testenv.Entity(b, name)
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s := f.openSink(b, Config{Threads: benchThreads, Logger: discardLogger()})
			u := &upsertBench{g: newRowGen(b, f, e), s: s, topic: e.Topic(topicPrefix), n: 10000,
				recs: make([]sink.Record, 10000), first: sink.NoOffset}
			for range rows / u.n {
				if err := s.Write(ctx, u.batchAllNew()); err != nil {
					b.Fatal(err)
				}
			}
			file := filepath.Join(b.TempDir(), name+".jsonl")
			if _, err := s.DB().ExecContext(ctx, fmt.Sprintf("COPY (SELECT * FROM %s) TO %s (FORMAT json)",
				s.qualified(e.Table()), quoteString(file))); err != nil {
				b.Fatal(err)
			}
			cols, err := s.tableColumns(ctx, e.Table())
			if err != nil {
				b.Fatal(err)
			}
			spec := make([]string, len(cols))
			for i, c := range cols {
				spec[i] = quoteString(c.name) + ": " + quoteString(c.typ.sql(false))
			}
			read := fmt.Sprintf("read_json(%s, format = 'newline_delimited', columns = {%s})",
				quoteString(file), strings.Join(spec, ", "))
			if _, err := s.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				q := fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM %s", s.qualified(fmt.Sprintf("bulk_%d", i)), read)
				if _, err := s.DB().ExecContext(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := s.DB().ExecContext(ctx, "CHECKPOINT"); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(0, "ns/op")
			var n int
			if err := s.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+s.qualified("bulk_0")).Scan(&n); err != nil || n != rows {
				b.Fatalf("bulk table has %d rows (%v), want %d", n, err, rows)
			}
		})
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
