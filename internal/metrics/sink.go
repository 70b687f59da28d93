package metrics

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Sink holds a sink runner's metrics, labelled sink=<name>. It implements
// sink.Observer; pass it as sink.Config.Metrics and its KafkaHooks as sink.Config.Hooks.
type Sink struct {
	base
	rows     *prometheus.CounterVec
	batches  prometheus.Histogram
	lag      *prometheus.GaugeVec
	dead     *prometheus.CounterVec
	assigned prometheus.Gauge
}

var _ sink.Observer = (*Sink)(nil)

// NewSink returns the metrics of the sink named name.
func NewSink(name string) *Sink {
	labels := prometheus.Labels{"sink": name}
	m := &Sink{
		base: newBase("preparing the destination and joining the consumer group", labels),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "sink", Name: "rows_written_total", ConstLabels: labels,
			Help: "Records written to the destination (committed batches), per entity table.",
		}, []string{"table"}),
		batches: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "sink", Name: "batch_duration_seconds", ConstLabels: labels,
			Help:    "Time to write one batch: decode, dead-letter, atomic write of rows and offsets.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14), // 5 ms .. 41 s
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "sink", Name: "lag_records", ConstLabels: labels,
			Help: "Per assigned partition: the last stable offset seen in the latest fetch minus the next offset written to the destination.",
		}, []string{"topic", "partition"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "sink", Name: "dead_letters_total", ConstLabels: labels,
			Help: "Records sent to the dead-letter topic, per source topic and reason class.",
		}, []string{"topic", "reason"}),
		assigned: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "sink", Name: "assigned_partitions", ConstLabels: labels,
			Help: "Partitions currently assigned to this sink runner.",
		}),
	}
	m.Registry.MustRegister(m.rows, m.batches, m.lag, m.dead, m.assigned)
	return m
}

// BatchWritten implements sink.Observer.
func (m *Sink) BatchWritten(rowsPerTable map[string]int, _ []sink.Range, d time.Duration) {
	for t, n := range rowsPerTable {
		m.rows.WithLabelValues(t).Add(float64(n))
	}
	m.batches.Observe(d.Seconds())
}

// DeadLettered implements sink.Observer.
func (m *Sink) DeadLettered(topic, reason string) {
	m.dead.WithLabelValues(topic, ReasonClass(reason)).Inc()
}

// Joined implements sink.Observer: the runner is in its group, the sink is ready.
func (m *Sink) Joined(assigned []sink.TopicPartition) {
	m.assigned.Add(float64(len(assigned)))
	m.Health.SetReady()
}

// Released implements sink.Observer.
func (m *Sink) Released(parts []sink.TopicPartition) {
	m.assigned.Sub(float64(len(parts)))
	for _, tp := range parts {
		m.lag.DeleteLabelValues(tp.Topic, strconv.Itoa(int(tp.Partition)))
	}
}

// Lag implements sink.Observer.
func (m *Sink) Lag(tp sink.TopicPartition, lag int64) {
	m.lag.WithLabelValues(tp.Topic, strconv.Itoa(int(tp.Partition))).Set(float64(lag))
}

// ReasonClass maps a dead-letter reason (the dlq.reason header, an error text holding
// record details) to a short class, so the reason label stays bounded: not_avro,
// unknown_schema, corrupt, wrong_entity, unexpected_topic or other.
func ReasonClass(reason string) string {
	switch {
	case strings.Contains(reason, avrocodec.ErrNotSingleObject.Error()):
		return "not_avro"
	case strings.Contains(reason, avrocodec.ErrUnknownSchema.Error()):
		return "unknown_schema"
	case strings.Contains(reason, avrocodec.ErrCorruptRecord.Error()):
		return "corrupt"
	case strings.Contains(reason, "belongs to entity"):
		return "wrong_entity"
	case strings.Contains(reason, "unexpected topic"):
		return "unexpected_topic"
	}
	return "other"
}
