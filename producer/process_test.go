package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestMain removes the producer executable the process tests built once they ran.
func TestMain(m *testing.M) { proctest.Main(m) }

// Log lines of the producer the tests steer by (text format; "page committed" is
// logged at debug after each page's transaction committed).
var (
	pageLine  = `msg="page committed"`
	pageRE    = regexp.MustCompile(`msg="page committed" entity=(\S+) page=\d+ records=(\d+)`)
	sweepRE   = regexp.MustCompile(`msg="sweep done" entity=(\S+)`)
	errLineRE = regexp.MustCompile(`(?m)^producer: .*$`)
)

// Hang guards: generous bounds that only stop a stuck test; nothing asserts timing.
const (
	runGuard  = 2 * time.Minute
	waitGuard = 90 * time.Second
)

// chaos is one process-level test: a kfake broker with a data dir, the Gorgias
// simulator served over HTTP on 127.0.0.1, and the real producer binary.
type chaos struct {
	t     *testing.T
	w     *sinktest.World
	bin   string
	env   []string
	rnd   *rand.Rand
	procs []*proctest.Proc
	// swept are the entities whose first sweep (the backfill) finished in some run;
	// published counts the records each entity's committed pages held, over all runs.
	swept     map[string]bool
	published map[string]int
}

// newChaos builds the binary and the world for an account of customers and tickets
// (about four messages per ticket, a survey on a fifth of them).
func newChaos(t *testing.T, customers, tickets int) *chaos {
	seed := proctest.Seed(t)
	bin := proctest.Build(t, ".")
	w := sinktest.NewWorld(t, gorgiassim.Config{Seed: seed + 1, Customers: customers, Tickets: tickets}, kfake.DataDir(t.TempDir()))
	srv := httptest.NewServer(w.Sim.Handler()) // 127.0.0.1, random port
	t.Cleanup(srv.Close)
	c := &chaos{t: t, w: w, bin: bin, rnd: proctest.Rand(seed), swept: map[string]bool{}, published: map[string]int{}, env: []string{
		"GORGIAS_URI=gorgias://acme?api_key=sim-api-key&email=sim@example.com",
		"GORGIAS_BASE_URL=" + srv.URL + "/api",
		"GORGIAS_RATE_LIMIT=10000", "GORGIAS_RATE_WINDOW=1s",
		"KAFKA_BROKERS=" + strings.Join(w.Brokers, ","),
		"KAFKA_TOPIC_PREFIX=" + w.Prefix,
		"TOPICS_PARTITIONS=3", "TOPICS_REPLICATION_FACTOR=1",
		"METRICS_LISTEN=off", "LOG_LEVEL=debug",
	}}
	var objects []string
	for _, e := range catalog.All() {
		objects = append(objects, fmt.Sprintf("%d %s", len(w.Sim.IDs(e.Resource)), e.Name))
	}
	t.Logf("account: %s", strings.Join(objects, ", "))
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range c.procs {
				t.Logf("process %d, %s, last lines:\n%s", i+1, p, p.Tail(25))
			}
		}
	})
	return c
}

// start runs the producer with args.
func (c *chaos) start(args ...string) *proctest.Proc {
	p := proctest.Start(c.t, c.bin, c.env, args...)
	c.procs = append(c.procs, p)
	return p
}

// backfillPlan estimates the pages the next backfill run commits: skip pages that
// publish nothing new, then fresh pages publishing the rest. By mode: a backfilled
// entity finds nothing new on one page, but an entity read in full (snapshot, unfiltered
// list) reads all its pages again; an unfinished incremental entity walks again from
// the newest object over what earlier runs published; an append-only entity with a
// date filter resumes at its mark.
func (c *chaos) backfillPlan() (skip, fresh int) {
	for _, e := range catalog.All() {
		total := len(c.w.Sim.IDs(e.Resource))/100 + len(e.Passes())
		covered := min(c.published[e.Name]/100, total)
		switch {
		case c.swept[e.Name] && e.FullRead():
			skip += total
		case c.swept[e.Name]:
			skip++
		case e.Mode == catalog.AppendOnly && e.SinceParam != "":
			fresh += total - covered
		default:
			skip += covered
			fresh += total - covered
		}
	}
	return skip, fresh
}

// stopMidSweep starts `producer --once`, waits until it committed page skip+k, k a
// seeded random number within the first half of fresh (the pages expected to publish
// new objects; the other half is the margin that keeps the stop before the end),
// waits a seeded 0-20 ms more so the signal lands anywhere in a fetch or a
// transaction, and sends sig. It fails the test unless the process was still sweeping
// then (some sweep of the run unfinished). It returns the process.
func (c *chaos) stopMidSweep(label string, skip, fresh int, sig syscall.Signal) *proctest.Proc {
	c.t.Helper()
	p := c.start("--once")
	n := skip + 1 + c.rnd.IntN(max(1, fresh/2))
	delay := time.Duration(c.rnd.IntN(20_000)) * time.Microsecond
	ctx, cancel := context.WithTimeout(context.Background(), waitGuard)
	defer cancel()
	if !p.WaitOutput(ctx, pageLine, n) {
		c.t.Fatalf("%s: %s did not commit %d pages", label, p, n)
	}
	time.Sleep(delay)
	if p.Exited() {
		c.t.Fatalf("%s: %s ended on its own before the %s", label, p, sig)
	}
	if sig == syscall.SIGKILL {
		p.Kill()
		if !strings.Contains(p.String(), "killed by") {
			c.t.Fatalf("%s: %s ended on its own before the SIGKILL", label, p)
		}
	} else {
		p.Signal(sig)
		p.Wait(runGuard)
	}
	out := p.Output()
	var finished []string
	for _, m := range sweepRE.FindAllStringSubmatch(out, -1) {
		finished = append(finished, m[1])
		c.swept[m[1]] = true
	}
	if len(finished) >= len(catalog.All()) {
		c.t.Fatalf("%s: every sweep had finished before the %s; the moment was too late", label, sig)
	}
	pages := pageRE.FindAllStringSubmatch(out, -1)
	records := map[string]int{}
	for _, m := range pages {
		v, _ := strconv.Atoi(m[2])
		records[m[1]] += v
		c.published[m[1]] += v
	}
	c.t.Logf("%s: %s %s after page %d (new objects expected from page %d of about %d): %d pages committed, records %v, sweeps finished %v",
		label, sig, delay.Round(time.Millisecond), n, skip+1, skip+fresh, len(pages), records, finished)
	return p
}

// finish runs `producer --once` to its end and requires exit code 0.
func (c *chaos) finish(label string) {
	c.t.Helper()
	start := time.Now()
	p := c.start("--once")
	if code := p.Wait(runGuard); code != 0 {
		c.t.Fatalf("%s: --once exited %d, want 0", label, code)
	}
	c.t.Logf("%s: --once exited 0 after %s, %d pages committed", label, time.Since(start).Round(time.Millisecond), p.Count(pageLine))
}

// check asserts the topics hold every version exactly once and the simulator's state.
func (c *chaos) check(label string) {
	c.t.Helper()
	counts := c.w.CheckTopicsExact(c.t)
	if c.t.Failed() {
		c.t.FailNow()
	}
	c.t.Logf("%s: topics exact, records per entity %v", label, counts)
}

// SIGKILL at seeded moments of a backfill (three times) and of an incremental sweep:
// after each, `producer --once` exits 0 and every topic holds every object version
// exactly once, the newest equal to the simulator's object.
func TestProcessSIGKILLMidSweep(t *testing.T) {
	c := newChaos(t, 3000, 4000)
	for i := 1; i <= 3; i++ {
		skip, fresh := c.backfillPlan()
		c.stopMidSweep(fmt.Sprintf("backfill run %d", i), skip, fresh, syscall.SIGKILL)
	}
	c.finish("backfill")
	c.check("after the backfill")

	// A few batches of activity: edits, new tickets and messages, surveys sent and scored.
	pages := 0
	for range 3 {
		ch := c.w.Sim.Advance(8 * time.Hour)
		for _, e := range catalog.All() {
			pages += len(ch.IDs(e.Resource))/100 + 1
		}
	}
	c.stopMidSweep("incremental run", 0, pages, syscall.SIGKILL)
	c.finish("incremental")
	c.check("after the incremental sweep")
}

// SIGTERM during a `--once` backfill: exit code 3 with one line on stderr naming the
// entities not swept; the next `--once` exits 0 with the topics exact. A continuous
// producer stopped by SIGTERM exits 0.
func TestProcessSIGTERM(t *testing.T) {
	c := newChaos(t, 1000, 1200)
	skip, fresh := c.backfillPlan()
	p := c.stopMidSweep("--once backfill", skip, fresh, syscall.SIGTERM)
	if code := p.Wait(runGuard); code != 3 {
		t.Fatalf("--once stopped by SIGTERM exited %d, want 3", code)
	}
	lines := errLineRE.FindAllString(p.Output(), -1)
	if len(lines) != 1 || !strings.Contains(lines[0], "stopped before every sweep finished (terminated signal received): ") ||
		!strings.HasSuffix(lines[0], " not swept") {
		t.Fatalf("want one line \"producer: stopped before every sweep finished (terminated signal received): ... not swept\", got %q", lines)
	}
	t.Logf("stderr: %s", lines[0])
	c.finish("rerun")
	c.check("after the rerun")

	p = c.start()
	ctx, cancel := context.WithTimeout(context.Background(), waitGuard)
	defer cancel()
	if !p.WaitOutput(ctx, `msg="sweep done"`, len(catalog.All())) {
		t.Fatalf("continuous producer did not finish a round: %s", p)
	}
	p.Signal(syscall.SIGTERM)
	if code := p.Wait(runGuard); code != 0 {
		t.Fatalf("continuous producer stopped by SIGTERM exited %d, want 0", code)
	}
	if lines := errLineRE.FindAllString(p.Output(), -1); len(lines) != 0 {
		t.Fatalf("clean stop reported an error: %q", lines)
	}
}

// SIGTERM while the credentials check is in flight: `--once` exits 3 naming every
// entity, a continuous producer exits 0.
func TestProcessSIGTERMDuringCredentialCheck(t *testing.T) {
	bin := proctest.Build(t, ".")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{{"once", []string{"--once"}, 3}, {"continuous", nil, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			asked := make(chan struct{}, 1)
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case asked <- struct{}{}:
				default:
				}
				<-r.Context().Done() // never answers; the client goes away with the process
			}))
			t.Cleanup(api.Close)
			p := proctest.Start(t, bin, []string{
				"GORGIAS_URI=gorgias://acme?api_key=sim-api-key&email=sim@example.com",
				"GORGIAS_BASE_URL=" + api.URL + "/api",
				"KAFKA_BROKERS=127.0.0.1:1", "METRICS_LISTEN=off",
			}, tc.args...)
			select {
			case <-asked:
			case <-time.After(waitGuard): // hang guard only
				t.Fatalf("the producer never checked its credentials:\n%s", p.Tail(20))
			}
			p.Signal(syscall.SIGTERM)
			if code := p.Wait(runGuard); code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, p.Tail(20))
			}
			lines := errLineRE.FindAllString(p.Output(), -1)
			want := 0
			if tc.code != 0 {
				want = 1
			}
			if len(lines) != want || (want == 1 && !strings.HasSuffix(lines[0], strings.Join(catalog.Names(), ", ")+" not swept")) {
				t.Fatalf("stderr error lines %q", lines)
			}
		})
	}
}

// A 403 on one entity (the key's user may not read phone calls) stops that entity
// alone: `producer --once` sweeps every other entity to the end, exits 1, and its one
// stderr line names the entity, its endpoint and the scope it needs; the other topics
// are exact and the denied one is empty.
func TestProcessForbiddenEntity(t *testing.T) {
	c := newChaos(t, 200, 300)
	denied, err := catalog.Lookup("voice_calls")
	if err != nil {
		t.Fatal(err)
	}
	c.w.Sim.Deny(denied.Resource)
	p := c.start("--once")
	if code := p.Wait(runGuard); code != 1 {
		t.Fatalf("--once with %s denied exited %d, want 1:\n%s", denied.Name, code, p.Tail(10))
	}
	lines := errLineRE.FindAllString(p.Output(), -1)
	if len(lines) != 1 {
		t.Fatalf("want one error line, got %q", lines)
	}
	for _, want := range []string{"entity sweeps failed: " + denied.Name + ": ", "/api/" + denied.Resource, "403", denied.Scope} {
		if !strings.Contains(lines[0], want) {
			t.Fatalf("error line %q does not name %q", lines[0], want)
		}
	}
	t.Logf("stderr: %s", lines[0])
	if got := len(sweepRE.FindAllString(p.Output(), -1)); got != len(catalog.All())-1 {
		t.Fatalf("%d sweeps finished, want every entity but %s (%d)", got, denied.Name, len(catalog.All())-1)
	}
	for _, e := range catalog.All() {
		if e.Name == denied.Name {
			if n := len(c.w.ReadTopic(t, e)); n != 0 {
				t.Fatalf("denied %s: %d records published", e.Name, n)
			}
			continue
		}
		c.w.CheckTopicExact(t, e)
	}
}
