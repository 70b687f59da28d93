package gorgias

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors. Every error returned by this package that stems from one
// of these conditions wraps the matching sentinel, so callers test with
// errors.Is. None of the messages ever contains the API key.
var (
	// ErrUnauthorized means Gorgias answered 401: the e-mail / API key pair
	// was rejected. Retrying does not help.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden means Gorgias answered 403: the key is valid but its
	// owner's role may not read the resource. Retrying does not help.
	ErrForbidden = errors.New("forbidden")
	// ErrBadRequest means Gorgias answered 400, 404 or another non-retryable
	// 4xx (or the request was invalid before it was sent). Retrying does not help.
	ErrBadRequest = errors.New("request rejected")
	// ErrRateLimited means Config.Max429Retries consecutive 429 answers were
	// received for one request.
	ErrRateLimited = errors.New("rate limited")
	// ErrRetriesExhausted means a request kept failing with retryable errors
	// (5xx, timeouts, transport errors, malformed bodies) after
	// Config.MaxRetries retries; the error also wraps the last cause.
	ErrRetriesExhausted = errors.New("retries exhausted")
	// ErrServerError marks a 5xx (or 408) answer. It is retried, so callers
	// see it only wrapped inside ErrRetriesExhausted.
	ErrServerError = errors.New("server error")
	// ErrMalformedResponse marks a 2xx answer whose body is not the expected
	// JSON. It is retried, so callers see it only wrapped inside
	// ErrRetriesExhausted.
	ErrMalformedResponse = errors.New("malformed response")
	// ErrCursorLoop is returned by CursorGuard.Check when a pagination cursor
	// repeats within one walk.
	ErrCursorLoop = errors.New("pagination cursor repeated")
	// ErrInvalidURI is wrapped by ParseURI errors.
	ErrInvalidURI = errors.New("invalid gorgias URI")
	// ErrInvalidConfig is wrapped by NewClient validation errors.
	ErrInvalidConfig = errors.New("invalid gorgias client config")
	// ErrInvalidTime is wrapped by ParseTime errors.
	ErrInvalidTime = errors.New("invalid gorgias timestamp")
)

// APIError is a non-retryable HTTP error answer (401, 403, 400, 404, other
// 4xx). It unwraps to ErrUnauthorized, ErrForbidden or ErrBadRequest. Its
// message names the account, the request and, for 401/403, what to fix; it
// never contains the API key (the key is also scrubbed from Message).
type APIError struct {
	Domain     string // account subdomain
	Email      string // user the key belongs to
	Method     string // HTTP method
	Path       string // URL path without query, e.g. "/api/tickets"
	Resource   string // resource as passed to List, e.g. "tickets"
	StatusCode int
	Message    string // the API's error message (truncated), may be empty
}

// sentinelFor maps a non-retryable status to its sentinel.
func sentinelFor(status int) error {
	switch status {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	}
	return ErrBadRequest
}

// Error implements error.
func (e *APIError) Error() string {
	head := fmt.Sprintf("gorgias account %q: %s %s: %s (HTTP %d %s)",
		e.Domain, e.Method, e.Path, e.Unwrap(), e.StatusCode, http.StatusText(e.StatusCode))
	var hint string
	switch e.Unwrap() {
	case ErrUnauthorized:
		hint = fmt.Sprintf("the credentials of user %s were rejected for account %q; check the API key "+
			"(Settings > REST API) and that it belongs to this user and account", e.Email, e.Domain)
	case ErrForbidden:
		hint = fmt.Sprintf("user %s may not read %s on account %q; the user needs a role that can read %s",
			e.Email, e.Resource, e.Domain, e.Resource)
	}
	msg := head
	if hint != "" {
		msg += ": " + hint
	}
	if e.Message != "" {
		msg += fmt.Sprintf("; API says: %q", e.Message)
	}
	return msg
}

// Unwrap returns the sentinel for the status: ErrUnauthorized for 401,
// ErrForbidden for 403, ErrBadRequest otherwise.
func (e *APIError) Unwrap() error { return sentinelFor(e.StatusCode) }

// IsNotFound reports whether err is Gorgias's 404 answer: for an object's detail
// endpoint, the object does not exist (it was deleted or merged away).
func IsNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound
}
