// Package testenv is the upstream environment of the pipeline's tests, without the
// producer: a kfake broker, a Gorgias simulator, a Gorgias client reaching the simulator
// in-process, and the check of what the entity topics hold against the simulator.
//
// It does not import the producer, so the producer's own tests use it; sinktest.World
// adds the producer on top (Produce).
package testenv

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
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
)

// Domain is the Gorgias account's domain in tests: records carry it in _domain.
const Domain = "acme"

// Entity is the catalog entity named name; a name the catalog lacks fails the test.
func Entity(t testing.TB, name string) catalog.Entity {
	t.Helper()
	e, err := catalog.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Env is one test's upstream world.
type Env struct {
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
	// SchemaByID, when set, resolves the schema ids of Confluent wire-format values
	// (e.g. a schemaregistry.Client's SchemaByID); see SingleObject.
	SchemaByID func(ctx context.Context, id int) (string, error)
}

// New starts a one-broker kfake cluster (closed with the test; opts are added, e.g.
// kfake.DataDir) and a simulator (see NewSim).
func New(t testing.TB, simCfg gorgiassim.Config, opts ...kfake.Opt) *Env {
	t.Helper()
	return On(t, NewCluster(t, opts...), NewSim(simCfg))
}

// NewCluster starts a one-broker kfake cluster, closed with the test; opts are added.
func NewCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// NewSim returns a simulator; a zero RateLimit means no rate limit (not the
// simulator's default), so tests are not paced unless they ask for it.
func NewSim(cfg gorgiassim.Config) *gorgiassim.Sim {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	return gorgiassim.New(cfg)
}

// TruthAsOf is the extraction time the truth derives versions at (a survey's or a
// message's updated_datetime is the latest of its *_datetime fields not after it): the
// simulator's clock rounded up to the end of its second, the rule the producer applies to
// the API's Date header, which has whole seconds.
func TruthAsOf(sim *gorgiassim.Sim) time.Time {
	return sim.Now().Truncate(time.Second).Add(time.Second - time.Microsecond)
}

// On is the environment of an existing cluster and simulator; the caller owns both
// (the cluster is not closed with the test).
func On(t testing.TB, c *kfake.Cluster, sim *gorgiassim.Sim) *Env {
	t.Helper()
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	return &Env{
		T:       t,
		Sim:     sim,
		KOpts:   FastOpts(c.ListenAddrs()...),
		Prefix:  Prefix(t),
		Reg:     reg,
		Brokers: c.ListenAddrs(),
		Cluster: c,
	}
}

// FastOpts are franz-go options reaching addrs that make fault-driven retries fast.
func FastOpts(addrs ...string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(addrs...),
		kgo.MetadataMinAge(50 * time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}
}

var unsafeTopic = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// Prefix is a topic prefix of the test's own, derived from its name.
func Prefix(t testing.TB) string {
	return unsafeTopic.ReplaceAllString(t.Name(), "_") + "."
}

// Logger discards logs unless TEST_VERBOSE_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("TEST_VERBOSE_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Client returns a Gorgias client of the account Domain that reaches the simulator
// in-process, with a generous rate limit and fast back-off; mods change its
// configuration (e.g. real HTTP, another key, the account's real limit).
func (e *Env) Client(mods ...func(*gorgias.Config)) *gorgias.Client {
	e.T.Helper()
	gc := gorgias.Config{
		Credentials: gorgias.Credentials{Domain: Domain, Email: "sim@example.com", APIKey: "sim-api-key"},
		BaseURL:     "http://gorgias.sim/api",
		Transport:   e.Sim.RoundTripper(),
		RateLimit:   1000,
		RateWindow:  time.Second,
		BackoffBase: 5 * time.Millisecond,
		BackoffMax:  50 * time.Millisecond,
		Logger:      Logger(),
	}
	for _, f := range mods {
		f(&gc)
	}
	api, err := gorgias.NewClient(gc)
	if err != nil {
		e.T.Fatal(err)
	}
	return api
}
