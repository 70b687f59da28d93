package gorgias

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestListRequestAndPage runs against a real HTTP server (default transport)
// and checks what is sent and how the page is decoded.
func TestListRequestAndPage(t *testing.T) {
	var got atomic.Pointer[http.Request]
	date := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Clone(context.Background()))
		w.Header().Set("Date", date.Format(http.TimeFormat))
		w.Header().Set(CallLimitHeader, "7/40")
		if r.URL.Query().Get("cursor") == "" {
			_, _ = w.Write([]byte(listBody(2, "c2")))
			return
		}
		_, _ = w.Write([]byte(listBody(1, "")))
	}))
	defer srv.Close()

	c := newTestClient(t, Config{BaseURL: srv.URL, UserAgent: "ua-test/1"})
	before := time.Now()
	p, err := c.List(t.Context(), "tickets", ListParams{
		OrderBy: "updated_datetime:desc",
		Query:   url.Values{"trashed": {"true"}, "limit": {"5"}, "order_by": {"x"}},
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	r := got.Load()
	if r.URL.Path != "/api/tickets" {
		t.Errorf("path = %q, want /api/tickets", r.URL.Path)
	}
	q := r.URL.Query()
	if q.Get("limit") != "100" || q.Get("order_by") != "updated_datetime:desc" || q.Get("trashed") != "true" || q.Has("cursor") {
		t.Errorf("query = %v", q)
	}
	if len(q["limit"]) != 1 || len(q["order_by"]) != 1 {
		t.Errorf("limit/order_by sent more than once: %v", q)
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != testEmail || pass != testKey {
		t.Errorf("basic auth = %q/%v, ok=%v", user, pass == testKey, ok)
	}
	if r.Header.Get("Accept") != "application/json" || r.Header.Get("User-Agent") != "ua-test/1" {
		t.Errorf("headers = %v", r.Header)
	}
	if len(p.Data) != 2 || p.NextCursor != "c2" {
		t.Errorf("page: %d items, next %q", len(p.Data), p.NextCursor)
	}
	if !p.ServerTime.Equal(date) || p.ServerTime.Location() != time.UTC {
		t.Errorf("ServerTime = %v, want %v", p.ServerTime, date)
	}
	if p.Received.Before(before) || p.Received.After(time.Now()) {
		t.Errorf("Received = %v outside the call", p.Received)
	}
	if s := c.Stats(); s.Requests != 1 || s.LastUsed != 7 || s.LastLimit != 40 {
		t.Errorf("stats = %+v", s)
	}

	// Second page: cursor, limit and order_by are all re-sent.
	p, err = c.List(t.Context(), "/tickets/", ListParams{OrderBy: "updated_datetime:desc", Limit: 50, Cursor: "c2"})
	if err != nil {
		t.Fatalf("List page 2: %v", err)
	}
	q = got.Load().URL.Query()
	if q.Get("cursor") != "c2" || q.Get("limit") != "50" || q.Get("order_by") != "updated_datetime:desc" {
		t.Errorf("page 2 query = %v", q)
	}
	if p.NextCursor != "" || len(p.Data) != 1 {
		t.Errorf("last page: next %q, %d items", p.NextCursor, len(p.Data))
	}

	// No order_by when empty (voice-call endpoints).
	if _, err := c.List(t.Context(), "phone/voice-calls", ListParams{}); err != nil {
		t.Fatal(err)
	}
	if u := got.Load().URL; u.Query().Has("order_by") || u.Path != "/api/phone/voice-calls" {
		t.Errorf("voice calls request = %v", u)
	}
	if err := c.CheckCredentials(t.Context()); err != nil {
		t.Errorf("CheckCredentials: %v", err)
	}
	if p := got.Load().URL.Path; p != "/api/account" {
		t.Errorf("CheckCredentials path = %q", p)
	}
}

func TestListRejectsBadInput(t *testing.T) {
	rt := &scripted{steps: []func(*http.Request) (*http.Response, error){okList(1, "")}}
	c := newTestClient(t, Config{Transport: rt})
	for _, tc := range []struct {
		resource string
		p        ListParams
	}{
		{"", ListParams{}},
		{"tickets?x=1", ListParams{}},
		{"../account", ListParams{}},
		{"tickets", ListParams{Limit: 101}},
		{"tickets", ListParams{Limit: -1}},
	} {
		if _, err := c.List(t.Context(), tc.resource, tc.p); !errors.Is(err, ErrBadRequest) {
			t.Errorf("List(%q, %+v) error = %v, want ErrBadRequest", tc.resource, tc.p, err)
		}
	}
	if n := rt.count(); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

// TestFailFast: 401/403/400/404 make exactly one request and give clear,
// key-free errors.
func TestFailFast(t *testing.T) {
	keyEcho := `{"error":{"msg":"Invalid credentials for ` + testKey + `"}}`
	long := `{"error":{"msg":"` + strings.Repeat("bad order_by value ", 40) + `"}}`
	tests := []struct {
		name     string
		status   int
		body     string
		resource string
		sentinel error
		want     []string
	}{
		{"401", 401, keyEcho, "tickets", ErrUnauthorized,
			[]string{`"acme"`, testEmail, "check the API key", "GET /api/tickets", "HTTP 401", "Invalid credentials for ***"}},
		{"403", 403, `{"error":{"msg":"Forbidden"}}`, "satisfaction-surveys", ErrForbidden,
			[]string{`"acme"`, testEmail, "the user needs a role that can read satisfaction-surveys", "GET /api/satisfaction-surveys", "HTTP 403"}},
		{"400", 400, `{"error":{"msg":"Invalid query","data":{"order_by":["Must be one of created_datetime:asc"]}}}`, "messages", ErrBadRequest,
			[]string{"GET /api/messages", "HTTP 400", "Invalid query", "Must be one of created_datetime:asc"}},
		{"400 plain", 400, `{"error":"unknown parameter foo"}`, "tickets", ErrBadRequest, []string{"unknown parameter foo"}},
		{"400 long", 400, long, "tickets", ErrBadRequest, []string{"bad order_by value", "..."}},
		{"404", 404, `<html>not found</html>`, "tickets/1", ErrBadRequest, []string{"HTTP 404", "not found"}},
		{"422", 422, ``, "tickets", ErrBadRequest, []string{"HTTP 422"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := &scripted{steps: []func(*http.Request) (*http.Response, error){status(tt.status, tt.body)}}
			c := newTestClient(t, Config{Transport: rt})
			_, err := c.List(t.Context(), tt.resource, ListParams{OrderBy: "created_datetime:desc"})
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("error %v does not wrap %v", err, tt.sentinel)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
				t.Errorf("error %v is not an *APIError with status %d", err, tt.status)
			}
			if n := rt.count(); n != 1 {
				t.Errorf("made %d requests, want exactly 1", n)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if len(apiErr.Message) > maxSnippet+3 {
				t.Errorf("API message not truncated: %d chars", len(apiErr.Message))
			}
			assertNoSecret(t, "error", err.Error())
		})
	}
	t.Run("CheckCredentials 401", func(t *testing.T) {
		rt := &scripted{steps: []func(*http.Request) (*http.Response, error){status(401, "")}}
		c := newTestClient(t, Config{Transport: rt})
		err := c.CheckCredentials(t.Context())
		if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "/api/account") || rt.count() != 1 {
			t.Errorf("CheckCredentials = %v after %d requests", err, rt.count())
		}
		assertNoSecret(t, "error", err.Error())
	})
}

// TestRetries covers the retry policy in a synctest bubble so back-off and
// Retry-after waits take no real time but are measured exactly.
func TestRetries(t *testing.T) {
	type step = func(*http.Request) (*http.Response, error)
	hang := func(r *http.Request) (*http.Response, error) { <-r.Context().Done(); return nil, r.Context().Err() }
	refused := func(*http.Request) (*http.Response, error) { return nil, errors.New("dial tcp: connection refused") }
	tests := []struct {
		name      string
		cfg       Config
		steps     []step
		wantErr   []error // nil: success
		wantMsg   []string
		wantReqs  int
		wantStats func(Stats) bool
		minGap    time.Duration // minimum time between the first two requests
		maxGap    time.Duration
	}{
		{name: "429 honours Retry-after", steps: []step{
			status(429, `{"error":"slow down"}`, "Retry-after", "3", CallLimitHeader, "40/40"), okList(2, "")},
			wantReqs: 2, minGap: 3 * time.Second, maxGap: 3*time.Second + max429Jitter,
			wantStats: func(s Stats) bool { return s.Throttled == 1 && s.Retries == 0 && s.RetryWait >= 3*time.Second }},
		{name: "429 without Retry-after waits 1s", steps: []step{status(429, ``), okList(1, "")},
			wantReqs: 2, minGap: time.Second, maxGap: time.Second + max429Jitter},
		{name: "429 HTTP-date Retry-after", steps: []step{
			func(r *http.Request) (*http.Response, error) {
				return mkResp(r, 429, "", "RETRY-AFTER", time.Now().Add(5*time.Second).Format(http.TimeFormat)), nil
			}, okList(1, "")},
			wantReqs: 2, minGap: 4 * time.Second, maxGap: 5*time.Second + max429Jitter},
		{name: "Retry-after capped", cfg: Config{RetryAfterMax: 2 * time.Second},
			steps:    []step{status(429, ``, "Retry-After", "3600"), okList(1, "")},
			wantReqs: 2, minGap: 2 * time.Second, maxGap: 2*time.Second + max429Jitter},
		{name: "429s exhausted", cfg: Config{Max429Retries: 3}, steps: []step{status(429, ``, "Retry-after", "1")},
			wantErr: []error{ErrRateLimited}, wantMsg: []string{"4 consecutive 429", "GET /api/tickets", `"acme"`}, wantReqs: 4},
		{name: "5xx storm then success", steps: []step{status(500, "boom"), status(502, ""), status(503, ""), status(504, ""), okList(3, "")},
			wantReqs: 5, wantStats: func(s Stats) bool { return s.Retries == 4 && s.ServerErrors == 4 && s.Throttled == 0 }},
		{name: "malformed JSON then success", steps: []step{status(200, `{"data":[{"id":1},`), status(200, `<html>oops</html>`), okList(1, "")},
			wantReqs: 3, wantStats: func(s Stats) bool { return s.Retries == 2 && s.ServerErrors == 0 }},
		{name: "429 between 5xx does not reset retries", cfg: Config{MaxRetries: 2},
			steps:   []step{status(500, ""), status(429, ""), status(500, ""), status(429, ""), status(500, ""), okList(1, "")},
			wantErr: []error{ErrRetriesExhausted, ErrServerError}, wantReqs: 5},
		{name: "retries exhausted", cfg: Config{MaxRetries: 2}, steps: []step{status(503, "maintenance <b>"+testKey+"</b>")},
			wantErr: []error{ErrRetriesExhausted, ErrServerError}, wantReqs: 3,
			wantMsg: []string{"after 3 attempts", "HTTP 503", "maintenance", "GET /api/tickets", `"acme"`}},
		{name: "malformed exhausted", cfg: Config{MaxRetries: 1}, steps: []step{status(200, `{"object":"list"}`)},
			wantErr: []error{ErrRetriesExhausted, ErrMalformedResponse}, wantReqs: 2, wantMsg: []string{`no "data" array`}},
		{name: "timeouts retried", cfg: Config{RequestTimeout: 2 * time.Second}, steps: []step{hang, hang, okList(1, "")},
			wantReqs: 3, minGap: 2 * time.Second, maxGap: 3 * time.Second},
		{name: "timeouts exhausted", cfg: Config{RequestTimeout: time.Second, MaxRetries: 1}, steps: []step{hang},
			wantErr: []error{ErrRetriesExhausted, context.DeadlineExceeded}, wantReqs: 2, wantMsg: []string{"timed out after 1s"}},
		{name: "transport errors retried", steps: []step{refused, refused, okList(1, "")}, wantReqs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rt := &scripted{steps: tt.steps}
				cfg := tt.cfg
				cfg.Transport = rt
				var logs logBuffer
				cfg.Logger = debugLogger(&logs)
				c := newTestClient(t, cfg)
				p, err := c.List(t.Context(), "tickets", ListParams{OrderBy: "updated_datetime:desc"})
				if tt.wantErr == nil {
					if err != nil {
						t.Fatalf("List: %v", err)
					}
					if len(p.Data) == 0 {
						t.Errorf("empty page")
					}
				} else {
					if err == nil {
						t.Fatal("want error")
					}
					for _, w := range tt.wantErr {
						if !errors.Is(err, w) {
							t.Errorf("error %q does not wrap %v", err, w)
						}
					}
					for _, w := range tt.wantMsg {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("error %q does not contain %q", err, w)
						}
					}
					assertNoSecret(t, "error", err.Error())
				}
				if n := rt.count(); n != tt.wantReqs {
					t.Errorf("made %d requests, want %d", n, tt.wantReqs)
				}
				if s := c.Stats(); s.Requests != int64(rt.count()) || (tt.wantStats != nil && !tt.wantStats(s)) {
					t.Errorf("stats = %+v", s)
				}
				if tt.minGap > 0 {
					gap := rt.times[1].Sub(rt.times[0])
					if gap < tt.minGap || gap > tt.maxGap {
						t.Errorf("gap between attempts = %v, want [%v, %v]", gap, tt.minGap, tt.maxGap)
					}
				}
				assertNoSecret(t, "logs", logs.String())
			})
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	c := newTestClient(t, Config{BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second})
	for n := 1; n <= 70; n++ {
		ceil := min(time.Second, 100*time.Millisecond<<min(n-1, 20))
		for range 50 {
			if d := c.backoff(n); d < 0 || d > ceil {
				t.Fatalf("backoff(%d) = %v outside [0, %v]", n, d, ceil)
			}
		}
	}
}

func TestContextCancelStopsRetrying(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := &scripted{steps: []func(*http.Request) (*http.Response, error){status(503, "")}}
		// Back-off is full jitter, uniform in [0, 10 s]: with the default 8 retries their
		// sum falls under the 25 s deadline about once in 30 runs, and the retries, not
		// the deadline, would end the call. With 1,000 the deadline always comes first.
		c := newTestClient(t, Config{Transport: rt, BackoffBase: 10 * time.Second, BackoffMax: 10 * time.Second, MaxRetries: 1000})
		ctx, cancel := context.WithTimeout(t.Context(), 25*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.List(ctx, "tickets", ListParams{})
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrRetriesExhausted) {
			t.Fatalf("error = %v, want the context's deadline", err)
		}
		if d := time.Since(start); d > 25*time.Second {
			t.Errorf("returned after %v, later than the deadline", d)
		}
	})
	// Cancelled while waiting for budget.
	synctest.Test(t, func(t *testing.T) {
		rt := &scripted{steps: []func(*http.Request) (*http.Response, error){status(200, listBody(1, ""), CallLimitHeader, "40/40")}}
		c := newTestClient(t, Config{Transport: rt})
		if _, err := c.List(t.Context(), "tickets", ListParams{}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := c.List(ctx, "tickets", ListParams{})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "rate-limit budget") {
			t.Fatalf("error = %v, want deadline while waiting for budget", err)
		}
		if rt.count() != 1 {
			t.Errorf("%d requests, want 1", rt.count())
		}
	})
}

// TestRealTimeout uses a real server and transport with a short
// RequestTimeout: the first attempt stalls, the retry succeeds.
func TestRealTimeout(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		_, _ = w.Write([]byte(listBody(1, "")))
	}))
	defer srv.Close()
	c := newTestClient(t, Config{BaseURL: srv.URL, RequestTimeout: 100 * time.Millisecond, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
	start := time.Now()
	if _, err := c.List(t.Context(), "tickets", ListParams{}); err != nil {
		t.Fatalf("List: %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	if n.Load() != 2 || c.Stats().Retries != 1 {
		t.Errorf("requests %d, stats %+v", n.Load(), c.Stats())
	}
}

func TestGet(t *testing.T) {
	rt := &scripted{steps: []func(*http.Request) (*http.Response, error){status(200, `{"domain":"acme"`), status(200, `{"domain":"acme"}`)}}
	c := newTestClient(t, Config{Transport: rt, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
	b, err := c.Get(t.Context(), "account", nil)
	if err != nil || string(b) != `{"domain":"acme"}` || rt.count() != 2 {
		t.Fatalf("Get = %s, %v after %d requests", b, err, rt.count())
	}
}

func TestLogging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logBuffer
		rt := &scripted{steps: []func(*http.Request) (*http.Response, error){
			status(429, ``, "Retry-After", "1"), status(429, ``, "Retry-After", "1"), status(429, ``, "Retry-After", "1"),
			status(500, `oops`), status(200, listBody(1, ""), CallLimitHeader, "12/40"),
		}}
		c := newTestClient(t, Config{Transport: rt, Logger: debugLogger(&logs), BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
		if _, err := c.List(t.Context(), "tickets", ListParams{}); err != nil {
			t.Fatal(err)
		}
		out := logs.String()
		if n := strings.Count(out, `msg="gorgias request"`); n != 5 {
			t.Errorf("%d debug request lines, want 5:\n%s", n, out)
		}
		for _, w := range []string{"path=/api/tickets", "status=200", "call_limit=12/40", "status=429"} {
			if !strings.Contains(out, w) {
				t.Errorf("log lacks %q:\n%s", w, out)
			}
		}
		if n := strings.Count(out, "level=WARN"); n != 1 {
			t.Errorf("%d WARN lines for one storm, want 1 (rate-limited):\n%s", n, out)
		}
		assertNoSecret(t, "logs", out)
	})
}
