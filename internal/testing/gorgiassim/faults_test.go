package gorgiassim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestFaultQueue(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	s.SetFaults(Faults{Next: []Fault{
		{Status: 500},
		{Status: 429, RetryAfter: 7},
		{Malformed: true},
		{Status: 503},
	}})
	want := []struct {
		status     int
		retry      string
		validJSON  bool
		malformed  bool
		okResponse bool
	}{
		{500, "", true, false, false},
		{429, "7", true, false, false},
		{200, "", false, true, false},
		{503, "", true, false, false},
		{200, "", true, false, true},
	}
	for i, w := range want {
		r := get(t, s, "/api/tickets?limit=3", true)
		if r.status != w.status || r.header.Get("Retry-After") != w.retry {
			t.Fatalf("request %d: status %d Retry-after %q, want %d %q", i, r.status, r.header.Get("Retry-After"), w.status, w.retry)
		}
		var v any
		if err := json.Unmarshal(r.body, &v); (err == nil) != w.validJSON {
			t.Fatalf("request %d: json.Unmarshal error %v, want valid=%v", i, err, w.validJSON)
		}
		if w.status >= 400 {
			errMsg(t, r.body)
		}
		if r.header.Get("Date") == "" || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("request %d: headers %v", i, r.header)
		}
	}
	st := s.Stats()
	if st.Injected5xx != 2 || st.InjectedOther != 1 || st.Malformed != 1 || st.OK != 1 || st.Throttled429 != 0 || st.Requests != 5 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultRates(t *testing.T) {
	statuses := func() []int {
		s, _ := newTestSim(t, Config{Seed: 11})
		s.SetFaults(Faults{ServerErrorRate: 0.3, MalformedRate: 0.2})
		var out []int
		for range 60 {
			r := get(t, s, "/api/account", true)
			code := r.status
			if code == 200 && !json.Valid(r.body) {
				code = -1 // malformed
			}
			out = append(out, code)
		}
		return out
	}
	a, b := statuses(), statuses()
	counts := map[int]int{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("fault draws differ between equal seeds at %d", i)
		}
		counts[a[i]]++
	}
	if counts[500]+counts[502]+counts[503] < 8 || counts[-1] < 3 || counts[200] < 15 {
		t.Fatalf("fault mix %v", counts)
	}
	for code := range counts {
		if code != 200 && code != -1 && code != 500 && code != 502 && code != 503 {
			t.Fatalf("unexpected status %d", code)
		}
	}
	s, _ := newTestSim(t, Config{})
	s.SetFaults(Faults{ServerErrorRate: 1})
	for range 10 {
		if r := get(t, s, "/api/customers", true); r.status < 500 {
			t.Fatalf("ServerErrorRate 1 answered %d", r.status)
		}
	}
	s.SetFaults(Faults{})
	if r := get(t, s, "/api/customers", true); r.status != 200 {
		t.Fatalf("faults cleared: %d", r.status)
	}
}

func TestSlowFaultsSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Config{Customers: 20, Tickets: 30}) // time.Now is the bubble's fake clock
		client := &http.Client{Transport: s.RoundTripper()}
		do := func(ctx context.Context) (*http.Response, error) {
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://sim.test/api/tickets", nil)
			req.SetBasicAuth("sim@example.com", "sim-api-key")
			return client.Do(req)
		}
		// A scripted delay longer than the request deadline: the request fails.
		s.SetFaults(Faults{Next: []Fault{{Delay: 10 * time.Second}}})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		start := time.Now()
		_, err := do(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Second {
			t.Fatalf("slow request: err %v after %v", err, time.Since(start))
		}
		// SlowRate 1: every answer comes after SlowDelay.
		s.SetFaults(Faults{SlowRate: 1, SlowDelay: 2 * time.Second})
		start = time.Now()
		res, err := do(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || time.Since(start) != 2*time.Second {
			t.Fatalf("slow answer %d after %v", res.StatusCode, time.Since(start))
		}
		// The sim clock follows the bubble's clock: 3s passed since New.
		if got := res.Header.Get("Date"); got != time.Date(2026, 6, 1, 0, 0, 3, 0, time.UTC).Format(http.TimeFormat) {
			t.Fatalf("Date %q", got)
		}
		if st := s.Stats(); st.Slow != 2 {
			t.Fatalf("Slow = %d", st.Slow)
		}
	})
}

// TestConcurrentUse exercises the lock under the race detector.
func TestConcurrentUse(t *testing.T) {
	s := New(Config{Customers: 50, Tickets: 100, RateLimit: -1})
	client := &http.Client{Transport: s.RoundTripper()}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				switch (g + i) % 4 {
				case 0:
					req, _ := http.NewRequest("GET", "http://sim.test/api/tickets?limit=25&order_by=updated_datetime:desc", nil)
					req.SetBasicAuth("sim@example.com", "sim-api-key")
					res, err := client.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					var p listPage
					if err := json.NewDecoder(res.Body).Decode(&p); err != nil || len(p.Data) != 25 {
						t.Errorf("page: %v, %d objects", err, len(p.Data))
					}
					res.Body.Close()
				case 1:
					s.Advance(time.Minute)
				case 2:
					_ = s.EditTicket(s.IDs(Tickets)[i])
					_, _ = s.AddMessage(s.IDs(Tickets)[i])
				default:
					_ = s.Objects(Messages)
					_ = s.Stats()
				}
			}
		}()
	}
	wg.Wait()
}
