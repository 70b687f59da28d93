// Command local runs the whole pipeline on a laptop in one command, on embedded
// defaults: an embedded Kafka-protocol broker persisted in ./data, the producer against
// GORGIAS_URI (or the built-in simulator when it is unset), and the DuckDB sink into
// ./gorgias.duckdb; then it prints what landed.
//
//	go run ./cmd/local [--follow] [--data-dir ./data] [--duckdb ./gorgias.duckdb]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/gorgias-kafka/gorgias-kafka/internal/localrun"
	"github.com/gorgias-kafka/gorgias-kafka/internal/producer"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

func main() {
	var cfg localrun.Config
	flag.BoolVar(&cfg.Follow, "follow", false, "keep producer and sink running until Ctrl-C")
	flag.StringVar(&cfg.DataDir, "data-dir", "data", "directory of the embedded broker's log")
	flag.StringVar(&cfg.DuckDBPath, "duckdb", "gorgias.duckdb", "DuckDB file to write")
	verbose := flag.Bool("v", false, "debug logging")
	flag.Parse()
	cfg.GorgiasURI = os.Getenv("GORGIAS_URI")
	cfg.GorgiasBaseURL = os.Getenv("GORGIAS_BASE_URL")
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := localrun.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is 3 for a run interrupted before its work was done (as the producer and
// the consumer exit), 1 for any other failure.
func exitCode(err error) int {
	if errors.Is(err, producer.ErrIncomplete) || errors.Is(err, sink.ErrIncomplete) {
		return 3
	}
	return 1
}
