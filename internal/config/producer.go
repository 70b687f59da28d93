package config

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
)

// Log configures log/slog output.
type Log struct {
	Level  slog.Level
	Format string // "text" or "json"
}

// Producer is the typed configuration of the producer binary.
type Producer struct {
	Kafka Kafka
	Log   Log
	// Gorgias holds the account credentials and client tuning.
	Gorgias gorgias.Config
	// Entities to sweep.
	Entities []catalog.Entity
	// Partitions, ReplicationFactor and RetentionMs apply when topics are created.
	Partitions        int32
	ReplicationFactor int16
	RetentionMs       int64
	TransactionalID   string
	PollInterval      time.Duration
	Lookback          time.Duration
	IntervalStart     time.Time
	IntervalEnd       time.Time
	ProgressEvery     time.Duration
	ClockSkew         time.Duration
	Once              bool
	// Observe is the metrics and health HTTP server.
	Observe Observe
}

// String describes the configuration with secrets redacted.
func (p Producer) String() string {
	var names []string
	for _, e := range p.Entities {
		names = append(names, e.Name)
	}
	return fmt.Sprintf("account=%s base_url=%s brokers=%s prefix=%q entities=%s once=%v",
		p.Gorgias.Credentials, p.Gorgias.BaseURL, strings.Join(p.Kafka.Brokers, ","), p.Kafka.TopicPrefix,
		strings.Join(names, ","), p.Once)
}

// LogKeys are the logging keys, shared by both binaries.
func LogKeys() []Key {
	return []Key{
		{Name: "log.level", Default: "info", Help: "log level: debug, info, warn or error"},
		{Name: "log.format", Default: "text", Help: "log format: text or json"},
	}
}

// ProducerKeys declares every key of the producer.
func ProducerKeys() []Key {
	keys := []Key{
		{Name: "gorgias.uri", Default: "", Secret: true, Help: "Gorgias account as gorgias://<domain>?api_key=<key>&email=<email>"},
		{Name: "gorgias.base_url", Default: "", Help: "override of https://<domain>.gorgias.com/api (proxies, simulator)"},
		{Name: "gorgias.rate_limit", Default: 40, Help: "API requests allowed per window for the account"},
		{Name: "gorgias.rate_window", Default: "20s", Help: "length of the rate-limit window"},
		{Name: "gorgias.max_retries", Default: 8, Help: "retries of 5xx, timeouts and malformed answers"},
		{Name: "gorgias.request_timeout", Default: "60s", Help: "timeout of one API request"},
		{Name: "producer.entities", Default: "all", Alias: "entities", Help: "entities to sweep, comma-separated, or all"},
		{Name: "producer.once", Default: false, Alias: "once", Help: "sweep each entity once, then exit"},
		{Name: "producer.poll_interval", Default: "1m", Help: "pause between sweeps in continuous mode"},
		{Name: "producer.lookback", Default: "168h", Help: "window re-read for messages and surveys, which change after creation"},
		{Name: "producer.interval_start", Default: "", Alias: "interval-start", Help: "publish only versions at or after this time (RFC 3339 or date)"},
		{Name: "producer.interval_end", Default: "", Alias: "interval-end", Help: "publish only versions at or before this time (RFC 3339 or date)"},
		{Name: "producer.progress_every", Default: "10s", Help: "interval of progress log lines during a sweep"},
		{Name: "producer.clock_skew", Default: "5s", Help: "allowance for clock skew between Gorgias servers"},
		{Name: "producer.transactional_id", Default: "", Help: "Kafka transactional id (default <prefix>producer)"},
		{Name: "topics.partitions", Default: 3, Help: "partitions of entity topics created by the producer"},
		{Name: "topics.replication_factor", Default: -1, Help: "replication factor of created topics (-1: broker default)"},
		{Name: "topics.retention_ms", Default: -1, Help: "retention of entity topics in ms (-1: forever, so history can be replayed)"},
	}
	keys = append(keys, KafkaKeys("gorgias-kafka-producer")...)
	keys = append(keys, ObserveKeys(":9464")...)
	return append(keys, LogKeys()...)
}

// LoadProducer loads the producer configuration from file (optional), the environment
// and the flags in fs (which must have been registered with RegisterFlags on a loader
// of ProducerKeys and parsed). It reports every problem at once.
func LoadProducer(l *Loader, file string, fs *pflag.FlagSet) (Producer, error) {
	if err := l.Load(file, fs); err != nil {
		return Producer{}, err
	}
	var p Producer
	p.Kafka = loadKafka(l)
	p.Log = loadLog(l)
	p.Observe = loadObserve(l)

	if uri := l.String("gorgias.uri"); uri == "" {
		l.Problem("gorgias.uri", "is required (gorgias://<domain>?api_key=<key>&email=<email>)")
	} else if creds, err := gorgias.ParseURI(uri); err != nil {
		l.Problem("gorgias.uri", err.Error())
	} else {
		p.Gorgias.Credentials = creds
	}
	if base := l.String("gorgias.base_url"); base != "" {
		if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.Problem("gorgias.base_url", "must be an http(s) URL")
		}
		p.Gorgias.BaseURL = base
	}
	p.Gorgias.RateLimit = int(l.Int("gorgias.rate_limit", 1, 10000))
	p.Gorgias.RateWindow = l.Duration("gorgias.rate_window", time.Second)
	p.Gorgias.MaxRetries = int(l.Int("gorgias.max_retries", 0, 100))
	p.Gorgias.RequestTimeout = l.Duration("gorgias.request_timeout", time.Second)

	if ents, err := catalog.Parse(strings.Join(l.Strings("producer.entities"), ",")); err != nil {
		l.Problem("producer.entities", err.Error())
	} else {
		p.Entities = ents
	}
	p.Once = l.Bool("producer.once")
	p.PollInterval = l.Duration("producer.poll_interval", time.Second)
	p.Lookback = l.Duration("producer.lookback", 0)
	p.IntervalStart = l.Time("producer.interval_start")
	p.IntervalEnd = l.Time("producer.interval_end")
	if !p.IntervalStart.IsZero() && !p.IntervalEnd.IsZero() && !p.IntervalStart.Before(p.IntervalEnd) {
		l.Problem("producer.interval_end", "must be after producer.interval_start")
	}
	p.ProgressEvery = l.Duration("producer.progress_every", 100*time.Millisecond)
	p.ClockSkew = l.Duration("producer.clock_skew", 0)
	p.TransactionalID = l.String("producer.transactional_id")
	p.Partitions = int32(l.Int("topics.partitions", 1, 10000))
	p.ReplicationFactor = int16(l.Int("topics.replication_factor", -1, 32))
	if p.ReplicationFactor == 0 {
		l.Problem("topics.replication_factor", "must be -1 or at least 1")
	}
	p.RetentionMs = l.Int("topics.retention_ms", -1, 1<<62)
	if p.RetentionMs == 0 {
		l.Problem("topics.retention_ms", "must be -1 (forever) or positive")
	}
	return p, l.Err()
}

func loadLog(l *Loader) Log {
	var lg Log
	if err := lg.Level.UnmarshalText([]byte(l.String("log.level"))); err != nil {
		l.Problem("log.level", "must be debug, info, warn or error")
	}
	lg.Format = l.String("log.format")
	if lg.Format != "text" && lg.Format != "json" {
		l.Problem("log.format", "must be text or json")
	}
	return lg
}

// Logger returns a slog logger writing to w in the configured format and level.
func (lg Log) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: lg.Level}
	if lg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OneLine joins a (possibly joined) error into one line, for the single stderr line a
// failing binary prints.
func OneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
