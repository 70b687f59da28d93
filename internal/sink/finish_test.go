package sink_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// longSession makes a group member that stops heartbeating hold its partitions for two
// minutes, far longer than any of these tests may take: a test that waited for it would
// hit its hang guard.
var longSession = kgo.SessionTimeout(2 * time.Minute)

// checkAtEnd asserts that the offset stored in s for every partition of every entity
// topic equals the partition's end offset (last stable offset).
func (w *world) checkAtEnd(s sink.Sink) {
	w.T.Helper()
	st, err := sink.Status(context.Background(), s, w.KOpts, w.Prefix, nil)
	if err != nil {
		w.T.Fatal(err)
	}
	for _, p := range st {
		if p.Lag != 0 || (p.End > 0 && p.Stored != p.End) {
			w.T.Errorf("%s[%d]: stored %d, end %d, lag %d", p.Topic, p.Partition, p.Stored, p.End, p.Lag)
		}
	}
}

// checkChangelogOnce asserts that every (id, version) was written once.
func (w *world) checkChangelogOnce(m *sinktest.Memory) {
	w.T.Helper()
	for _, e := range catalog.All() {
		seen := map[string]bool{}
		for _, r := range m.Changelog(e) {
			k := fmt.Sprint(r[catalog.Key], "@", r[e.VersionField])
			if seen[k] {
				w.T.Errorf("%s: version %s written twice", e.Name, k)
			}
			seen[k] = true
		}
	}
}

// ghostMember joins the sink's consumer group as a static member, takes every
// partition and then goes silent without leaving, as a SIGKILLed consumer does.
func (w *world) ghostMember(name string) {
	w.T.Helper()
	var topics []string
	for _, e := range catalog.All() {
		topics = append(topics, e.Topic(w.Prefix))
	}
	var assigned atomic.Bool
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, w.KOpts...), longSession,
		kgo.ConsumerGroup(w.Prefix+"sink-"+name), kgo.InstanceID("ghost"), kgo.ConsumeTopics(topics...),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) { assigned.Store(len(a) > 0) }))...)
	if err != nil {
		w.T.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // hang guard
	defer cancel()
	for !assigned.Load() && ctx.Err() == nil {
		pctx, pcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		cl.PollRecords(pctx, 1)
		pcancel()
	}
	if ctx.Err() != nil {
		w.T.Fatal("the ghost member was never assigned partitions")
	}
	cl.Close() // a static member does not leave on Close: it keeps its partitions
}

func (w *world) describeGroup(name string) kadm.DescribedGroup {
	w.T.Helper()
	adm, err := kadm.NewOptClient(w.KOpts...)
	if err != nil {
		w.T.Fatal(err)
	}
	defer adm.Close()
	groups, err := adm.DescribeGroups(context.Background(), w.Prefix+"sink-"+name)
	if err != nil {
		w.T.Fatal(err)
	}
	return groups[w.Prefix+"sink-"+name]
}

// A Once run reads every partition itself: partitions that a dead group member still
// holds do not hold it up, and it returns nil only with every partition at its end.
func TestOnceFinishesPartitionsHeldByADeadMember(t *testing.T) {
	w := newWorld(t)
	w.produce()
	w.ghostMember("mem")
	if g := w.describeGroup("mem"); len(g.Members) != 1 {
		t.Fatalf("group has %d members, want the ghost", len(g.Members))
	}
	m := sinktest.NewMemory()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // under the ghost's 2-minute session
	defer cancel()
	if err := w.runner("mem", m).Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	w.checkTruth(m)
	w.checkAtEnd(m)
}

// A stop request (SIGTERM) that arrives during a write does not cut the write short: the
// batch is stored whole, a continuous run then stops cleanly (nil), and an interrupted
// Once run returns ErrIncomplete naming the partitions behind. The next run completes
// without duplicates.
func TestStopDuringWrite(t *testing.T) {
	for _, once := range []bool{true, false} {
		t.Run(fmt.Sprintf("once=%v", once), func(t *testing.T) {
			w := newWorld(t)
			w.produce()
			m := sinktest.NewMemory()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := &cancelOnWrite{Sink: m, cancel: cancel}
			var err error
			if once {
				err = w.runner("mem", s).Run(ctx)
			} else {
				err = w.groupRunner("mem", "mem-0", s).Run(ctx)
			}
			switch {
			case once && (!errors.Is(err, sink.ErrIncomplete) || !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), w.Prefix)):
				t.Fatalf("Run = %v, want ErrIncomplete (interrupted) naming partitions", err)
			case !once && err != nil:
				t.Fatalf("Run = %v, want a clean stop", err)
			}
			if m.Writes() != 1 {
				t.Fatalf("%d writes stored, want the one under way when the stop came", m.Writes())
			}
			w.consume("mem", m)
			w.checkTruth(m)
			w.checkAtEnd(m)
			w.checkChangelogOnce(m)
		})
	}
}

// cancelOnWrite cancels the run's context when its first write begins, and, as real
// destinations do, gives up a write whose context is done.
type cancelOnWrite struct {
	sink.Sink
	cancel func()
	once   sync.Once
}

func (c *cancelOnWrite) Write(ctx context.Context, b sink.Batch) error {
	c.once.Do(c.cancel)
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.Sink.Write(ctx, b)
}

// A Once run that stores nothing for OnceStallTimeout gives up with ErrIncomplete; here
// every write is refused as stale, so the runner keeps reading the same records again.
func TestOnceStallIsIncomplete(t *testing.T) {
	w := newWorld(t)
	w.produce()
	m := sinktest.NewMemory()
	var refused atomic.Int32
	m.FailWrite = func(sink.Batch) error {
		refused.Add(1)
		return fmt.Errorf("always behind: %w", sink.ErrStaleOffset)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang guard
	defer cancel()
	err := w.runner("mem", m, func(c *sink.Config) { c.OnceStallTimeout = time.Second }).Run(ctx)
	if !errors.Is(err, sink.ErrIncomplete) || !strings.Contains(err.Error(), "nothing stored for 1s") {
		t.Fatalf("Run = %v, want ErrIncomplete after the stall limit", err)
	}
	if refused.Load() < 2 {
		t.Fatalf("%d writes refused, want the runner to read again and retry after a stale batch", refused.Load())
	}
}

// Two Once runs writing one destination at the same time are fenced by the stored
// offsets: each refused batch is read again from what the other stored, both finish,
// and every version is stored once.
func TestOnceConcurrentWritersFenced(t *testing.T) {
	w := newWorld(t)
	w.produce()
	m := sinktest.NewMemory()
	stale := &staleCounter{Sink: m}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang guard
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = w.runner("mem", stale, func(c *sink.Config) { c.BatchMaxRecords = 50 }).Run(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("runner %d: %v", i, err)
		}
	}
	w.checkTruth(m)
	w.checkAtEnd(m)
	w.checkChangelogOnce(m)
	t.Logf("%d batches refused as stale and read again", stale.n.Load())
}

// staleCounter counts the writes refused with ErrStaleOffset.
type staleCounter struct {
	sink.Sink
	n atomic.Int32
}

func (s *staleCounter) Write(ctx context.Context, b sink.Batch) error {
	err := s.Sink.Write(ctx, b)
	if errors.Is(err, sink.ErrStaleOffset) {
		s.n.Add(1)
	}
	return err
}

// groupRunner is a continuous runner with static membership and a long session.
func (w *world) groupRunner(name, instance string, s sink.Sink) *sink.Runner {
	return sink.NewRunner(sink.Config{Name: name, InstanceID: instance, TopicPrefix: w.Prefix, BatchMaxRecords: 100,
		BatchMaxWait: 100 * time.Millisecond, Logger: logger()}, s, w.Reg, append(append([]kgo.Opt{}, w.KOpts...), longSession))
}

// waitComplete waits until m holds every object of the simulator (hang guard: 60 s,
// half the dead member's session).
func (w *world) waitComplete(m *sinktest.Memory) {
	w.T.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		complete := true
		for _, e := range catalog.All() {
			complete = complete && len(m.Rows(e)) >= len(w.Sim.IDs(e.Resource))
		}
		if complete {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.T.Fatal("the sink did not receive every object: the restarted member waited for the dead one's session")
}

// A static member that dies (here: its write path fails, so it neither leaves nor
// commits) is replaced at once by a runner restarted with the same instance id, which
// goes on from the stored offsets.
func TestStaticMemberRestartResumesAtOnce(t *testing.T) {
	w := newWorld(t)
	w.produce()
	m := sinktest.NewMemory()
	first := w.groupRunner("mem", "mem-0", m)
	writes := 0
	sink.SetHook(first, func(step string) error {
		if step == sink.StepAfterWrite {
			if writes++; writes == 3 {
				return errCrash
			}
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := first.Run(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v, want the crash", err)
	}
	done := make(chan error, 1)
	rctx, stop := context.WithCancel(ctx)
	go func() { done <- w.groupRunner("mem", "mem-0", m).Run(rctx) }()
	w.waitComplete(m)
	g := w.describeGroup("mem")
	if len(g.Members) != 1 || g.Members[0].InstanceID == nil || *g.Members[0].InstanceID != "mem-0" {
		t.Errorf("group members %+v, want the one static member mem-0", g.Members)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("restarted run: %v", err)
	}
	w.checkTruth(m)
	w.checkChangelogOnce(m)
}

// A continuous static member stopped cleanly leaves the group at once, so the other
// instances get its partitions without waiting for its session to time out.
func TestCleanStopLeavesGroup(t *testing.T) {
	w := newWorld(t)
	w.produce()
	m := sinktest.NewMemory()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.groupRunner("mem", "mem-0", m).Run(ctx) }()
	w.waitComplete(m)
	if g := w.describeGroup("mem"); len(g.Members) != 1 {
		t.Fatalf("group has %d members while the runner runs, want 1", len(g.Members))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("stop: %v", err)
	}
	if g := w.describeGroup("mem"); len(g.Members) != 0 {
		t.Fatalf("group still has %d members after a clean stop: %+v", len(g.Members), g.Members)
	}
}

// A second runner with the same instance id fences the first, which stops with an
// error that says why.
func TestDuplicateInstanceIDIsClear(t *testing.T) {
	w := newWorld(t)
	w.produce()
	m := sinktest.NewMemory()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first := make(chan error, 1)
	go func() { first <- w.groupRunner("mem", "same", m).Run(ctx) }()
	for len(w.describeGroup("mem").Members) == 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	sctx, stop := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() { second <- w.groupRunner("mem", "same", m).Run(sctx) }()
	err := <-first
	if !errors.Is(err, kerr.FencedInstanceID) || !strings.Contains(err.Error(), `instance id "same"`) {
		t.Fatalf("fenced runner: %v, want FENCED_INSTANCE_ID naming the instance id", err)
	}
	w.waitComplete(m)
	stop()
	if err := <-second; err != nil {
		t.Fatalf("second runner: %v", err)
	}
	w.checkTruth(m)
	w.checkChangelogOnce(m)
}
