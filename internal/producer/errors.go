package producer

import "errors"

// Sentinel errors of the producer.
var (
	// ErrFenced means another producer with the same transactional id took over; this
	// instance must stop (its open transaction was aborted by the broker).
	ErrFenced = errors.New("producer fenced by a newer instance with the same transactional id")
	// ErrBadState means the stored producer state cannot be read by this binary.
	ErrBadState = errors.New("unreadable producer state")
)
