// Package bigquerydest is the BigQuery sink's test destination for the tests of the
// consumer binary: a dataset on the in-process BigQuery fake, read back through the
// sink (entity tables) and the fake's storage (changelogs).
package bigquerydest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/bigquerysink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/bqfake"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

func init() { sinktest.RegisterDestination("bigquery", New) }

// New starts a BigQuery fake (closed with the test) and returns its project as a
// destination.
func New(t *testing.T, w *sinktest.World) *sinktest.Destination {
	srv, err := bqfake.New(bqfake.Options{Project: "test-project"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	endpoint := srv.URL() + "/bigquery/v2/"
	return &sinktest.Destination{
		Env:  []string{"DEST_URI=bigquery://test-project", "BIGQUERY_ENDPOINT=" + endpoint},
		Form: sinktest.Form{NullArrayIsEmpty: true},
		Read: func(t *testing.T) sinktest.DestState {
			t.Helper()
			ctx := context.Background()
			s, err := bigquerysink.Open(ctx, bigquerysink.Config{Dest: bigquerysink.Destination{Project: "test-project"},
				Dataset: "gorgias", TopicPrefix: w.Prefix, Endpoint: endpoint, Logger: sinktest.Logger()})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			st := sinktest.DestState{Rows: readTables(ctx, t, s), Changelog: readChangelogs(ctx, t, srv)}
			if st.Offsets, err = s.Offsets(ctx); err != nil {
				t.Fatal(err)
			}
			return st
		},
		Batch: 1000, MaxKill: 4, SubDelay: time.Second,
	}
}

// readTables reads the entity tables through the BigQuery API, as a user reads them,
// one goroutine each (the fake's REST path is slow under -race).
func readTables(ctx context.Context, t *testing.T, s *bigquerysink.Sink) map[string][]map[string]any {
	type result struct {
		entity string
		rows   []map[string]any
		err    error
	}
	results := make(chan result)
	for _, e := range catalog.All() {
		go func() {
			rows, err := s.Rows(ctx, e)
			results <- result{e.Name, rows, err}
		}()
	}
	out := map[string][]map[string]any{}
	for range catalog.All() {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		out[r.entity] = r.rows
	}
	return out
}

// readChangelogs reads the changelogs, only the columns the tests check, from the
// fake's storage.
func readChangelogs(ctx context.Context, t *testing.T, srv *bqfake.Server) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, e := range catalog.All() {
		q := fmt.Sprintf(`SELECT %q, %q, %q, %q, %q FROM "gorgias".%q`, catalog.Key, e.VersionField, sink.ColPartition, sink.ColOffset, sink.ColDeletedAt, e.ChangelogTable())
		rs, err := srv.DB().QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rs.Next() {
			var id, part, off int64
			var version, deleted sql.NullTime
			if err := rs.Scan(&id, &version, &part, &off, &deleted); err != nil {
				t.Fatal(err)
			}
			row := map[string]any{catalog.Key: id, e.VersionField: nil, sink.ColPartition: part, sink.ColOffset: off, sink.ColDeletedAt: nil}
			if version.Valid {
				row[e.VersionField] = version.Time
			}
			if deleted.Valid {
				row[sink.ColDeletedAt] = deleted.Time
			}
			out[e.Name] = append(out[e.Name], row)
		}
		if err := errors.Join(rs.Err(), rs.Close()); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
