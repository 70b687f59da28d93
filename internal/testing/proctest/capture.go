package proctest

import (
	"io"
	"os"
	"sync"
	"testing"
)

// Capture runs fn, typically a main package's run, in the test process with os.Stdout
// and os.Stderr redirected to pipes, and returns fn's result and what it wrote to each.
// The streams are restored when fn returns, and also when it panics or stops the test
// (t.Fatal). Only writes through os.Stdout and os.Stderr as they are while fn runs are
// captured (a logger made before the call keeps writing to the real stream). Tests that
// use it must not run in parallel: the streams are the process's.
func Capture(t testing.TB, fn func() int) (code int, stdout, stderr string) {
	t.Helper()
	stopOut := redirect(t, &os.Stdout)
	defer stopOut()
	stopErr := redirect(t, &os.Stderr)
	defer stopErr()
	code = fn()
	return code, stopOut(), stopErr()
}

// redirect points *f at the write end of a pipe, drained by a goroutine. The returned
// stop restores *f and returns everything written; calls after the first return "".
func redirect(t testing.TB, f **os.File) (stop func() string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	old := *f
	*f = w
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		r.Close()
		out <- string(b)
	}()
	var once sync.Once
	return func() string {
		var s string
		once.Do(func() {
			*f = old
			w.Close()
			s = <-out
		})
		return s
	}
}
