// Package gorgias is the REST client for the Gorgias helpdesk API used by
// the producer.
//
// One Client serves one account and is shared by every entity: it paces all
// requests against the account's leaky-bucket budget (learned from the
// X-Gorgias-Account-Api-Call-Limit header, 40 requests per 20 s by default)
// so that a long backfill uses nearly the whole budget without provoking 429
// answers, honours Retry-after when a 429 happens anyway, retries 5xx
// answers, timeouts, transport errors and malformed bodies with full-jitter
// exponential back-off, and fails fast on 401/403/4xx with errors that say
// what to fix.
//
// List returns one cursor page with its objects left as raw JSON; the caller
// walks pages (guarding against loops with CursorGuard), decodes objects and
// parses timestamps with ParseTime.
//
// The API key never appears in an error, a log line or any printed form of
// Credentials, Config or Client.
package gorgias
