package main

// Process-level tests of the consumer binary (issue 9): the real executable runs as a
// child process against kfake (persistent data dir) and is crashed with SIGKILL, stopped
// with SIGTERM/SIGINT and restarted, the way production does it. In-process runner tests
// cannot show what a dead process leaves behind: a group member that still holds
// partitions until its session times out, a DuckDB file lock, a half-run BigQuery job.
//
// Seeded chaos: CHAOS_SEED=<seed> replays a run of TestProcessChaos.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/duckdbdest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// batchLine is the runner's debug line after each committed batch (the DuckDB sink logs
// its own "batch written" line, with sink= right after msg, which this does not match).
const batchLine = `msg="batch written" records=`

var batchRecords = regexp.MustCompile(`msg="batch written" records=(\d+)`)

// written sums the records of the batches a process reported written.
func written(p *proctest.Proc) (batches, records int) {
	for _, m := range batchRecords.FindAllStringSubmatch(p.Output(), -1) {
		n, _ := strconv.Atoi(m[1])
		batches, records = batches+1, records+n
	}
	return batches, records
}

// errorLines are the lines the consumer writes to stderr for an error exit ("consumer:
// ..."); its logs (also on stderr, merged by proctest) start with time=.
func errorLines(p *proctest.Proc) []string {
	var out []string
	for _, l := range strings.Split(p.Output(), "\n") {
		if strings.HasPrefix(l, "consumer") {
			out = append(out, l)
		}
	}
	return out
}

// harness runs consumer processes against one world and one destination, and prints
// the tail of every process's output when the test fails.
type harness struct {
	t     *testing.T
	w     *sinktest.World
	bin   string
	dest  *sinktest.Destination
	procs []*proctest.Proc
	names []string
}

func newHarness(t *testing.T, sim gorgiassim.Config, newDest sinktest.NewDestination) *harness {
	t.Helper()
	bin := proctest.Build(t, ".")
	w := sinktest.NewWorld(t, sim, kfake.DataDir(t.TempDir()))
	h := &harness{t: t, w: w, bin: bin, dest: newDest(t, w)}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for i, p := range h.procs {
			t.Logf("--- %s %s, last lines:\n%s", h.names[i], p, p.Tail(25))
		}
	})
	return h
}

// start runs the consumer with the destination's settings plus env; name is for logs.
func (h *harness) start(name string, env []string, args ...string) *proctest.Proc {
	h.t.Helper()
	base := []string{
		"KAFKA_BROKERS=" + strings.Join(h.w.Brokers, ","),
		"KAFKA_TOPIC_PREFIX=" + h.w.Prefix,
		"DEST_CHANGELOG=true",
		"METRICS_LISTEN=off",
		"LOG_LEVEL=debug",
		"SINK_BATCH_MAX_WAIT=500ms",
	}
	env = append(append(base, h.dest.Env...), env...)
	p := proctest.Start(h.t, h.bin, env, args...)
	h.procs, h.names = append(h.procs, p), append(h.names, name)
	return p
}

// waitBatches waits until p reported n batches written; it fails the test if p exits
// first or nothing comes for a minute (a hang guard, not a timing assertion).
func (h *harness) waitBatches(p *proctest.Proc, name string, n int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if !p.WaitOutput(ctx, batchLine, n) {
		h.t.Fatalf("%s: %d batches written, want %d before it stops (%s)", name, p.Count(batchLine), n, p)
	}
}

// topics are the entity topics.
func (h *harness) topics() []string {
	var out []string
	for _, e := range catalog.All() {
		out = append(out, e.Topic(h.w.Prefix))
	}
	return out
}

// endOffsets lists the last stable offset of every entity partition, and checks that
// it equals the high watermark (no transaction left open).
func (h *harness) endOffsets() map[sink.TopicPartition]int64 {
	h.t.Helper()
	adm, err := kadm.NewOptClient(h.w.KOpts...)
	if err != nil {
		h.t.Fatal(err)
	}
	defer adm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lso, err := adm.ListCommittedOffsets(ctx, h.topics()...)
	if err != nil {
		h.t.Fatal(err)
	}
	hwm, err := adm.ListEndOffsets(ctx, h.topics()...)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[sink.TopicPartition]int64{}
	lso.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			h.t.Fatalf("end offset of %s[%d]: %v", o.Topic, o.Partition, o.Err)
		}
		out[sink.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Offset
		if hw, ok := hwm.Lookup(o.Topic, o.Partition); !ok || hw.Offset != o.Offset {
			h.t.Fatalf("%s[%d]: last stable offset %d, high watermark %v: a transaction is open", o.Topic, o.Partition, o.Offset, hw.Offset)
		}
	})
	if want := 3 * len(catalog.All()); len(out) != want {
		h.t.Fatalf("%d entity partitions, want %d", len(out), want)
	}
	return out
}

// behind lists the partitions whose stored offset is not their end offset. A partition
// that never held a record needs nothing stored (small lists leave some empty).
func behind(stored, end map[sink.TopicPartition]int64) []string {
	var out []string
	for tp, e := range end {
		s, ok := stored[tp]
		if !ok && e == 0 {
			continue
		}
		if !ok {
			out = append(out, fmt.Sprintf("%s[%d] nothing stored of %d", tp.Topic, tp.Partition, e))
		} else if s != e {
			out = append(out, fmt.Sprintf("%s[%d] stored %d of %d", tp.Topic, tp.Partition, s, e))
		}
	}
	slices.Sort(out)
	return out
}

// checkDone asserts that the destination holds the whole topics: every stored offset
// equals its partition's end offset, every table equals the simulator's truth (no row
// missing, none duplicated, no stale version), and every changelog holds each record of
// its topic exactly once (and so each version once).
func (h *harness) checkDone() {
	h.t.Helper()
	end := h.endOffsets()
	st := h.dest.Read(h.t)
	if b := behind(st.Offsets, end); len(b) > 0 {
		h.t.Errorf("stored offsets not at the end offsets: %v", b)
	}
	recs := h.topicRecords(end)
	for _, e := range catalog.All() {
		h.dest.Form.CheckTruth(h.t, h.w.Reg, h.w.Sim, e, st.Rows[e.Name])
		versions := map[string]bool{}
		offsets := map[[2]int64]bool{}
		for _, r := range st.Changelog[e.Name] {
			v := changeKey(e, r)
			if versions[v] {
				h.t.Errorf("%s changelog: %s twice", e.Name, v)
			}
			versions[v] = true
			o := [2]int64{asInt64(r[sink.ColPartition]), asInt64(r[sink.ColOffset])}
			if offsets[o] {
				h.t.Errorf("%s changelog: record %v twice", e.Name, o)
			}
			offsets[o] = true
			if !recs[e.Name][o] {
				h.t.Errorf("%s changelog: record %v is not in the topic", e.Name, o)
			}
		}
		missing := 0
		for o := range recs[e.Name] {
			if !offsets[o] {
				missing++
			}
		}
		if missing > 0 {
			h.t.Errorf("%s changelog: %d of the topic's %d records missing", e.Name, missing, len(recs[e.Name]))
		}
		h.t.Logf("%s: %d rows, %d changelog rows, %d records in the topic", e.Name, len(st.Rows[e.Name]), len(st.Changelog[e.Name]), len(recs[e.Name]))
	}
}

// topicRecords reads every committed record of the entity topics (versions and
// tombstones) up to end and returns their (partition, offset) per entity.
func (h *harness) topicRecords(end map[sink.TopicPartition]int64) map[string]map[[2]int64]bool {
	h.t.Helper()
	assign := map[string]map[int32]kgo.Offset{}
	left := map[sink.TopicPartition]bool{}
	for tp, e := range end {
		if e == 0 {
			continue
		}
		if assign[tp.Topic] == nil {
			assign[tp.Topic] = map[int32]kgo.Offset{}
		}
		assign[tp.Topic][tp.Partition] = kgo.NewOffset().AtStart()
		left[tp] = true
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, h.w.KOpts...), kgo.ConsumePartitions(assign),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())...)
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	entity := map[string]string{}
	out := map[string]map[[2]int64]bool{}
	for _, e := range catalog.All() {
		entity[e.Topic(h.w.Prefix)] = e.Name
		out[e.Name] = map[[2]int64]bool{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			h.t.Fatalf("reading the topics back: partitions %v not read to their end", left)
		}
		fs.EachError(func(t string, p int32, err error) { h.t.Fatalf("read %s[%d]: %v", t, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			tp := sink.TopicPartition{Topic: r.Topic, Partition: r.Partition}
			if r.Offset+1 >= end[tp] {
				delete(left, tp)
			}
			if r.Offset >= end[tp] || r.Attrs.IsControl() {
				return
			}
			out[entity[r.Topic]][[2]int64{int64(r.Partition), r.Offset}] = true
		})
	}
	return out
}

// TestProcessChaos loads tens of thousands of records with the consumer binary in
// continuous mode, kills it with SIGKILL at three seeded random moments of the load
// (after the k-th batch of a run, plus a random delay that lands inside the next write),
// restarting it each time, adds new versions of objects between kills (so stale
// versions would show), and finishes with `consumer --once`, which must exit 0 with the
// destination equal to the simulator and every stored offset at its end offset.
func TestProcessChaos(t *testing.T) {
	for _, d := range sinktest.Destinations() {
		t.Run(d.Name, func(t *testing.T) {
			seed := proctest.Seed(t)
			rng := proctest.Rand(seed)
			// About 23,000 records: 2,000 customers, 4,000 tickets, 16,000 messages, 800
			// surveys, with deletions, merges and trash in every Advance; producing them
			// takes about 11 s under -race.
			h := newHarness(t, gorgiassim.Config{Seed: seed, Customers: 2000, Tickets: 4000, Deletes: true}, d.New)
			start := time.Now()
			h.w.Produce()
			t.Logf("produced %d records in %s", sum(h.endOffsets()), time.Since(start).Round(time.Millisecond))
			runChaos(h, rng)
		})
	}
}

func sum(m map[sink.TopicPartition]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

func runChaos(h *harness, rng *rand.Rand) {
	t, dest := h.t, h.dest
	for run := 1; run <= 3; run++ {
		name := fmt.Sprintf("run %d", run)
		if run > 1 {
			// New versions between two kills: the killed runs left older versions in
			// the destination, and the partitions they will read again hold them too.
			// (Produced while no consumer runs: a consumer drains the topics faster than
			// the producer fills them, and each kill must land mid-load.)
			ch := h.w.Sim.Advance(6 * time.Hour)
			h.w.Produce()
			t.Logf("%s: produced new versions of %d customers, %d tickets, %d messages, %d surveys", name,
				len(ch.Customers), len(ch.Tickets), len(ch.Messages), len(ch.SatisfactionSurveys))
		}
		started := time.Now()
		p := h.start(name, []string{"SINK_BATCH_MAX_RECORDS=" + strconv.Itoa(dest.Batch)})
		// Kill after the k-th batch, plus a random delay that often lands inside the
		// next write. At most three times maxKill+1 batches are written before the
		// final run: well under the records produced, so every kill lands mid-load.
		k := 1 + rng.IntN(dest.MaxKill)
		delay := time.Duration(rng.Int64N(int64(dest.SubDelay)))
		h.waitBatches(p, name, k)
		time.Sleep(delay)
		if p.Exited() {
			t.Fatalf("%s ended by itself before the kill: %s", name, p)
		}
		p.Kill()
		n, recs := written(p)
		t.Logf("%s: SIGKILL after its batch %d (+%s): it ran %s and wrote %d batches, %d records",
			name, k, delay.Round(time.Millisecond), time.Since(started).Round(time.Millisecond), n, recs)
	}
	start := time.Now()
	// The final run with the default batch size (5,000 records).
	p := h.start("final --once", nil, "--once")
	// Hang guard only: the final run reads what is left (well under a minute).
	code := p.Wait(2 * time.Minute)
	n, recs := written(p)
	t.Logf("final --once: exit %d in %s, %d batches, %d records", code, time.Since(start).Round(time.Millisecond), n, recs)
	if code != 0 {
		t.Fatalf("final --once exited %d, want 0", code)
	}
	start = time.Now()
	h.checkDone()
	t.Logf("destination checked in %s", time.Since(start).Round(time.Millisecond))
}

// TestProcessOnceWithDeadMember: a continuous consumer holds every partition of the
// group and dies (SIGKILL) mid-load; `--once` started at once must either finish every
// partition (exit 0, offsets at their ends, tables = truth) or exit non-zero, never 0
// with a partition behind. It must not wait out the dead member's session (45 s).
func TestProcessOnceWithDeadMember(t *testing.T) {
	for _, id := range []string{"default", "none"} {
		// default: a static member (instance id = sink name) that stays in the group
		// until its session times out; none: a dynamic member.
		t.Run("instance_id="+id, func(t *testing.T) {
			h := newHarness(t, gorgiassim.Config{Seed: 11, Customers: 300, Tickets: 600}, duckdbdest.New)
			h.w.Produce()
			env := []string{"SINK_BATCH_MAX_RECORDS=200"}
			if id != "default" {
				env = append(env, "SINK_INSTANCE_ID="+id)
			}
			member := h.start("continuous", env)
			h.waitBatches(member, "continuous", 1)
			member.Kill()
			n, recs := written(member)
			t.Logf("continuous consumer killed after %d batches, %d records", n, recs)

			start := time.Now()
			once := h.start("--once", env, "--once")
			// Hang guard, generous: --once assigns the partitions itself and should take
			// a few seconds; waiting out the dead member's 45 s session would trip it.
			code := once.Wait(40 * time.Second)
			t.Logf("--once exited %d after %s", code, time.Since(start).Round(time.Millisecond))
			if code != 0 {
				t.Logf("--once exited %d (allowed: non-zero is not success); its error: %q", code, errorLines(once))
				return
			}
			h.checkDone()
		})
	}
}

// TestProcessRestartLatency: with a backlog in the topics, a continuous consumer is
// killed (SIGKILL) after its first batch and restarted with the same instance id (the
// default, the sink name); the restarted one must write its first batch within 5 s,
// not after the dead member's session timeout (45 s).
func TestProcessRestartLatency(t *testing.T) {
	h := newHarness(t, gorgiassim.Config{Seed: 12, Customers: 1000, Tickets: 2000}, duckdbdest.New)
	h.w.Produce()
	env := []string{"SINK_BATCH_MAX_RECORDS=500"}
	first := h.start("first", env)
	h.waitBatches(first, "first", 1)
	first.Kill()

	start := time.Now()
	second := h.start("restarted", env)
	h.waitBatches(second, "restarted", 1)
	latency := time.Since(start)
	t.Logf("restart latency (start of the restarted process to its first batch written): %s", latency.Round(time.Millisecond))
	// A generous bound on what should take well under a second or two.
	if latency > 5*time.Second {
		t.Errorf("the restarted consumer wrote its first batch %s after start, want <= 5s", latency.Round(time.Millisecond))
	}
	second.Kill()
}

// TestProcessSignalMidLoad stops the consumer with SIGTERM or SIGINT at seeded random
// moments of a load, most of them inside a batch's write: a continuous run must exit 0
// (the batch in hand written whole or not at all, the group left), a --once run 3 with
// one line naming the partitions behind. A final --once must then exit 0 with the
// destination complete.
func TestProcessSignalMidLoad(t *testing.T) {
	seed := proctest.Seed(t)
	rng := proctest.Rand(seed)
	h := newHarness(t, gorgiassim.Config{Seed: seed, Customers: 1000, Tickets: 2000}, duckdbdest.New)
	h.w.Produce()
	env := []string{"SINK_BATCH_MAX_RECORDS=500"}
	for i, run := range []struct {
		sig  syscall.Signal
		args []string
		want int
	}{
		{syscall.SIGTERM, nil, 0},
		{syscall.SIGTERM, []string{"--once"}, 3},
		{syscall.SIGINT, nil, 0},
	} {
		name := fmt.Sprintf("run %d (%s)", i+1, strings.Join(append([]string{"consumer"}, run.args...), " "))
		p := h.start(name, env, run.args...)
		k := 1 + rng.IntN(4)
		delay := time.Duration(rng.Int64N(int64(150 * time.Millisecond)))
		h.waitBatches(p, name, k)
		time.Sleep(delay)
		p.Signal(run.sig)
		// Hang guard: the batch in hand is written within a second.
		code := p.Wait(time.Minute)
		n, recs := written(p)
		t.Logf("%s: %s after its batch %d (+%s): exit %d, %d batches, %d records", name, run.sig, k, delay.Round(time.Millisecond), code, n, recs)
		if code != run.want {
			t.Errorf("%s: exit %d after %s, want %d; error: %q", name, code, run.sig, run.want, errorLines(p))
		}
		if run.want == 3 {
			if lines := errorLines(p); len(lines) != 1 || !strings.Contains(lines[0], h.w.Prefix) {
				t.Errorf("%s: error lines %q, want one naming the partitions behind", name, lines)
			}
		}
	}
	p := h.start("final --once", env, "--once")
	if code := p.Wait(2 * time.Minute); code != 0 { // hang guard
		t.Fatalf("final --once exited %d, want 0", code)
	}
	h.checkDone()
}

// TestProcessSIGTERMLeavesGroup: a continuous consumer (static member, the default)
// stopped by SIGTERM with a batch pending writes that batch, leaves the consumer group
// explicitly (so other members get its partitions at once) and exits 0.
func TestProcessSIGTERMLeavesGroup(t *testing.T) {
	h := newHarness(t, gorgiassim.Config{Seed: 13, Customers: 300, Tickets: 600}, duckdbdest.New)
	h.w.Produce()
	end := h.endOffsets()
	// Two batches close by count; the rest (about a fifth) waits for the batch's
	// deadline, a minute away: it is pending when SIGTERM comes.
	batch := int(sum(end)) * 2 / 5
	p := h.start("continuous", []string{"SINK_BATCH_MAX_RECORDS=" + strconv.Itoa(batch), "SINK_BATCH_MAX_WAIT=1m"})
	h.waitBatches(p, "continuous", 2)

	adm, err := kadm.NewOptClient(h.w.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	group := h.w.Prefix + "sink-duckdb"
	describe := func() kadm.DescribedGroup {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		gs, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		g := gs[group]
		if g.Err != nil {
			t.Fatalf("describe group %s: %v", group, g.Err)
		}
		return g
	}
	g := describe()
	if len(g.Members) != 1 || g.Members[0].InstanceID == nil || *g.Members[0].InstanceID != "duckdb" {
		t.Fatalf("group %s before SIGTERM: state %s, members %+v; want one static member with instance id duckdb", group, g.State, g.Members)
	}
	// Setup margin, not an assertion: let the client hand the rest of the fetched
	// records to the pending batch.
	time.Sleep(time.Second)
	p.Signal(syscall.SIGTERM)
	// Hang guard: writing the pending batch and leaving take well under a second.
	if code := p.Wait(time.Minute); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0", code)
	}
	if g := describe(); len(g.Members) != 0 {
		t.Errorf("group %s right after the consumer exited: state %s, %d members; want none (it must leave, not wait for its session to time out)",
			group, g.State, len(g.Members))
	}
	if n, _ := written(p); n != 3 {
		t.Errorf("%d batches written, want 3 (the pending one written on SIGTERM)", n)
	}
	if b := behind(h.dest.Read(t).Offsets, end); len(b) > 0 {
		t.Errorf("after SIGTERM, partitions not at their end (the pending batch was not written?): %v", b)
	}
}

// TestProcessOnceIncomplete: `--once` whose partitions cannot advance (every fetch
// fails at the broker) exits 3 with one error line naming the partitions behind, when
// its stall timeout expires and when it is interrupted by SIGTERM or SIGINT.
func TestProcessOnceIncomplete(t *testing.T) {
	for _, c := range []struct {
		name   string
		stall  string
		signal syscall.Signal
	}{
		{"stall", "2s", 0},
		{"SIGTERM", "1m", syscall.SIGTERM},
		{"SIGINT", "1m", syscall.SIGINT},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, gorgiassim.Config{Seed: 14, Customers: 50, Tickets: 80}, duckdbdest.New)
			h.w.Produce()
			h.w.Cluster.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
				h.w.Cluster.KeepControl()
				return nil, errors.New("fetch refused by the test"), true
			})
			p := h.start("--once", []string{"SINK_ONCE_STALL_TIMEOUT=" + c.stall}, "--once")
			if c.signal != 0 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if !p.WaitOutput(ctx, "sink runner started", 1) {
					t.Fatalf("--once did not start reading: %s", p)
				}
				p.Signal(c.signal)
			}
			// Hang guard.
			code := p.Wait(time.Minute)
			lines := errorLines(p)
			t.Logf("exit %d: %q", code, lines)
			if code != 3 {
				t.Errorf("exit %d, want 3", code)
			}
			names := regexp.MustCompile(regexp.QuoteMeta(h.w.Prefix) + `[a-z_]+\[\d\]`)
			if len(lines) != 1 || !names.MatchString(lines[0]) {
				t.Errorf("error lines %q, want one naming the partitions behind", lines)
			}
		})
	}
}

// TestProcessBadConfig: bad values of the new settings exit 2 with one error line,
// before any connection.
func TestProcessBadConfig(t *testing.T) {
	bin := proctest.Build(t, ".")
	for _, env := range []string{"SINK_ONCE_STALL_TIMEOUT=soon", "SINK_INSTANCE_ID=two words"} {
		p := proctest.Start(t, bin, []string{"KAFKA_BROKERS=127.0.0.1:1", "METRICS_LISTEN=off", "DEST_URI=duckdb:///" + filepath.Join(t.TempDir(), "x.duckdb"), env}, "--once")
		code := p.Wait(30 * time.Second)
		if lines := errorLines(p); code != 2 || len(lines) != 1 {
			t.Errorf("%s: exit %d, error lines %q; want 2 and one line", env, code, lines)
		}
	}
}
