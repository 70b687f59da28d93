package main

import (
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestProcessDeletes runs the consumer binary (`--once`) on every destination, with
// soft and with hard deletes, over two loads with deletions, merges, trash and spam
// between them: each destination ends equal to the simulator (deleted objects marked
// with their time, reason and survivor, or gone; survivors and trashed tickets
// current; see sinktest.Form.CheckTruth). Then a new destination built from the
// topics' whole history ends the same.
func TestProcessDeletes(t *testing.T) {
	for _, d := range sinktest.Destinations() {
		for _, mode := range []sink.DeleteMode{sink.SoftDelete, sink.HardDelete} {
			t.Run(d.Name+"/"+string(mode), func(t *testing.T) {
				h := newHarness(t, gorgiassim.Config{Seed: 41, Customers: 300, Tickets: 500, Deletes: true}, d.New)
				h.dest.Form.Deletes = mode
				env := []string{"SINK_DELETES=" + string(mode)}
				once := func(name string) {
					t.Helper()
					// Hang guard only: each load takes seconds.
					if code := h.start(name, env, "--once").Wait(3 * time.Minute); code != 0 {
						t.Fatalf("%s: consumer --once exited %d, want 0", name, code)
					}
				}
				h.w.Produce()
				once("first load")
				for range 2 {
					ch := h.w.Sim.Advance(24 * time.Hour)
					t.Logf("removed %d tickets, %d customers, %d tags", len(ch.Removed("tickets")), len(ch.Removed("customers")), len(ch.Removed("tags")))
				}
				h.w.Produce()
				once("second load")
				h.checkDone()

				// A new sink on the same topics: the history alone rebuilds it.
				h.dest = d.New(t, h.w)
				h.dest.Form.Deletes = mode
				once("new sink")
				h.checkDone()
			})
		}
	}
}
