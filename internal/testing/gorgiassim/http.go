package gorgiassim

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// bucket is the account's leaky bucket, drained continuously by real time.
type bucket struct {
	limit  float64 // capacity; <= 0 disables limiting
	perSec float64 // drain rate
	level  float64
	at     time.Time
	max    float64
}

const eps = 1e-9

// take admits one request at real time now. used is ceil(level) after the
// decision; retry (seconds, >= 1) is set when the request is refused.
func (b *bucket) take(now time.Time) (ok bool, used, retry int) {
	if b.limit <= 0 {
		return true, 0, 0
	}
	if !b.at.IsZero() {
		if el := now.Sub(b.at).Seconds(); el > 0 {
			b.level = math.Max(0, b.level-el*b.perSec)
		}
	}
	if b.at.IsZero() || now.After(b.at) {
		b.at = now
	}
	if b.level+1 <= b.limit+eps {
		b.level++
		b.max = math.Max(b.max, b.level)
		return true, int(math.Ceil(b.level - eps)), 0
	}
	wait := (b.level + 1 - b.limit) / b.perSec
	return false, int(math.Ceil(b.level - eps)), max(1, int(math.Ceil(wait-eps)))
}

// Handler returns the HTTP handler serving the API under /api: GET
// /api/account, the lists /api/{customers,tickets,messages,
// satisfaction-surveys} and the single objects /api/customers/{id},
// /api/tickets/{id}, /api/tickets/{ticket_id}/messages/{id} and
// /api/satisfaction-surveys/{id} (rendered exactly as in lists). Every
// answer has Content-Type application/json, a Date header from the sim
// clock and, unless rate limiting is disabled,
// X-Gorgias-Account-Api-Call-Limit: <used>/<limit>.
//
// Order of checks for each request: rate limiter (429 with Retry-after when
// the bucket is full), then injected faults, then method, authentication
// (401), Deny (403), parameters (400) and routing (404). Every request that
// passes the limiter counts against the bucket, whatever its answer.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serve) }

type answer struct {
	status     int
	body       []byte
	used       int
	retryAfter int
}

func errBody(msg string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"msg": msg}})
	return b
}

func errBodyData(msg, param, problem string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"msg": msg, "data": map[string]any{param: []string{problem}}}})
	return b
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.stats.Paths[r.URL.Path]++
	ok, used, retry := s.bucket.take(s.cfg.Clock())
	if !ok {
		s.stats.Throttled429++
		s.mu.Unlock()
		s.write(w, answer{status: http.StatusTooManyRequests, used: used, retryAfter: retry,
			body: errBody("Too many requests. Please retry after " + strconv.Itoa(retry) + " seconds.")})
		return
	}
	f := s.drawFault()
	s.mu.Unlock()

	if f.Delay > 0 {
		s.count(func(st *Stats) { st.Slow++ })
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f.Status != 0 {
		s.count(func(st *Stats) {
			if f.Status >= 500 {
				st.Injected5xx++
			} else {
				st.InjectedOther++
			}
		})
		msg := http.StatusText(f.Status)
		if msg == "" {
			msg = "Error"
		}
		s.write(w, answer{status: f.Status, used: used, retryAfter: f.RetryAfter, body: errBody(msg)})
		return
	}
	s.mu.Lock()
	a := s.route(r)
	s.mu.Unlock()
	a.used = used
	if f.Malformed && a.status == http.StatusOK {
		a.body = a.body[:len(a.body)/2]
		s.count(func(st *Stats) { st.Malformed++ })
	} else if a.status/100 == 2 {
		s.count(func(st *Stats) { st.OK++ })
	}
	a.retryAfter = f.RetryAfter
	s.write(w, a)
}

func (s *Sim) count(fn func(*Stats)) {
	s.mu.Lock()
	fn(&s.stats)
	s.mu.Unlock()
}

func (s *Sim) write(w http.ResponseWriter, a answer) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if s.cfg.RateLimit > 0 {
		h.Set("X-Gorgias-Account-Api-Call-Limit", strconv.Itoa(a.used)+"/"+strconv.Itoa(s.cfg.RateLimit))
	}
	if a.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	h.Set("Date", s.Now().UTC().Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	s.count(func(st *Stats) { st.Statuses[a.status]++ })
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// drawFault takes the next scripted fault or draws one from the rates.
// Must hold s.mu.
func (s *Sim) drawFault() Fault {
	if len(s.faults.Next) > 0 {
		f := s.faults.Next[0]
		s.faults.Next = s.faults.Next[1:]
		return f
	}
	var f Fault
	if s.faults.SlowRate > 0 && s.frng.Float64() < s.faults.SlowRate {
		f.Delay = s.faults.SlowDelay
	}
	if s.faults.ServerErrorRate > 0 && s.frng.Float64() < s.faults.ServerErrorRate {
		f.Status = [...]int{500, 502, 503}[s.frng.IntN(3)]
	} else if s.faults.MalformedRate > 0 && s.frng.Float64() < s.faults.MalformedRate {
		f.Malformed = true
	}
	return f
}

// route answers an admitted, fault-free request. Must hold s.mu.
func (s *Sim) route(r *http.Request) answer {
	if r.Method != http.MethodGet {
		return answer{status: http.StatusMethodNotAllowed, body: errBody("Method not allowed: the simulator is read-only.")}
	}
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.Email)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.APIKey)) != 1 {
		return answer{status: http.StatusUnauthorized, body: errBody("Invalid or missing credentials: use HTTP Basic auth with your email and REST API key.")}
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	rest, found := strings.CutPrefix(path, "/api/")
	if !found {
		return notFound()
	}
	parts := strings.Split(rest, "/")
	res := parts[0]
	if canonical(res) != res || res == "" {
		return notFound()
	}
	if s.denied[res] {
		return answer{status: http.StatusForbidden, body: errBody("You don't have the permission to access this resource.")}
	}
	switch {
	case res == Account && len(parts) == 1:
		return answer{status: http.StatusOK, body: s.account}
	case len(parts) == 1 && res != Account:
		return s.list(res, r.URL.Query())
	case len(parts) == 2:
		return s.one(res, parts[1], 0)
	case len(parts) == 4 && res == Tickets && parts[2] == Messages:
		if s.denied[Messages] {
			return answer{status: http.StatusForbidden, body: errBody("You don't have the permission to access this resource.")}
		}
		tid, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return notFound()
		}
		return s.one(Messages, parts[3], tid)
	}
	return notFound()
}

func notFound() answer {
	return answer{status: http.StatusNotFound, body: errBody("Not found.")}
}

// one answers a single-object GET; ticketID, when set, must be the parent.
func (s *Sim) one(res, idText string, ticketID int64) answer {
	st := s.storeFor(res)
	id, err := strconv.ParseInt(idText, 10, 64)
	if st == nil || err != nil {
		return notFound()
	}
	e, ok := st.byID[id]
	if !ok || (ticketID != 0 && e.ticketRef() != ticketID) || (res == Messages && ticketID == 0) {
		return notFound()
	}
	return answer{status: http.StatusOK, body: e.render()}
}

var orders = map[string][]string{
	Customers:           {"created_datetime:asc", "created_datetime:desc", "updated_datetime:asc", "updated_datetime:desc"},
	Tickets:             {"created_datetime:asc", "created_datetime:desc", "updated_datetime:asc", "updated_datetime:desc"},
	Messages:            {"created_datetime:asc", "created_datetime:desc"},
	SatisfactionSurveys: {"created_datetime:asc", "created_datetime:desc"},
}

func parseOrder(res, v string) (orderSpec, bool) {
	for _, o := range orders[res] {
		if o == v {
			name, dir, _ := strings.Cut(o, ":")
			spec := orderSpec{name: o, desc: dir == "desc"}
			if name == "updated_datetime" {
				spec.f = fieldUpdated
			}
			return spec, true
		}
	}
	return orderSpec{}, false
}

// cursor is the decoded keyset position of a page boundary.
type cursor struct {
	prev  bool
	order string
	pos   pagePos
}

func encodeCursor(prev bool, order string, e entry, f field) string {
	kind := "next"
	if prev {
		kind = "prev"
	}
	b, _ := json.Marshal([]any{kind, order, e.sortVal(f), e.entryID()})
	return base64.StdEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	s = strings.ReplaceAll(s, " ", "+") // a '+' sent unescaped arrives as a space
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if raw, err = base64.URLEncoding.DecodeString(s); err != nil {
			return cursor{}, false
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var parts []any
	if dec.Decode(&parts) != nil || dec.Decode(new(any)) != io.EOF || len(parts) != 4 {
		return cursor{}, false
	}
	kind, ok1 := parts[0].(string)
	order, ok2 := parts[1].(string)
	vn, ok3 := parts[2].(json.Number)
	in, ok4 := parts[3].(json.Number)
	if !ok1 || !ok2 || !ok3 || !ok4 || (kind != "next" && kind != "prev") {
		return cursor{}, false
	}
	v, err1 := vn.Int64()
	id, err2 := in.Int64()
	if err1 != nil || err2 != nil {
		return cursor{}, false
	}
	return cursor{prev: kind == "prev", order: order, pos: pagePos{v: v, id: id}}, true
}

func badRequest(msg, param, problem string) answer {
	return answer{status: http.StatusBadRequest, body: errBodyData(msg, param, problem)}
}

// list answers a list endpoint. Must hold s.mu.
func (s *Sim) list(res string, q url.Values) answer {
	st := s.storeFor(res)
	limit := 30
	if vs, ok := q["limit"]; ok {
		n, err := strconv.Atoi(vs[0])
		if err != nil || n < 1 || n > 100 {
			return badRequest("Invalid request parameters.", "limit", "Must be between 1 and 100.")
		}
		limit = n
	}
	order := "created_datetime:desc"
	if vs, ok := q["order_by"]; ok {
		order = vs[0]
	}
	spec, ok := parseOrder(res, order)
	if !ok {
		return badRequest("Invalid request parameters.", "order_by", "Must be one of: "+strings.Join(orders[res], ", ")+".")
	}
	var ticketID int64
	if vs, ok := q["ticket_id"]; ok && (res == Messages || res == SatisfactionSurveys) {
		id, err := strconv.ParseInt(vs[0], 10, 64)
		if err != nil || id <= 0 {
			return badRequest("Invalid request parameters.", "ticket_id", "Not a valid integer.")
		}
		ticketID = id
	}
	var cur *cursor
	if c := q.Get("cursor"); c != "" {
		dc, ok := decodeCursor(c)
		if !ok {
			return badRequest("Invalid cursor.", "cursor", "Invalid or expired cursor.")
		}
		if dc.order != spec.name {
			return badRequest("Invalid cursor.", "cursor", "The cursor was made for order_by="+dc.order+", not "+spec.name+".")
		}
		cur = &dc
	}
	var pos *pagePos
	prev := false
	if cur != nil {
		pos, prev = &cur.pos, cur.prev
	}
	items, hasBefore, hasAfter := st.page(spec, pos, prev, limit, ticketID)

	size := 512 // envelope and two cursors
	for _, e := range items {
		size += len(e.render()) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"object":"list","uri":"/api/`...)
	b = append(b, res...)
	b = append(b, `","data":[`...)
	for i, e := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.render()...)
	}
	b = append(b, `],"meta":{"next_cursor":`...)
	if hasAfter {
		b = strconv.AppendQuote(b, encodeCursor(false, spec.name, items[len(items)-1], spec.f))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"prev_cursor":`...)
	if hasBefore && cur != nil {
		b = strconv.AppendQuote(b, encodeCursor(true, spec.name, items[0], spec.f))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, "}}"...)
	return answer{status: http.StatusOK, body: b}
}

// RoundTripper returns a transport that serves requests by calling Handler
// in-process, without sockets (usable inside testing/synctest bubbles). It
// honours the request context: a request cancelled before or while being
// served returns the context's error.
func (s *Sim) RoundTripper() http.RoundTripper { return roundTripper{s} }

type roundTripper struct{ s *Sim }

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := &recorder{header: http.Header{}}
	rt.s.serve(rec, req)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if rec.status == 0 {
		return nil, fmt.Errorf("gorgiassim: no response")
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		if n, err := strconv.Atoi(r.header.Get("Content-Length")); err == nil && n > 0 {
			r.body.Grow(n)
		}
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
