package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/duckdbsink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// pipeline is the whole chain on real parts: the Gorgias simulator, the producer, a
// kfake broker, the sink runner and DuckDB files.
type pipeline struct {
	*sinktest.World
	t   *testing.T
	dir string
}

func quiet() *slog.Logger { return sinktest.Logger() }

// newPipeline makes a pipeline whose simulator also deletes, merges and trashes
// objects as it moves time forward.
func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	return &pipeline{World: sinktest.NewWorld(t, gorgiassim.Config{Seed: 31, Customers: 200, Tickets: 300, Deletes: true}), t: t, dir: t.TempDir()}
}

func (p *pipeline) produce() { p.Produce() }

func (p *pipeline) open(name string, mod ...func(*duckdbsink.Config)) *duckdbsink.Sink {
	p.t.Helper()
	cfg := duckdbsink.Config{Path: filepath.Join(p.dir, name+".duckdb"), Changelog: true, Logger: quiet()}
	for _, f := range mod {
		f(&cfg)
	}
	s, err := duckdbsink.Open(context.Background(), cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func (p *pipeline) runnerCfg(name string) sink.Config {
	return sink.Config{Name: name, TopicPrefix: p.Prefix, Once: true, BatchMaxRecords: 400, BatchMaxWait: 300 * time.Millisecond, Logger: quiet()}
}

// consume runs one sink runner until caught up on the DuckDB file name and closes it.
func (p *pipeline) consume(name string, wrap ...func(sink.Sink) sink.Sink) error {
	p.t.Helper()
	var s sink.Sink = p.open(name)
	defer s.Close()
	for _, w := range wrap {
		s = w(s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return sink.NewRunner(p.runnerCfg(name), s, p.Reg, p.KOpts).Run(ctx)
}

func (p *pipeline) mustConsume(name string) {
	p.t.Helper()
	if err := p.consume(name); err != nil {
		p.t.Fatalf("consume: %v", err)
	}
}

// tables reads every entity table and changelog of a DuckDB file.
func (p *pipeline) tables(name string) (rows, changelog map[string][]map[string]any) {
	p.t.Helper()
	s := p.open(name)
	defer s.Close()
	rows, changelog = map[string][]map[string]any{}, map[string][]map[string]any{}
	for _, e := range catalog.All() {
		r, err := s.Rows(context.Background(), e)
		if err != nil {
			p.t.Fatal(err)
		}
		c, err := s.ChangelogRows(context.Background(), e)
		if err != nil {
			p.t.Fatal(err)
		}
		rows[e.Name], changelog[e.Name] = r, c
	}
	return rows, changelog
}

// checkTruth asserts each table equals the simulator (latest version of every object,
// none missing, no duplicates) and each changelog holds every version once.
func (p *pipeline) checkTruth(name string) map[string][]map[string]any {
	p.t.Helper()
	rows, changelog := p.tables(name)
	for _, e := range catalog.All() {
		sinktest.CheckTruth(p.t, p.Reg, p.Sim, e, rows[e.Name])
		seen := map[string]bool{}
		for _, r := range changelog[e.Name] {
			k := changeKey(e, r)
			if seen[k] {
				p.t.Errorf("%s changelog: %s twice", e.Name, k)
			}
			seen[k] = true
		}
	}
	return rows
}

// changeKey names the change a changelog row records: a version of an object, or its
// deletion.
func changeKey(e catalog.Entity, r map[string]any) string {
	if at, ok := r[sink.ColDeletedAt].(time.Time); ok {
		return fmt.Sprintf("deletion of %v at %d", r[catalog.Key], at.UnixMicro())
	}
	return fmt.Sprintf("version of %v at %d", r[catalog.Key], r[e.VersionField].(time.Time).UnixMicro())
}

func asInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	}
	return -1
}

func TestDuckDBGroundTruth(t *testing.T) {
	p := newPipeline(t)
	p.produce()
	p.mustConsume("main")
	p.checkTruth("main")
	p.Sim.Advance(24 * time.Hour)
	p.produce()
	p.mustConsume("main")
	p.checkTruth("main")
}

var errCrash = errors.New("simulated crash")

// crashingSink fails Write at one point, once.
type crashingSink struct {
	sink.Sink
	when  string // "before-write" or "after-commit"
	batch int
	n     int
}

func (c *crashingSink) Write(ctx context.Context, b sink.Batch) error {
	c.n++
	if c.n == c.batch && c.when == "before-write" {
		return errCrash
	}
	err := c.Sink.Write(ctx, b)
	if err == nil && c.n == c.batch && c.when == "after-commit" {
		return errCrash // committed in DuckDB; the Kafka lag commit never happens
	}
	return err
}

func TestDuckDBCrashAtEveryStep(t *testing.T) {
	points := []string{"before-write", "after-commit"}
	points = append(points, duckdbsink.Failpoints...) // inside the DuckDB transaction
	for _, point := range points {
		for _, batch := range []int{1, 3} {
			t.Run(point+"/batch"+string(rune('0'+batch)), func(t *testing.T) {
				p := newPipeline(t)
				p.produce()
				var err error
				switch point {
				case "before-write", "after-commit":
					err = p.consume("crash", func(s sink.Sink) sink.Sink { return &crashingSink{Sink: s, when: point, batch: batch} })
				default:
					n := 0
					s := p.open("crash", func(c *duckdbsink.Config) {
						c.Failpoint = func(at string) error {
							if at == point {
								if n++; n == batch {
									return errCrash
								}
							}
							return nil
						}
					})
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					err = sink.NewRunner(p.runnerCfg("crash"), s, p.Reg, p.KOpts).Run(ctx)
					cancel()
					s.Close()
				}
				if !errors.Is(err, errCrash) {
					t.Fatalf("first run: %v, want the crash", err)
				}
				p.mustConsume("crash")
				p.checkTruth("crash")
			})
		}
	}
}

func TestDuckDBPoisonRecord(t *testing.T) {
	p := newPipeline(t)
	p.produce()
	cl, err := kgo.NewClient(p.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	msgs, _ := catalog.Lookup("ticket_messages")
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: msgs.Topic(p.Prefix), Key: []byte("1"), Value: []byte("not avro")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	p.Sim.Advance(12 * time.Hour)
	p.produce() // valid records after the poison on the same partitions
	p.mustConsume("main")
	p.checkTruth("main")
	dlq := 0
	rd, err := kgo.NewClient(append(append([]kgo.Opt{}, p.KOpts...), kgo.ConsumeTopics(sink.DLQTopic(p.Prefix)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for dlq == 0 && ctx.Err() == nil {
		rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if string(r.Value) == "not avro" {
				dlq++
			}
		})
	}
	if dlq != 1 {
		t.Fatalf("poison record in DLQ %d times, want 1", dlq)
	}
}

// Records written with a newer schema version that has an extra field add a column; old
// rows keep NULL in it.
func TestDuckDBSchemaEvolution(t *testing.T) {
	p := newPipeline(t)
	p.produce()
	p.mustConsume("main")
	tickets, _ := catalog.Lookup("tickets")
	text := sinktest.EvolvedSchema(t, tickets)
	if _, err := p.Reg.Register(tickets.Name, text); err != nil {
		t.Fatal(err)
	}
	enc, err := avrocodec.NewEncoderWithSchema(tickets, text)
	if err != nil {
		t.Fatal(err)
	}
	id := p.Sim.IDs("tickets")[0]
	if err := p.Sim.EditTicket(id); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, o := range p.Sim.Objects("tickets") {
		if string(o[:len(`{"id":`)]) == `{"id":` && regexp.MustCompile(`^\{"id":`+strconv.FormatInt(id, 10)+`,`).Match(o) {
			raw = o
		}
	}
	if raw == nil {
		t.Fatal("edited ticket not found")
	}
	raw = append(raw[:len(raw)-1], []byte(`,"x_new_field":"v2"}`)...)
	rec, err := enc.Encode(raw, avrocodec.Meta{Domain: "acme", ExtractedAt: time.Now(), AsOf: p.Sim.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := kgo.NewClient(append(append([]kgo.Opt{}, p.KOpts...), kgo.TransactionalID(p.Prefix+"evolved"))...)
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: tickets.Topic(p.Prefix), Key: []byte(strconv.FormatInt(id, 10)), Value: rec.Value}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	p.mustConsume("main")
	rows, _ := p.tables("main")
	found := false
	for _, r := range rows["tickets"] {
		v, ok := r["x_new_field"]
		if !ok {
			t.Fatal("no x_new_field column")
		}
		if asInt64(r["id"]) == id {
			found = true
			if v != "v2" {
				t.Fatalf("x_new_field = %#v on the new version", v)
			}
		} else if v != nil {
			t.Fatalf("old row %v has x_new_field %#v, want NULL", r["id"], v)
		}
	}
	if !found {
		t.Fatal("evolved record not written")
	}
}

// Replay, and a second sink started on the same topics, both rebuild identical tables.
func TestDuckDBReplayAndNewSinkIdentical(t *testing.T) {
	p := newPipeline(t)
	p.produce()
	p.mustConsume("main")
	p.Sim.Advance(24 * time.Hour)
	p.produce()
	p.mustConsume("main")
	before := p.checkTruth("main")

	s := p.open("main")
	if err := sink.Replay(context.Background(), p.runnerCfg("main"), s, p.Reg, p.KOpts, time.Time{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	replayed := p.checkTruth("main")
	p.mustConsume("second")
	second := p.checkTruth("second")
	for _, e := range catalog.All() {
		a := canonicalSet(p.Reg, e, before[e.Name])
		for what, rows := range map[string][]map[string]any{"replayed": replayed[e.Name], "new sink": second[e.Name]} {
			if b := canonicalSet(p.Reg, e, rows); a != b {
				t.Errorf("%s: %s table differs from the original", e.Name, what)
			}
		}
	}
}

func canonicalSet(reg *avrocodec.Registry, e catalog.Entity, rows []map[string]any) string {
	root := reg.Schemas(e.Name)[0].Root
	keys := make([]string, 0, len(rows))
	for _, r := range rows {
		keys = append(keys, sinktest.Canonical(root, r))
	}
	sort.Strings(keys)
	out := ""
	for _, k := range keys {
		out += k + "\n"
	}
	return out
}

// A sink subscribed to every entity runs to its end when the producer publishes only
// some of them: it makes every table, fills those whose topics exist and leaves the
// others empty; once the rest is produced, a second run completes them.
func TestSomeTopicsMissing(t *testing.T) {
	p := newPipeline(t)
	var some []catalog.Entity
	for _, name := range []string{"tickets", "tags", "events"} {
		e, err := catalog.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		some = append(some, e)
	}
	p.Produce(some...)
	p.mustConsume("some")
	rows, _ := p.tables("some")
	for _, e := range catalog.All() {
		if slices.Contains(some, e) {
			sinktest.CheckTruth(t, p.Reg, p.Sim, e, rows[e.Name])
		} else if len(rows[e.Name]) != 0 {
			t.Errorf("%s: %d rows without a topic", e.Name, len(rows[e.Name]))
		}
	}
	p.produce()
	p.mustConsume("some")
	p.checkTruth("some")
}
