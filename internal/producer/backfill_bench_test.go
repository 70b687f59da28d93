package producer

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

// The OAuth budget of a Gorgias account (reference §3) and the latency the backfill
// benchmark gives every request.
const (
	oauthLimit   = 80
	oauthWindow  = 20 * time.Second
	benchLatency = 300 * time.Millisecond
)

// BenchmarkBackfill backfills every entity of the catalog from the simulator, which
// answers each request after 300 ms and enforces the OAuth budget (80 requests per
// 20 s), with the producer's concurrent sweeps (concurrent) and with sweeps forced
// sequential (sequential, Concurrency 1), in the same run. It reports the wall time
// against the ideal: the larger of the budget-bound time (the requests beyond the
// burst ÷ the allowed rate) and the longest single entity's page chain (its requests ×
// the measured mean time per request, since one cursor walk is sequential); the share
// of the budget used over the run; and the 429s (there must be none).
func BenchmarkBackfill(b *testing.B) {
	sim := gorgiassim.Config{Seed: 11, Customers: 1200, Tickets: 2400, RateLimit: oauthLimit, RateWindow: oauthWindow}
	for _, v := range []struct {
		name        string
		concurrency int
	}{{"concurrent", 0}, {"sequential", 1}} { // 0: the default
		b.Run(v.name, func(b *testing.B) {
			for range b.N {
				backfillOnce(b, sim, v.concurrency)
			}
		})
	}
}

// backfillOnce runs one backfill with concurrency sweeps at once and reports its
// figures.
func backfillOnce(b *testing.B, simCfg gorgiassim.Config, concurrency int) {
	sim := testenv.NewSim(simCfg)
	sim.SetFaults(gorgiassim.Faults{SlowRate: 1, SlowDelay: benchLatency})
	timer := &timedTransport{next: sim.RoundTripper(), perPath: map[string]int{}}
	e := newEnvWith(b, testenv.NewCluster(b), sim, func(c *gorgias.Config) {
		c.Transport = timer
		c.RateLimit, c.RateWindow = oauthLimit, oauthWindow
	})
	start := time.Now()
	e.mustRun(e.config(func(c *Config) { c.Concurrency = concurrency }))
	wall := time.Since(start)
	st := sim.Stats()
	if st.Throttled429 != 0 {
		b.Fatalf("%d requests throttled", st.Throttled429)
	}
	chain, longest := 0, ""
	for path, n := range timer.perPath {
		if n > chain {
			chain, longest = n, path
		}
	}
	perRequest := timer.mean()
	rate := float64(oauthLimit) / oauthWindow.Seconds()
	budgetBound := time.Duration(float64(max(0, st.Requests-oauthLimit)) / rate * float64(time.Second))
	chainBound := time.Duration(chain) * perRequest
	ideal := max(budgetBound, chainBound)
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(ideal.Seconds(), "ideal-s")
	b.ReportMetric(wall.Seconds()/ideal.Seconds(), "x-ideal")
	b.ReportMetric(budgetBound.Seconds(), "budget-bound-s")
	b.ReportMetric(chainBound.Seconds(), "chain-bound-s")
	b.ReportMetric(float64(st.Requests), "requests")
	b.ReportMetric(100*float64(st.Requests)/(oauthLimit+rate*wall.Seconds()), "%budget")
	b.ReportMetric(float64(st.Throttled429), "429s")
	var ends []string
	for path, at := range timer.last {
		ends = append(ends, fmt.Sprintf("%s %.1fs", strings.TrimPrefix(path, "/api/"), at.Sub(start).Seconds()))
	}
	slices.Sort(ends)
	b.Logf("last request ended: %s", strings.Join(ends, ", "))
	b.Logf("concurrency %d: %d requests over %d entities in %s; ideal %s (budget %s, longest chain %s: %d requests × %s)",
		concurrency, st.Requests, len(catalog.All()), wall.Round(time.Millisecond), ideal.Round(time.Millisecond),
		budgetBound.Round(time.Millisecond), longest, chain, perRequest.Round(time.Millisecond))
}

// timedTransport counts the requests per path and times them.
type timedTransport struct {
	next    http.RoundTripper
	mu      sync.Mutex
	perPath map[string]int
	last    map[string]time.Time // when each path's last request ended
	total   time.Duration
	n       int
}

// RoundTrip implements http.RoundTripper.
func (t *timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	d := time.Since(start)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.perPath[strings.TrimSuffix(r.URL.Path, "/")]++
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	t.last[strings.TrimSuffix(r.URL.Path, "/")] = time.Now()
	t.total += d
	t.n++
	return resp, err
}

// mean is the mean time of a request.
func (t *timedTransport) mean() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		return 0
	}
	return t.total / time.Duration(t.n)
}
