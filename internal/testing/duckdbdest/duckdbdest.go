// Package duckdbdest is the DuckDB sink's test destination for the tests of the
// consumer binary: a DuckDB file in a temporary directory, read back in-process once the
// consumer has exited (one process holds a DuckDB file at a time).
package duckdbdest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/duckdbsink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

func init() { sinktest.RegisterDestination("duckdb", New) }

// New returns a fresh DuckDB file as a destination.
func New(t *testing.T, w *sinktest.World) *sinktest.Destination {
	path := filepath.Join(t.TempDir(), "proc.duckdb")
	return &sinktest.Destination{
		Env: []string{"DEST_URI=duckdb:///" + path}, // four slashes: absolute path
		Read: func(t *testing.T) sinktest.DestState {
			t.Helper()
			s, err := duckdbsink.Open(context.Background(), duckdbsink.Config{Path: path, Changelog: true, Logger: sinktest.Logger()})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			return sinktest.ReadState(t, s)
		},
		Batch: 500, MaxKill: 6, SubDelay: 150 * time.Millisecond,
	}
}
