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
	"github.com/gorgias-kafka/gorgias-kafka/internal/schemaregistry"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	inv, err := parseArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, inv.prog+":", config.OneLine(err))
		return exitConfig
	}
	if inv.cmd == "config" {
		return exitCode(inv.prog, inv.loader.WriteValues(os.Stdout), nil)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return inv.consume(ctx)
}

// invocation is one parsed command line: the sub-command and its configuration.
type invocation struct {
	cmd, prog  string // "run", "replay", "status" or "config"; the prefix of error lines
	cfg        settings
	loader     *config.Loader
	replayFrom time.Time
}

// parseArgs reads the sub-command, the flags, the file and the environment.
func parseArgs(args []string) (*invocation, error) {
	inv := &invocation{cmd: "run", prog: "consumer"}
	if len(args) > 0 && (args[0] == "replay" || args[0] == "run" || args[0] == "status" || args[0] == "config") {
		inv.cmd, args = args[0], args[1:]
	}
	if inv.cmd == "status" || inv.cmd == "config" {
		inv.prog += " " + inv.cmd
	}
	inv.loader = newLoader(&inv.cfg)
	fs := pflag.NewFlagSet("consumer", pflag.ContinueOnError)
	file := fs.String("config", "", "YAML configuration file")
	from := fs.String("from", "earliest", "replay: earliest, or an RFC 3339 time to replay from")
	inv.loader.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return inv, err
	}
	if err := inv.loader.Load(*file, fs); err != nil {
		return inv, fmt.Errorf("invalid configuration: %w", err)
	}
	var err error
	inv.replayFrom, err = parseFrom(inv.cmd, *from)
	return inv, err
}

// consume wires the parts and runs the sub-command until it is done or ctx ends.
func (inv *invocation) consume(ctx context.Context) int {
	cfg := inv.cfg
	log := cfg.Log.Logger(os.Stderr)
	if os.Getenv("GOMEMLIMIT") == "" {
		// Keep Go's heap near the configured budget (decoded rows take about twice their
		// encoded size); the rest of the process is the destination's (DuckDB's) memory.
		debug.SetMemoryLimit(2 * int64(cfg.Sink.MemoryBudget))
	}
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		return exitCode(inv.prog, err, nil)
	}
	kopts, err := kafkaconn.Options(cfg.Kafka, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, inv.prog+":", config.OneLine(err))
		return exitConfig
	}
	cfg.Dest.TopicPrefix, cfg.Dest.Logger, cfg.Dest.Deletes = cfg.Kafka.TopicPrefix, log, cfg.Sink.Deletes
	rcfg := cfg.Sink.For(cfg.Dest)
	if cfg.SchemaRegistry.Enabled() {
		reg, err := schemaregistry.New(cfg.SchemaRegistry, log)
		if err != nil {
			fmt.Fprintln(os.Stderr, inv.prog+":", config.OneLine(err))
			return exitConfig
		}
		rcfg.Schemas = sink.Refusals(sink.UnknownIDs(reg, schemaregistry.ErrUnknownID), schemaregistry.ErrRefused)
	}
	var obs *metrics.Sink
	if inv.cmd != "status" {
		obs = metrics.NewSink(rcfg.Name)
		srv, err := metrics.Serve(cfg.Metrics.Listen, obs.Registry, obs.Health, log)
		if err != nil {
			return exitCode(inv.prog, err, nil)
		}
		defer srv.Close()
		rcfg.Metrics, rcfg.Hooks = obs, obs.KafkaHooks()
	}
	dest, err := sink.Open(ctx, cfg.Dest)
	if err != nil {
		return exitCode(inv.prog, err, nil)
	}
	defer dest.Close()
	log.Info("consumer starting", "command", inv.cmd, "config", cfg.String())
	switch inv.cmd {
	case "status":
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		err = sink.PrintStatus(sctx, os.Stdout, dest, kopts, rcfg.TopicPrefix, rcfg.Entities)
	case "replay":
		err = sink.Replay(ctx, rcfg, dest, reg, kopts, inv.replayFrom)
	default:
		err = sink.NewRunner(rcfg, dest, reg, kopts).Run(ctx)
	}
	return exitCode(inv.prog, err, obs)
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
