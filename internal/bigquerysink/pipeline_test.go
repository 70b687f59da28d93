package bigquerysink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/bqfake"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

// newWorld is kfake + simulator + the real producer, small enough for many runs.
func newWorld(t *testing.T, entities ...catalog.Entity) *world {
	t.Helper()
	w := &world{World: sinktest.NewWorld(t, gorgiassim.Config{Seed: 7, Customers: 30, Tickets: 45}), entities: entities}
	if len(w.entities) == 0 {
		w.entities = catalog.All()
	}
	w.Produce(w.entities...)
	return w
}

// world is a sinktest.World whose producer and sinks move only entities.
type world struct {
	*sinktest.World
	entities []catalog.Entity
}

// matrixEntities are the entities the fault and crash matrices move: what they test is
// the sink's path through BigQuery's API, the same for every entity; long lists, a
// short one and a snapshot keep every step recurring (batches of 50 records).
func matrixEntities(t *testing.T) []catalog.Entity {
	var out []catalog.Entity
	for _, name := range []string{"customers", "tickets", "ticket_messages", "tags"} {
		out = append(out, testenv.Entity(t, name))
	}
	return out
}

// consume runs one sink runner on tg (sink name tg.dataset) until caught up.
func consume(t *testing.T, w *world, tg *target, mod ...func(*Config)) error {
	t.Helper()
	cfg := tg.config()
	for _, f := range mod {
		f(&cfg)
	}
	s, err := Open(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(bg, 2*time.Minute)
	defer cancel()
	return sink.NewRunner(sink.Config{Name: tg.dataset, TopicPrefix: w.Prefix, Once: true, BatchMaxRecords: 50, Entities: w.entities,
		BatchMaxWait: 200 * time.Millisecond, Logger: sinktest.Logger()}, s, w.Reg, w.KOpts).Run(ctx)
}

// checkTruth asserts that every entity table equals the simulator's truth (latest
// version of each object, none missing, no duplicate) and that every changelog holds
// each version exactly once.
func checkTruth(t *testing.T, w *world, tg *target) {
	t.Helper()
	s := tg.open(t)
	defer s.Close()
	for _, e := range w.entities {
		rows, err := s.Rows(bg, e)
		if err != nil {
			t.Fatal(err)
		}
		bqForm.CheckTruth(t, w.Reg, w.Sim, e, rows)
		log, err := s.ChangelogRows(bg, e)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range log {
			k := fmt.Sprint(r[catalog.Key], "@", r[e.VersionField].(time.Time).UnixMicro())
			if seen[k] {
				t.Errorf("%s changelog: version %s twice", e.Name, k)
			}
			seen[k] = true
		}
		if len(log) < len(rows) {
			t.Errorf("%s changelog: %d rows for %d objects", e.Name, len(log), len(rows))
		}
	}
}

// TestEndToEndTruth: producer → kfake → runner → BigQuery sink → fake. After a full
// load, edits and a second load, each table equals the simulator's truth.
func TestEndToEndTruth(t *testing.T) {
	w := newWorld(t)
	srv := newFake(t)
	tg := newTarget(srv, w.Prefix)
	if err := consume(t, w, tg); err != nil {
		t.Fatalf("first load: %v", err)
	}
	checkTruth(t, w, tg)

	ch := w.Sim.Advance(6 * time.Hour)
	if err := w.Sim.EditTicket(w.Sim.IDs("tickets")[0]); err != nil {
		t.Fatal(err)
	}
	w.Produce(w.entities...)
	if err := consume(t, w, tg); err != nil {
		t.Fatalf("second load: %v", err)
	}
	checkTruth(t, w, tg)
	t.Logf("changes in the second load: %+v", ch)
}

// step is one kind of request the sink sends, as the fake names it.
var steps = []string{
	"datasets.get", "datasets.insert", "tables.get", "tables.insert", "jobs.insert.load",
	"jobs.insert.query", "jobs.get", "jobs.query", "tables.delete",
}

// skips are the occurrences of a step a fault hits: the first, and a later one for the
// steps that recur (the dataset is read and created once per run, the offsets once per
// assignment).
func skips(op string, later int) []int {
	switch op {
	case "datasets.get", "datasets.insert", "jobs.query":
		return []int{0}
	}
	return []int{0, later}
}

var faultKinds = []struct {
	name string
	kind bqfake.FaultKind
	ops  []string // nil: every step
}{
	{"5xx", bqfake.Fault5xx, nil},
	{"lost-reply", bqfake.FaultLoseReply, nil},
	{"error-after-work", bqfake.FaultErrorAfterWork, nil},
	{"rate-limit", bqfake.FaultRateLimit, nil},
	{"404-after-create", bqfake.FaultNotFoundAfterCreate, []string{"tables.insert"}},
	{"job-fails", bqfake.FaultJobFails, []string{"jobs.insert.load", "jobs.insert.query"}},
}

// TestFaultMatrix injects every fault at every step (twice in a row) and lets the sink
// retry: the run succeeds and the tables are exact. (Which occurrence of a step is hit
// does not change the retry path; TestCrashMatrix also hits later occurrences.)
func TestFaultMatrix(t *testing.T) {
	w := newWorld(t, matrixEntities(t)...)
	for _, fk := range faultKinds {
		ops := fk.ops
		if ops == nil {
			ops = steps
		}
		for _, op := range ops {
			for _, skip := range []int{0} {
				t.Run(fmt.Sprintf("%s/%s/skip%d", fk.name, op, skip), func(t *testing.T) {
					t.Parallel()
					srv := newFake(t)
					tg := newTarget(srv, w.Prefix)
					srv.Inject(bqfake.Fault{Op: op, Kind: fk.kind, Skip: skip, Times: 2})
					if err := consume(t, w, tg); err != nil {
						t.Fatalf("with the fault: %v", err)
					}
					if srv.Fired() == 0 {
						t.Fatalf("the fault never fired: the step was not reached %d times", skip+1)
					}
					checkTruth(t, w, tg)
				})
			}
		}
	}
}

// TestCrashMatrix makes the sink give up at the first fault (no retries of its own), so
// the consumer dies at that step — before or after the work was done — and restarts
// on a clean connection: the tables end exact.
func TestCrashMatrix(t *testing.T) {
	w := newWorld(t, matrixEntities(t)...)
	noRetry := func(c *Config) { c.Retry.Attempts = 1 }
	for _, fk := range faultKinds {
		ops := fk.ops
		if ops == nil {
			ops = steps
		}
		for _, op := range ops {
			for _, skip := range skips(op, 3) {
				t.Run(fmt.Sprintf("%s/%s/skip%d", fk.name, op, skip), func(t *testing.T) {
					t.Parallel()
					srv := newFake(t)
					tg := newTarget(srv, w.Prefix)
					srv.Inject(bqfake.Fault{Op: op, Kind: fk.kind, Skip: skip, Times: 1})
					crashed := consume(t, w, tg, noRetry) != nil
					if srv.Fired() == 0 {
						t.Fatalf("the fault never fired: the step was not reached %d times", skip+1)
					}
					srv.ClearFaults()
					if err := consume(t, w, tg); err != nil {
						t.Fatalf("restart (crashed: %v): %v", crashed, err)
					}
					checkTruth(t, w, tg)
				})
			}
		}
	}
}

// TestZombieRefused: a second sink instance commits the batch range first; the first
// one's commit is refused as stale and stores nothing twice.
func TestZombieRefused(t *testing.T) {
	srv := newFake(t)
	tg := newTarget(srv, "conformance.")
	fx := sinktest.NewFixture(t, nil)
	tickets, _ := catalog.Lookup("tickets")
	a, b := tg.open(t), tg.open(t)
	defer a.Close()
	defer b.Close()
	for _, s := range []*Sink{a, b} {
		if err := s.Prepare(bg, catalog.All(), fx.Reg.Schemas("")); err != nil {
			t.Fatal(err)
		}
	}
	batch := sinktest.Batch(nil, fx.Records(t, tickets, 20, 0)...)
	if err := b.Write(bg, batch); err != nil {
		t.Fatalf("new owner: %v", err)
	}
	if err := a.Write(bg, batch); !errorsIs(err, sink.ErrStaleOffset) {
		t.Fatalf("zombie: %v, want ErrStaleOffset", err)
	}
	rows, err := a.Rows(bg, tickets)
	if err != nil {
		t.Fatal(err)
	}
	log, err := a.ChangelogRows(bg, tickets)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 20 || len(log) != 20 {
		t.Fatalf("%d rows, %d changelog rows; want 20 and 20", len(rows), len(log))
	}
}
