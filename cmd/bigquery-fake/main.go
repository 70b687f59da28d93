// Command bigquery-fake serves the in-process BigQuery REST fake (internal/testing/bqfake) on
// 127.0.0.1, for trying the BigQuery sink without a Google Cloud project. Its data lives
// in memory and is lost on exit. Point the consumer at it with
//
//	BIGQUERY_ENDPOINT=http://127.0.0.1:9050/bigquery/v2/ DEST_URI=bigquery://test-project consumer
//
// It is a test double with BigQuery's semantics for what the sink uses, not an
// emulator of BigQuery.
//
//	bigquery-fake [--addr 127.0.0.1:9050] [--project test-project] [--verbose]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/bqfake"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9050", "listen address")
	project := flag.String("project", "test-project", "project id the fake serves")
	verbose := flag.Bool("verbose", false, "log every request")
	flag.Parse()
	opts := bqfake.Options{Addr: *addr, Project: *project}
	if *verbose {
		opts.Logf = log.Printf
	}
	srv, err := bqfake.New(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigquery-fake:", err)
		os.Exit(1)
	}
	fmt.Printf("bigquery-fake: serving project %s at %s/bigquery/v2/\n", *project, srv.URL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	if err := srv.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "bigquery-fake:", err)
		os.Exit(1)
	}
}
