package postgressink

import (
	"context"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/pgtest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestConformance runs the suite every sink must pass against a real PostgreSQL
// database per sub-test (schema gorgias, changelog on), reached with password
// authentication.
func TestConformance(t *testing.T) {
	srv := pgtest.Start(t)
	sinktest.Run(t, func(t *testing.T) sinktest.Target {
		uri := srv.NewDatabase(t)
		return sinktest.Target{
			Open: func(t testing.TB, deletes sink.DeleteMode) sink.Sink {
				s, err := Open(context.Background(), sink.Dest{URI: uri, Schema: "gorgias", Changelog: true, Deletes: deletes}, Config{})
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
