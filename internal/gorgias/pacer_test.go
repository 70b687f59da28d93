package gorgias

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// budgetShare is the fraction of the account budget used by n admitted
// requests over elapsed: the most a client could get is a full bucket at the
// start plus the drain over the elapsed time.
func budgetShare(n, capacity int, window, elapsed time.Duration) float64 {
	allowed := float64(capacity) + elapsed.Seconds()*float64(capacity)/window.Seconds()
	return float64(n) / allowed
}

func fixed(d time.Duration) func() time.Duration { return func() time.Duration { return d } }

func between(lo, hi time.Duration) func() time.Duration {
	return func() time.Duration { return lo + rand.N(hi-lo) }
}

// TestPacing runs sequential and concurrent callers against a leaky-bucket
// fake in fake time. Every case must see zero 429s and use most of the budget.
func TestPacing(t *testing.T) {
	ceil := func(l float64) int { return int(math.Ceil(l - 1e-9)) }
	round := func(l float64) int { return int(math.Round(l)) }
	tests := []struct {
		name      string
		capacity  int
		window    time.Duration
		rateLimit int // Config.RateLimit (0: default 40), to check the header overrides it
		requests  int
		workers   int
		up, down  func() time.Duration
		report    func(float64) int
		margin    int // Config.SafetyMargin (0: default 1)
		minShare  float64
	}{
		{name: "10/1s sequential, no latency", capacity: 10, window: time.Second, rateLimit: 10, requests: 60, workers: 1,
			report: ceil, minShare: 0.95},
		{name: "10/1s sequential, header overrides RateLimit", capacity: 10, window: time.Second, requests: 60, workers: 1,
			report: ceil, minShare: 0.95},
		{name: "40/20s sequential, 400ms RTT", capacity: 40, window: 20 * time.Second, requests: 200, workers: 1,
			up: fixed(50 * time.Millisecond), down: fixed(350 * time.Millisecond), report: ceil, minShare: 0.95},
		{name: "40/20s sequential, jittery 100-450ms RTT, rounded report", capacity: 40, window: 20 * time.Second, requests: 200, workers: 1,
			up: between(20*time.Millisecond, 100*time.Millisecond), down: between(80*time.Millisecond, 350*time.Millisecond), report: round, minShare: 0.95},
		{name: "40/20s 4 workers, 0.2-1.5s RTT", capacity: 40, window: 20 * time.Second, requests: 400, workers: 4,
			up: between(20*time.Millisecond, 100*time.Millisecond), down: between(200*time.Millisecond, 1400*time.Millisecond), report: ceil, minShare: 0.95},
		{name: "40/20s 4 workers, 0.5-1.5s RTT, rounded report", capacity: 40, window: 20 * time.Second, requests: 400, workers: 4,
			up: between(50*time.Millisecond, 150*time.Millisecond), down: between(450*time.Millisecond, 1350*time.Millisecond), report: round, minShare: 0.95},
		{name: "80/20s OAuth 8 workers, 0.5-1s RTT", capacity: 80, window: 20 * time.Second, requests: 400, workers: 8,
			up: between(20*time.Millisecond, 80*time.Millisecond), down: between(480*time.Millisecond, 920*time.Millisecond), report: ceil, minShare: 0.95},
		{name: "10/1s 16 workers, 0-300ms RTT", capacity: 10, window: time.Second, rateLimit: 10, requests: 300, workers: 16,
			up: between(0, 10*time.Millisecond), down: between(0, 290*time.Millisecond), report: ceil, minShare: 0.95},
		// Upstream delay jitter of ~1.5s at 2 req/s can hide ~3 requests from
		// the estimate: that needs a SafetyMargin above 3.
		{name: "40/20s 16 workers, admission late in 0.1-3s RTT, margin 4", capacity: 40, window: 20 * time.Second, requests: 1000, workers: 16,
			up: between(50*time.Millisecond, 1500*time.Millisecond), down: between(50*time.Millisecond, 1500*time.Millisecond), report: ceil, margin: 4, minShare: 0.95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &bucketAPI{capacity: tt.capacity, window: tt.window, up: tt.up, down: tt.down, report: tt.report}
				c := newTestClient(t, Config{Transport: api, RateLimit: tt.rateLimit, RateWindow: tt.window, SafetyMargin: tt.margin})
				start := time.Now()
				var wg sync.WaitGroup
				errs := make(chan error, tt.requests)
				jobs := make(chan struct{}, tt.requests)
				for range tt.requests {
					jobs <- struct{}{}
				}
				close(jobs)
				for range tt.workers {
					wg.Go(func() {
						for range jobs {
							if _, err := c.List(t.Context(), "tickets", ListParams{OrderBy: "updated_datetime:desc"}); err != nil {
								errs <- err
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatalf("List: %v", err)
				}
				elapsed := time.Since(start)
				ok, tooMany, maxLevel, first, last := api.stats()
				if tooMany != 0 {
					t.Errorf("server answered %d requests with 429", tooMany)
				}
				if ok != tt.requests {
					t.Errorf("server admitted %d requests, want %d", ok, tt.requests)
				}
				share := budgetShare(ok, tt.capacity, tt.window, last.Sub(first))
				ideal := time.Duration(float64(tt.requests-tt.capacity) / float64(tt.capacity) * float64(tt.window))
				t.Logf("%d requests in %v (ideal %v), budget share %.3f, max bucket level %.2f/%d, stats %+v",
					ok, elapsed.Round(time.Millisecond), ideal, share, maxLevel, tt.capacity, c.Stats())
				if share < tt.minShare {
					t.Errorf("budget share %.3f < %.2f", share, tt.minShare)
				}
				if s := c.Stats(); s.Throttled != 0 || s.LastLimit != tt.capacity || s.WaitTime <= 0 {
					t.Errorf("stats = %+v", s)
				}
			})
		})
	}
}

// TestPacingSharedBudgetAlreadyUsed: another process has filled the bucket;
// the first answer reveals it and the client backs off instead of bursting.
func TestPacingSharedBudgetAlreadyUsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// With latency the eight workers' first requests would overlap; without
		// the single-request probe they would all be sent into a nearly full bucket.
		api := &bucketAPI{capacity: 40, window: 20 * time.Second, up: fixed(50 * time.Millisecond), down: fixed(200 * time.Millisecond)}
		api.level, api.at = 38, time.Now() // someone else used 38 of 40
		c := newTestClient(t, Config{Transport: api})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 5 {
					if _, err := c.List(t.Context(), "tickets", ListParams{}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if _, tooMany, _, _, _ := api.stats(); tooMany != 0 {
			t.Errorf("%d requests answered 429", tooMany)
		}
	})
}

// TestPacing429Recovery: a 429 blocks every caller until Retry-after and the
// level estimate is set to full; the run still completes without further 429s.
func TestPacing429Recovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &bucketAPI{capacity: 10, window: time.Second}
		// Misconfigured: client thinks the window is 10x shorter (it learns the
		// limit from the header but not the window), so it overshoots and gets
		// 429s, which must be survived.
		c := newTestClient(t, Config{Transport: api, RateLimit: 10, RateWindow: 100 * time.Millisecond})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 10 {
					if _, err := c.List(t.Context(), "tickets", ListParams{}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		ok, tooMany, maxLevel, _, _ := api.stats()
		if ok != 40 || tooMany == 0 || c.Stats().Throttled != int64(tooMany) {
			t.Errorf("ok=%d 429s=%d stats=%+v", ok, tooMany, c.Stats())
		}
		if maxLevel > 10 {
			t.Errorf("bucket overflowed: %v", maxLevel)
		}
	})
}

// TestPacingConcurrentRealTime: many goroutines share one Client over a real
// HTTP server (for the race detector); the bucket is never exceeded.
func TestPacingConcurrentRealTime(t *testing.T) {
	api := &bucketAPI{capacity: 10, window: 500 * time.Millisecond}
	srv := httptest.NewServer(api)
	defer srv.Close()
	c := newTestClient(t, Config{BaseURL: srv.URL, RateLimit: 10, RateWindow: 500 * time.Millisecond})
	const workers, each = 16, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := c.List(t.Context(), "tickets", ListParams{Cursor: fmt.Sprint(w, i)}); err != nil {
					t.Error(err)
				}
				_ = c.Stats()
			}
		})
	}
	wg.Wait()
	ok, tooMany, maxLevel, first, last := api.stats()
	t.Logf("%d ok, %d 429, max level %.2f, share %.3f, stats %+v", ok, tooMany, maxLevel, budgetShare(ok, 10, 500*time.Millisecond, last.Sub(first)), c.Stats())
	if tooMany != 0 || ok != workers*each {
		t.Errorf("ok=%d, 429s=%d", ok, tooMany)
	}
	if lvl, _, inFlight := c.pacer.snapshot(); inFlight != 0 || lvl > 10 {
		t.Errorf("pacer left level %.2f with %d in flight", lvl, inFlight)
	}
}

// spentPacer is a pacer of one request per second whose burst is spent.
func spentPacer(t *testing.T) *pacer {
	t.Helper()
	p := newPacer(2, 2*time.Second, 0, time.Minute)
	for range 2 {
		adm, _, err := p.acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		p.release(adm, observation{responded: true})
	}
	return p
}

// TestPacingPriority: while the budget is spent, the waiting request with the highest
// priority is sent first, then equal priorities in arrival order.
func TestPacingPriority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := spentPacer(t)
		var mu sync.Mutex
		var order []int
		var wg sync.WaitGroup
		for i, prio := range []int{1, 5, 3, 5} {
			wg.Go(func() {
				sent, _, err := p.acquire(WithPriority(t.Context(), prio))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				p.release(sent, observation{responded: true})
			})
			synctest.Wait() // arrivals in order
		}
		wg.Wait()
		if want := []int{1, 3, 2, 0}; fmt.Sprint(order) != fmt.Sprint(want) {
			t.Fatalf("admitted in order %v, want %v (priorities 1, 5, 3, 5)", order, want)
		}
	})
}

// TestPacingKeepsPlaceOfHigherWalk: under a spent budget, the place an answered
// request of a higher priority leaves is kept for its caller's next request (the
// walk's next page) for a moment, instead of going to a lower-priority waiter.
func TestPacingKeepsPlaceOfHigherWalk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := spentPacer(t)
		var mu sync.Mutex
		var order []string
		note := func(s string) {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, s)
		}
		var wg sync.WaitGroup
		wg.Go(func() { // the long walk: page 5, a second in flight, 50 ms of work, page 6
			adm, _, err := p.acquire(WithPriority(t.Context(), 5))
			if err != nil {
				t.Error(err)
				return
			}
			note("walk page 5")
			time.Sleep(time.Second)
			p.release(adm, observation{responded: true})
			time.Sleep(50 * time.Millisecond)
			if adm, _, err = p.acquire(WithPriority(t.Context(), 6)); err != nil {
				t.Error(err)
				return
			}
			note("walk page 6")
			p.release(adm, observation{responded: true})
		})
		synctest.Wait()
		wg.Go(func() { // a short list's page 1
			adm, _, err := p.acquire(WithPriority(t.Context(), 1))
			if err != nil {
				t.Error(err)
				return
			}
			note("other page 1")
			p.release(adm, observation{responded: true})
		})
		wg.Wait()
		if want := []string{"walk page 5", "walk page 6", "other page 1"}; fmt.Sprint(order) != fmt.Sprint(want) {
			t.Fatalf("admitted %q, want %q", order, want)
		}
	})
}
