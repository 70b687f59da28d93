package bigquerysink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

// Retry is the sink's own retry policy, on top of the Go client's (which retries
// 5xx, backendError and rateLimitExceeded on calls without media, starting at 1 s).
type Retry struct {
	// Base is the first back-off; it doubles up to Max, with jitter.
	Base, Max time.Duration
	// Attempts bounds the tries of one request or job (default 10).
	Attempts int `config:"max_attempts" default:"10" min:"1" max:"100" help:"tries of one BigQuery request or job before the sink gives up"`
	// Poll is the interval between job status polls.
	Poll time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Base <= 0 {
		r.Base = time.Second
	}
	if r.Max <= 0 {
		r.Max = 32 * time.Second
	}
	if r.Attempts <= 0 {
		r.Attempts = 10
	}
	if r.Poll <= 0 {
		r.Poll = 500 * time.Millisecond
	}
	return r
}

// sleep waits the back-off before try n+1 (n ≥ 1), or returns ctx's error.
func (r Retry) sleep(ctx context.Context, n int) error {
	d := r.Base << min(n-1, 20)
	if d > r.Max || d <= 0 {
		d = r.Max
	}
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// jobError is a job that ran and failed.
type jobError struct {
	id  string
	err error
}

func (e *jobError) Error() string { return fmt.Sprintf("job %s failed: %v", e.id, e.err) }
func (e *jobError) Unwrap() error { return e.err }

// reason returns the BigQuery error reason of err ("" if none).
func reason(err error) (string, string) {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		if len(ge.Errors) > 0 {
			return ge.Errors[0].Reason, ge.Message
		}
		return "", ge.Message
	}
	var be *bigquery.Error
	if errors.As(err, &be) {
		return be.Reason, be.Message
	}
	return "", ""
}

func httpCode(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// transient reports whether a request may succeed when sent again: 5xx, 429, rate
// limits, backend errors, lost connections and timeouts. A 404 counts when notFoundOK
// (right after a table was created, BigQuery may still answer 404 for a while).
func transient(err error, notFoundOK bool) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	code := httpCode(err)
	if code >= 500 || code == http.StatusTooManyRequests {
		return true
	}
	if code == http.StatusNotFound && notFoundOK {
		return true
	}
	switch r, msg := reason(err); r {
	case "backendError", "rateLimitExceeded", "jobRateLimitExceeded", "internalError":
		return true
	case "notFound":
		return notFoundOK
	default:
		if concurrentUpdate(msg) {
			return true
		}
	}
	if code != 0 {
		return false
	}
	var ue *url.Error
	var ne net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &ue) || errors.As(err, &ne) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "http2: ")
}

// concurrentUpdate reports a transaction aborted because another one changed the same
// table; it did nothing and may run again.
func concurrentUpdate(msg string) bool {
	return strings.Contains(msg, "aborted due to concurrent update") || strings.Contains(msg, "Could not serialize access")
}

func duplicate(err error) bool {
	r, _ := reason(err)
	return httpCode(err) == http.StatusConflict && (r == "duplicate" || r == "")
}

func notFound(err error) bool {
	r, _ := reason(err)
	return httpCode(err) == http.StatusNotFound || r == "notFound"
}

// runJob runs one job exactly once, under job IDs base_a1, base_a2, ...: submit(id)
// sends it. A submission whose answer is lost is sent again under the same ID, and a
// 409 "duplicate" then means the first one arrived: the job is looked up instead. Only
// when the job is known to have failed with a retryable reason (backend error, rate
// limit, a concurrent transaction, a table still missing right after its creation) is
// it run again, as the next attempt. Any other failure is returned as a *jobError.
func (s *Sink) runJob(ctx context.Context, base string, submit func(ctx context.Context, id string) error) (*bigquery.JobStatus, error) {
	for attempt := 1; ; attempt++ {
		id := fmt.Sprintf("%s_a%d", base, attempt)
		st, err := s.submitAndWait(ctx, id, submit)
		if err == nil {
			return st, nil
		}
		var je *jobError
		if !errors.As(err, &je) || !transient(je.err, true) || attempt >= s.retry.Attempts {
			return nil, err
		}
		s.log.Debug("bigquery job failed, retrying as a new attempt", "job", id, "err", je.err)
		if err := s.retry.sleep(ctx, attempt); err != nil {
			return nil, err
		}
	}
}

func (s *Sink) submitAndWait(ctx context.Context, id string, submit func(ctx context.Context, id string) error) (*bigquery.JobStatus, error) {
	for try := 1; ; try++ {
		s.stats.addRequest()
		err := submit(ctx, id)
		if err == nil || duplicate(err) {
			if err == nil {
				s.stats.addJob()
			}
			break
		}
		if !transient(err, true) || try >= s.retry.Attempts {
			return nil, fmt.Errorf("submit BigQuery job %s: %w", id, err)
		}
		if err := s.retry.sleep(ctx, try); err != nil {
			return nil, err
		}
	}
	for try := 1; ; {
		s.stats.addRequest()
		j, err := s.client.JobFromIDLocation(ctx, id, s.dest.Location)
		if err != nil {
			if !transient(err, true) || try >= s.retry.Attempts {
				return nil, fmt.Errorf("look up BigQuery job %s: %w", id, err)
			}
			if err := s.retry.sleep(ctx, try); err != nil {
				return nil, err
			}
			try++
			continue
		}
		st := j.LastStatus()
		if st != nil && st.Done() {
			if st.Err() != nil {
				return nil, &jobError{id: id, err: st.Err()}
			}
			return st, nil
		}
		t := time.NewTimer(s.retry.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// retryCall runs an API call (not a job), again on transient errors.
func (s *Sink) retryCall(ctx context.Context, what string, notFoundOK bool, call func() error) error {
	for try := 1; ; try++ {
		s.stats.addRequest()
		err := call()
		if err == nil {
			return nil
		}
		if !transient(err, notFoundOK) || try >= s.retry.Attempts {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := s.retry.sleep(ctx, try); err != nil {
			return err
		}
	}
}
