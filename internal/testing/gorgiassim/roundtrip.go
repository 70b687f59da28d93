package gorgiassim

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// RoundTripper returns a transport that serves requests by calling Handler
// in-process, without sockets (usable inside testing/synctest bubbles). It
// honours the request context: a request cancelled before or while being
// served returns the context's error.
func (s *Sim) RoundTripper() http.RoundTripper { return roundTripper{s} }

// roundTripper serves requests with the simulator's handler.
type roundTripper struct{ s *Sim }

// RoundTrip serves req in-process and returns the recorded response.
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

// Header returns the response headers.
func (r *recorder) Header() http.Header { return r.header }

// WriteHeader records the status (the first call wins).
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		if n, err := strconv.Atoi(r.header.Get("Content-Length")); err == nil && n > 0 {
			r.body.Grow(n)
		}
	}
}

// Write appends to the body.
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
