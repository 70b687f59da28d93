package gorgiassim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// fakeClock is a real-clock source the test controls.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestSim returns a sim with a frozen fake clock and no rate limit
// unless cfg says otherwise.
func newTestSim(t testing.TB, cfg Config) (*Sim, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	if cfg.Clock == nil {
		cfg.Clock = clk.Now
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	return New(cfg), clk
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// get requests path (with query) through the in-process transport.
func get(t testing.TB, s *Sim, pathQuery string, auth bool) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://sim.test"+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth("sim@example.com", "sim-api-key")
	}
	res, err := (&http.Client{Transport: s.RoundTripper()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

type listPage struct {
	Object string            `json:"object"`
	URI    string            `json:"uri"`
	Data   []json.RawMessage `json:"data"`
	Meta   struct {
		NextCursor *string `json:"next_cursor"`
		PrevCursor *string `json:"prev_cursor"`
	} `json:"meta"`
}

func decodePage(t testing.TB, r resp) listPage {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var p listPage
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode page: %v", err)
	}
	return p
}

func listURL(res string, params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return "/api/" + res + "?" + q.Encode()
}

// obj decodes one object into a generic map.
func obj(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode object: %v: %s", err, raw)
	}
	return m
}

func idOf(t testing.TB, raw []byte) int64 {
	t.Helper()
	var v struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// parseTS parses the three timestamp forms the simulator emits.
func parseTS(t testing.TB, s string) time.Time {
	t.Helper()
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC()
		}
	}
	t.Fatalf("unparseable timestamp %q", s)
	return time.Time{}
}

func tsField(t testing.TB, m map[string]any, key string) time.Time {
	t.Helper()
	v, ok := m[key]
	if !ok {
		t.Fatalf("missing %s", key)
	}
	if v == nil {
		return time.Time{}
	}
	return parseTS(t, v.(string))
}

var allResources = []string{Customers, Tickets, Messages, SatisfactionSurveys}
