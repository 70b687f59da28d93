package producer

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// deletingSim deletes, merges and trashes objects as it moves time forward.
var deletingSim = gorgiassim.Config{Seed: 11, Customers: 250, Tickets: 400, Deletes: true}

// tombstonesByReason counts the tombstones of ent's topic per reason.
func (e *env) tombstonesByReason(ent catalog.Entity) map[tombstone.Reason]int {
	out := map[tombstone.Reason]int{}
	for _, r := range e.readTopic(ent) {
		if r.deletion != nil {
			out[r.deletion.Reason]++
		}
	}
	return out
}

// Deletions, merges, trash and spam between sweeps: every topic ends exact
// (testenv.Env.CheckTopicExact: one tombstone per deleted object, the last record of
// its key, with the event's time, reason, survivor and id; trashed and spam tickets are
// versions, not deletions), and a sweep with no change publishes no tombstone again.
func TestDeletionsReachTopics(t *testing.T) {
	e := newEnv(t, deletingSim)
	e.mustRun(e.config())
	for range 2 {
		e.Sim.Advance(24 * time.Hour)
		e.mustRun(e.config())
	}
	e.CheckTopicsExact(t)
	want := map[string][]tombstone.Reason{
		"tickets": {tombstone.Deleted, tombstone.Merged}, "customers": {tombstone.Merged},
		"tags": {tombstone.Disappeared},
	}
	counts := map[string]map[tombstone.Reason]int{}
	for name, reasons := range want {
		counts[name] = e.tombstonesByReason(testenv.Entity(t, name))
		for _, r := range reasons {
			if counts[name][r] == 0 {
				t.Errorf("%s: no tombstone %s after two days of deletions (%v)", name, r, counts[name])
			}
		}
	}
	t.Logf("tombstones: %v", counts)
	e.mustRun(e.config()) // idle
	for name := range want {
		if got := e.tombstonesByReason(testenv.Entity(t, name)); fmt.Sprint(got) != fmt.Sprint(counts[name]) {
			t.Errorf("%s: an idle sweep changed the tombstones from %v to %v", name, counts[name], got)
		}
	}
}

// TestCrashAroundDeletions crashes the producer at each commit step of the first and
// second transaction that carries tombstones: of the events feed (delete and merge
// events, small pages) and of a snapshot (disappeared tags, on its last page). A
// restart publishes each deletion exactly once and every topic ends exact.
func TestCrashAroundDeletions(t *testing.T) {
	cases := []struct {
		entity   string
		pageSize int
		nth      []int
	}{
		{"events", 5, []int{1, 2}},
		{"tags", 3, []int{1}}, // one snapshot, one transaction with tombstones
	}
	for _, c := range cases {
		for _, step := range []string{stepBeforeProduce, stepAfterProduce, stepAfterCommit} {
			for _, nth := range c.nth {
				t.Run(fmt.Sprintf("%s/%s/%d", c.entity, step, nth), func(t *testing.T) {
					e := newEnv(t, deletingSim)
					var ents []catalog.Entity
					for _, name := range []string{"customers", "tickets", "events", "tags"} {
						ents = append(ents, testenv.Entity(t, name))
					}
					cfg := e.config(func(cf *Config) { cf.PageSize, cf.Entities = c.pageSize, ents })
					e.mustRun(cfg)
					e.Sim.Advance(24 * time.Hour)
					var n atomic.Int32
					var fired atomic.Bool
					hook := func(s, en string) error {
						if en != c.entity+withTombstones || s != step || fired.Load() {
							return nil
						}
						if int(n.Add(1)) != nth {
							return nil
						}
						fired.Store(true)
						return errCrash
					}
					if err := e.run(context.Background(), cfg, hook); !errors.Is(err, errCrash) {
						t.Fatalf("run with a crash at the %s of transaction %d with tombstones of %s: %v, want the crash", step, nth, c.entity, err)
					}
					e.mustRun(cfg)
					for _, en := range ents {
						e.checkExact(en)
					}
				})
			}
		}
	}
}
