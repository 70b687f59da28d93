package sink

// Test access to the crash hooks.
const (
	StepBeforeWrite = stepBeforeWrite
	StepAfterWrite  = stepAfterWrite
)

// SetHook installs a crash hook on r.
func SetHook(r *Runner, f func(step string) error) { r.hook = f }
