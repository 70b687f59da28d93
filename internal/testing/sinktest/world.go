package sinktest

import (
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"

	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/gorgias-kafka/gorgias-kafka/internal/producer"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

// World is the upstream half of the pipeline on real parts, for sink and consumer
// tests: a kfake broker, a Gorgias simulator and the real producer filling the topics.
// Its fields (T, Sim, KOpts, Prefix, Reg, Brokers, Cluster) and topic checks
// (ReadTopic, CheckTopicsExact) are testenv.Env's; World adds the producer.
type World struct {
	*testenv.Env
}

// Logger discards logs unless TEST_VERBOSE_LOG is set.
func Logger() *slog.Logger { return testenv.Logger() }

// NewWorld starts a one-broker kfake cluster (closed with the test; opts are added, e.g.
// kfake.DataDir) and a simulator.
//
// Unless simCfg paces requests (RateLimit > 0) or brings its own Clock, the simulator's
// clock stands still: its time moves only with Sim.Advance. A sink test checks the
// destination minutes after the last Produce, and on a running clock a derived version
// (a survey's updated_datetime becomes its should_send_datetime when that passes) would
// move in the truth in between without anything for the producer to read.
func NewWorld(t testing.TB, simCfg gorgiassim.Config, opts ...kfake.Opt) *World {
	t.Helper()
	if simCfg.Clock == nil && simCfg.RateLimit <= 0 {
		still := time.Now()
		simCfg.Clock = func() time.Time { return still }
	}
	return &World{Env: testenv.New(t, simCfg, opts...)}
}

// Produce runs the real producer once over the simulator: over entities, or every
// entity when none are given.
func (w *World) Produce(entities ...catalog.Entity) {
	w.T.Helper()
	p, err := producer.New(producer.Config{Domain: testenv.Domain, TopicPrefix: w.Prefix, Once: true, Logger: Logger(), Entities: entities,
		Topics: producer.TopicConfig{Partitions: 3, ReplicationFactor: 1}}, w.Client(), w.KOpts)
	if err != nil {
		w.T.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		w.T.Fatalf("producer: %v", err)
	}
}
