package gorgias

import (
	"context"
	"math"
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
func (p *pacer) acquire(ctx context.Context) (sent time.Time, waited time.Duration, err error) {
	start := time.Now()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
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
			excess := lvl + float64(p.inFlight) + 1 - p.ceilingLocked()
			switch {
			case excess <= 1e-9:
				admit = true
			case excess <= lvl:
				// Draining alone frees enough room.
				secs := excess / p.rateLocked()
				wait = time.Duration(math.Ceil(secs*1e6)) * time.Microsecond
			default:
				// Requests in flight must finish first.
			}
		}
		if admit {
			p.inFlight++
			p.mu.Unlock()
			return now, now.Sub(start), nil
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
			return time.Time{}, time.Since(start), context.Cause(ctx)
		case <-wake:
		case <-tc:
		}
	}
}

// release returns the in-flight slot of a request admitted at sent and folds
// what its answer said into the estimate.
func (p *pacer) release(sent time.Time, obs observation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.inFlight--
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
