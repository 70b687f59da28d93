// Command consumer runs a sink: it consumes the Gorgias entity topics and writes them,
// with their Kafka offsets, atomically into a destination (DuckDB or BigQuery).
//
//	consumer [--once] [--config file.yaml] [--<key> value ...]
//	consumer replay --from earliest|<RFC3339 time> [...]
//	consumer status [...]
//
// Environment: KAFKA_BROKERS, DEST_URI (duckdb:///gorgias.duckdb), and every other key
// upper-cased (see configs/sink-duckdb.yaml).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/bigquerysink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
	"github.com/gorgias-kafka/gorgias-kafka/internal/duckdbsink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/kafkaconn"
	"github.com/gorgias-kafka/gorgias-kafka/internal/metrics"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	cmd := "run"
	if len(args) > 0 && (args[0] == "replay" || args[0] == "run" || args[0] == "status") {
		cmd, args = args[0], args[1:]
	}
	fs := pflag.NewFlagSet("consumer", pflag.ContinueOnError)
	file := fs.String("config", "", "YAML configuration file")
	from := fs.String("from", "earliest", "replay: earliest, or an RFC 3339 time to replay from")
	loader := config.NewLoader(config.ConsumerKeys())
	loader.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		return 2
	}
	cfg, err := config.LoadConsumer(loader, *file, fs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "consumer: invalid configuration:", config.OneLine(err))
		return 2
	}
	var replayFrom time.Time
	if cmd == "replay" && *from != "earliest" {
		if replayFrom, err = time.Parse(time.RFC3339, *from); err != nil {
			fmt.Fprintf(os.Stderr, "consumer: invalid --from %q: want earliest or an RFC 3339 time such as 2024-06-01T00:00:00Z\n", *from)
			return 2
		}
	}
	log := cfg.Log.Logger(os.Stderr)
	if os.Getenv("GOMEMLIMIT") == "" {
		// Keep Go's heap near the configured budget (decoded rows take about twice their
		// encoded size); the rest of the process is the destination's (DuckDB's) memory.
		debug.SetMemoryLimit(2 * int64(cfg.MemoryBudget))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg, err := avrocodec.NewRegistry()
	if err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		return 1
	}
	kopts, err := kafkaconn.Options(cfg.Kafka, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", config.OneLine(err))
		return 2
	}
	var obs *metrics.Sink
	if cmd != "status" {
		obs = metrics.NewSink(cfg.Name)
		srv, err := metrics.Serve(cfg.Observe.Listen, obs.Registry, obs.Health, log)
		if err != nil {
			fmt.Fprintln(os.Stderr, "consumer:", config.OneLine(err))
			return 1
		}
		defer srv.Close()
	}
	dest, err := openSink(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", config.OneLine(err))
		return 1
	}
	defer dest.Close()
	if cmd == "status" {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := sink.PrintStatus(sctx, os.Stdout, dest, kopts, cfg.Kafka.TopicPrefix, cfg.Entities); err != nil {
			fmt.Fprintln(os.Stderr, "consumer status:", config.OneLine(err))
			return 1
		}
		return 0
	}

	rcfg := sink.Config{
		Name: cfg.Name, Group: cfg.Group, TopicPrefix: cfg.Kafka.TopicPrefix, Entities: cfg.Entities,
		BatchMaxRecords: cfg.BatchMaxRecords, BatchMaxBytes: cfg.BatchMaxBytes, BatchMaxWait: cfg.BatchMaxWait,
		MemoryBudget: cfg.MemoryBudget, Once: cfg.Once, OnceStallTimeout: cfg.OnceStallTimeout, InstanceID: cfg.InstanceID,
		Logger: log, Metrics: obs, Hooks: obs.KafkaHooks(),
	}
	log.Info("consumer starting", "command", cmd, "config", cfg.String())
	if cmd == "replay" {
		err = sink.Replay(ctx, rcfg, dest, reg, kopts, replayFrom)
	} else {
		err = sink.NewRunner(rcfg, dest, reg, kopts).Run(ctx)
	}
	return exitCode(err, obs)
}

// Exit codes: 0 done (or a continuous run stopped by SIGTERM/SIGINT), 1 failure, 2 bad
// configuration, 3 incomplete (--once or replay interrupted or stalled with partitions
// behind).
const exitIncomplete = 3

// exitCode reports err on stderr in one line and returns the process's exit code.
func exitCode(err error, obs *metrics.Sink) int {
	if err == nil {
		return 0
	}
	obs.Health.SetNotReady(config.OneLine(err))
	fmt.Fprintln(os.Stderr, "consumer:", config.OneLine(err))
	if errors.Is(err, sink.ErrIncomplete) {
		return exitIncomplete
	}
	return 1
}

// openSink opens the destination named by the configuration's URI scheme.
func openSink(ctx context.Context, cfg config.Consumer, log *slog.Logger) (sink.Sink, error) {
	switch cfg.DestScheme {
	case "duckdb":
		path, err := duckdbsink.ParseURI(cfg.DestURI)
		if err != nil {
			return nil, err
		}
		return duckdbsink.Open(ctx, duckdbsink.Config{
			Path: path, Schema: cfg.Schema, Changelog: cfg.Changelog,
			Threads: cfg.DuckDBThreads, MemoryLimit: cfg.DuckDBMemoryLimit, CheckpointThreshold: cfg.DuckDBCheckpointThreshold, Logger: log,
		})
	case "bigquery":
		dest, err := bigquerysink.ParseURI(cfg.DestURI)
		if err != nil {
			return nil, err
		}
		return bigquerysink.Open(ctx, bigquerysink.Config{
			Dest: dest, Dataset: cfg.Schema, TopicPrefix: cfg.Kafka.TopicPrefix, Endpoint: cfg.BigQuery.Endpoint,
			StagingExpiration: cfg.BigQuery.StagingExpiration, Retry: bigquerysink.Retry{Attempts: cfg.BigQuery.MaxAttempts}, Logger: log,
		})
	default:
		return nil, fmt.Errorf("destination %s: the %s sink is not available in this build", config.RedactURI(cfg.DestURI), cfg.DestScheme)
	}
}
