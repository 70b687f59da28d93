package sink

import "time"

// Test access to the crash hooks.
const (
	StepBeforeWrite = stepBeforeWrite
	StepAfterWrite  = stepAfterWrite
)

// SetHook installs a crash hook on r.
func SetHook(r *Runner, f func(step string) error) { r.hook = f }

// SetSchemaRetryBase sets the first back-off of transient SchemaSource failures.
func SetSchemaRetryBase(r *Runner, d time.Duration) { r.schemas.retryBase = d }
