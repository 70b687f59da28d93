// Command producer polls the Gorgias API of one account and publishes every new or
// changed customer, ticket, message and satisfaction survey to Kafka, exactly once.
//
//	producer [--once] [--entities tickets,customers] [--interval-start T] [--interval-end T] [--config file.yaml]
//	producer status [--config file.yaml] [--<key> value ...]
//	producer config [...]   print every key with its value (secrets hidden), or exit 2
//
// Every configuration key can also be set in the YAML file, by environment variable
// (GORGIAS_URI, GORGIAS_BASE_URL, KAFKA_BROKERS, ...) or by flag; see configs/producer.yaml.
// With SCHEMA_REGISTRY_URL set, the producer registers each entity's schema at start
// (a refusal or an unreachable registry exits 1) and writes values in the Confluent wire
// format; without it, in Avro single-object encoding.
//
// Exit codes: 0 done (with --once: every selected entity finished its sweep; without:
// stopped by SIGTERM or SIGINT), 1 failure, 2 bad configuration, 3 incomplete (--once
// stopped by a signal before every sweep finished; committed pages stay, rerun to
// continue).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/kafkaconn"
	"github.com/gorgias-kafka/gorgias-kafka/internal/metrics"
	"github.com/gorgias-kafka/gorgias-kafka/internal/producer"
	"github.com/gorgias-kafka/gorgias-kafka/internal/schemaregistry"
)

// Exit codes of both commands.
const (
	exitOK         = 0 // done
	exitFailure    = 1 // a failure, reported on stderr
	exitConfig     = 2 // bad configuration or flags
	exitIncomplete = 3 // --once stopped before every sweep finished
)

func main() { os.Exit(run()) }

func run() int {
	args := os.Args[1:]
	cmd := "run"
	if len(args) > 0 && (args[0] == "status" || args[0] == "config") {
		cmd, args = args[0], args[1:]
	}
	var cfg settings
	loader := newLoader(&cfg, cmd == "status")
	fs := pflag.NewFlagSet("producer", pflag.ContinueOnError)
	file := fs.String("config", "", "YAML configuration file")
	loader.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, "producer:", err)
		return exitConfig
	}
	if err := loader.Load(*file, fs); err != nil {
		fmt.Fprintln(os.Stderr, "producer: invalid configuration:", config.OneLine(err))
		return exitConfig
	}
	switch cmd {
	case "config":
		return exitCode(loader.WriteValues(os.Stdout), nil)
	case "status":
		return status(cfg)
	}
	log := cfg.Log.Logger(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg.Gorgias.Logger = log
	api, err := gorgias.NewClient(cfg.Gorgias)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
		return exitConfig
	}
	kopts, err := kafkaconn.Options(cfg.Kafka, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
		return exitConfig
	}
	obs := metrics.NewProducer(api.Stats)
	srv, err := metrics.Serve(cfg.Metrics.Listen, obs.Registry, obs.Health, log)
	if err != nil {
		return exitCode(err, nil)
	}
	defer srv.Close()
	pcfg := cfg.Producer
	pcfg.Domain, pcfg.TopicPrefix, pcfg.Topics = cfg.Gorgias.Credentials.Domain, cfg.Kafka.TopicPrefix, cfg.Topics
	pcfg.Logger, pcfg.Metrics, pcfg.Hooks = log, obs, obs.KafkaHooks()
	if cfg.SchemaRegistry.Enabled() {
		reg, err := schemaregistry.New(cfg.SchemaRegistry, log)
		if err != nil {
			fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
			return exitConfig
		}
		pcfg.Registry = reg
	}
	p, err := producer.New(pcfg, api, kopts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
		return exitConfig
	}
	log.Info("producer starting", "config", cfg.String())
	if err := api.CheckCredentials(ctx); err != nil {
		if ctx.Err() != nil {
			return exitCode(p.Stopped(ctx), obs.Health)
		}
		return exitCode(err, obs.Health)
	}
	return exitCode(p.Run(ctx), obs.Health)
}

// exitCode reports err (one line on stderr, readiness off) and returns the exit code:
// exitOK for nil, exitIncomplete for producer.ErrIncomplete, else exitFailure.
func exitCode(err error, health *metrics.Health) int {
	if err == nil {
		return exitOK
	}
	if health != nil {
		health.SetNotReady(config.OneLine(err))
	}
	fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
	if errors.Is(err, producer.ErrIncomplete) {
		return exitIncomplete
	}
	return exitFailure
}

// status prints the committed watermark of each entity (producer status).
func status(cfg settings) int {
	kopts, err := kafkaconn.Options(cfg.Kafka, cfg.Log.Logger(os.Stderr))
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer status:", config.OneLine(err))
		return exitConfig
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := producer.PrintStatus(ctx, os.Stdout, kopts, cfg.Kafka.TopicPrefix, cfg.Producer.Entities); err != nil {
		fmt.Fprintln(os.Stderr, "producer status:", config.OneLine(err))
		return exitFailure
	}
	return exitOK
}
