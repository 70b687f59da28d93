package producer

import "errors"

// Sentinel errors of the producer.
var (
	// ErrFenced means another producer with the same transactional id took over; this
	// instance must stop (its open transaction was aborted by the broker).
	ErrFenced = errors.New("producer fenced by a newer instance with the same transactional id")
	// ErrBadState means the stored producer state cannot be read by this binary.
	ErrBadState = errors.New("unreadable producer state")
	// ErrIncomplete means a Config.Once run was stopped (its context cancelled) before
	// every selected entity finished its sweep; the error's message names the entities
	// not finished. Every page committed before the stop stays committed and nothing is
	// half-written, so the next run continues where this one stopped; but the topics do
	// not yet hold what a finished run guarantees.
	ErrIncomplete = errors.New("stopped before every sweep finished")
)
