package gorgiassim

import (
	"slices"
	"time"
)

// Fault is one scripted answer, consumed by one request that passed the
// rate limiter.
type Fault struct {
	// Status, when non-zero, is answered instead of the real response, with
	// a JSON error body (e.g. 500, 502, 503, or 429).
	Status int
	// RetryAfter, when positive, is sent as the Retry-after header (seconds).
	RetryAfter int
	// Malformed truncates the body of a 200 answer so that it is not valid
	// JSON (a non-200 answer is sent unchanged).
	Malformed bool
	// Delay holds the answer back; a cancelled request context ends the wait
	// and nothing is answered.
	Delay time.Duration
}

// Faults configures failure injection. Requests throttled by the rate
// limiter (real 429s) never consume a fault.
type Faults struct {
	// ServerErrorRate is the fraction of requests answered 500, 502 or 503.
	ServerErrorRate float64
	// SlowRate is the fraction of requests delayed by SlowDelay before they
	// are answered (the request context is respected).
	SlowRate  float64
	SlowDelay time.Duration
	// MalformedRate is the fraction of 200 answers whose JSON body is
	// truncated (not applied to requests that got a server error).
	MalformedRate float64
	// Next is a queue of scripted faults, consumed one per request, in order;
	// while it is not empty the rates above are not applied.
	Next []Fault
}

// SetFaults replaces the fault configuration (including the Next queue,
// which is copied). The rate draws come from a generator seeded by
// Config.Seed, so the same request sequence sees the same faults.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Next = slices.Clone(f.Next)
	s.faults = f
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
