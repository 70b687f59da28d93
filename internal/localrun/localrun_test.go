package localrun

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/duckdbsink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// simAfter rebuilds the simulator the local run uses on its n-th run.
func simAfter(n int) (*gorgiassim.Sim, gorgiassim.Changes) {
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	sim := gorgiassim.New(gorgiassim.Config{Seed: 1, Clock: func() time.Time { return start }, RateLimit: -1})
	var last gorgiassim.Changes
	for i := 1; i < n; i++ {
		last = sim.Advance(time.Hour)
	}
	return sim, last
}

// TestOneCommandRun runs the local pipeline twice, as a user would: the first run loads
// the simulator's account, the second only what changed in between; both times the
// DuckDB tables equal the simulator's truth.
func TestOneCommandRun(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		DataDir: filepath.Join(dir, "data"), DuckDBPath: filepath.Join(dir, "gorgias.duckdb"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	changelog := map[string]int{}
	for run := 1; run <= 2; run++ {
		var out bytes.Buffer
		cfg.Out = &out
		if err := Run(context.Background(), cfg); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if !strings.Contains(out.String(), "duckdb ") {
			t.Fatalf("run %d summary:\n%s", run, out.String())
		}
		for _, e := range catalog.All() { // every entity, with its mode
			if !strings.Contains(out.String(), "gorgias."+e.Table()+" ") || !strings.Contains(out.String(), string(e.Mode)) {
				t.Fatalf("run %d summary lacks %s (%s):\n%s", run, e.Table(), e.Mode, out.String())
			}
		}
		sim, changes := simAfter(run)
		db, err := duckdbsink.Open(context.Background(), duckdbsink.Config{Path: cfg.DuckDBPath, Changelog: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range catalog.All() {
			rows, err := db.Rows(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			sinktest.CheckTruth(t, reg, sim, e, rows)
			cl, err := db.ChangelogRows(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			if run == 2 {
				if got, want := len(cl)-changelog[e.Name], len(changes.IDs(e.Resource)); got != want {
					t.Errorf("%s: the second run added %d versions, the simulator changed %d objects", e.Name, got, want)
				}
			}
			changelog[e.Name] = len(cl)
		}
		db.Close()
	}
}
