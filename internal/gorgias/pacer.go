package gorgias

import (
	"context"
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// pacer keeps a client-side estimate of the account's leaky bucket (capacity
// limit, draining limit/window per second) and admits a request only when the
// estimated level plus the requests already in flight plus this one stays
// within limit - margin. It is shared by every caller of one Client.
//
// Estimate maintenance:
//   - A response carrying "X-Gorgias-Account-Api-Call-Limit: used/limit"
//     sets the level to used, anchored at the time that request was sent,
//     plus the number of other requests that completed while it was in
//     flight (the server may have admitted them after measuring used).
//     Anchoring at the send time credits the drain during the round trip,
//     which lets a single sequential caller use the whole budget; it assumes
//     the server measures the level when it admits the request, so the
//     remaining error is the drain during the jitter of the upstream delay
//     (well under one request at Gorgias rates), covered by the margin.
//   - An answer to a request sent before the one whose header set the level
//     (out of order) adds one instead: it may be missing from that value.
//   - Over-estimating is cheap: once the bucket is paced it never empties, so
//     the steady throughput is the drain rate; only the initial burst shrinks.
//   - A request that got no usable header (transport error, header missing)
//     adds one at receipt time.
//   - A 429 sets the level to full and blocks all callers until Retry-after.
//   - Until the first response arrives, only one request is in flight, so a
//     bucket already filled by someone else is discovered before bursting.
type pacer struct {
	mu           sync.Mutex
	window       time.Duration
	margin       int
	limit        int
	level        float64   // estimated bucket level at levelAt
	levelAt      time.Time // anchor of level
	inFlight     int
	primed       bool      // a response has been seen
	freshest     time.Time // send time of the request whose header last set level
	blockedUntil time.Time // set by a 429
	wake         chan struct{}
	// completions holds the release times (ascending) of recent admitted
	// requests, kept for maxLifetime: no request lives longer.
	completions []time.Time
	maxLifetime time.Duration
	// waiting are the callers of acquire not admitted yet: the one with the
	// highest priority (the earliest on ties) is admitted first.
	waiting  []*waiter
	arrivals uint64
	// flying counts the admitted requests in flight per priority. Each will
	// be followed by its caller's next request (a walk's next page), so a
	// caller of lower priority is admitted only when the bucket also holds a
	// place for each of them: under a spent budget the highest walk then
	// never waits, and the others take what it leaves.
	flying map[int]int
	// holds keep the place of a request just answered for its caller's next
	// request (the walk's next page) for holdFor, the time a caller takes to
	// handle a page.
	holds []hold
}

// hold is a place kept until a time for the next request of a priority.
type hold struct {
	priority int
	until    time.Time
}

// holdFor is how long the place of an answered request stays kept for its
// caller's next one.
const holdFor = 100 * time.Millisecond

// admission is an admitted request: when it was sent, and its priority.
type admission struct {
	sent     time.Time
	priority int
}

// waiter is one caller of acquire waiting for admission.
type waiter struct {
	priority int
	arrival  uint64
}

type priorityKey struct{}

// WithPriority returns a context whose requests carry priority: among the
// requests of a Client waiting for the account's budget, those with the
// highest priority are sent first (equal priorities: first come, first
// served). The default is 0. A caller walking a long list can raise it with
// each page, so that the longest walk, which cannot go faster than one
// request at a time, is not the one left waiting.
func WithPriority(ctx context.Context, priority int) context.Context {
	return context.WithValue(ctx, priorityKey{}, priority)
}

func priorityOf(ctx context.Context) int {
	p, _ := ctx.Value(priorityKey{}).(int)
	return p
}

func newPacer(limit int, window time.Duration, margin int, maxLifetime time.Duration) *pacer {
	return &pacer{limit: limit, window: window, margin: margin, maxLifetime: maxLifetime, wake: make(chan struct{})}
}

// observation is what one attempt tells the pacer.
type observation struct {
	used, limit int  // parsed header; limit 0 means absent
	responded   bool // an HTTP response (any status) arrived
	throttled   bool // the response was a 429
}

func (p *pacer) rateLocked() float64 { return float64(p.limit) / p.window.Seconds() }

func (p *pacer) ceilingLocked() float64 {
	c := p.limit - p.margin
	if c < 1 {
		c = 1
	}
	return float64(c)
}

func (p *pacer) levelLocked(now time.Time) float64 {
	l := p.level - now.Sub(p.levelAt).Seconds()*p.rateLocked()
	if l < 0 {
		return 0
	}
	return l
}

// acquire blocks until a request may be sent (or ctx ends) and reserves an
// in-flight slot. It returns the admission time, to be passed to release, and
// how long it waited.
func (p *pacer) acquire(ctx context.Context) (adm admission, waited time.Duration, err error) {
	start := time.Now()
	var timer *time.Timer
	w := p.enqueue(priorityOf(ctx))
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		p.dequeue(w)
	}()
	for {
		p.mu.Lock()
		now := time.Now()
		var wait time.Duration // > 0: re-check after wait; 0: re-check on wake only
		admit := false
		switch {
		case now.Before(p.blockedUntil):
			wait = p.blockedUntil.Sub(now)
		case !p.primed && p.inFlight > 0:
			// Probe: wait for the first answer before bursting.
		default:
			lvl := p.levelLocked(now)
			reserved, expiry := p.reservedLocked(w.priority, now)
			excess := lvl + float64(p.inFlight) + 1 + float64(reserved) - p.ceilingLocked()
			switch {
			case excess <= 1e-9:
				admit = true
			case excess <= lvl:
				// Draining alone frees enough room.
				secs := excess / p.rateLocked()
				wait = time.Duration(math.Ceil(secs*1e6)) * time.Microsecond
			default:
				// Requests in flight must finish first, or held places expire.
				if !expiry.IsZero() {
					wait = expiry.Sub(now)
				}
			}
		}
		if admit && !p.firstLocked(w) {
			admit, wait = false, 0 // a caller with a higher priority goes first
		}
		if admit {
			p.inFlight++
			if p.flying == nil {
				p.flying = map[int]int{}
			}
			p.flying[w.priority]++
			p.takeHoldLocked(w.priority)
			p.removeLocked(w)
			p.mu.Unlock()
			return admission{sent: now, priority: w.priority}, now.Sub(start), nil
		}
		wake := p.wake
		p.mu.Unlock()

		var tc <-chan time.Time
		if wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return admission{}, time.Since(start), context.Cause(ctx)
		case <-wake:
		case <-tc:
		}
	}
}

// enqueue registers a caller of acquire with priority.
func (p *pacer) enqueue(priority int) *waiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.arrivals++
	w := &waiter{priority: priority, arrival: p.arrivals}
	p.waiting = append(p.waiting, w)
	return w
}

// dequeue removes w if it is still waiting (it gave up).
func (p *pacer) dequeue(w *waiter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removeLocked(w)
}

// removeLocked removes w from the waiting callers and wakes the others, one of
// which may now go first.
func (p *pacer) removeLocked(w *waiter) {
	if i := slices.Index(p.waiting, w); i >= 0 {
		p.waiting = slices.Delete(p.waiting, i, i+1)
		p.broadcastLocked()
	}
}

// reservedLocked is the number of places kept for the next requests of callers
// with a priority above priority: one per such request in flight or just
// answered (held), and the earliest expiry of those holds (zero: none).
func (p *pacer) reservedLocked(priority int, now time.Time) (n int, expiry time.Time) {
	for q, c := range p.flying {
		if q > priority {
			n += c
		}
	}
	p.holds = slices.DeleteFunc(p.holds, func(h hold) bool { return !h.until.After(now) })
	for _, h := range p.holds {
		if h.priority > priority {
			n++
			if expiry.IsZero() || h.until.Before(expiry) {
				expiry = h.until
			}
		}
	}
	return n, expiry
}

// takeHoldLocked uses up the held place of the highest priority not above
// priority, if any: the request admitted is the next one it was kept for (a
// walk raises its priority by one with each page).
func (p *pacer) takeHoldLocked(priority int) {
	best := -1
	for i, h := range p.holds {
		if h.priority <= priority && (best < 0 || h.priority > p.holds[best].priority) {
			best = i
		}
	}
	if best >= 0 {
		p.holds = slices.Delete(p.holds, best, best+1)
	}
}

// firstLocked reports whether w goes first among the waiting callers.
func (p *pacer) firstLocked(w *waiter) bool {
	for _, o := range p.waiting {
		if o.priority > w.priority || (o.priority == w.priority && o.arrival < w.arrival) {
			return false
		}
	}
	return true
}

// release returns the in-flight slot of a request admitted at sent and folds
// what its answer said into the estimate.
func (p *pacer) release(adm admission, obs observation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	sent := adm.sent
	p.inFlight--
	if p.flying[adm.priority]--; p.flying[adm.priority] == 0 {
		delete(p.flying, adm.priority)
	}
	if adm.priority > 0 {
		p.holds = append(p.holds, hold{priority: adm.priority, until: now.Add(holdFor)})
	}
	if obs.responded {
		p.primed = true
	}
	if obs.limit > 0 {
		p.limit = obs.limit
	}
	switch {
	case obs.throttled:
		p.level, p.levelAt = float64(p.limit), now
		if sent.After(p.freshest) {
			p.freshest = sent
		}
	case obs.limit > 0 && !sent.Before(p.freshest):
		overlapped := len(p.completions) - sort.Search(len(p.completions), func(i int) bool { return p.completions[i].After(sent) })
		p.level, p.levelAt = float64(obs.used+overlapped), sent
		p.freshest = sent
	default:
		p.level, p.levelAt = p.levelLocked(now)+1, now
	}
	if !obs.throttled {
		p.recordCompletionLocked(now)
	}
	p.broadcastLocked()
}

func (p *pacer) recordCompletionLocked(now time.Time) {
	cut := now.Add(-p.maxLifetime)
	drop := 0
	for drop < len(p.completions) && p.completions[drop].Before(cut) {
		drop++
	}
	if drop > 0 {
		n := copy(p.completions, p.completions[drop:])
		p.completions = p.completions[:n]
	}
	p.completions = append(p.completions, now)
}

// block holds every caller back until t (a 429's Retry-after).
func (p *pacer) block(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.blockedUntil) {
		p.blockedUntil = t
		p.broadcastLocked()
	}
}

func (p *pacer) broadcastLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// snapshot returns the current estimate (for tests and diagnostics).
func (p *pacer) snapshot() (level float64, limit, inFlight int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.levelLocked(time.Now()), p.limit, p.inFlight
}
