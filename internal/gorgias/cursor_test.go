package gorgias

import (
	"errors"
	"testing"
)

func TestCursorGuard(t *testing.T) {
	var g CursorGuard
	for _, c := range []string{"a", "b", "", "c", ""} {
		if err := g.Check(c); err != nil {
			t.Fatalf("Check(%q): %v", c, err)
		}
	}
	err := g.Check("b")
	if !errors.Is(err, ErrCursorLoop) {
		t.Fatalf("repeated cursor: got %v, want ErrCursorLoop", err)
	}
	g.Reset()
	if err := g.Check("b"); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
}
