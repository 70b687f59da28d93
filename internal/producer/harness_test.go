package producer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
)

// env is one test's world: a kfake cluster, a Gorgias simulator and a client reaching
// it in-process.
type env struct {
	t       testing.TB
	cluster *kfake.Cluster
	sim     *gorgiassim.Sim
	api     *gorgias.Client
	prefix  string
	kopts   []kgo.Opt
	reg     *avrocodec.Registry
}

var topicUnsafe = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// fastOpts are franz-go options that make fault-driven retries fast in tests.
func fastOpts(addrs []string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(addrs...),
		kgo.MetadataMinAge(50 * time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("TEST_VERBOSE_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newEnv(t testing.TB, simCfg gorgiassim.Config, clientCfg ...func(*gorgias.Config)) *env {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return newEnvWithCluster(t, c, simCfg, clientCfg...)
}

func newEnvWithCluster(t testing.TB, c *kfake.Cluster, simCfg gorgiassim.Config, clientCfg ...func(*gorgias.Config)) *env {
	t.Helper()
	if simCfg.RateLimit == 0 {
		simCfg.RateLimit = -1
	}
	sim := gorgiassim.New(simCfg)
	return newEnvWith(t, c, sim, clientCfg...)
}

func newEnvWith(t testing.TB, c *kfake.Cluster, sim *gorgiassim.Sim, clientCfg ...func(*gorgias.Config)) *env {
	t.Helper()
	gc := gorgias.Config{
		Credentials: gorgias.Credentials{Domain: "acme", Email: "sim@example.com", APIKey: "sim-api-key"},
		BaseURL:     "http://gorgias.sim/api",
		Transport:   sim.RoundTripper(),
		RateLimit:   1000,
		RateWindow:  time.Second,
		BackoffBase: 5 * time.Millisecond,
		BackoffMax:  50 * time.Millisecond,
		Logger:      testLogger(t),
	}
	for _, f := range clientCfg {
		f(&gc)
	}
	api, err := gorgias.NewClient(gc)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		t: t, cluster: c, sim: sim, api: api, reg: reg,
		prefix: topicUnsafe.ReplaceAllString(t.Name(), "_") + ".",
		kopts:  fastOpts(c.ListenAddrs()),
	}
}

func (e *env) config(mod ...func(*Config)) Config {
	cfg := Config{
		Domain:      "acme",
		TopicPrefix: e.prefix,
		Once:        true,
		Topics:      TopicConfig{Partitions: 3, ReplicationFactor: 1},
		Logger:      testLogger(e.t),
	}
	for _, f := range mod {
		f(&cfg)
	}
	return cfg
}

// run runs one producer to completion (Once) and returns Run's error.
func (e *env) run(ctx context.Context, cfg Config, hook func(step, entity string) error) error {
	e.t.Helper()
	p, err := New(cfg, e.api, e.kopts)
	if err != nil {
		e.t.Fatal(err)
	}
	p.hook = hook
	return p.Run(ctx)
}

func (e *env) mustRun(cfg Config) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.run(ctx, cfg, nil); err != nil {
		e.t.Fatalf("producer run: %v", err)
	}
}

// published is one record read back from an entity topic.
type published struct {
	id        int64
	version   int64
	partition int32
	offset    int64
	value     map[string]any
	raw       []byte
}

// readTopic reads every committed record of an entity topic.
func (e *env) readTopic(ent catalog.Entity) []published {
	e.t.Helper()
	topic := ent.Topic(e.prefix)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm, err := kadm.NewOptClient(e.kopts...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer adm.Close()
	ends, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		e.t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	var out []published
	if len(want) == 0 {
		return out
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, e.kopts...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			e.t.Fatalf("reading %s: timed out with partitions %v outstanding", topic, want)
		}
		fs.EachError(func(t string, p int32, err error) { e.t.Fatalf("fetch %s[%d]: %v", t, p, err) })
		for _, r := range fs.Records() {
			if end, ok := want[r.Partition]; ok && r.Offset >= end-1 {
				delete(want, r.Partition)
			}
			if r.Attrs.IsControl() {
				continue
			}
			d, err := e.reg.Decode(r.Value)
			if err != nil {
				e.t.Fatalf("decode %s[%d]@%d: %v", topic, r.Partition, r.Offset, err)
			}
			id := d.Value["id"].(int64)
			if string(r.Key) != strconv.FormatInt(id, 10) {
				e.t.Fatalf("record key %q != id %d", r.Key, id)
			}
			ver := d.Value[ent.VersionField].(time.Time).UnixMicro()
			out = append(out, published{id: id, version: ver, partition: r.Partition, offset: r.Offset, value: d.Value, raw: r.Value})
		}
	}
	return out
}

// truth is the expected latest version of every object, from the simulator, with the
// value the record must hold (except _extracted_at).
type truthObj struct {
	version int64
	value   map[string]any
}

func (e *env) truth(ent catalog.Entity) map[int64]truthObj {
	e.t.Helper()
	enc, err := avrocodec.NewEncoder(ent)
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.sim.Now()
	out := map[int64]truthObj{}
	for _, raw := range e.sim.Objects(ent.Resource) {
		r, err := enc.Encode(raw, avrocodec.Meta{Domain: "acme", AsOf: now}, nil)
		if err != nil {
			e.t.Fatalf("truth %s: %v", ent.Name, err)
		}
		d, err := e.reg.Decode(r.Value)
		if err != nil {
			e.t.Fatal(err)
		}
		out[r.ID] = truthObj{version: r.Version.UnixMicro(), value: d.Value}
	}
	return out
}

// checkExact asserts that the topic of ent holds every object's current version, each
// version exactly once, no unknown id, and that the newest record per id equals the
// simulator's object field for field. It returns the records per id.
func (e *env) checkExact(ent catalog.Entity) map[int64][]published {
	e.t.Helper()
	recs := e.readTopic(ent)
	byID := map[int64][]published{}
	seen := map[[2]int64]bool{}
	var dups []string
	for _, r := range recs {
		k := [2]int64{r.id, r.version}
		if seen[k] {
			dups = append(dups, fmt.Sprintf("%d@%s", r.id, fmtMicros(r.version)))
		}
		seen[k] = true
		byID[r.id] = append(byID[r.id], r)
	}
	if len(dups) > 0 {
		e.t.Errorf("%s: %d duplicate versions, e.g. %v", ent.Name, len(dups), dups[:min(5, len(dups))])
	}
	truth := e.truth(ent)
	var missing, stale, extra, diff []string
	for id, tr := range truth {
		rs := byID[id]
		if len(rs) == 0 {
			missing = append(missing, strconv.FormatInt(id, 10))
			continue
		}
		latest := rs[0]
		for _, r := range rs[1:] {
			if r.version > latest.version {
				latest = r
			}
		}
		if latest.version != tr.version {
			stale = append(stale, fmt.Sprintf("%d: have %s want %s", id, fmtMicros(latest.version), fmtMicros(tr.version)))
			continue
		}
		if d := valueDiff(latest.value, tr.value); d != "" && len(diff) < 3 {
			diff = append(diff, fmt.Sprintf("%d: %s", id, d))
		}
	}
	for id := range byID {
		if _, ok := truth[id]; !ok {
			extra = append(extra, strconv.FormatInt(id, 10))
		}
	}
	for _, l := range []struct {
		what string
		ids  []string
	}{{"missing", missing}, {"stale", stale}, {"unknown", extra}, {"different", diff}} {
		if len(l.ids) > 0 {
			sort.Strings(l.ids)
			e.t.Errorf("%s: %d %s objects, e.g. %v", ent.Name, len(l.ids), l.what, l.ids[:min(5, len(l.ids))])
		}
	}
	if len(truth) == 0 {
		e.t.Errorf("%s: the simulator has no objects; the test proves nothing", ent.Name)
	}
	return byID
}

func valueDiff(got, want map[string]any) string {
	g, w := map[string]any{}, map[string]any{}
	for k, v := range got {
		if k != "_extracted_at" {
			g[k] = v
		}
	}
	for k, v := range want {
		if k != "_extracted_at" {
			w[k] = v
		}
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) == string(wb) {
		return ""
	}
	for k := range w {
		a, _ := json.Marshal(g[k])
		b, _ := json.Marshal(w[k])
		if string(a) != string(b) {
			return fmt.Sprintf("field %s: got %s want %s", k, a, b)
		}
	}
	return "extra fields"
}

var errCrash = errors.New("simulated crash")

func mustJSON(t testing.TB, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}
