package producer

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// env is one test's world: a kfake cluster, a Gorgias simulator and the topic checks of
// testenv, and a client reaching the simulator in-process (api).
type env struct {
	*testenv.Env
	api *gorgias.Client
}

// newEnv starts a cluster and a simulator; clientCfg change the client's configuration.
func newEnv(t testing.TB, simCfg gorgiassim.Config, clientCfg ...func(*gorgias.Config)) *env {
	t.Helper()
	return newEnvWith(t, testenv.NewCluster(t), testenv.NewSim(simCfg), clientCfg...)
}

// newEnvWithCluster is newEnv on an existing cluster.
func newEnvWithCluster(t testing.TB, c *kfake.Cluster, simCfg gorgiassim.Config, clientCfg ...func(*gorgias.Config)) *env {
	t.Helper()
	return newEnvWith(t, c, testenv.NewSim(simCfg), clientCfg...)
}

// newEnvWith is newEnv on an existing cluster and simulator.
func newEnvWith(t testing.TB, c *kfake.Cluster, sim *gorgiassim.Sim, clientCfg ...func(*gorgias.Config)) *env {
	t.Helper()
	te := testenv.On(t, c, sim)
	return &env{Env: te, api: te.Client(clientCfg...)}
}

func (e *env) config(mod ...func(*Config)) Config {
	cfg := Config{
		Domain:      testenv.Domain,
		TopicPrefix: e.Prefix,
		Once:        true,
		Topics:      TopicConfig{Partitions: 3, ReplicationFactor: 1},
		Logger:      testenv.Logger(),
	}
	for _, f := range mod {
		f(&cfg)
	}
	return cfg
}

// run runs one producer to completion (Once) and returns Run's error.
func (e *env) run(ctx context.Context, cfg Config, hook func(step, entity string) error) error {
	e.T.Helper()
	p, err := New(cfg, e.api, e.KOpts)
	if err != nil {
		e.T.Fatal(err)
	}
	p.hook = hook
	return p.Run(ctx)
}

func (e *env) mustRun(cfg Config) {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.run(ctx, cfg, nil); err != nil {
		e.T.Fatalf("producer run: %v", err)
	}
}

// published is one record read back from an entity topic, with its decoded value.
type published struct {
	id        int64
	version   int64
	partition int32
	offset    int64
	value     map[string]any
	raw       []byte
	deletion  *tombstone.Deletion // a tombstone (value and raw nil)
}

// readTopic reads every committed record of an entity topic (testenv.Env.ReadTopic).
func (e *env) readTopic(ent catalog.Entity) []published {
	e.T.Helper()
	return e.published(ent, e.ReadTopic(e.T, ent))
}

// checkExact asserts that the topic of ent holds every object's current version, each
// version exactly once (testenv.Env.CheckTopicExact). It returns the records per id.
func (e *env) checkExact(ent catalog.Entity) map[int64][]published {
	e.T.Helper()
	byID := map[int64][]published{}
	for _, r := range e.published(ent, e.CheckTopicExact(e.T, ent)) {
		byID[r.id] = append(byID[r.id], r)
	}
	return byID
}

// published decodes recs of ent's topic; Confluent wire-format values go through
// testenv.Env.SingleObject (raw stays the value as published).
func (e *env) published(ent catalog.Entity, recs []testenv.TopicRecord) []published {
	e.T.Helper()
	out := make([]published, 0, len(recs))
	for _, r := range recs {
		if r.Delete != nil {
			out = append(out, published{id: r.ID, version: r.Version, partition: r.Partition, offset: r.Offset, deletion: r.Delete})
			continue
		}
		d, err := e.Reg.Decode(e.SingleObject(e.T, ent.Name, r.Value))
		if err != nil {
			e.T.Fatalf("decode record [%d]@%d: %v", r.Partition, r.Offset, err)
		}
		out = append(out, published{id: r.ID, version: r.Version, partition: r.Partition, offset: r.Offset, value: d.Value, raw: r.Value})
	}
	return out
}

// truth is the simulator's current version of every object of ent.
func (e *env) truth(ent catalog.Entity) map[int64]testenv.TruthObject {
	e.T.Helper()
	return e.Truth(e.T, ent)
}

var errCrash = errors.New("simulated crash")

func mustJSON(t testing.TB, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}
