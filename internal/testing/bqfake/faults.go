package bqfake

import (
	"strings"
)

// FaultKind is what an injected fault does to a matching request.
type FaultKind int

const (
	// Fault5xx answers 503 with reason backendError without doing the work.
	Fault5xx FaultKind = iota
	// FaultLoseReply does the work, then hijacks the connection and closes it without
	// writing a response.
	FaultLoseReply
	// FaultErrorAfterWork does the work, then answers 503 backendError.
	FaultErrorAfterWork
	// FaultRateLimit answers 403 with reason rateLimitExceeded ("Exceeded rate limits:
	// too many table update operations for this table") without doing the work.
	FaultRateLimit
	// FaultNotFoundAfterCreate applies to tables.insert: once a matching table is
	// created, the next Times requests that reference it (tables.get, tables.patch,
	// tables.delete, tabledata.list, loads into it, queries naming it) answer 404
	// notFound "Not found: Table p:d.t" without doing anything.
	FaultNotFoundAfterCreate
	// FaultJobFails accepts the job (200) but ends it DONE with errorResult
	// {reason: backendError, message: "injected job failure"}; it does no work.
	FaultJobFails
)

// Fault describes an injected failure.
//
// Faults are checked in the order they were injected; the first one that fires
// handles the request. A fault's Skip counts only the matching requests that reached
// it.
type Fault struct {
	// Op is the operation to match: "datasets.insert", "datasets.get",
	// "tables.insert", "tables.get", "tables.patch", "tables.delete",
	// "jobs.insert.load" (the request that creates a load job: a multipart upload or
	// the final chunk of a resumable one), "jobs.insert.query", "jobs.get",
	// "jobs.getQueryResults", "jobs.query", "tabledata.list".
	Op string
	// Table, if set, restricts the fault to requests about this table
	// ("dataset.table", case-insensitive): the table of a tables.* or tabledata.list
	// request, a load's destination, or any table a query names (also for jobs.get
	// and jobs.getQueryResults of such jobs).
	Table string
	Kind  FaultKind
	Skip  int // let this many matching requests pass first
	Times int // fire this many times (0 means 1)
}

type faultState struct {
	Fault
	skip, left int
}

// Inject adds faults.
func (s *Server) Inject(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range f {
		n := x.Times
		if n <= 0 {
			n = 1
		}
		s.faults = append(s.faults, &faultState{Fault: x, skip: x.Skip, left: n})
	}
}

// Fired returns how many injected faults have fired so far (a FaultNotFoundAfterCreate
// counts once, when its table is created). Tests use it to prove a fault took effect.
func (s *Server) Fired() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fired
}

// ClearFaults removes every fault, including pending FaultNotFoundAfterCreate 404s.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.notFound = map[string]int{}
}

// takeFault returns the fault that fires for a request of op about tables, if any.
func (s *Server) takeFault(op string, tables ...string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Op != op || f.left <= 0 {
			continue
		}
		if f.Table != "" && !containsFold(tables, f.Table) {
			continue
		}
		if f.skip > 0 {
			f.skip--
			continue
		}
		s.fired++
		if f.Kind == FaultNotFoundAfterCreate {
			// fires once (on the create); Times counts the 404s that follow.
			n := f.left
			f.left = 0
			fc := f.Fault
			fc.Times = n
			return &fc
		}
		f.left--
		fc := f.Fault
		return &fc
	}
	return nil
}

// armNotFound makes the next n requests about table answer 404.
func (s *Server) armNotFound(table string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notFound[strings.ToLower(table)] += n
}

// checkNotFound answers 404 if one of tables has pending FaultNotFoundAfterCreate 404s.
func (s *Server) checkNotFound(tables ...string) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tables {
		k := strings.ToLower(t)
		if s.notFound[k] > 0 {
			s.notFound[k]--
			return errReply(404, "notFound", "Not found: Table %s:%s", s.project, t)
		}
	}
	return nil
}

// preFault answers for faults that fire before the work is done.
func preFault(f *Fault) *reply {
	if f == nil {
		return nil
	}
	switch f.Kind {
	case Fault5xx:
		return errReply(503, "backendError", "Error encountered during execution. Retrying may solve the problem. (injected)")
	case FaultRateLimit:
		return errReply(403, "rateLimitExceeded", "Exceeded rate limits: too many table update operations for this table. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas")
	}
	return nil
}

// postFault alters the answer of work already done.
func postFault(f *Fault, r *reply) *reply {
	if f == nil {
		return r
	}
	switch f.Kind {
	case FaultLoseReply:
		r.lose = true
	case FaultErrorAfterWork:
		return errReply(503, "backendError", "Error encountered during execution. Retrying may solve the problem. (injected after work)")
	}
	return r
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
