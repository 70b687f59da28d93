package proctest

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestCapture(t *testing.T) {
	outBefore, errBefore := os.Stdout, os.Stderr
	big := strings.Repeat("x", 1<<20) // far beyond a pipe's buffer
	code, stdout, stderr := Capture(t, func() int {
		fmt.Fprint(os.Stdout, "to stdout\n")
		fmt.Fprint(os.Stderr, "to stderr\n")
		fmt.Fprint(os.Stdout, big)
		return 3
	})
	if code != 3 || stdout != "to stdout\n"+big || stderr != "to stderr\n" {
		t.Errorf("Capture = %d, %d bytes of stdout, stderr %q", code, len(stdout), stderr)
	}
	if os.Stdout != outBefore || os.Stderr != errBefore {
		t.Error("streams not restored")
	}
}

func TestCaptureRestoresAfterPanic(t *testing.T) {
	outBefore, errBefore := os.Stdout, os.Stderr
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not propagate")
			}
		}()
		Capture(t, func() int {
			fmt.Fprint(os.Stdout, "partial")
			panic("boom")
		})
	}()
	if os.Stdout != outBefore || os.Stderr != errBefore {
		t.Error("streams not restored after a panic")
	}
}
