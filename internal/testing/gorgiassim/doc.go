// Package gorgiassim is a deterministic, in-process fake of the Gorgias
// REST API of one account, for tests and for running the pipeline locally.
//
// It serves GET /api/account and the cursor-paginated lists /api/customers,
// /api/tickets, /api/messages and /api/satisfaction-surveys (plus
// single-object reads) with the shapes, parameters, errors, headers and
// leaky-bucket rate limit of the real API as described in
// shared/reference/gorgias-api.md. The seeded data is a pure function of
// Config; Advance and the fine-grained mutators change it over sim time,
// and Objects returns the truth a destination should end up equal to.
//
// Use it over HTTP with Handler (httptest.NewServer or cmd/gorgias-sim) or
// without sockets through RoundTripper.
package gorgiassim
