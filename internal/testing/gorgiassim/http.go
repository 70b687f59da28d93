package gorgiassim

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Handler returns the HTTP handler serving the API under /api: for every
// catalog entity the list /api/<resource> and its single objects
// /api/<resource>/{id} (for an entity nested under a parent, such as
// messages: /api/tickets/{ticket_id}/messages/{id}), rendered exactly as
// in lists, or, for a single-object entity (the account), the bare object
// at /api/<resource>. Every answer has Content-Type
// application/json, a Date header from the sim clock and, unless rate
// limiting is disabled, X-Gorgias-Account-Api-Call-Limit: <used>/<limit>.
//
// Order of checks for each request: rate limiter (429 with Retry-after when
// the bucket is full), then injected faults, then method, authentication
// (401), Deny (403), parameters (400) and routing (404). Every request that
// passes the limiter counts against the bucket, whatever its answer.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// answer is a response about to be written.
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

func notFound() answer { return answer{status: http.StatusNotFound, body: errBody("Not found.")} }

func forbidden() answer {
	return answer{status: http.StatusForbidden, body: errBody("You don't have the permission to access this resource.")}
}

func badRequest(msg, param, problem string) answer {
	return answer{status: http.StatusBadRequest, body: errBodyData(msg, param, problem)}
}

// serve answers one request: limiter, fault, then the API itself.
func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	f, used, throttled := s.admit(r)
	if throttled != nil {
		s.write(w, *throttled)
		return
	}
	if f.Delay > 0 && !s.wait(r, f.Delay) {
		return
	}
	if f.Status != 0 {
		s.write(w, s.injected(f, used))
		return
	}
	s.mu.Lock()
	a := s.route(r)
	s.mu.Unlock()
	a.used, a.retryAfter = used, f.RetryAfter
	if f.Malformed && a.status == http.StatusOK {
		a.body = a.body[:len(a.body)/2]
		s.count(func(st *Stats) { st.Malformed++ })
	} else if a.status/100 == 2 {
		s.count(func(st *Stats) { st.OK++ })
	}
	s.write(w, a)
}

// admit counts the request and takes it into the bucket: a refused request
// gets its 429; an admitted one its fault.
func (s *Sim) admit(r *http.Request) (f Fault, used int, throttled *answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	s.stats.Paths[r.URL.Path]++
	ok, used, retry := s.bucket.take(s.cfg.Clock())
	if !ok {
		s.stats.Throttled429++
		return Fault{}, used, &answer{status: http.StatusTooManyRequests, used: used, retryAfter: retry,
			body: errBody("Too many requests. Please retry after " + strconv.Itoa(retry) + " seconds.")}
	}
	return s.drawFault(), used, nil
}

// wait holds a slow answer back; false when the request was cancelled.
func (s *Sim) wait(r *http.Request, d time.Duration) bool {
	s.count(func(st *Stats) { st.Slow++ })
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// injected is the answer of a fault with a status.
func (s *Sim) injected(f Fault, used int) answer {
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
	return answer{status: f.Status, used: used, retryAfter: f.RetryAfter, body: errBody(msg)}
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

// route answers an admitted, fault-free request. Must hold s.mu.
func (s *Sim) route(r *http.Request) answer {
	if r.Method != http.MethodGet {
		return answer{status: http.StatusMethodNotAllowed, body: errBody("Method not allowed: the simulator is read-only.")}
	}
	if !s.authorized(r) {
		return answer{status: http.StatusUnauthorized, body: errBody("Invalid or missing credentials: use HTTP Basic auth with your email and REST API key.")}
	}
	rest, found := strings.CutPrefix(strings.TrimSuffix(r.URL.Path, "/"), "/api/")
	if !found {
		return notFound()
	}
	res, sub := s.splitResource(rest)
	if res == "" {
		return notFound()
	}
	if s.denied[res] {
		return forbidden()
	}
	t := s.byResource[res]
	switch {
	case t.ent.Single:
		return s.single(t, sub)
	case len(sub) == 0:
		return s.list(t, r.URL.Query())
	case len(sub) == 1:
		return s.one(t, sub[0], "")
	case len(sub) == 3:
		return s.nested(res, sub[0], sub[1], sub[2])
	}
	return notFound()
}

// splitResource splits a path under /api/ into the served Resource it
// starts with (the longest one: resources such as "phone/voice-calls" have
// several segments) and the segments after it; "" when none matches.
func (s *Sim) splitResource(rest string) (string, []string) {
	parts := strings.Split(rest, "/")
	for n := len(parts); n > 0; n-- {
		res := strings.Join(parts[:n], "/")
		if _, ok := s.byResource[res]; ok {
			return res, parts[n:]
		}
	}
	return "", nil
}

func (s *Sim) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.Email)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.APIKey)) == 1
}

// single answers the endpoint of a single object (/api/account): the
// object itself, not a list; nothing is served below it.
func (s *Sim) single(t *table, sub []string) answer {
	if len(sub) != 0 || t.len() == 0 {
		return notFound()
	}
	return answer{status: http.StatusOK, body: t.render(t.all[0])}
}

// nested answers /api/<parent>/{parentID}/<child>/{id} for an entity
// whose generator nests it under parent.
func (s *Sim) nested(parent, parentID, child, id string) answer {
	t := s.byResource[child]
	if t == nil || t.spec.parent == nil || s.table(t.spec.parent.entity).ent.Resource != parent {
		return notFound()
	}
	if s.denied[child] {
		return forbidden()
	}
	return s.one(t, id, parentID)
}

// one answers a single-object GET. An entity with a parent is only served
// under it (parentID set), and only to its own parent.
func (s *Sim) one(t *table, idText, parentID string) answer {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return notFound()
	}
	it, ok := t.byID[id]
	if !ok || !s.underParent(t, it, parentID) {
		return notFound()
	}
	return answer{status: http.StatusOK, body: t.render(it)}
}

// underParent reports whether the object is served at that parent path
// ("" for the entity's own path).
func (s *Sim) underParent(t *table, it *item, parentID string) bool {
	p := t.spec.parent
	if p == nil || parentID == "" {
		return p == nil && parentID == ""
	}
	pid, err := strconv.ParseInt(parentID, 10, 64)
	return err == nil && t.layout.intAt(it.obj, t.layout.ints[p.key]) == pid
}
