package gorgias

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testDomain = "acme"
	testEmail  = "sim@example.com"
	testKey    = "s3cr3t-KEY-0123456789abcdef"
)

func testCreds() Credentials {
	return Credentials{Domain: testDomain, Email: testEmail, APIKey: testKey}
}

// rtFunc adapts a function to http.RoundTripper.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// mkResp builds a response; hdr holds name/value pairs stored verbatim (not
// canonicalized) to exercise case-insensitive lookups.
func mkResp(req *http.Request, status int, body string, hdr ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h[hdr[i]] = append(h[hdr[i]], hdr[i+1])
	}
	return &http.Response{
		StatusCode:    status,
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
		ProtoMajor:    1, ProtoMinor: 1,
	}
}

func listBody(n int, next string) string {
	var b strings.Builder
	b.WriteString(`{"object":"list","uri":"/api/tickets","data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"subject":"s [%d] {\"x\"}","updated_datetime":"2024-06-20T07:39:36.514848+00:00"}`, i+1, i)
	}
	b.WriteString(`],"meta":{"prev_cursor":null,"next_cursor":`)
	if next == "" {
		b.WriteString("null")
	} else {
		b.WriteString(strconv.Quote(next))
	}
	b.WriteString("}}")
	return b.String()
}

// scripted answers the i-th request with steps[i] (the last step repeats)
// and counts requests.
type scripted struct {
	mu    sync.Mutex
	steps []func(*http.Request) (*http.Response, error)
	n     int
	times []time.Time
}

func (s *scripted) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	i := min(s.n, len(s.steps)-1)
	s.n++
	s.times = append(s.times, time.Now())
	step := s.steps[i]
	s.mu.Unlock()
	return step(r)
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func status(code int, body string, hdr ...string) func(*http.Request) (*http.Response, error) {
	return func(r *http.Request) (*http.Response, error) { return mkResp(r, code, body, hdr...), nil }
}

func okList(n int, next string) func(*http.Request) (*http.Response, error) {
	return status(200, listBody(n, next), CallLimitHeader, "1/40")
}

// bucketAPI is an in-process fake of the Gorgias list API with a leaky bucket
// (capacity per window). Requests over capacity get 429 and are not counted.
// It serves as an http.RoundTripper (works inside testing/synctest) and as an
// http.Handler (for httptest servers).
type bucketAPI struct {
	capacity int
	window   time.Duration
	up       func() time.Duration // delay before the server admits the request; nil = 0
	down     func() time.Duration // processing + response delay after admission; nil = 0
	report   func(float64) int    // how "used" is reported; nil = ceil

	mu       sync.Mutex
	level    float64
	at       time.Time
	ok       int
	tooMany  int
	maxLevel float64
	first    time.Time
	last     time.Time
}

func (b *bucketAPI) admit() (used int, admitted bool, retry time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	rate := float64(b.capacity) / b.window.Seconds()
	if !b.at.IsZero() {
		b.level = math.Max(0, b.level-now.Sub(b.at).Seconds()*rate)
	}
	b.at = now
	if b.level+1 > float64(b.capacity)+1e-9 {
		b.tooMany++
		return b.capacity, false, time.Duration(math.Ceil((b.level+1-float64(b.capacity))/rate)) * time.Second
	}
	b.level++
	b.maxLevel = math.Max(b.maxLevel, b.level)
	if b.ok == 0 {
		b.first = now
	}
	b.last = now
	b.ok++
	rep := b.report
	if rep == nil {
		rep = func(l float64) int { return int(math.Ceil(l - 1e-9)) }
	}
	return rep(b.level), true, 0
}

func (b *bucketAPI) stats() (ok, tooMany int, maxLevel float64, first, last time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ok, b.tooMany, b.maxLevel, b.first, b.last
}

func ctxSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (b *bucketAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.up != nil {
		if err := ctxSleep(r.Context(), b.up()); err != nil {
			return nil, err
		}
	}
	used, ok, retry := b.admit()
	if b.down != nil {
		if err := ctxSleep(r.Context(), b.down()); err != nil {
			return nil, err
		}
	}
	lim := fmt.Sprintf("%d/%d", used, b.capacity)
	if !ok {
		return mkResp(r, 429, `{"error":"too many requests"}`, CallLimitHeader, lim,
			"Retry-after", strconv.Itoa(int(retry/time.Second))), nil
	}
	return mkResp(r, 200, listBody(3, "c"), CallLimitHeader, lim), nil
}

func (b *bucketAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, err := b.RoundTrip(r)
	if err != nil {
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// logBuffer is a goroutine-safe buffer for slog output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newTestClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	if cfg.Credentials == (Credentials{}) {
		cfg.Credentials = testCreds()
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://gorgias.test"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// assertNoSecret fails if s contains the API key or the Basic credentials.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, testKey) {
		t.Errorf("%s contains the API key: %s", what, s)
	}
	if strings.Contains(s, basicToken()) {
		t.Errorf("%s contains the Basic auth token: %s", what, s)
	}
}

func basicToken() string {
	r, _ := http.NewRequest("GET", "http://x", nil)
	r.SetBasicAuth(testEmail, testKey)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
