package sink_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// world adds runner helpers to the shared test world.
type world struct{ *sinktest.World }

func newWorld(t testing.TB) *world {
	return &world{sinktest.NewWorld(t, gorgiassim.Config{Seed: 21, Customers: 150, Tickets: 250})}
}

func logger() *slog.Logger { return sinktest.Logger() }

func (w *world) produce() { w.Produce() }

func (w *world) runner(name string, s sink.Sink, mod ...func(*sink.Config)) *sink.Runner {
	cfg := sink.Config{Name: name, TopicPrefix: w.Prefix, Once: true, BatchMaxRecords: 300, BatchMaxWait: 200 * time.Millisecond, Logger: logger()}
	for _, f := range mod {
		f(&cfg)
	}
	return sink.NewRunner(cfg, s, w.Reg, w.KOpts)
}

func (w *world) consume(name string, s sink.Sink, mod ...func(*sink.Config)) {
	w.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.runner(name, s, mod...).Run(ctx); err != nil {
		w.T.Fatalf("runner: %v", err)
	}
}

func (w *world) checkTruth(m *sinktest.Memory) {
	w.T.Helper()
	for _, e := range catalog.All() {
		sinktest.CheckTruth(w.T, w.Reg, w.Sim, e, m.Rows(e))
	}
}

func TestRunnerMatchesTruth(t *testing.T) {
	w := newWorld(t)
	w.produce()
	m := sinktest.NewMemory()
	w.consume("mem", m)
	w.checkTruth(m)
	w.Sim.Advance(24 * time.Hour)
	w.produce()
	w.consume("mem", m)
	w.checkTruth(m)
	// A new sink on the same topics fills itself from the beginning of history.
	fresh := sinktest.NewMemory()
	w.consume("other", fresh)
	w.checkTruth(fresh)
	for _, e := range catalog.All() {
		if a, b := len(m.Changelog(e)), len(fresh.Changelog(e)); a != b {
			t.Errorf("%s: changelog of the new sink has %d rows, the old one %d", e.Name, b, a)
		}
	}
}

var errCrash = errors.New("simulated crash")

func TestRunnerCrashAtEveryStep(t *testing.T) {
	for _, step := range []string{sink.StepBeforeWrite, "inside-write", sink.StepAfterWrite} {
		for _, batchNo := range []int{1, 4} {
			t.Run(step+"/batch"+strconv.Itoa(batchNo), func(t *testing.T) {
				w := newWorld(t)
				w.produce()
				m := sinktest.NewMemory()
				n := 0
				crash := func(s string) error {
					if s == step {
						if n++; n == batchNo {
							return errCrash
						}
					}
					return nil
				}
				if step == "inside-write" {
					// The destination fails mid-transaction: nothing of the batch is stored.
					m.FailWrite = func(sink.Batch) error { return crash(step) }
				}
				r := w.runner("mem", m)
				if step != "inside-write" {
					sink.SetHook(r, crash)
				}
				if err := r.Run(context.Background()); !errors.Is(err, errCrash) {
					t.Fatalf("first run: %v, want the crash", err)
				}
				m.FailWrite = nil
				w.consume("mem", m)
				w.checkTruth(m)
				for _, e := range catalog.All() {
					if got, want := len(m.Changelog(e)), len(m.Rows(e)); got != want {
						t.Errorf("%s: changelog %d rows for %d objects: a batch was written twice or lost", e.Name, got, want)
					}
				}
			})
		}
	}
}

// Records that cannot be decoded go to the dead-letter topic with the reason; the sink
// goes on and nothing else is lost.
func TestPoisonRecordsGoToDLQ(t *testing.T) {
	w := newWorld(t)
	w.produce()
	cl, err := kgo.NewClient(w.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tickets, _ := catalog.Lookup("tickets")
	poison := []*kgo.Record{
		{Topic: tickets.Topic(w.Prefix), Key: []byte("1"), Value: []byte(`{"id": 1}`), Partition: 0},               // JSON, not Avro
		{Topic: tickets.Topic(w.Prefix), Key: []byte("2"), Value: append([]byte{0xC3, 0x01}, make([]byte, 12)...)}, // unknown fingerprint
		{Topic: tickets.Topic(w.Prefix), Key: []byte("x3"), Value: nil},                                            // tombstone without an id
	}
	if err := cl.ProduceSync(context.Background(), poison...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	m := sinktest.NewMemory()
	w.consume("mem", m)
	w.checkTruth(m)

	dlq := readAll(t, w.KOpts, sink.DLQTopic(w.Prefix))
	if len(dlq) != len(poison) {
		t.Fatalf("DLQ has %d records, want %d", len(dlq), len(poison))
	}
	for _, r := range dlq {
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		if h[sink.HeaderReason] == "" || h[sink.HeaderTopic] != tickets.Topic(w.Prefix) || h[sink.HeaderOffset] == "" || h[sink.HeaderSink] != "mem" || h[sink.HeaderPartition] == "" {
			t.Fatalf("DLQ record headers incomplete: %v", h)
		}
	}
	// The sink's offsets moved past the poison: a restart does not dead-letter it again.
	w.consume("mem", m)
	if n := len(readAll(t, w.KOpts, sink.DLQTopic(w.Prefix))); n != len(poison) {
		t.Fatalf("DLQ grew to %d after a restart", n)
	}
}

// A tombstone reaches the sink as a deletion, not as a dead letter: with our headers
// (reason, time, survivor) or without (another tool's delete: reason deleted, at the
// record's timestamp).
func TestTombstoneIsADeletion(t *testing.T) {
	w := newWorld(t)
	w.produce()
	cl, err := kgo.NewClient(w.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tickets, _ := catalog.Lookup("tickets")
	ids := w.Sim.IDs("tickets")
	at := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC) // after every version
	ours := tombstone.Deletion{ID: ids[0], At: at, Reason: tombstone.Merged, MergedInto: ids[1], EventID: 77}
	foreign := &kgo.Record{Topic: tickets.Topic(w.Prefix), Key: []byte(strconv.FormatInt(ids[2], 10)), Timestamp: at}
	if err := cl.ProduceSync(context.Background(), ours.Record(tickets.Topic(w.Prefix)), foreign).FirstErr(); err != nil {
		t.Fatal(err)
	}
	m := sinktest.NewMemory()
	w.consume("mem", m)
	if n := len(readAll(t, w.KOpts, sink.DLQTopic(w.Prefix))); n != 0 {
		t.Fatalf("%d dead letters, want none", n)
	}
	rows := map[int64]map[string]any{}
	for _, r := range m.Rows(tickets) {
		rows[r["id"].(int64)] = r
	}
	for _, c := range []struct {
		id     int64
		at     time.Time
		reason string
		into   any
	}{{ids[0], at, "merged", ids[1]}, {ids[2], at.Truncate(time.Millisecond), "deleted", nil}} { // Kafka timestamps have milliseconds
		r := rows[c.id]
		if got, _ := r[sink.ColDeletedAt].(time.Time); !got.Equal(c.at) || r[sink.ColDeletedReason] != c.reason || r[sink.ColMergedInto] != c.into {
			t.Errorf("ticket %d: deletion columns %v %v %v, want %v %s %v", c.id, r[sink.ColDeletedAt], r[sink.ColDeletedReason], r[sink.ColMergedInto], c.at, c.reason, c.into)
		}
	}
	if r := rows[ids[1]]; r[sink.ColDeletedAt] != nil {
		t.Errorf("the survivor %d is marked deleted", ids[1])
	}
}

// A destination without offsets starts at the beginning of the topics, whatever the
// Kafka group has committed.
func TestStartsAtBeginningNotGroupOffset(t *testing.T) {
	w := newWorld(t)
	w.produce()
	adm, err := kadm.NewOptClient(w.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	var topics []string
	for _, e := range catalog.All() {
		topics = append(topics, e.Topic(w.Prefix))
	}
	ends, err := adm.ListEndOffsets(context.Background(), topics...)
	if err != nil {
		t.Fatal(err)
	}
	group := w.Prefix + "sink-mem"
	if _, err := adm.CommitOffsets(context.Background(), group, ends.Offsets()); err != nil {
		t.Fatal(err)
	}
	m := sinktest.NewMemory()
	w.consume("mem", m)
	w.checkTruth(m)
}

// Two runners of one sink share the work; a rebalance in the middle loses and duplicates
// nothing, and both runners write.
func TestTwoRunnersRebalance(t *testing.T) {
	w := newWorld(t)
	w.produce()
	m := sinktest.NewMemory()
	m.FailWrite = func(sink.Batch) error { time.Sleep(15 * time.Millisecond); return nil } // a slow destination
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	slow := func(c *sink.Config) { c.BatchMaxRecords = 20; c.Once = false }
	a, b := &countingSink{Sink: m}, &countingSink{Sink: m}
	done := make(chan error, 2)
	go func() { done <- w.runner("mem", a, slow).Run(ctx) }()
	for a.writes.Load() < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	go func() { done <- w.runner("mem", b, slow).Run(ctx) }()
	deadline := time.Now().Add(45 * time.Second)
	for {
		complete := true
		for _, e := range catalog.All() {
			if len(m.Rows(e)) < len(w.Sim.IDs(e.Resource)) {
				complete = false
			}
		}
		if complete || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Fatalf("runner: %v", err)
		}
	}
	if a.writes.Load() == 0 || b.writes.Load() == 0 {
		t.Fatalf("no rebalance happened: writes %d and %d", a.writes.Load(), b.writes.Load())
	}
	w.checkTruth(m)
	for _, e := range catalog.All() {
		if got, want := len(m.Changelog(e)), len(m.Rows(e)); got != want {
			t.Errorf("%s: %d changelog rows for %d objects", e.Name, got, want)
		}
	}
}

// countingSink counts one runner's writes to a shared destination.
type countingSink struct {
	sink.Sink
	writes atomic.Int64
}

func (c *countingSink) Write(ctx context.Context, b sink.Batch) error {
	err := c.Sink.Write(ctx, b)
	if err == nil && len(b.Records) > 0 {
		c.writes.Add(1)
	}
	return err
}

func readAll(t testing.TB, kopts []kgo.Opt, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, kopts...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r); n++ })
		if n == 0 {
			return out
		}
	}
}

// Replay from the beginning rebuilds the same tables a long-running sink has.
func TestReplayRebuildsIdenticalTables(t *testing.T) {
	w := newWorld(t)
	w.produce()
	m := sinktest.NewMemory()
	w.consume("mem", m)
	w.Sim.Advance(24 * time.Hour)
	w.produce()
	w.consume("mem", m)
	before := map[string]int{}
	for _, e := range catalog.All() {
		before[e.Name] = len(m.Changelog(e))
	}
	cfg := sink.Config{Name: "mem", TopicPrefix: w.Prefix, Logger: logger()}
	if err := sink.Replay(context.Background(), cfg, m, w.Reg, w.KOpts, time.Time{}); err != nil {
		t.Fatal(err)
	}
	w.checkTruth(m)
	for _, e := range catalog.All() {
		if got := len(m.Changelog(e)); got != before[e.Name] {
			t.Errorf("%s: replayed changelog has %d rows, before %d", e.Name, got, before[e.Name])
		}
	}
	// Replay from a time after everything: empty tables, offsets at the end.
	if err := sink.Replay(context.Background(), cfg, m, w.Reg, w.KOpts, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, e := range catalog.All() {
		if n := len(m.Rows(e)); n != 0 {
			t.Errorf("%s: %d rows after replay from the future", e.Name, n)
		}
	}
}

// TestOnceWritesLastBatchWithoutWaiting: with Once, the batch that reaches the end
// offsets is written at once, not after BatchMaxWait (here far longer than the test's
// deadline), and the run returns before that deadline with everything written.
func TestOnceWritesLastBatchWithoutWaiting(t *testing.T) {
	w := newWorld(t)
	w.produce()
	m := sinktest.NewMemory()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := w.runner("once", m, func(c *sink.Config) { c.BatchMaxWait = time.Hour; c.BatchMaxRecords = 1 << 20 }).Run(ctx)
	if err != nil || ctx.Err() != nil {
		t.Fatalf("Run = %v, context %v: the last batch waited for BatchMaxWait", err, ctx.Err())
	}
	w.checkTruth(m)
}

// A runner far behind the end offsets (a new sink) reads the history in batches larger
// than BatchMaxRecords, bounded by CatchUpMaxBytes; once within CatchUpLag of the ends
// it is back to BatchMaxRecords. The destination ends equal to the truth either way.
func TestCatchUpBatchesGrow(t *testing.T) {
	w := newWorld(t)
	w.produce()
	for _, c := range []struct {
		name string
		lag  int
	}{{"catching up", 1000}, {"off", 0}} {
		t.Run(c.name, func(t *testing.T) {
			m := sinktest.NewMemory()
			var sizes []int
			m.FailWrite = func(b sink.Batch) error { sizes = append(sizes, len(b.Records)); return nil }
			w.consume("mem-"+c.name, m, func(cfg *sink.Config) {
				cfg.BatchMaxRecords, cfg.CatchUpLag, cfg.CatchUpMaxBytes, cfg.MemoryBudget = 100, c.lag, 256<<10, 8<<20
				cfg.BatchMaxWait = time.Minute // batches close on size, not time
			})
			w.checkTruth(m)
			total, largest := 0, 0
			for _, n := range sizes {
				total, largest = total+n, max(largest, n)
			}
			t.Logf("%d batches for %d records, largest %d, last %v", len(sizes), total, largest, sizes[max(len(sizes)-3, 0):])
			switch {
			case c.lag > 0 && largest <= 100:
				t.Errorf("catching up: the largest batch has %d records, want more than BatchMaxRecords (100)", largest)
			case c.lag > 0 && sizes[len(sizes)-1] > 100:
				t.Errorf("caught up: the last batch has %d records, want at most BatchMaxRecords (100)", sizes[len(sizes)-1])
			case c.lag == 0 && largest > 100:
				t.Errorf("catching up off: a batch of %d records, want at most 100", largest)
			}
		})
	}
}
