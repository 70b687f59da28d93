package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// loop is one run's poll loop: poll, add to the batch, write when the batch policy (or
// the goal) says so, and decide when the run is over. Each step is a method.
type loop struct {
	r  *Runner
	cl *kgo.Client
	b  *batcher
	// goal is set for runs that must finish (Once): their end offsets.
	goal      goal
	stall     stallWatch
	commitLag lagCommit
	paused    bool
}

// run polls until ctx is cancelled or, with a goal, until it is reached.
func (l *loop) run(ctx context.Context) error {
	for {
		if l.goal != nil {
			if done, err := l.finished(); done || err != nil {
				return err
			}
		}
		fs := l.poll(ctx)
		if ctx.Err() != nil {
			return l.stop(ctx)
		}
		if err := l.fetchError(fs); err != nil {
			return err
		}
		if err := l.resolveSchemas(ctx, fs); err != nil {
			if ctx.Err() != nil {
				// Stopped while the registry was down: this fetch is not batched, its
				// records are read again by the next run.
				return l.stop(ctx)
			}
			if errors.Is(err, errStallLimit) {
				continue // finished reports the run incomplete; nothing of fs was stored
			}
			return err
		}
		fs.EachRecord(l.b.add)
		l.r.noteEnds(fs)
		l.pauseWhileFull()
		if l.shouldWrite() {
			if err := l.write(ctx); err != nil {
				return err
			}
		}
		if l.b.empty() {
			l.cl.AllowRebalance()
		}
	}
}

// errStallLimit ends a wait for the schema registry when a run with a goal reaches its
// stall limit.
var errStallLimit = errors.New("stall limit reached while waiting for the schema registry")

// resolveSchemas fetches the writer schemas of fs's Confluent records. A run with a
// goal (--once, replay) waits for an unavailable registry no longer than its stall
// limit allows, so that it ends incomplete (exit 3) instead of waiting forever.
func (l *loop) resolveSchemas(ctx context.Context, fs kgo.Fetches) error {
	if l.goal == nil {
		return l.r.resolveSchemas(ctx, fs)
	}
	rctx, cancel := context.WithDeadlineCause(ctx, l.stall.last.Add(l.stall.limit), errStallLimit)
	defer cancel()
	err := l.r.resolveSchemas(rctx, fs)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(rctx), errStallLimit) {
		return errStallLimit
	}
	return err
}

// finished reports whether a run with a goal is over: done when every partition reached
// its end with nothing pending, ErrIncomplete when nothing was stored for longer than
// the stall limit.
func (l *loop) finished() (bool, error) {
	if l.b.empty() {
		behind := l.r.behind(l.goal, nil)
		if len(behind) == 0 {
			l.r.commits.Wait()
			l.r.cfg.Logger.Info("every partition reached the end offset listed at start", "sink", l.r.cfg.Name, "partitions", len(l.goal))
			return true, nil
		}
	}
	if l.stall.stalled(time.Now()) {
		return true, incomplete(fmt.Sprintf("nothing stored for %s", l.stall.limit), l.r.behind(l.goal, l.b))
	}
	return false, nil
}

// poll waits for records until the pending batch's deadline; with an empty batch, a run
// with a goal wakes up twice a second to check its stall limit.
func (l *loop) poll(ctx context.Context) kgo.Fetches {
	pctx, cancel := ctx, context.CancelFunc(func() {})
	switch {
	case !l.b.empty():
		pctx, cancel = context.WithDeadline(ctx, l.r.policy.deadline(l.b))
	case l.goal != nil:
		pctx, cancel = context.WithTimeout(ctx, 500*time.Millisecond)
	}
	defer cancel()
	return l.cl.PollRecords(pctx, l.r.policy.pollLimit(l.b, l.r.lag(l.b)))
}

// fetchError returns the first fetch error that is not a poll timeout or a topic that
// does not exist yet.
func (l *loop) fetchError(fs kgo.Fetches) error {
	var ferr error
	fs.EachError(func(t string, p int32, err error) {
		switch {
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			l.r.cfg.Logger.Debug("topic not there yet", "topic", t)
		case errors.Is(err, kerr.FencedInstanceID) && ferr == nil:
			ferr = fmt.Errorf("another consumer joined group %s with this instance id %q; every running instance of a sink needs its own instance id: %w",
				l.r.cfg.Group, l.r.cfg.InstanceID, err)
		case ferr == nil:
			ferr = fmt.Errorf("fetch %s[%d]: %w", t, p, err)
		}
	})
	return ferr
}

// pauseWhileFull stops fetching while the batch holds more than half the memory budget.
func (l *loop) pauseWhileFull() {
	if l.b.bytes >= l.r.cfg.MemoryBudget/2 && !l.paused {
		l.cl.PauseFetchTopics(l.r.topicList()...)
		l.paused = true
	}
}

func (l *loop) resume() {
	if l.paused {
		l.cl.ResumeFetchTopics(l.r.topicList()...)
		l.paused = false
	}
}

// shouldWrite reports whether the pending batch is written now: when the batch policy
// closes it, or, for a run with a goal, when it reaches the goal (the last batch is not
// kept waiting for BatchMaxWait, a minute for BigQuery).
func (l *loop) shouldWrite() bool {
	if l.b.empty() {
		return false
	}
	if l.r.policy.full(l.b, time.Now(), l.r.lag(l.b)) {
		return true
	}
	return l.goal != nil && len(l.r.behind(l.goal, l.b)) == 0
}

// write stores the pending batch. A batch the destination refuses as stale (another
// writer stored those offsets meanwhile) is dropped and its partitions are read again
// from the offsets now stored.
func (l *loop) write(ctx context.Context) error {
	wctx, cancel := finishing(ctx)
	defer cancel()
	err := l.r.flush(wctx, l.cl, l.b, l.commitLag)
	if errors.Is(err, ErrStaleOffset) {
		return l.rewind(wctx)
	}
	if err != nil {
		return err
	}
	l.stall.progressed(time.Now())
	l.resume()
	return nil
}

// rewind drops the pending batch and seeks each of its partitions to the offset stored
// in the destination, or, with none stored, back to the batch's first record.
func (l *loop) rewind(ctx context.Context) error {
	stored, err := l.r.sink.Offsets(ctx)
	if err != nil {
		return fmt.Errorf("read %s sink offsets after a stale batch: %w", l.r.cfg.Name, err)
	}
	set := map[string]map[int32]kgo.EpochOffset{}
	l.r.mu.Lock()
	for _, tp := range l.b.order {
		next, ok := stored[tp]
		if ok {
			l.r.pos[tp] = next
		} else {
			next = l.b.fetched[tp]
			l.r.pos[tp] = NoOffset
		}
		if set[tp.Topic] == nil {
			set[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		set[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: next}
	}
	l.r.mu.Unlock()
	l.cl.SetOffsets(set)
	l.r.cfg.Logger.Warn("batch refused: another writer stored these partitions meanwhile; reading on from the offsets it stored",
		"sink", l.r.cfg.Name, "partitions", len(set))
	l.b.reset()
	l.resume()
	return nil
}

// stopGrace is how long a write under way may go on after the run was told to stop.
const stopGrace = 30 * time.Second

// finishing returns the context of one batch write: a stop request (ctx cancelled) does
// not cut the write short, so a SIGTERM never turns a clean stop into a failed write;
// only stopGrace after the stop request is the write itself cancelled.
func finishing(ctx context.Context) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// A grace timer that fires after the write finished cancels a context nobody uses.
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(stopGrace, cancel) })
	return wctx, func() { stop(); cancel() }
}

// stop ends a cancelled run: the pending batch is written whole (or not at all) within
// stopGrace. A run with a goal that has not reached it returns
// ErrIncomplete.
func (l *loop) stop(ctx context.Context) error {
	if !l.b.empty() {
		wctx, cancel := finishing(ctx)
		err := l.r.flush(wctx, l.cl, l.b, l.commitLag)
		cancel()
		if err != nil && !errors.Is(err, ErrStaleOffset) {
			return err
		}
	}
	l.cl.AllowRebalance()
	if l.goal != nil {
		if behind := l.r.behind(l.goal, nil); len(behind) > 0 {
			return incomplete("interrupted", behind)
		}
	}
	l.r.cfg.Logger.Info("sink runner stopping", "sink", l.r.cfg.Name, "reason", context.Cause(ctx))
	return nil
}
