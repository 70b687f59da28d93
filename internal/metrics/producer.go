package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/producer"
)

// Producer holds the producer binary's metrics. It implements producer.Observer; pass
// it as producer.Config.Metrics and its KafkaHooks as producer.Config.Hooks.
type Producer struct {
	base
	records, pages, sweeps *prometheus.CounterVec

	mu         sync.Mutex
	watermarks map[string]time.Time
	now        func() time.Time
}

var _ producer.Observer = (*Producer)(nil)

// NewProducer returns the producer's metrics. stats, if not nil, is read at every scrape
// for the Gorgias API counters (pass (*gorgias.Client).Stats).
func NewProducer(stats func() gorgias.Stats) *Producer {
	m := &Producer{
		base: newBase("connecting to Kafka and reading the producer state", nil),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "producer", Name: "records_total",
			Help: "Records published (committed in Kafka transactions), per entity.",
		}, []string{"entity"}),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "producer", Name: "pages_total",
			Help: "Gorgias pages committed (one Kafka transaction each), per entity.",
		}, []string{"entity"}),
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "producer", Name: "sweeps_total",
			Help: "Sweeps finished, per entity.",
		}, []string{"entity"}),
		watermarks: map[string]time.Time{},
		now:        time.Now,
	}
	m.Registry.MustRegister(m.records, m.pages, m.sweeps, watermarkCollector{m})
	if stats != nil {
		m.Registry.MustRegister(gorgiasCollector{stats})
	}
	return m
}

// StateLoaded implements producer.Observer: the producer is ready.
func (m *Producer) StateLoaded(watermarks map[string]time.Time) {
	m.mu.Lock()
	for e, wm := range watermarks {
		m.records.WithLabelValues(e)
		m.pages.WithLabelValues(e)
		m.sweeps.WithLabelValues(e)
		if !wm.IsZero() {
			m.watermarks[e] = wm
		}
	}
	m.mu.Unlock()
	m.Health.SetReady()
}

// PageCommitted implements producer.Observer.
func (m *Producer) PageCommitted(entity string, records int) {
	m.pages.WithLabelValues(entity).Inc()
	m.records.WithLabelValues(entity).Add(float64(records))
}

// SweepDone implements producer.Observer.
func (m *Producer) SweepDone(entity string, watermark time.Time) {
	m.sweeps.WithLabelValues(entity).Inc()
	if watermark.IsZero() {
		return
	}
	m.mu.Lock()
	m.watermarks[entity] = watermark
	m.mu.Unlock()
}

// watermarkCollector exports the committed watermark of each entity and its age at
// scrape time.
type watermarkCollector struct{ m *Producer }

var (
	watermarkDesc = prometheus.NewDesc(Namespace+"_producer_watermark_timestamp_seconds",
		"Committed watermark per entity (Unix seconds): every object version up to it has been published.", []string{"entity"}, nil)
	watermarkAgeDesc = prometheus.NewDesc(Namespace+"_producer_watermark_age_seconds",
		"Now minus the committed watermark, per entity.", []string{"entity"}, nil)
)

func (c watermarkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- watermarkDesc
	ch <- watermarkAgeDesc
}

func (c watermarkCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	now := c.m.now()
	for e, wm := range c.m.watermarks {
		ch <- prometheus.MustNewConstMetric(watermarkDesc, prometheus.GaugeValue, float64(wm.UnixMicro())/1e6, e)
		ch <- prometheus.MustNewConstMetric(watermarkAgeDesc, prometheus.GaugeValue, now.Sub(wm).Seconds(), e)
	}
}

// gorgiasCollector reads the Gorgias client's counters at scrape time.
type gorgiasCollector struct{ stats func() gorgias.Stats }

func gdesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(Namespace+"_gorgias_"+name, help, nil, nil)
}

var (
	gRequests   = gdesc("requests_total", "HTTP requests sent to the Gorgias API, retries included.")
	gThrottled  = gdesc("throttled_total", "429 Too Many Requests answers received from the Gorgias API.")
	gRetries    = gdesc("retries_total", "Retries after 5xx answers, timeouts, transport errors and malformed bodies.")
	gServerErrs = gdesc("server_errors_total", "5xx answers received from the Gorgias API.")
	gBudget     = gdesc("api_budget_used_ratio", "Share of the account's API budget in use (used/limit of the last X-Gorgias-Account-Api-Call-Limit header; shared by every client of the account).")
	gPacing     = gdesc("pacing_wait_seconds_total", "Time spent waiting for API budget before sending requests, summed over callers.")
	gRetryWait  = gdesc("retry_wait_seconds_total", "Time slept for Retry-after and back-off.")
)

func (c gorgiasCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{gRequests, gThrottled, gRetries, gServerErrs, gBudget, gPacing, gRetryWait} {
		ch <- d
	}
}

func (c gorgiasCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	counter(gRequests, float64(s.Requests))
	counter(gThrottled, float64(s.Throttled))
	counter(gRetries, float64(s.Retries))
	counter(gServerErrs, float64(s.ServerErrors))
	counter(gPacing, s.WaitTime.Seconds())
	counter(gRetryWait, s.RetryWait.Seconds())
	budget := 0.0
	if s.LastLimit > 0 {
		budget = float64(s.LastUsed) / float64(s.LastLimit)
	}
	ch <- prometheus.MustNewConstMetric(gBudget, prometheus.GaugeValue, budget)
}
