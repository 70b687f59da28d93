// Command producer polls the Gorgias API of one account and publishes every new or
// changed customer, ticket, message and satisfaction survey to Kafka, exactly once.
//
//	producer [--once] [--entities tickets,customers] [--interval-start T] [--interval-end T] [--config file.yaml]
//	producer status [--config file.yaml] [--<key> value ...]
//
// Every configuration key can also be set in the YAML file, by environment variable
// (GORGIAS_URI, GORGIAS_BASE_URL, KAFKA_BROKERS, ...) or by flag; see configs/producer.yaml.
package main

import (
	"context"
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
)

func main() { os.Exit(run()) }

func run() int {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "status" {
		return status(args[1:])
	}
	fs := pflag.NewFlagSet("producer", pflag.ContinueOnError)
	file := fs.String("config", "", "YAML configuration file")
	loader := config.NewLoader(config.ProducerKeys())
	loader.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, "producer:", err)
		return 2
	}
	cfg, err := config.LoadProducer(loader, *file, fs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer: invalid configuration:", config.OneLine(err))
		return 2
	}
	log := cfg.Log.Logger(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	gcfg := cfg.Gorgias
	gcfg.Logger = log
	api, err := gorgias.NewClient(gcfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
		return 2
	}
	kopts, err := kafkaconn.Options(cfg.Kafka, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
		return 2
	}
	obs := metrics.NewProducer(api.Stats)
	srv, err := metrics.Serve(cfg.Observe.Listen, obs.Registry, obs.Health, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
		return 1
	}
	defer srv.Close()
	p, err := producer.New(producer.Config{
		Domain:          gcfg.Credentials.Domain,
		TopicPrefix:     cfg.Kafka.TopicPrefix,
		Entities:        cfg.Entities,
		Topics:          producer.TopicConfig{Partitions: cfg.Partitions, ReplicationFactor: cfg.ReplicationFactor, RetentionMs: cfg.RetentionMs},
		TransactionalID: cfg.TransactionalID,
		Lookback:        cfg.Lookback,
		IntervalStart:   cfg.IntervalStart,
		IntervalEnd:     cfg.IntervalEnd,
		PollInterval:    cfg.PollInterval,
		Once:            cfg.Once,
		ClockSkew:       cfg.ClockSkew,
		ProgressEvery:   cfg.ProgressEvery,
		Logger:          log,
		Metrics:         obs,
		Hooks:           obs.KafkaHooks(),
	}, api, kopts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
		return 2
	}
	log.Info("producer starting", "config", cfg.String())
	if err := api.CheckCredentials(ctx); err != nil {
		if ctx.Err() != nil {
			return 0
		}
		obs.Health.SetNotReady(config.OneLine(err))
		fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
		return 1
	}
	if err := p.Run(ctx); err != nil {
		obs.Health.SetNotReady(config.OneLine(err))
		fmt.Fprintln(os.Stderr, "producer:", config.OneLine(err))
		return 1
	}
	return 0
}

// status prints the committed watermark of each entity (producer status).
func status(args []string) int {
	fs := pflag.NewFlagSet("producer status", pflag.ContinueOnError)
	file := fs.String("config", "", "YAML configuration file")
	loader := config.NewLoader(config.ProducerKeys())
	loader.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, "producer status:", err)
		return 2
	}
	cfg, err := config.LoadProducerStatus(loader, *file, fs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer status: invalid configuration:", config.OneLine(err))
		return 2
	}
	kopts, err := kafkaconn.Options(cfg.Kafka, cfg.Log.Logger(os.Stderr))
	if err != nil {
		fmt.Fprintln(os.Stderr, "producer status:", config.OneLine(err))
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := producer.PrintStatus(ctx, os.Stdout, kopts, cfg.Kafka.TopicPrefix, cfg.Entities); err != nil {
		fmt.Fprintln(os.Stderr, "producer status:", config.OneLine(err))
		return 1
	}
	return 0
}
