package gorgiassim

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// pageRequest builds an authenticated list request.
func pageRequest(res string, q url.Values) *http.Request {
	req, _ := http.NewRequest("GET", "http://sim.test/api/"+res+"?"+q.Encode(), nil)
	req.SetBasicAuth("sim@example.com", "sim-api-key")
	return req
}

// TestPageRenderFast walks every list of a default-size dataset with
// limit=100, cold (first render of every object) and warm, and checks the
// average server time per page. The best of three fresh simulators counts,
// so that load from other processes does not make the test flaky.
func TestPageRenderFast(t *testing.T) {
	budget := 5 * time.Millisecond
	if raceEnabled {
		budget = 50 * time.Millisecond
	}
	best := map[string]time.Duration{}
	for range 3 {
		s, _ := newTestSim(t, Config{})
		h := s.Handler()
		for _, pass := range []string{"cold", "warm"} {
			for _, res := range allResources {
				pages := 0
				var spent time.Duration
				q := url.Values{"limit": {"100"}, "order_by": {"created_datetime:desc"}}
				for {
					rec := &recorder{header: http.Header{}}
					req := pageRequest(res, q)
					start := time.Now()
					h.ServeHTTP(rec, req)
					spent += time.Since(start)
					pages++
					p := decodePage(t, resp{status: rec.status, body: rec.body.Bytes()})
					if p.Meta.NextCursor == nil {
						break
					}
					q.Set("cursor", *p.Meta.NextCursor)
				}
				key := pass + " " + res
				if avg := spent / time.Duration(pages); best[key] == 0 || avg < best[key] {
					best[key] = avg
				}
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(best)) {
		avg := best[key]
		if avg > budget {
			t.Errorf("%s: %v per 100-object page, want < %v", key, avg, budget)
		} else {
			t.Logf("%s: %v per page", key, avg)
		}
	}
}

func BenchmarkListPage100(b *testing.B) {
	for _, res := range []string{Tickets, Messages} {
		b.Run(res, func(b *testing.B) {
			s, _ := newTestSim(b, Config{})
			h := s.Handler()
			q := url.Values{"limit": {"100"}, "order_by": {"created_datetime:desc"}}
			req := pageRequest(res, q)
			h.ServeHTTP(&recorder{header: http.Header{}}, req) // warm the render cache
			b.ResetTimer()
			for b.Loop() {
				rec := &recorder{header: http.Header{}}
				h.ServeHTTP(rec, req)
				b.SetBytes(int64(rec.body.Len()))
			}
		})
	}
}

func BenchmarkListPage100Cold(b *testing.B) {
	s, _ := newTestSim(b, Config{})
	h := s.Handler()
	req := pageRequest(Messages, url.Values{"limit": {"100"}})
	for b.Loop() {
		b.StopTimer()
		for _, it := range s.table(Messages).all {
			it.raw = nil
		}
		b.StartTimer()
		h.ServeHTTP(&recorder{header: http.Header{}}, req)
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New(Config{})
	}
}
