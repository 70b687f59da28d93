package gorgiassim

import "maps"

// Stats are request counters since New.
type Stats struct {
	Requests      int // every request received
	OK            int // 2xx answers with a well-formed body
	Throttled429  int // 429s from the rate limiter (not injected ones)
	Injected5xx   int // injected 5xx answers
	InjectedOther int // injected non-5xx answers (e.g. a scripted 429)
	Malformed     int // answers with a truncated body
	Slow          int // delayed requests (including ones cancelled while waiting)
	// MaxLevel is the peak bucket level seen (requests in the bucket).
	MaxLevel float64
	// Paths counts requests per URL path, Statuses answers per status code.
	Paths    map[string]int
	Statuses map[int]int
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.MaxLevel = s.bucket.max
	st.Paths = maps.Clone(s.stats.Paths)
	st.Statuses = maps.Clone(s.stats.Statuses)
	return st
}

// count updates the counters under the lock.
func (s *Sim) count(fn func(*Stats)) {
	s.mu.Lock()
	fn(&s.stats)
	s.mu.Unlock()
}
