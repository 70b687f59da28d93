package producer

import (
	"errors"
	"fmt"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
)

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

// ErrEntityFailed means the sweeps of some entities failed and stopped (an API
// refusal such as a 403 for a scope the API key lacks, an object that cannot be
// encoded, retries exhausted); the other entities went on. The error's message names
// each failed entity and why.
var ErrEntityFailed = errors.New("entity sweeps failed")

// EntityError is a failure that stops one entity's sweeps and no other entity's: the
// Gorgias API refused or kept failing its requests, or one of its objects cannot be
// encoded. Nothing of the failing page was published; the entity's committed state is
// intact.
type EntityError struct {
	// Entity is the entity whose sweep failed.
	Entity catalog.Entity
	// Err is the cause.
	Err error
}

// Error names the entity and the cause, and for a 403 the scope reading it needs.
func (e *EntityError) Error() string {
	msg := e.Entity.Name + ": " + e.Err.Error()
	if errors.Is(e.Err, gorgias.ErrForbidden) || errors.Is(e.Err, gorgias.ErrUnauthorized) {
		msg += fmt.Sprintf(" (reading %s needs the %s scope, or a user role with that right)", e.Entity.Name, e.Entity.Scope)
	}
	return msg
}

// Unwrap returns the cause.
func (e *EntityError) Unwrap() error { return e.Err }
