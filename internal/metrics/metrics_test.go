package metrics_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/duckdbsink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/metrics"
	"github.com/gorgias-kafka/gorgias-kafka/internal/producer"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// scrape reads /metrics over HTTP and parses the Prometheus text format.
func scrape(t *testing.T, srv *metrics.Server) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, "http://"+srv.Addr()+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

func gather(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	mfs, err := g.Gather()
	if err != nil {
		t.Error(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value sums the samples of the family name whose labels include labels; ok is false
// when there is none.
func value(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) (v float64, ok bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		match := 0
		for _, lp := range m.GetLabel() {
			if want, ok := labels[lp.GetName()]; ok && want == lp.GetValue() {
				match++
			}
		}
		if match != len(labels) {
			continue
		}
		ok = true
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		}
	}
	return v, ok
}

func serve(t *testing.T, g prometheus.Gatherer, h *metrics.Health) *metrics.Server {
	t.Helper()
	srv, err := metrics.Serve("127.0.0.1:0", g, h, sinktest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func TestHealthEndpoints(t *testing.T) {
	h := metrics.NewHealth("starting up")
	srv := serve(t, prometheus.NewRegistry(), h)
	base := "http://" + srv.Addr()
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 503 || body != "not ready: starting up\n" {
		t.Errorf("/readyz before ready: %d %q", code, body)
	}
	h.SetReady()
	if code, body := get(t, base+"/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz when ready: %d %q", code, body)
	}
	h.SetNotReady("write batch to duckdb sink: disk full")
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "disk full") {
		t.Errorf("/readyz after a fatal error: %d %q", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz after a fatal error: %d", code)
	}
	if code, _ := get(t, base+"/nothing"); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
	addr := srv.Addr()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("server still answers after Close")
	}

	// An empty address disables the server.
	off, err := metrics.Serve("", prometheus.NewRegistry(), h, nil)
	if err != nil || off != nil || off.Addr() != "" || off.Close() != nil {
		t.Errorf("disabled server: %v %v", off, err)
	}
	if _, err := metrics.Serve("127.0.0.1:notaport", prometheus.NewRegistry(), h, nil); err == nil || !strings.Contains(err.Error(), "metrics.listen") {
		t.Errorf("bad address: %v", err)
	}
}

// landed counts what is in Kafka, read_committed: records per topic, and per key for
// the state topic (one state record per committed page).
func landed(t *testing.T, w *sinktest.World) (records map[string]int, statePages map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm := kadm.NewClient(mustClient(t, w.KOpts))
	defer adm.Close()
	var topics []string
	for _, e := range catalog.All() {
		topics = append(topics, e.Topic(w.Prefix))
	}
	stateTopic := producer.StateTopic(w.Prefix)
	topics = append(topics, stateTopic)
	ends, err := adm.ListCommittedOffsets(ctx, topics...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[int32]int64{}
	from := map[string]map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Offset == 0 {
			return
		}
		if want[o.Topic] == nil {
			want[o.Topic], from[o.Topic] = map[int32]int64{}, map[int32]kgo.Offset{}
		}
		want[o.Topic][o.Partition] = o.Offset
		from[o.Topic][o.Partition] = kgo.NewOffset().AtStart()
	})
	cl := mustClient(t, append(append([]kgo.Opt{}, w.KOpts...), kgo.ConsumePartitions(from),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords()))
	defer cl.Close()
	records, statePages = map[string]int{}, map[string]int{}
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading topics: %v (left %v)", ctx.Err(), want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := want[r.Topic][r.Partition]; ok && r.Offset >= end-1 {
				delete(want[r.Topic], r.Partition)
				if len(want[r.Topic]) == 0 {
					delete(want, r.Topic)
				}
			}
			if r.Attrs.IsControl() {
				return
			}
			if r.Topic == stateTopic {
				statePages[string(r.Key)]++
			} else {
				records[r.Topic]++
			}
		})
	}
	return records, statePages
}

func mustClient(t *testing.T, opts []kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// lagSpy records the largest lag reported per partition.
type lagSpy struct {
	*metrics.Sink
	mu     sync.Mutex
	maxLag map[sink.TopicPartition]int64
}

func (s *lagSpy) Lag(tp sink.TopicPartition, n int64) {
	s.Sink.Lag(tp, n)
	s.mu.Lock()
	s.maxLag[tp] = max(s.maxLag[tp], n)
	s.mu.Unlock()
}

// eventually scrapes srv until ok accepts the metrics, and returns them.
func eventually(t *testing.T, srv *metrics.Server, what string, ok func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mfs := scrape(t, srv)
		if ok(mfs) {
			return mfs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// background runs fn until the returned stop is called; stop returns fn's error.
func background(fn func(ctx context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

// TestPipelineMetrics runs the producer and the DuckDB sink continuously on real parts
// (simulator, kfake, DuckDB), twice, scraping /metrics over HTTP, and checks the
// counters against what landed in Kafka and in DuckDB.
func TestPipelineMetrics(t *testing.T) {
	w := sinktest.NewWorld(t, gorgiassim.Config{Seed: 7, Customers: 120, Tickets: 140, RateLimit: 500, RateWindow: time.Second})
	api, err := gorgias.NewClient(gorgias.Config{
		Credentials: gorgias.Credentials{Domain: "acme", Email: "sim@example.com", APIKey: "sim-api-key"},
		BaseURL:     "http://sim/api", Transport: w.Sim.RoundTripper(), RateLimit: 500, RateWindow: time.Second,
		BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond, Logger: sinktest.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	// One scripted 429 (no Retry-after: the client waits a jitter of at most 250 ms).
	w.Sim.SetFaults(gorgiassim.Faults{Next: []gorgiassim.Fault{{Status: http.StatusTooManyRequests}}})

	pm := metrics.NewProducer(api.Stats)
	psrv := serve(t, pm.Registry, pm.Health)
	if code, body := get(t, "http://"+psrv.Addr()+"/readyz"); code != 503 || !strings.Contains(body, "producer state") {
		t.Errorf("producer /readyz before start: %d %q", code, body)
	}
	sm := metrics.NewSink("duckdb")
	ssrv := serve(t, sm.Registry, sm.Health)
	if code, body := get(t, "http://"+ssrv.Addr()+"/readyz"); code != 503 || !strings.Contains(body, "consumer group") {
		t.Errorf("sink /readyz before start: %d %q", code, body)
	}
	ents := catalog.All()
	dbPath := filepath.Join(t.TempDir(), "m.duckdb")
	total := func(recs, pages map[string]int) (n int) {
		for _, c := range recs {
			n += c
		}
		for _, c := range pages {
			n += c
		}
		return n
	}

	prevRows := 0
	for round := 1; round <= 2; round++ {
		if round == 2 {
			w.Sim.Advance(12 * time.Hour)
		}

		// The producer, continuously, until every entity's sweep of this round is done.
		before := total(landed(t, w))
		p, err := producer.New(producer.Config{Domain: "acme", TopicPrefix: w.Prefix, PollInterval: time.Hour, Logger: sinktest.Logger(),
			Topics: producer.TopicConfig{Partitions: 3, ReplicationFactor: 1}, Metrics: pm, Hooks: pm.KafkaHooks()}, api, w.KOpts)
		if err != nil {
			t.Fatal(err)
		}
		stop := background(p.Run)
		pmf := eventually(t, psrv, "the producer's sweeps", func(mfs map[string]*dto.MetricFamily) bool {
			for _, e := range ents {
				if v, _ := value(mfs, "gorgias_kafka_producer_sweeps_total", map[string]string{"entity": e.Name}); v != float64(round) {
					return false
				}
			}
			return true
		})
		if code, _ := get(t, "http://"+psrv.Addr()+"/readyz"); code != 200 {
			t.Errorf("round %d: producer /readyz %d while running", round, code)
		}
		recs, pages := landed(t, w)
		// What the producer published: the topics minus the dead letters of earlier rounds.
		published := func(e catalog.Entity) int {
			if e.Name == "tickets" {
				return recs[e.Topic(w.Prefix)] - 2*(round-1)
			}
			return recs[e.Topic(w.Prefix)]
		}
		var rows int
		for _, e := range ents {
			rows += published(e)
		}
		// kprom, of the transactional client (a new client each run, counting from zero):
		// every record of this run and one state record per page.
		if v, _ := value(pmf, "gorgias_kafka_client_produce_records_total", nil); v != float64(total(recs, pages)-before) || v == 0 {
			t.Errorf("round %d: kprom produce_records_total %v, %d records landed in this run", round, v, total(recs, pages)-before)
		}
		for _, e := range ents {
			l := map[string]string{"entity": e.Name}
			if v, _ := value(pmf, "gorgias_kafka_producer_records_total", l); v != float64(published(e)) || v == 0 {
				t.Errorf("round %d: %s records_total %v, %d records published to Kafka", round, e.Name, v, published(e))
			}
			if v, _ := value(pmf, "gorgias_kafka_producer_pages_total", l); v != float64(pages[e.Name]) || v == 0 {
				t.Errorf("round %d: %s pages_total %v, %d state records in Kafka", round, e.Name, v, pages[e.Name])
			}
			wm := time.UnixMicro(p.States()[e.Name].Watermark)
			if v, ok := value(pmf, "gorgias_kafka_producer_watermark_timestamp_seconds", l); !ok || math.Abs(v-float64(wm.UnixMicro())/1e6) > 1e-3 {
				t.Errorf("round %d: %s watermark %v, state has %v", round, e.Name, v, wm)
			}
			if v, ok := value(pmf, "gorgias_kafka_producer_watermark_age_seconds", l); !ok || math.Abs(v-time.Since(wm).Seconds()) > 30 {
				t.Errorf("round %d: %s watermark age %v, want about %v", round, e.Name, v, time.Since(wm))
			}
		}
		st := w.Sim.Stats()
		if v, _ := value(pmf, "gorgias_kafka_gorgias_requests_total", nil); v != float64(st.Requests) {
			t.Errorf("round %d: gorgias requests_total %v, the simulator received %d", round, v, st.Requests)
		}
		if v, _ := value(pmf, "gorgias_kafka_gorgias_throttled_total", nil); v != 1 || st.InjectedOther != 1 {
			t.Errorf("round %d: gorgias throttled_total %v, the simulator answered %d 429s", round, v, st.InjectedOther)
		}
		if v, ok := value(pmf, "gorgias_kafka_gorgias_api_budget_used_ratio", nil); !ok || v <= 0 || v > 1 {
			t.Errorf("round %d: api budget used ratio %v", round, v)
		}
		if err := stop(); err != nil {
			t.Fatalf("producer: %v", err)
		}

		// Two undecodable records for the dead-letter topic.
		cl := mustClient(t, w.KOpts)
		if err := cl.ProduceSync(context.Background(),
			&kgo.Record{Topic: w.Prefix + "tickets", Key: []byte("1"), Value: []byte(`{"id": 1}`)},
			&kgo.Record{Topic: w.Prefix + "tickets", Key: []byte("2"), Value: []byte{0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0}},
		).FirstErr(); err != nil {
			t.Fatal(err)
		}
		cl.Close()

		// The sink, continuously, until it has written everything.
		duck, err := duckdbsink.Open(context.Background(), duckdbsink.Config{Path: dbPath, Logger: sinktest.Logger()})
		if err != nil {
			t.Fatal(err)
		}
		spy := &lagSpy{Sink: sm, maxLag: map[sink.TopicPartition]int64{}}
		r := sink.NewRunner(sink.Config{Name: "duckdb", TopicPrefix: w.Prefix, BatchMaxRecords: 150, BatchMaxWait: 100 * time.Millisecond,
			Logger: sinktest.Logger(), Metrics: spy, Hooks: sm.KafkaHooks()}, duck, w.Reg, w.KOpts)
		stop = background(r.Run)
		written := func(mfs map[string]*dto.MetricFamily, e catalog.Entity) float64 {
			v, _ := value(mfs, "gorgias_kafka_sink_rows_written_total", map[string]string{"sink": "duckdb", "table": e.Table()})
			return v
		}
		smf := eventually(t, ssrv, "the sink to catch up", func(mfs map[string]*dto.MetricFamily) bool {
			for _, e := range ents {
				if written(mfs, e) != float64(published(e)) {
					return false
				}
			}
			lags := mfs["gorgias_kafka_sink_lag_records"]
			// Every partition that holds records reports its lag (each entity has at least
			// one; a partition that never held one, e.g. two of the account's three, has
			// none to report).
			if lags == nil || len(lags.GetMetric()) < len(ents) || len(lags.GetMetric()) > 3*len(ents) {
				return false
			}
			for _, m := range lags.GetMetric() {
				if m.GetGauge().GetValue() != 0 {
					return false
				}
			}
			v, _ := value(mfs, "gorgias_kafka_sink_dead_letters_total", nil)
			return v == float64(2*round)
		})
		for reason, n := range map[string]float64{"not_avro": float64(round), "unknown_schema": float64(round)} {
			if v, _ := value(smf, "gorgias_kafka_sink_dead_letters_total", map[string]string{"topic": w.Prefix + "tickets", "reason": reason}); v != n {
				t.Errorf("round %d: dead letters (%s) %v, want %v", round, reason, v, n)
			}
		}
		if v, _ := value(smf, "gorgias_kafka_sink_batch_duration_seconds", nil); v < 1 {
			t.Errorf("round %d: batch_duration_seconds count %v", round, v)
		}
		if v, _ := value(smf, "gorgias_kafka_sink_assigned_partitions", nil); v != float64(3*len(ents)) {
			t.Errorf("round %d: assigned_partitions %v", round, v)
		}
		// kprom, of the group consumer (a new client each run): at least this round's
		// records and dead letters.
		if v, _ := value(smf, "gorgias_kafka_client_fetch_records_total", map[string]string{"sink": "duckdb"}); v < float64(rows-prevRows+2) {
			t.Errorf("round %d: kprom fetch_records_total %v, want at least %d", round, v, rows-prevRows+2)
		}
		prevRows = rows
		if v, _ := value(smf, "gorgias_kafka_ready", map[string]string{"sink": "duckdb"}); v != 1 {
			t.Errorf("round %d: gorgias_kafka_ready %v", round, v)
		}
		if code, _ := get(t, "http://"+ssrv.Addr()+"/readyz"); code != 200 {
			t.Errorf("round %d: sink /readyz %d after joining", round, code)
		}
		grew := false
		spy.mu.Lock()
		for _, n := range spy.maxLag {
			grew = grew || n > 0
		}
		spy.mu.Unlock()
		if !grew {
			t.Errorf("round %d: no partition ever showed a lag", round)
		}
		if err := stop(); err != nil {
			t.Fatalf("runner: %v", err)
		}
		for _, e := range ents {
			rows, err := duck.Rows(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			sinktest.CheckTruth(t, w.Reg, w.Sim, e, rows)
		}
		duck.Close()
	}
}
