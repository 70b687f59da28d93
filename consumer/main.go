// Command consumer runs a sink: it consumes the Gorgias entity topics and writes them,
// with their Kafka offsets, atomically into a destination.
//
//	consumer [--once] [--config file.yaml] [--<key> value ...]
//	consumer replay --from earliest|<RFC3339 time> [...]
//	consumer status [...]
//	consumer config [...]   print every key with its value (secrets hidden), or exit 2
//
// The destination URI's scheme picks the sink (duckdb://, bigquery://, postgresql://;
// see sinks.go). Environment: KAFKA_BROKERS, DEST_URI (duckdb:///gorgias.duckdb), and
// every other key upper-cased (see configs/sink-*.yaml).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
	"github.com/gorgias-kafka/gorgias-kafka/internal/kafkaconn"
	"github.com/gorgias-kafka/gorgias-kafka/internal/metrics"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	cmd := "run"
	if len(args) > 0 && (args[0] == "replay" || args[0] == "run" || args[0] == "status" || args[0] == "config") {
		cmd, args = args[0], args[1:]
	}
	prog := "consumer"
	if cmd == "status" || cmd == "config" {
		prog += " " + cmd
	}
	var cfg settings
	loader := newLoader(&cfg)
	fs := pflag.NewFlagSet("consumer", pflag.ContinueOnError)
	file := fs.String("config", "", "YAML configuration file")
	from := fs.String("from", "earliest", "replay: earliest, or an RFC 3339 time to replay from")
	loader.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, prog+":", err)
		return exitConfig
	}
	if err := loader.Load(*file, fs); err != nil {
		fmt.Fprintln(os.Stderr, prog+": invalid configuration:", config.OneLine(err))
		return exitConfig
	}
	if cmd == "config" {
		return exitCode(prog, loader.WriteValues(os.Stdout), nil)
	}
	replayFrom, err := parseFrom(cmd, *from)
	if err != nil {
		fmt.Fprintln(os.Stderr, prog+":", err)
		return exitConfig
	}
	log := cfg.Log.Logger(os.Stderr)
	if os.Getenv("GOMEMLIMIT") == "" {
		// Keep Go's heap near the configured budget (decoded rows take about twice their
		// encoded size); the rest of the process is the destination's (DuckDB's) memory.
		debug.SetMemoryLimit(2 * int64(cfg.Sink.MemoryBudget))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg, err := avrocodec.NewRegistry()
	if err != nil {
		return exitCode(prog, err, nil)
	}
	kopts, err := kafkaconn.Options(cfg.Kafka, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, prog+":", config.OneLine(err))
		return exitConfig
	}
	cfg.Dest.TopicPrefix, cfg.Dest.Logger = cfg.Kafka.TopicPrefix, log
	rcfg := cfg.Sink.For(cfg.Dest)
	var obs *metrics.Sink
	if cmd != "status" {
		obs = metrics.NewSink(rcfg.Name)
		srv, err := metrics.Serve(cfg.Metrics.Listen, obs.Registry, obs.Health, log)
		if err != nil {
			return exitCode(prog, err, nil)
		}
		defer srv.Close()
		rcfg.Metrics, rcfg.Hooks = obs, obs.KafkaHooks()
	}
	dest, err := sink.Open(ctx, cfg.Dest)
	if err != nil {
		return exitCode(prog, err, nil)
	}
	defer dest.Close()
	log.Info("consumer starting", "command", cmd, "config", cfg.String())
	switch cmd {
	case "status":
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		err = sink.PrintStatus(sctx, os.Stdout, dest, kopts, rcfg.TopicPrefix, rcfg.Entities)
	case "replay":
		err = sink.Replay(ctx, rcfg, dest, reg, kopts, replayFrom)
	default:
		err = sink.NewRunner(rcfg, dest, reg, kopts).Run(ctx)
	}
	return exitCode(prog, err, obs)
}

// parseFrom reads replay's --from: earliest (the zero time) or an RFC 3339 time.
func parseFrom(cmd, from string) (time.Time, error) {
	if cmd != "replay" || from == "earliest" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, from)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid --from %q: want earliest or an RFC 3339 time such as 2024-06-01T00:00:00Z", from)
	}
	return t, nil
}

// Exit codes: 0 done (or a continuous run stopped by SIGTERM/SIGINT), 1 failure, 2 bad
// configuration, 3 incomplete (--once or replay interrupted or stalled with partitions
// behind).
const (
	exitConfig     = 2
	exitIncomplete = 3
)

// exitCode reports err on stderr in one line, prefixed with prog, and returns the
// process's exit code.
func exitCode(prog string, err error, obs *metrics.Sink) int {
	if err == nil {
		return 0
	}
	if obs != nil {
		obs.Health.SetNotReady(config.OneLine(err))
	}
	fmt.Fprintln(os.Stderr, prog+":", config.OneLine(err))
	if errors.Is(err, sink.ErrIncomplete) {
		return exitIncomplete
	}
	return 1
}
