package duckdbsink

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestConformance runs the suite every sink must pass against a real DuckDB file named
// like the default destination (gorgias.duckdb, schema gorgias).
func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Target {
		path := filepath.Join(t.TempDir(), "gorgias.duckdb")
		return sinktest.Target{
			Open: func(t testing.TB, deletes sink.DeleteMode) sink.Sink {
				s, err := Open(context.Background(), Config{Path: path, Changelog: true, Deletes: deletes})
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Rows:      sinktest.ReadRows,
			Changelog: sinktest.ReadChangelog,
		}
	})
}
