package sinktest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/producer"
)

// World is the upstream half of the pipeline on real parts, for sink and consumer
// tests: a kfake broker, a Gorgias simulator and the real producer filling the topics.
type World struct {
	T testing.TB
	// Sim is the Gorgias account.
	Sim *gorgiassim.Sim
	// KOpts reach the broker, with fast retries.
	KOpts []kgo.Opt
	// Prefix is the topic prefix, derived from the test name.
	Prefix string
	// Reg decodes the topics; tests may register evolved schemas in it.
	Reg *avrocodec.Registry
	// Brokers are the broker's listen addresses (host:port), for child processes.
	Brokers []string
	// Cluster is the broker, for tests that inject faults or restart it.
	Cluster *kfake.Cluster
}

var unsafeTopic = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// Logger discards logs unless TEST_VERBOSE_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("TEST_VERBOSE_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// NewWorld starts a one-broker kfake cluster (closed with the test; opts are added, e.g.
// kfake.DataDir) and a simulator.
func NewWorld(t testing.TB, simCfg gorgiassim.Config, opts ...kfake.Opt) *World {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if simCfg.RateLimit == 0 {
		simCfg.RateLimit = -1
	}
	return &World{
		T:   t,
		Sim: gorgiassim.New(simCfg),
		KOpts: []kgo.Opt{
			kgo.SeedBrokers(c.ListenAddrs()...),
			kgo.MetadataMinAge(50 * time.Millisecond),
			kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }),
			kgo.FetchMaxWait(100 * time.Millisecond),
		},
		Prefix:  unsafeTopic.ReplaceAllString(t.Name(), "_") + ".",
		Reg:     reg,
		Brokers: c.ListenAddrs(),
		Cluster: c,
	}
}

// Produce runs the real producer once over the simulator.
func (w *World) Produce() {
	w.T.Helper()
	api, err := gorgias.NewClient(gorgias.Config{
		Credentials: gorgias.Credentials{Domain: "acme", Email: "sim@example.com", APIKey: "sim-api-key"},
		BaseURL:     "http://sim/api", Transport: w.Sim.RoundTripper(), RateLimit: 1000, RateWindow: time.Second,
	})
	if err != nil {
		w.T.Fatal(err)
	}
	p, err := producer.New(producer.Config{Domain: "acme", TopicPrefix: w.Prefix, Once: true, Logger: Logger(),
		Topics: producer.TopicConfig{Partitions: 3, ReplicationFactor: 1}}, api, w.KOpts)
	if err != nil {
		w.T.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		w.T.Fatalf("producer: %v", err)
	}
}
