package gorgiassim

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// expectedOrder computes the ids of a list in the given order from the truth.
func expectedOrder(t *testing.T, s *Sim, res, order string, ticketID int64) []int64 {
	t.Helper()
	field, dir, _ := strings.Cut(order, ":")
	type kv struct {
		v  int64
		id int64
	}
	var xs []kv
	for _, raw := range s.Objects(res) {
		m := obj(t, raw)
		if ticketID != 0 && int64(m["ticket_id"].(float64)) != ticketID {
			continue
		}
		xs = append(xs, kv{tsField(t, m, field).UnixMicro(), int64(m["id"].(float64))})
	}
	slices.SortFunc(xs, func(a, b kv) int {
		c := cmp.Compare(a.v, b.v)
		if c == 0 {
			c = cmp.Compare(a.id, b.id)
		}
		if dir == "desc" {
			c = -c
		}
		return c
	})
	ids := make([]int64, len(xs))
	for i, x := range xs {
		ids[i] = x.id
	}
	return ids
}

// walk pages through a list and returns the ids in order. between runs
// after every page with the ids seen so far.
func walk(t *testing.T, s *Sim, res string, params map[string]string, between func(seen []int64)) []int64 {
	t.Helper()
	var ids []int64
	truth := map[int64][]byte{}
	for _, raw := range s.Objects(res) {
		truth[idOf(t, raw)] = raw
	}
	p := map[string]string{}
	for k, v := range params {
		p[k] = v
	}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		pg := decodePage(t, get(t, s, listURL(res, p), true))
		if pg.Object != "list" || pg.URI != "/api/"+res {
			t.Fatalf("envelope object=%q uri=%q", pg.Object, pg.URI)
		}
		if pages == 0 && pg.Meta.PrevCursor != nil {
			t.Fatal("prev_cursor must be null on the first page")
		}
		for _, raw := range pg.Data {
			id := idOf(t, raw)
			if between == nil && !bytes.Equal(raw, truth[id]) {
				t.Fatalf("%s %d: page object differs from Objects", res, id)
			}
			ids = append(ids, id)
		}
		if pg.Meta.NextCursor == nil {
			return ids
		}
		if len(pg.Data) == 0 {
			t.Fatal("empty page with a next_cursor")
		}
		p["cursor"] = *pg.Meta.NextCursor
		if between != nil {
			between(ids)
		}
	}
}

func TestPagingEveryOrder(t *testing.T) {
	t.Parallel()
	s, _ := newTestSim(t, Config{})
	for _, e := range catalog.All() {
		for _, order := range orders()[e.Resource] {
			t.Run(e.Resource+"/"+order, func(t *testing.T) {
				var got []int64
				for _, pass := range passParams(e) {
					ids := walk(t, s, e.Resource, withParams(pass, "limit", "100", "order_by", order), nil)
					if want := wantIDs(t, s, e.Resource, order, matching(e, pass)); !slices.Equal(ids, want) {
						t.Fatalf("%v: got %d ids, want %d; orders differ", pass, len(ids), len(want))
					}
					got = append(got, ids...)
				}
				if len(got) != len(s.IDs(e.Resource)) {
					t.Fatalf("got %d ids of %d", len(got), len(s.IDs(e.Resource)))
				}
			})
		}
	}
}

func TestPagingSmallPagesAndFilter(t *testing.T) {
	s, _ := newTestSim(t, Config{Tickets: 80, Customers: 40})
	// Small pages cross many boundaries, including equal sort values.
	got := walk(t, s, Tickets, map[string]string{"limit": "7", "order_by": "updated_datetime:asc"}, nil)
	if want := expectedOrder(t, s, Tickets, "updated_datetime:asc", 0); !slices.Equal(got, want) {
		t.Fatal("small pages: order differs")
	}
	// ticket_id filter on messages and surveys.
	tid := s.IDs(Tickets)[5]
	got = walk(t, s, Messages, map[string]string{"limit": "2", "ticket_id": strconv.FormatInt(tid, 10)}, nil)
	if want := expectedOrder(t, s, Messages, "created_datetime:desc", tid); !slices.Equal(got, want) || len(got) == 0 {
		t.Fatalf("ticket_id filter: got %v want %v", got, want)
	}
	var sv map[string]any
	for _, raw := range s.Objects(SatisfactionSurveys) {
		sv = obj(t, raw)
		break
	}
	stid := int64(sv["ticket_id"].(float64))
	got = walk(t, s, SatisfactionSurveys, map[string]string{"ticket_id": strconv.FormatInt(stid, 10)}, nil)
	if len(got) != 1 || got[0] != int64(sv["id"].(float64)) {
		t.Fatalf("survey ticket_id filter: %v", got)
	}
}

func TestDefaultPage(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	pg := decodePage(t, get(t, s, "/api/tickets", true))
	if len(pg.Data) != 30 {
		t.Fatalf("default limit: %d objects", len(pg.Data))
	}
	want := expectedOrder(t, s, Tickets, "created_datetime:desc", 0)[:30]
	for i, raw := range pg.Data {
		if idOf(t, raw) != want[i] {
			t.Fatal("default order is not created_datetime:desc")
		}
	}
	if pg.Meta.NextCursor == nil || pg.Meta.PrevCursor != nil {
		t.Fatal("first page needs next_cursor and a null prev_cursor")
	}
	if _, err := base64.StdEncoding.DecodeString(*pg.Meta.NextCursor); err != nil {
		t.Fatalf("cursor is not base64: %v", err)
	}
	// prev_cursor of page 2 leads back to page 1.
	p2 := decodePage(t, get(t, s, listURL(Tickets, map[string]string{"cursor": *pg.Meta.NextCursor}), true))
	if p2.Meta.PrevCursor == nil {
		t.Fatal("page 2 has no prev_cursor")
	}
	back := decodePage(t, get(t, s, listURL(Tickets, map[string]string{"cursor": *p2.Meta.PrevCursor}), true))
	if len(back.Data) != 30 || !bytes.Equal(back.Data[0], pg.Data[0]) || !bytes.Equal(back.Data[29], pg.Data[29]) {
		t.Fatal("prev_cursor does not lead back to page 1")
	}
	if back.Meta.PrevCursor != nil {
		t.Fatal("page 1 reached by prev_cursor must have a null prev_cursor")
	}
	// A cursor whose '+' arrived as a space still works.
	raw := "/api/tickets?cursor=" + *pg.Meta.NextCursor
	if r := get(t, s, raw, true); r.status != 200 {
		t.Fatalf("unescaped cursor: %d %s", r.status, r.body)
	}
}

func TestPagingWithEditsBetweenPages(t *testing.T) {
	cases := []struct {
		order string
		// whether the object edited before it was seen is returned, and how
		// often the object edited after it was seen is returned
		unseenSeen int
		seenTimes  int
	}{
		{"created_datetime:asc", 1, 1},
		{"created_datetime:desc", 1, 1},
		{"updated_datetime:desc", 0, 1}, // edited objects jump to the already-read front
		{"updated_datetime:asc", 1, 2},  // edited objects move to the end
	}
	for _, tc := range cases {
		t.Run(tc.order, func(t *testing.T) {
			s, clk := newTestSim(t, Config{})
			want := expectedOrder(t, s, Tickets, tc.order, 0)
			unseen := want[len(want)-50] // on the last page
			var seen int64
			pages := 0
			got := walk(t, s, Tickets, map[string]string{"limit": "100", "order_by": tc.order}, func(ids []int64) {
				pages++
				if pages == 2 {
					clk.Add(time.Second)
					seen = ids[10]
					if err := s.EditTicket(seen); err != nil {
						t.Fatal(err)
					}
					if err := s.EditTicket(unseen); err != nil {
						t.Fatal(err)
					}
				}
			})
			count := map[int64]int{}
			for _, id := range got {
				count[id]++
			}
			for _, id := range want {
				n := count[id]
				switch id {
				case unseen:
					if n != tc.unseenSeen {
						t.Errorf("ticket edited before being read returned %d times, want %d", n, tc.unseenSeen)
					}
				case seen:
					if n != tc.seenTimes {
						t.Errorf("ticket edited after being read returned %d times, want %d", n, tc.seenTimes)
					}
				default:
					if n != 1 {
						t.Fatalf("ticket %d returned %d times", id, n)
					}
				}
			}
		})
	}
}

func errMsg(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Msg string `json:"msg"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Msg == "" {
		t.Fatalf("error body without error.msg: %s", body)
	}
	return e.Error.Msg
}

func TestBadRequests(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	pg := decodePage(t, get(t, s, "/api/tickets?order_by=updated_datetime:desc&limit=5", true))
	updCursor := *pg.Meta.NextCursor
	tests := []struct {
		name, url string
		status    int
	}{
		{"limit 101", "/api/tickets?limit=101", 400},
		{"limit 0", "/api/tickets?limit=0", 400},
		{"limit -1", "/api/customers?limit=-1", 400},
		{"limit text", "/api/customers?limit=ten", 400},
		{"limit empty", "/api/customers?limit=", 400},
		{"limit 100 ok", "/api/customers?limit=100", 200},
		{"limit 1 ok", "/api/customers?limit=1", 200},
		{"order_by unknown field", "/api/tickets?order_by=name:asc", 400},
		{"order_by no direction", "/api/tickets?order_by=updated_datetime", 400},
		{"order_by updated on messages", "/api/messages?order_by=updated_datetime:desc", 400},
		{"order_by updated on surveys", "/api/satisfaction-surveys?order_by=updated_datetime:asc", 400},
		{"order_by created asc on messages ok", "/api/messages?order_by=created_datetime:asc", 200},
		{"cursor garbage", "/api/tickets?cursor=not*base64!", 400},
		{"cursor base64 but not a cursor", "/api/tickets?cursor=" + base64.StdEncoding.EncodeToString([]byte(`{"a":1}`)), 400},
		{"cursor for another order", "/api/tickets?order_by=created_datetime:desc&cursor=" + updCursor, 400},
		{"cursor without its order_by", "/api/tickets?cursor=" + updCursor, 400},
		{"cursor with its order_by", "/api/tickets?order_by=updated_datetime:desc&limit=5&cursor=" + updCursor, 200},
		{"ticket_id not a number", "/api/messages?ticket_id=abc", 400},
		{"unknown path", "/api/nothing", 404},
		{"unknown object", "/api/tickets/1", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, s, tc.url, true)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.body)
			}
			if tc.status != 200 {
				errMsg(t, r.body)
			}
		})
	}
}

func TestAuthDenyAccount(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	if r := get(t, s, "/api/tickets", false); r.status != 401 {
		t.Fatalf("no auth: %d", r.status)
	} else {
		errMsg(t, r.body)
	}
	req, _ := http.NewRequest("GET", "http://sim.test/api/account", nil)
	req.SetBasicAuth("sim@example.com", "wrong")
	res, err := (&http.Client{Transport: s.RoundTripper()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("wrong key: %d", res.StatusCode)
	}

	r := get(t, s, "/api/account", true)
	acc := obj(t, r.body)
	if r.status != 200 || acc["domain"] != "acme" || acc["status"].(map[string]any)["status"] != "active" || acc["created_datetime"] == nil {
		t.Fatalf("account: %d %s", r.status, r.body)
	}

	s.Deny(Tickets)
	s.Deny("satisfaction_surveys")
	for _, p := range []string{"/api/tickets", "/api/tickets?limit=5", "/api/satisfaction-surveys"} {
		if r := get(t, s, p, true); r.status != 403 {
			t.Fatalf("%s after Deny: %d", p, r.status)
		} else {
			errMsg(t, r.body)
		}
	}
	if r := get(t, s, "/api/customers", true); r.status != 200 {
		t.Fatalf("customers must stay readable: %d", r.status)
	}
	s.Allow(Tickets)
	if r := get(t, s, "/api/tickets", true); r.status != 200 {
		t.Fatalf("after Allow: %d", r.status)
	}
}

func TestSingleObject(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	objs := s.Objects(Messages)
	m := obj(t, objs[3])
	r := get(t, s, m["uri"].(string), true)
	if r.status != 200 || !bytes.Equal(r.body, objs[3]) {
		t.Fatalf("GET %s: %d", m["uri"], r.status)
	}
	tk := s.Objects(Tickets)[0]
	if r := get(t, s, obj(t, tk)["uri"].(string), true); r.status != 200 || !bytes.Equal(r.body, tk) {
		t.Fatalf("GET ticket: %d", r.status)
	}
}

func TestHeadersAndRealServer(t *testing.T) {
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	s, clk := newTestSim(t, Config{RateLimit: 40})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	clk.Add(90 * time.Second)
	for _, tc := range []struct {
		auth   bool
		status int
	}{{true, 200}, {false, 401}} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/customers?limit=2", nil)
		if tc.auth {
			req.SetBasicAuth("sim@example.com", "sim-api-key")
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Fatalf("status %d want %d", res.StatusCode, tc.status)
		}
		if got, want := res.Header.Get("Date"), start.Add(90*time.Second).Format(http.TimeFormat); got != want {
			t.Errorf("Date %q, want the sim clock %q", got, want)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if l := res.Header.Get("X-Gorgias-Account-Api-Call-Limit"); !strings.HasSuffix(l, "/40") {
			t.Errorf("call limit header %q", l)
		}
		if !json.Valid(body) {
			t.Errorf("invalid JSON: %s", body)
		}
	}
	if r := get(t, s, "/api/customers", true); r.header.Get("X-Gorgias-Account-Api-Call-Limit") != "3/40" {
		t.Errorf("third request: call limit %q", r.header.Get("X-Gorgias-Account-Api-Call-Limit"))
	}
}

func TestRateLimit(t *testing.T) {
	s, clk := newTestSim(t, Config{RateLimit: 40, RateWindow: 20 * time.Second})
	for i := 1; i <= 40; i++ {
		path := "/api/tickets?limit=1"
		auth := true
		if i == 7 {
			auth = false // rejected requests count against the bucket too
		}
		r := get(t, s, path, auth)
		if want := map[bool]int{true: 200, false: 401}[auth]; r.status != want {
			t.Fatalf("request %d: %d", i, r.status)
		}
		if got := r.header.Get("X-Gorgias-Account-Api-Call-Limit"); got != strconv.Itoa(i)+"/40" {
			t.Fatalf("request %d: call limit %q", i, got)
		}
	}
	r := get(t, s, "/api/tickets?limit=1", true)
	if r.status != 429 {
		t.Fatalf("41st request: %d", r.status)
	}
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 1 {
		t.Fatalf("Retry-after %q", r.header.Get("Retry-After"))
	}
	if got := r.header.Get("X-Gorgias-Account-Api-Call-Limit"); got != "40/40" {
		t.Fatalf("429 call limit %q", got)
	}
	errMsg(t, r.body)
	clk.Add(time.Duration(ra) * time.Second)
	for i := 0; i < 2; i++ { // 2 slots drained per second
		if r := get(t, s, "/api/tickets?limit=1", true); r.status != 200 {
			t.Fatalf("after waiting Retry-after: %d", r.status)
		}
	}
	if r := get(t, s, "/api/tickets?limit=1", true); r.status != 429 {
		t.Fatalf("bucket should be full again: %d", r.status)
	}
	clk.Add(20 * time.Second)
	if r := get(t, s, "/api/tickets?limit=1", true); r.status != 200 || r.header.Get("X-Gorgias-Account-Api-Call-Limit") != "1/40" {
		t.Fatalf("after a full window: %d %q", r.status, r.header.Get("X-Gorgias-Account-Api-Call-Limit"))
	}
	st := s.Stats()
	if st.Throttled429 != 2 || st.Requests != 45 || st.MaxLevel != 40 || st.Statuses[401] != 1 || st.Paths["/api/tickets"] != 45 {
		t.Fatalf("stats %+v", st)
	}
	// Sim time moves forward and is not the bucket's clock: Advance does not drain.
	s2, _ := newTestSim(t, Config{RateLimit: 2})
	get(t, s2, "/api/account", true)
	get(t, s2, "/api/account", true)
	s2.Advance(time.Hour)
	if r := get(t, s2, "/api/account", true); r.status != 429 {
		t.Fatalf("Advance must not drain the bucket: %d", r.status)
	}
}

func TestRateLimitDisabled(t *testing.T) {
	s, _ := newTestSim(t, Config{RateLimit: -1})
	for range 100 {
		r := get(t, s, "/api/account", true)
		if r.status != 200 || r.header.Get("X-Gorgias-Account-Api-Call-Limit") != "" {
			t.Fatalf("disabled limiter: %d %q", r.status, r.header.Get("X-Gorgias-Account-Api-Call-Limit"))
		}
	}
}
