package producer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

var smallSim = gorgiassim.Config{Seed: 7, Customers: 250, Tickets: 400}

func countRecords(byID map[int64][]published) int {
	n := 0
	for _, rs := range byID {
		n += len(rs)
	}
	return n
}

func TestFullSweepThenEdits(t *testing.T) {
	e := newEnv(t, smallSim)
	e.mustRun(e.config())
	first := map[string]map[int64][]published{}
	for _, ent := range catalog.All() {
		first[ent.Name] = e.checkExact(ent)
		if got, want := countRecords(first[ent.Name]), len(e.Sim.IDs(ent.Resource)); got != want {
			t.Fatalf("%s: first sweep published %d records for %d objects", ent.Name, got, want)
		}
	}

	// A sweep with no change publishes nothing.
	e.mustRun(e.config())
	for _, ent := range catalog.All() {
		if got, want := countRecords(e.checkExact(ent)), countRecords(first[ent.Name]); got != want {
			t.Fatalf("%s: an idle sweep published %d new records", ent.Name, got-want)
		}
	}

	// One precise edit yields exactly one new version.
	tid := e.Sim.IDs("tickets")[10]
	if err := e.Sim.EditTicket(tid); err != nil {
		t.Fatal(err)
	}
	e.mustRun(e.config())
	tickets := e.checkExact(testenv.Entity(t, "tickets"))
	if n := len(tickets[tid]); n != 2 {
		t.Fatalf("edited ticket %d has %d versions in Kafka, want 2", tid, n)
	}
	if got, want := countRecords(tickets), countRecords(first["tickets"])+1; got != want {
		t.Fatalf("tickets: %d records after one edit, want %d", got, want)
	}

	// A day of activity: every entity changes; each changed object lands once more.
	before := map[string]int{}
	for _, ent := range catalog.All() {
		before[ent.Name] = len(e.readTopic(ent))
	}
	ch := e.Sim.Advance(24 * time.Hour)
	e.mustRun(e.config())
	for _, ent := range catalog.All() {
		changed := len(ch.IDs(ent.Resource))
		if changed == 0 {
			t.Errorf("%s: a day of activity changed nothing", ent.Name)
		}
		// A derived version also moves, untouched, when a scheduled time (a survey's
		// should_send_datetime, a job's scheduled_datetime) passes.
		got := countRecords(e.checkExact(ent)) - before[ent.Name]
		if got < changed || (!ent.DerivedVersion && got != changed) {
			t.Errorf("%s (%s): %d new records for %d changed objects", ent.Name, ent.Mode, got, changed)
		}
	}
}

// TestCrashAtEveryStep crashes the producer at each step of the first and third page of
// one entity of each extraction mode, in the backfill and in an incremental sweep; a
// restart leaves every topic exact. Small pages give the small lists several.
func TestCrashAtEveryStep(t *testing.T) {
	steps := []string{stepFetch, stepBeforeProduce, stepAfterProduce, stepAfterCommit}
	for _, m := range crashModes {
		ent := m.entity
		if got := testenv.Entity(t, ent).Mode; got != m.mode {
			t.Fatalf("%s is extracted %s, not %s", ent, got, m.mode)
		}
		for _, step := range steps {
			for _, page := range []int{1, 3} {
				t.Run(fmt.Sprintf("%s/%s/%s/page%d", m.mode, ent, step, page), func(t *testing.T) {
					e := newEnv(t, smallSim)
					crashOnce := func(after bool) func(string, string) error {
						var n atomic.Int32
						var fired atomic.Bool
						return func(s, en string) error {
							if en != ent || s != step || fired.Load() {
								return nil
							}
							if int(n.Add(1)) == page {
								fired.Store(true)
								return errCrash
							}
							return nil
						}
					}
					ctx := context.Background()
					// The crashed entity among two others swept beside it (a small one and a
					// long one), not all nineteen: 40 cases.
					var ents []catalog.Entity
					for _, name := range []string{"customers", ent, "tags"} {
						if en := testenv.Entity(t, name); !slices.Contains(ents, en) {
							ents = append(ents, en)
						}
					}
					cfg := e.config(func(c *Config) { c.PageSize, c.Entities = m.pageSize, ents })
					// Backfill crash, restart.
					if err := e.run(ctx, cfg, crashOnce(false)); !errors.Is(err, errCrash) {
						t.Fatalf("first run: %v, want the simulated crash", err)
					}
					e.mustRun(cfg)
					for _, en := range ents {
						e.checkExact(en)
					}
					// Incremental crash after activity, restart.
					e.Sim.Advance(36 * time.Hour)
					if err := e.run(ctx, cfg, crashOnce(false)); err != nil && !errors.Is(err, errCrash) {
						t.Fatalf("incremental run: %v", err)
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

// crashModes are the entities TestCrashAtEveryStep crashes in, one per extraction mode
// (both passes of a list walked once per pass for the snapshot), and their page sizes.
var crashModes = []struct {
	mode     catalog.Mode
	entity   string
	pageSize int
}{
	{catalog.ByVersion, "tickets", 100},
	{catalog.WithLookback, "ticket_messages", 100},
	{catalog.Snapshot, "custom_fields", 3},
	{catalog.AppendOnly, "events", 100},
}

// A stop of a Once run while it waits out a 429 (Retry-after) is prompt, reports
// ErrIncomplete, and loses and duplicates nothing.
func TestCrashDuringRateLimitWait(t *testing.T) {
	e := newEnv(t, smallSim)
	e.Sim.SetFaults(gorgiassim.Faults{Next: []gorgiassim.Fault{{}, {}, {}, {Status: 429, RetryAfter: 30}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.run(ctx, e.config(), nil) }()
	deadline := time.Now().Add(30 * time.Second)
	for e.api.Stats().Throttled == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the 429 was never served")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // now inside the Retry-after wait
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrIncomplete) {
			t.Fatalf("stop during rate-limit wait: %v, want ErrIncomplete", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("producer did not stop during its rate-limit wait")
	}
	// The restarted process has a new client (the old one would still honour the wait).
	e2 := newEnvWith(t, e.Cluster, e.Sim)
	e2.Prefix = e.Prefix
	e2.mustRun(e2.config())
	for _, en := range catalog.All() {
		e2.checkExact(en)
	}
}

// Restarting the broker itself from its data dir, mid-backfill, changes nothing.
func TestBrokerRestartFromDataDir(t *testing.T) {
	dir := t.TempDir()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	addrs := c.ListenAddrs()
	e := newEnvWithCluster(t, c, smallSim)
	var pages atomic.Int32
	err = e.run(context.Background(), e.config(), func(step, en string) error {
		if step == stepAfterProduce && pages.Add(1) == 6 {
			return errCrash
		}
		return nil
	})
	if !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v", err)
	}
	c.Close()
	port := addrs[0][strings.LastIndex(addrs[0], ":")+1:]
	var p int
	fmt.Sscan(port, &p)
	c2, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dir), kfake.Ports(p))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c2.Close)
	e2 := newEnvWith(t, c2, e.Sim)
	e2.Prefix = e.Prefix
	e2.mustRun(e2.config())
	for _, en := range catalog.All() {
		e2.checkExact(en)
	}
}

// Messages and surveys change after creation; a survey scored inside the lookback window
// is published again, one scored outside it is not.
func TestLookbackWindow(t *testing.T) {
	e := newEnv(t, smallSim)
	e.mustRun(e.config())
	surveys := testenv.Entity(t, "satisfaction_surveys")
	base := e.checkExact(surveys)

	now := e.Sim.Now()
	var inside, outside int64
	for _, raw := range e.Sim.Objects("satisfaction-surveys") {
		var s struct {
			ID      int64   `json:"id"`
			Created string  `json:"created_datetime"`
			Scored  *string `json:"scored_datetime"`
		}
		mustJSON(t, raw, &s)
		created, err := gorgias.ParseTime(s.Created)
		if err != nil {
			t.Fatal(err)
		}
		if s.Scored != nil {
			continue
		}
		age := now.Sub(created)
		if inside == 0 && age > 24*time.Hour && age < 5*24*time.Hour {
			inside = s.ID
		}
		if outside == 0 && age > 10*24*time.Hour {
			outside = s.ID
		}
	}
	if inside == 0 || outside == 0 {
		t.Fatalf("simulator lacks unscored surveys of the right ages (inside=%d outside=%d)", inside, outside)
	}
	for _, id := range []int64{inside, outside} {
		if err := e.Sim.ScoreSurvey(id, 4); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun(e.config(func(c *Config) { c.Lookback = 7 * 24 * time.Hour }))
	recs := e.readTopic(surveys)
	count := map[int64]int{}
	for _, r := range recs {
		count[r.id]++
	}
	if count[inside] != 2 {
		t.Errorf("survey %d scored inside the window: %d versions, want 2", inside, count[inside])
	}
	if count[outside] != 1 {
		t.Errorf("survey %d scored outside the window: %d versions, want 1", outside, count[outside])
	}
	if got, want := len(recs), countRecords(base)+1; got != want {
		t.Errorf("surveys: %d records, want %d", got, want)
	}
}

func TestPacingAvoids429(t *testing.T) {
	cfg := smallSim
	cfg.RateLimit, cfg.RateWindow = 6, time.Second
	e := newEnvWith(t, testenv.NewCluster(t), gorgiassim.New(cfg), func(c *gorgias.Config) {
		c.RateLimit, c.RateWindow = 6, time.Second
	})
	e.mustRun(e.config(func(c *Config) { c.Entities = []catalog.Entity{testenv.Entity(t, "ticket_messages")} }))
	if n := e.Sim.Stats().Throttled429; n != 0 {
		t.Fatalf("%d requests were throttled under header pacing", n)
	}
	if n := e.Sim.Stats().Requests; n < 12 {
		t.Fatalf("only %d requests: the test never reached the limit", n)
	}
	e.checkExact(testenv.Entity(t, "ticket_messages"))
}

func TestFaultStormsLoseNothing(t *testing.T) {
	cfg := smallSim
	cfg.ExtraFields = true
	e := newEnvWith(t, testenv.NewCluster(t), gorgiassim.New(cfg), func(c *gorgias.Config) {
		c.MaxRetries, c.Max429Retries = 30, 30
	})
	e.Sim.SetFaults(gorgiassim.Faults{
		ServerErrorRate: 0.2, MalformedRate: 0.15, SlowRate: 0.05, SlowDelay: 20 * time.Millisecond,
		Next: []gorgiassim.Fault{{Status: 429, RetryAfter: 1}, {Status: 503}, {Malformed: true}, {Status: 429, RetryAfter: 1}},
	})
	e.mustRun(e.config())
	st := e.Sim.Stats()
	if st.Injected5xx == 0 || st.Malformed == 0 || st.Statuses[429] == 0 {
		t.Fatalf("faults were not injected: %+v", st)
	}
	for _, en := range catalog.All() {
		byID := e.checkExact(en)
		for _, rs := range byID {
			if rs[0].value["_extra"] == nil {
				t.Fatalf("%s: unknown fields were not kept in _extra", en.Name)
			}
			break
		}
	}
}

func TestWrongCredentials(t *testing.T) {
	e := newEnv(t, smallSim, func(c *gorgias.Config) { c.Credentials.APIKey = "wrong-secret-key-123" })
	err := e.run(context.Background(), e.config(), nil)
	if !errors.Is(err, gorgias.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "wrong-secret-key-123") {
		t.Fatalf("error leaks the API key: %s", msg)
	}
	if !strings.Contains(msg, "acme") || !strings.Contains(msg, "sim@example.com") {
		t.Fatalf("error does not name the account and user: %s", msg)
	}
	for path, n := range e.Sim.Stats().Paths { // concurrent sweeps: one first request each
		if n > 1 {
			t.Fatalf("401 was retried: %d requests to %s", n, path)
		}
	}
}

// A 403 for a scope the API key lacks stops that entity alone: the run fails with one
// line naming the entity, its resource and the scope, every other entity is swept and
// exact, and once the right is granted a rerun completes the denied entity.
func TestForbiddenEntityStopsAlone(t *testing.T) {
	denied := testenv.Entity(t, deniedEntity)
	e := newEnv(t, smallSim)
	e.Sim.Deny(denied.Resource)
	err := e.run(context.Background(), e.config(), nil)
	if !errors.Is(err, ErrEntityFailed) || !errors.Is(err, gorgias.ErrForbidden) || errors.Is(err, ErrIncomplete) {
		t.Fatalf("err = %v, want ErrEntityFailed wrapping ErrForbidden", err)
	}
	for _, want := range []string{denied.Name, "/api/" + denied.Resource, denied.Scope} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("err is not one line: %q", err)
	}
	for _, en := range catalog.All() {
		if en.Name == denied.Name {
			if n := len(e.readTopic(en)); n != 0 {
				t.Fatalf("denied %s: %d records published", en.Name, n)
			}
			continue
		}
		e.checkExact(en)
	}
	e.Sim.Allow(denied.Resource)
	e.mustRun(e.config())
	for _, en := range catalog.All() {
		e.checkExact(en)
	}
}

// deniedEntity is the entity TestForbiddenEntityStopsAlone denies.
const deniedEntity = "voice_calls"

func TestIntervalBounds(t *testing.T) {
	e := newEnv(t, smallSim)
	tickets := testenv.Entity(t, "tickets")
	now := e.Sim.Now()
	start, end := now.Add(-60*24*time.Hour), now.Add(-30*24*time.Hour)
	e.mustRun(e.config(func(c *Config) {
		c.Entities = []catalog.Entity{tickets}
		c.IntervalStart, c.IntervalEnd = start, end
	}))
	recs := e.readTopic(tickets)
	want := 0
	for _, tr := range e.truth(tickets) {
		if tr.Version >= start.UnixMicro() && tr.Version <= end.UnixMicro() {
			want++
		}
	}
	if len(recs) != want || want == 0 {
		t.Fatalf("interval run published %d records, want %d", len(recs), want)
	}
	for _, r := range recs {
		if r.version < start.UnixMicro() || r.version > end.UnixMicro() {
			t.Fatalf("record %d version %s outside the interval", r.id, fmtMicros(r.version))
		}
	}
	// An unbounded run afterwards completes the history without republishing the window.
	e.mustRun(e.config(func(c *Config) { c.Entities = []catalog.Entity{tickets} }))
	e.checkExact(tickets)
}

// Stopping a run (SIGTERM) is clean wherever it lands: committed pages stay, nothing is
// half-written, and a rerun completes the topics exactly. A continuous run then returns
// nil; a Once run returns ErrIncomplete naming the entities whose sweep did not finish.
func TestStopBeforeTheEnd(t *testing.T) {
	// from names the catalog's entities from the first one given on.
	from := func(first string) string {
		names := catalog.Names()
		return strings.Join(names[slices.Index(names, first):], ", ")
	}
	all := from("customers")
	cases := []struct {
		name   string
		once   bool
		step   string // hook step at which ctx is cancelled; "" cancels it before Run
		entity string // entity of the step ("" for setup steps)
		n      int    // at the step's n-th occurrence
		// pending is the list the error names ("" for a nil error); kept is how many
		// tickets the stopped run committed.
		pending string
		kept    int
	}{
		{"once/before-run", true, "", "", 0, all, 0},
		{"once/creating-topics", true, stepTopics, "", 1, all, 0},
		{"once/fencing", true, stepInit, "", 1, all, 0},
		{"once/reading-state", true, stepReadState, "", 1, all, 0},
		{"once/open-transaction", true, stepAfterProduce, "tickets", 2, from("tickets"), 200},
		{"once/fetch", true, stepFetch, "ticket_messages", 3, from("ticket_messages"), 400},
		{"continuous/open-transaction", false, stepAfterProduce, "tickets", 2, "", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, smallSim)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.step == "" {
				cancel()
			}
			var n atomic.Int32
			// One sweep at a time, so that which entities finished is known.
			err := e.run(ctx, e.config(func(c *Config) { c.Once, c.Concurrency = tc.once, 1 }), func(step, en string) error {
				if step == tc.step && en == tc.entity && int(n.Add(1)) == tc.n {
					cancel()
				}
				return nil
			})
			switch {
			case tc.pending == "" && err != nil:
				t.Fatalf("stopped continuous run: %v, want nil", err)
			case tc.pending != "" && (!errors.Is(err, ErrIncomplete) || !strings.HasSuffix(err.Error(), ": "+tc.pending+" not swept")):
				t.Fatalf("stopped Once run: %v, want ErrIncomplete naming %s", err, tc.pending)
			}
			if tc.kept > 0 {
				if got := len(e.readTopic(testenv.Entity(t, "tickets"))); got != tc.kept {
					t.Fatalf("the stopped run left %d tickets committed, want %d", got, tc.kept)
				}
			}
			e.mustRun(e.config())
			for _, en := range catalog.All() {
				e.checkExact(en)
			}
		})
	}
}

// A commit the broker refuses is a failure (never nil, never ErrIncomplete), even when
// a stop request arrives while that transaction is open; a rerun completes the topics.
func TestFailedCommitIsAFailure(t *testing.T) {
	for _, once := range []bool{true, false} {
		t.Run(fmt.Sprintf("once=%v", once), func(t *testing.T) {
			e := newEnv(t, smallSim)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var pages atomic.Int32
			err := e.run(ctx, e.config(func(c *Config) { c.Once = once }), func(step, en string) error {
				if step == stepAfterProduce && pages.Add(1) == 3 {
					e.Cluster.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
						resp := req.ResponseKind().(*kmsg.EndTxnResponse)
						resp.ErrorCode = kerr.InvalidTxnState.Code
						return resp, nil, true
					})
					cancel()
				}
				return nil
			})
			if err == nil || errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "commit") {
				t.Fatalf("refused commit: %v, want a commit failure", err)
			}
			e.mustRun(e.config())
			for _, en := range catalog.All() {
				e.checkExact(en)
			}
		})
	}
}

// A second producer with the same transactional id fences the first: the first fails
// with ErrFenced (in both modes: never nil, never ErrIncomplete) without committing its
// open page, and the topics stay exact.
func TestZombieIsFenced(t *testing.T) {
	for _, once := range []bool{true, false} {
		t.Run(fmt.Sprintf("once=%v", once), func(t *testing.T) {
			e := newEnv(t, smallSim)
			release := make(chan struct{})
			reached := make(chan struct{})
			var pages atomic.Int32
			zombie := make(chan error, 1)
			go func() {
				zombie <- e.run(context.Background(), e.config(func(c *Config) { c.Once = once }), func(step, en string) error {
					if step == stepAfterProduce && pages.Add(1) == 3 {
						close(reached)
						<-release
					}
					return nil
				})
			}()
			<-reached
			e2 := newEnvWith(t, e.Cluster, e.Sim)
			e2.Prefix = e.Prefix
			e2.mustRun(e2.config())
			close(release)
			if err := <-zombie; !errors.Is(err, ErrFenced) || errors.Is(err, ErrIncomplete) {
				t.Fatalf("zombie producer: %v, want ErrFenced", err)
			}
			for _, en := range catalog.All() {
				e2.checkExact(en)
			}
		})
	}
}

// sweepCounter counts finished sweeps per entity (a producer Observer).
type sweepCounter struct {
	mu    sync.Mutex
	swept map[string]int
}

func (c *sweepCounter) StateLoaded(map[string]time.Time) {}
func (c *sweepCounter) PageCommitted(string, int)        {}
func (c *sweepCounter) SweepDone(entity string, _ time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.swept[entity]++
}

// sweptAll reports whether every entity but skip finished n sweeps.
func (c *sweepCounter) sweptAll(n int, skip string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range catalog.All() {
		if e.Name != skip && c.swept[e.Name] < n {
			return false
		}
	}
	return true
}

// In continuous mode a forbidden entity stops alone: every other entity keeps being
// swept round after round, and the stopped run reports the failed entity (exit 1),
// not a clean stop.
func TestContinuousForbiddenEntity(t *testing.T) {
	denied := testenv.Entity(t, deniedEntity)
	e := newEnv(t, smallSim)
	e.Sim.Deny(denied.Resource)
	counter := &sweepCounter{swept: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- e.run(ctx, e.config(func(c *Config) {
			c.Once, c.PollInterval, c.SnapshotInterval, c.Metrics = false, 50*time.Millisecond, 50*time.Millisecond, counter
		}), nil)
	}()
	guard := time.After(time.Minute) // hang guard only
	for !counter.sweptAll(2, denied.Name) {
		select {
		case err := <-done:
			t.Fatalf("continuous run ended early: %v", err)
		case <-guard:
			t.Fatalf("not every other entity was swept twice: %v", counter.swept)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	err := <-done
	if !errors.Is(err, ErrEntityFailed) || !errors.Is(err, gorgias.ErrForbidden) || !strings.Contains(err.Error(), denied.Name) {
		t.Fatalf("stopped continuous run: %v, want ErrEntityFailed naming %s", err, denied.Name)
	}
	for _, en := range catalog.All() {
		if en.Name != denied.Name {
			e.checkExact(en)
		}
	}
}
