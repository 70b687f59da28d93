package bigquerysink

import (
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestConformance runs the suite every sink must pass, through the real BigQuery
// client against the in-process fake (SQL executed on DuckDB). One fake serves every
// case (a dataset each), so its server goroutines predate the goroutine check.
func TestConformance(t *testing.T) {
	srv := newFake(t)
	sinktest.Run(t, func(t *testing.T) sinktest.Target {
		tg := newTarget(srv, "conformance.")
		return sinktest.Target{
			Open:      func(t testing.TB, deletes sink.DeleteMode) sink.Sink { tg.deletes = deletes; return tg.open(t) },
			Rows:      reader(false),
			Changelog: reader(true),
			Form:      bqForm,
		}
	})
}
