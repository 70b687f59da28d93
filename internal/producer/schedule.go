package producer

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// Entity sweeps run concurrently: Config.Concurrency workers take the entity that is
// due first (catalog order on ties) from a schedule, sweep it and, in continuous mode,
// put it back due one interval later (Config.PollInterval, or SnapshotInterval for
// entities read in full). They share the Gorgias client, so one account-wide pacer
// spends the rate-limit budget among them, and one transactional Kafka client, whose
// transactions (one per page) they take turns at (Producer.commit).
//
// A failure that is an entity's own (*EntityError: an API refusal, an object that
// cannot be encoded) stops that entity only: it is logged once, the others go on, and
// Run returns ErrEntityFailed at the end. Any other failure (Kafka, fencing) stops
// every sweep and is returned.

// schedule holds the entities waiting for their next sweep.
type schedule struct {
	once bool
	mu   sync.Mutex
	due  []dueSweep // earliest first, then catalog order
	wake chan struct{}
	// running counts sweeps in progress; with once, the schedule is over when nothing is
	// due or running.
	running int
}

// dueSweep is an entity and when its next sweep is due.
type dueSweep struct {
	e     catalog.Entity
	order int // catalog position, for ties
	at    time.Time
}

func newSchedule(ents []catalog.Entity, once bool) *schedule {
	s := &schedule{once: once, wake: make(chan struct{})}
	now := time.Now()
	for i, e := range ents {
		s.due = append(s.due, dueSweep{e: e, order: i, at: now})
	}
	return s
}

// next blocks until an entity is due and returns it, or returns false when ctx ends or
// nothing is left to sweep.
func (s *schedule) next(ctx context.Context) (dueSweep, bool) {
	for {
		s.mu.Lock()
		if len(s.due) == 0 && (s.once || s.running == 0) {
			s.mu.Unlock()
			return dueSweep{}, false
		}
		wait := time.Duration(-1) // no entity waits: only a wake helps
		if len(s.due) > 0 {
			if wait = time.Until(s.due[0].at); wait <= 0 {
				first := s.due[0]
				s.due = s.due[1:]
				s.running++
				s.mu.Unlock()
				return first, true
			}
		}
		wake := s.wake
		s.mu.Unlock()
		if !sleep(ctx, wake, wait) {
			return dueSweep{}, false
		}
	}
}

// sleep waits until wake is closed or d has passed (d < 0: until wake only); it
// returns false when ctx ended first.
func sleep(ctx context.Context, wake <-chan struct{}, d time.Duration) bool {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-timeout:
	}
	return true
}

// finished ends a sweep of d; again, when not zero, is when the entity is due next.
func (s *schedule) finished(d dueSweep, again time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	if again > 0 && !s.once {
		d.at = time.Now().Add(again)
		i, _ := slices.BinarySearchFunc(s.due, d, func(a, b dueSweep) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return a.order - b.order
		})
		s.due = slices.Insert(s.due, i, d)
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

// outcome collects what the workers' sweeps ended with.
type outcome struct {
	mu     sync.Mutex
	swept  map[string]bool // entities that finished at least one sweep
	failed []*EntityError  // entities stopped by their own failure
	fatal  error           // the first failure that stopped every sweep
	cancel context.CancelCauseFunc
}

// sweepAll runs the sweeps of every entity until ctx ends or, with Config.Once, every
// entity was swept once (or failed).
func (p *Producer) sweepAll(ctx context.Context) *outcome {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := &outcome{swept: map[string]bool{}, cancel: cancel}
	sched := newSchedule(p.cfg.Entities, p.cfg.Once)
	var wg sync.WaitGroup
	for range max(1, p.cfg.Concurrency) {
		wg.Go(func() {
			for {
				d, ok := sched.next(ctx)
				if !ok {
					return
				}
				sched.finished(d, p.sweepOnce(ctx, d.e, out))
			}
		})
	}
	wg.Wait()
	return out
}

// sweepOnce sweeps e, records the outcome and returns when e is due again (0: never).
func (p *Producer) sweepOnce(ctx context.Context, e catalog.Entity, out *outcome) time.Duration {
	err := p.sweep(ctx, e)
	out.mu.Lock()
	defer out.mu.Unlock()
	var ee *EntityError
	switch {
	case err == nil:
		out.swept[e.Name] = true
		if e.FullRead() {
			return p.cfg.SnapshotInterval
		}
		return p.cfg.PollInterval
	case cancelled(ctx, err):
	case errors.As(err, &ee):
		p.cfg.Logger.Error("entity stopped; the other entities go on", "entity", e.Name, "scope", e.Scope, "err", ee.Err)
		out.failed = append(out.failed, ee)
	default:
		if out.fatal == nil {
			out.fatal = err
			out.cancel(err)
		}
	}
	return 0
}

// err is what Run returns for the outcome: the fatal failure, else the failed entities
// (failedEntities), else nil.
func (o *outcome) err() error {
	if o.fatal != nil {
		return o.fatal
	}
	if len(o.failed) == 0 {
		return nil
	}
	slices.SortFunc(o.failed, func(a, b *EntityError) int { return strings.Compare(a.Entity.Name, b.Entity.Name) })
	return failedEntities(o.failed)
}

// failedEntities is the error of a run in which some entities failed: it wraps
// ErrEntityFailed and each entity's error, on one line.
type failedEntities []*EntityError

// Error names each failed entity and why.
func (f failedEntities) Error() string {
	msgs := make([]string, len(f))
	for i, e := range f {
		msgs[i] = e.Error()
	}
	return ErrEntityFailed.Error() + ": " + strings.Join(msgs, "; ")
}

// Unwrap returns ErrEntityFailed and every entity's error.
func (f failedEntities) Unwrap() []error {
	out := []error{ErrEntityFailed}
	for _, e := range f {
		out = append(out, e)
	}
	return out
}

// sweep sweeps e once, by its mode.
func (p *Producer) sweep(ctx context.Context, e catalog.Entity) error {
	bounded := !p.cfg.IntervalStart.IsZero() || !p.cfg.IntervalEnd.IsZero()
	if bounded && (e.Mode == catalog.Snapshot || e.Mode == catalog.AppendOnly) {
		p.cfg.Logger.Info("interval runs skip this entity", "entity", e.Name, "mode", e.Mode)
		return nil
	}
	switch e.Mode {
	case catalog.Snapshot:
		return p.snapshot(ctx, e)
	case catalog.AppendOnly:
		return p.appendOnly(ctx, e)
	}
	return p.incremental(ctx, e)
}
