// Package duckdbdest is the DuckDB sink's test destination for the tests of the
// consumer binary: a DuckDB file in a temporary directory, read back in-process once the
// consumer has exited (one process holds a DuckDB file at a time).
package duckdbdest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
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
			ctx := context.Background()
			s, err := duckdbsink.Open(ctx, duckdbsink.Config{Path: path, Changelog: true, Logger: sinktest.Logger()})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			st := sinktest.DestState{Rows: map[string][]map[string]any{}, Changelog: map[string][]map[string]any{}}
			for _, e := range catalog.All() {
				if st.Rows[e.Name], err = s.Rows(ctx, e); err != nil {
					t.Fatal(err)
				}
				if st.Changelog[e.Name], err = s.ChangelogRows(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			if st.Offsets, err = s.Offsets(ctx); err != nil {
				t.Fatal(err)
			}
			return st
		},
		Batch: 500, MaxKill: 6, SubDelay: 150 * time.Millisecond,
	}
}
