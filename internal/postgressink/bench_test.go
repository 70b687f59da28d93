package postgressink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/pgtest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// prefillBatches is the number of all-new batches written before the timed ones, so
// that updates hit a table (and its primary key) that already holds rows.
const prefillBatches = 5

// rowGen makes any number of distinct, realistic rows of an entity by cycling through
// the simulator's decoded records and giving each a new id (and, for updates, a later
// version).
type rowGen struct {
	tmpl          []sink.Record
	idIdx, verIdx int
}

func newRowGen(b testing.TB, fx *sinktest.Fixture, e catalog.Entity) *rowGen {
	g := &rowGen{tmpl: fx.Records(b, e, 0, 0)}
	root := g.tmpl[0].Schema.Root
	g.idIdx, g.verIdx = root.FieldIndex(catalog.Key), root.FieldIndex(e.VersionField)
	if g.idIdx < 0 || g.verIdx < 0 {
		b.Fatal("no id or version field")
	}
	return g
}

// record returns row number seq (id 1e9+seq) at generation gen (its version gen hours
// after the template's), at the given offset.
func (g *rowGen) record(dst *sink.Record, seq int64, gen int, offset int64) {
	t := &g.tmpl[seq%int64(len(g.tmpl))]
	vals := append(dst.Values[:0], t.Values...)
	id := 1_000_000_000 + seq
	ver := t.Version.Add(time.Duration(gen) * time.Hour)
	vals[g.idIdx], vals[g.verIdx] = id, ver
	*dst = sink.Record{Entity: t.Entity, Schema: t.Schema, Values: vals, ID: id, Version: ver,
		Partition: 0, Offset: offset, Timestamp: t.Timestamp}
}

// upsertBench drives batches of n rows.
type upsertBench struct {
	g      *rowGen
	topic  string
	n      int
	recs   []sink.Record
	nextID int64 // next new row number
	offset int64 // next Kafka offset
	first  int64 // stored next offset (NoOffset before the first batch)
	gen    int
}

// batch builds the next batch: all new rows when allNew, else half new rows and half
// new versions of the previous batch's new rows.
func (u *upsertBench) batch(allNew bool) sink.Batch {
	half := u.n / 2
	if allNew {
		half = u.n
	}
	u.gen++
	prevStart := u.nextID - int64(u.n-half)
	for i := range u.recs {
		seq, gen := u.nextID, 0
		if i < half {
			u.nextID++
		} else {
			seq, gen = prevStart+int64(i-half), u.gen
		}
		u.g.record(&u.recs[i], seq, gen, u.offset)
		u.offset++
	}
	b := sink.Batch{Records: u.recs, Ranges: []sink.Range{{
		TopicPartition: sink.TopicPartition{Topic: u.topic}, First: u.first, Next: u.offset}}}
	u.first = u.offset
	return b
}

// BenchmarkUpsert measures Write on realistic rows (tickets and ticket_messages of the
// simulator, cycled with new ids): each timed batch is half new ids and half new
// versions of ids the previous batch added, on a table that starts with prefillBatches
// batches. Next to it, in the same run, it measures the baseline: PostgreSQL's own
// binary COPY of the same rows (the same Go values the sink sends) into an empty plain
// table with the same columns. It reports both in rows/s and their ratio (upsert ÷
// COPY); ns/op is one Write. Run with -benchtime 5x.
func BenchmarkUpsert(b *testing.B) {
	srv := pgtest.Start(b)
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		b.Fatal(err)
	}
	fx := &sinktest.Fixture{Reg: reg, Sim: gorgiassim.New(gorgiassim.Config{Seed: 1, RateLimit: -1})}
	for _, name := range []string{"tickets", "ticket_messages"} {
		e, err := catalog.Lookup(name)
		if err != nil {
			b.Fatal(err)
		}
		g := newRowGen(b, fx, e)
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/batch=%d", name, n), func(b *testing.B) {
				runUpsert(b, srv, reg, g, e, n, 0)
			})
		}
	}
}

// BenchmarkUpsertGuarded is BenchmarkUpsert (tickets, batches of 10,000) on a sink
// whose deletions table holds 100,000 deletions of the entity (of ids the batches do
// not use), so that every version goes through the anti-join on it.
func BenchmarkUpsertGuarded(b *testing.B) {
	srv := pgtest.Start(b)
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		b.Fatal(err)
	}
	fx := &sinktest.Fixture{Reg: reg, Sim: gorgiassim.New(gorgiassim.Config{Seed: 1, RateLimit: -1})}
	e, err := catalog.Lookup("tickets")
	if err != nil {
		b.Fatal(err)
	}
	runUpsert(b, srv, reg, newRowGen(b, fx, e), e, 10000, 100_000)
}

// runUpsert runs the timed batches of n rows; deletions > 0 first stores that many
// deletions of the entity, of ids no batch uses.
func runUpsert(b *testing.B, srv *pgtest.Server, reg *avrocodec.Registry, g *rowGen, e catalog.Entity, n, deletions int) {
	ctx := context.Background()
	b.StopTimer()
	uri := srv.NewDatabase(b)
	s, err := Open(ctx, sink.Dest{URI: uri, Schema: "gorgias"}, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Prepare(ctx, []catalog.Entity{e}, reg.Schemas(e.Name)); err != nil {
		b.Fatal(err)
	}
	u := &upsertBench{g: g, topic: e.Topic("gorgias."), n: n, recs: make([]sink.Record, n), first: sink.NoOffset}
	for range prefillBatches {
		if err := s.Write(ctx, u.batch(true)); err != nil {
			b.Fatal(err)
		}
	}
	if deletions > 0 {
		if _, err := s.conn.Exec(ctx, "INSERT INTO "+s.qualified(sink.DeletionsTable)+
			` (table_name, id, _deleted_at, _deleted_reason) SELECT $1, 2000000000 + i, now(), 'deleted' FROM generate_series(1, $2) AS i`,
			e.Table(), deletions); err != nil {
			b.Fatal(err)
		}
		if _, err := s.conn.Exec(ctx, "VACUUM ANALYZE "+s.qualified(sink.DeletionsTable)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.conn.Exec(ctx, "VACUUM ANALYZE "+s.qualified(e.Table())); err != nil {
		b.Fatal(err)
	}
	// The baseline, on a connection of its own: COPY into an empty plain table with
	// the same columns. Each timed Write is followed by the baseline's COPY of the same
	// rows, so that both see the same load on the machine. Autovacuum is off on the
	// baseline table: it is truncated after every COPY, and vacuuming it (during the
	// next Write) only measured the machine's noise.
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	t := s.tables[e.Name]
	base := pgx.Identifier{"gorgias", "copy_baseline"}
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (LIKE %s) WITH (autovacuum_enabled = false)", base.Sanitize(), t.main)); err != nil {
		b.Fatal(err)
	}
	var upsertTime, copyTime time.Duration
	for range b.N {
		bt := u.batch(false)
		rows := copyRows(b, s, bt)
		start := time.Now()
		b.StartTimer()
		err := s.Write(ctx, bt)
		b.StopTimer()
		upsertTime += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "TRUNCATE "+base.Sanitize()); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		k, err := conn.CopyFrom(ctx, base, t.copyCols, pgx.CopyFromRows(rows))
		copyTime += time.Since(start)
		if err != nil || k != int64(n) {
			b.Fatalf("baseline COPY: %d rows, %v", k, err)
		}
	}
	var rows int64
	if err := s.conn.QueryRow(ctx, "SELECT count(*) FROM "+s.qualified(e.Table())).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	if want := int64(prefillBatches*n + b.N*n/2); rows != want {
		b.Fatalf("%d rows in the table, want %d", rows, want)
	}
	upsertRate := float64(n*b.N) / upsertTime.Seconds()
	copyRate := float64(n*b.N) / copyTime.Seconds()
	b.ReportMetric(upsertRate, "rows/s")
	b.ReportMetric(copyRate, "copy-rows/s")
	b.ReportMetric(upsertRate/copyRate, "upsert/copy")
}

// copyRows converts a batch the way Write does, to rows CopyFrom takes.
func copyRows(b testing.TB, s *Sink, bt sink.Batch) [][]any {
	t := s.tables[bt.Records[0].Entity.Name]
	recs := make([]*sink.Record, len(bt.Records))
	for i := range bt.Records {
		recs[i] = &bt.Records[i]
	}
	src := &copySource{t: t, recs: recs, i: -1, row: make([]any, len(t.cols))}
	var out [][]any
	for src.Next() {
		row, err := src.Values()
		if err != nil {
			b.Fatal(err)
		}
		cp := make([]any, len(row))
		for i, v := range row {
			if bs, ok := v.([]byte); ok {
				v = append([]byte(nil), bs...)
			}
			cp[i] = v
		}
		out = append(out, cp)
	}
	return out
}
