// Package localrun runs the whole pipeline in one process on embedded defaults, for a
// laptop: an embedded Kafka-protocol broker (franz-go's kfake) persisted under a data
// directory, the producer against GORGIAS_URI or, when none is given, the built-in
// Gorgias simulator, and the DuckDB sink into a local file. It then prints what landed.
//
// Runs are incremental: the broker keeps its log, the producer its state and the DuckDB
// file its offsets, so a second run publishes and writes only what changed. The
// simulator is deterministic: run N replays the same seeded account and N-1 "hours" of
// activity, so each run brings one more hour of changes.
package localrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/duckdbsink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/producer"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
)

// Config configures a local run. Zero values take the documented defaults.
type Config struct {
	// DataDir holds the broker's log and the simulator's run counter (default ./data).
	DataDir string
	// DuckDBPath is the DuckDB file (default ./gorgias.duckdb).
	DuckDBPath string
	// GorgiasURI is a real account (gorgias://<domain>?api_key=..&email=..); empty runs the
	// built-in simulator.
	GorgiasURI string
	// GorgiasBaseURL overrides the API base URL of a real account.
	GorgiasBaseURL string
	// Follow keeps producer and sink running (polling every PollInterval) until ctx ends.
	Follow bool
	// PollInterval of the producer with Follow (default 30 s).
	PollInterval time.Duration
	// Out receives the summary (default os.Stdout).
	Out io.Writer
	// Logger receives progress lines (default slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.DuckDBPath == "" {
		c.DuckDBPath = "gorgias.duckdb"
	}
	if c.PollInterval == 0 {
		c.PollInterval = 30 * time.Second
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Run runs the pipeline once (or until ctx ends with Follow) and prints the summary.
func Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	log := cfg.Logger
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "kafka"), 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(filepath.Join(cfg.DataDir, "kafka")),
		kfake.BrokerConfigs(map[string]string{"log.cleaner.backoff.ms": "60000"}))
	if err != nil {
		return fmt.Errorf("start embedded Kafka in %s: %w", cfg.DataDir, err)
	}
	defer cluster.Close()
	kopts := []kgo.Opt{kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ClientID("gorgias-local"),
		kgo.MetadataMinAge(250 * time.Millisecond)}
	log.Info("embedded Kafka started", "addr", cluster.ListenAddrs()[0], "data", filepath.Join(cfg.DataDir, "kafka"))

	api, domain, stopAPI, err := gorgiasAPI(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopAPI()

	p, err := producer.New(producer.Config{
		Domain: domain, Once: !cfg.Follow, PollInterval: cfg.PollInterval, Logger: log,
		Topics: producer.TopicConfig{Partitions: 3, ReplicationFactor: 1},
	}, api, kopts)
	if err != nil {
		return err
	}
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		return err
	}
	db, err := duckdbsink.Open(ctx, duckdbsink.Config{Path: cfg.DuckDBPath, Changelog: true, Logger: log})
	if err != nil {
		return err
	}
	defer db.Close()
	runner := sink.NewRunner(sink.Config{Name: "duckdb", Once: !cfg.Follow, BatchMaxWait: time.Second, Logger: log}, db, reg, kopts)

	if cfg.Follow {
		errc := make(chan error, 2)
		go func() { errc <- p.Run(ctx) }()
		go func() { errc <- runner.Run(ctx) }()
		for i := 0; i < 2; i++ {
			if err := <-errc; err != nil {
				return err
			}
		}
	} else {
		if err := p.Run(ctx); err != nil {
			return fmt.Errorf("producer: %w", err)
		}
		if err := runner.Run(ctx); err != nil {
			return fmt.Errorf("duckdb sink: %w", err)
		}
	}
	return summary(ctx, cfg, db)
}

// gorgiasAPI returns a client for the real account, or starts the simulator.
func gorgiasAPI(ctx context.Context, cfg Config, log *slog.Logger) (*gorgias.Client, string, func(), error) {
	if cfg.GorgiasURI != "" {
		creds, err := gorgias.ParseURI(cfg.GorgiasURI)
		if err != nil {
			return nil, "", nil, err
		}
		api, err := gorgias.NewClient(gorgias.Config{Credentials: creds, BaseURL: cfg.GorgiasBaseURL, Logger: log})
		if err != nil {
			return nil, "", nil, err
		}
		if err := api.CheckCredentials(ctx); err != nil {
			return nil, "", nil, err
		}
		return api, creds.Domain, func() {}, nil
	}
	runs, err := bumpRuns(filepath.Join(cfg.DataDir, "simulator-runs.json"))
	if err != nil {
		return nil, "", nil, err
	}
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	frozen := func() time.Time { return start } // the simulator's time moves only by Advance
	sim := gorgiassim.New(gorgiassim.Config{Seed: 1, Clock: frozen, RateLimit: -1})
	for i := 1; i < runs; i++ {
		sim.Advance(time.Hour)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("start the Gorgias simulator: %w", err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	base := "http://" + ln.Addr().String() + "/api"
	log.Info("no GORGIAS_URI: using the built-in Gorgias simulator", "base_url", base, "run", runs, "simulated_now", sim.Now().Format(time.RFC3339))
	api, err := gorgias.NewClient(gorgias.Config{
		Credentials: gorgias.Credentials{Domain: "acme", Email: "sim@example.com", APIKey: "sim-api-key"},
		BaseURL:     base, RateLimit: 1000, RateWindow: time.Second, Logger: log,
	})
	if err != nil {
		srv.Close()
		return nil, "", nil, err
	}
	return api, "acme", func() { srv.Close() }, nil
}

// bumpRuns increments and returns the run counter kept in path.
func bumpRuns(path string) (int, error) {
	var st struct {
		Runs int `json:"runs"`
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("read %s: %w", path, err)
	default:
		if err := json.Unmarshal(b, &st); err != nil {
			return 0, fmt.Errorf("read %s: %w", path, err)
		}
	}
	st.Runs++
	b, _ = json.Marshal(st)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return st.Runs, nil
}

// summary prints, per table (every entity), its rows, changelog records and newest
// version (the entity's version field: updated_datetime, created_datetime for events,
// _extracted_at for snapshots), then how to query.
func summary(ctx context.Context, cfg Config, db *duckdbsink.Sink) error {
	w := cfg.Out
	fmt.Fprintf(w, "\nLanded in %s (schema gorgias):\n\n", cfg.DuckDBPath)
	fmt.Fprintf(w, "  %-36s %10s %10s  %-26s %s\n", "table", "rows", "changelog", "mode", "newest version")
	for _, e := range catalog.All() {
		var rows, versions int64
		var newest *time.Time
		q := fmt.Sprintf(`SELECT count(*), max(%q) FROM %s`, e.VersionField, db.Table(e.Table()))
		if err := db.DB().QueryRowContext(ctx, q).Scan(&rows, &newest); err != nil {
			return fmt.Errorf("summary of %s: %w", e.Table(), err)
		}
		q = fmt.Sprintf(`SELECT count(*) FROM %s`, db.Table(e.ChangelogTable()))
		if err := db.DB().QueryRowContext(ctx, q).Scan(&versions); err != nil {
			return fmt.Errorf("summary of %s: %w", e.ChangelogTable(), err)
		}
		n := "-"
		if newest != nil {
			n = newest.UTC().Format(time.RFC3339) + " (" + e.VersionField + ")"
		}
		fmt.Fprintf(w, "  %-36s %10s %10s  %-26s %s\n", "gorgias."+e.Table(), strconv.FormatInt(rows, 10), strconv.FormatInt(versions, 10), e.Mode, n)
	}
	fmt.Fprintf(w, "\nQuery it, e.g. with the DuckDB CLI (the file %s is the catalog, gorgias the schema):\n", cfg.DuckDBPath)
	fmt.Fprintf(w, "  duckdb %s \"SELECT status, count(*) FROM %s GROUP BY ALL\"\n", cfg.DuckDBPath, strings.ReplaceAll(db.Table("tickets"), `"`, ""))
	fmt.Fprintf(w, "Run again to load only what changed; add --follow to keep it running.\n")
	return nil
}
