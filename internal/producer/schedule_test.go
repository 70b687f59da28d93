package producer

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// The schedule (in a synctest bubble: fake time) hands out entities due first, in catalog order on ties; with once it
// ends when nothing is due or running; in continuous mode a finished entity comes back
// after its interval and one that is never due again leaves.
func TestSchedule(t *testing.T) { synctest.Test(t, testSchedule) }

func testSchedule(t *testing.T) {
	ents := catalog.All()[:3]
	ctx := context.Background()

	once := newSchedule(ents, true)
	for _, want := range ents {
		d, ok := once.next(ctx)
		if !ok || d.e.Name != want.Name {
			t.Fatalf("once: got %v %v, want %s", d.e.Name, ok, want.Name)
		}
		once.finished(d, time.Hour) // ignored with once
	}
	if _, ok := once.next(ctx); ok {
		t.Fatal("once: an entity was handed out twice")
	}

	cont := newSchedule(ents, false)
	a, _ := cont.next(ctx)
	b, _ := cont.next(ctx)
	c, _ := cont.next(ctx)
	cont.finished(b, 20*time.Millisecond) // b comes back first
	cont.finished(a, 0)                   // a failed: never again
	cont.finished(c, time.Hour)
	start := time.Now()
	d, ok := cont.next(ctx)
	if !ok || d.e.Name != b.e.Name || time.Since(start) != 20*time.Millisecond {
		t.Fatalf("continuous: got %s %v after %s, want %s after its interval", d.e.Name, ok, time.Since(start), b.e.Name)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, ok := cont.next(cctx); ok { // c is due in an hour, b is running
		t.Fatal("continuous: an entity was handed out before it was due")
	}
	cont.finished(d, 0)
	cont.mu.Lock()
	cont.due = cont.due[:0] // c leaves too
	cont.mu.Unlock()
	if _, ok := cont.next(ctx); ok {
		t.Fatal("continuous: nothing due or running, yet next went on")
	}
}
