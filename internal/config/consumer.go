package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// Consumer is the typed configuration of the consumer binary.
type Consumer struct {
	Kafka Kafka
	Log   Log
	// DestURI is the destination, ingestr style: duckdb:///gorgias.duckdb,
	// bigquery://<project>?credentials_path=...&location=...
	DestURI string
	// DestScheme is the URI scheme: "duckdb" or "bigquery".
	DestScheme string
	// Schema is the target schema (DuckDB) or dataset (BigQuery).
	Schema string
	// Changelog keeps an append-only <entity>_changelog table of every version.
	Changelog bool
	// Name names the sink (consumer group suffix, dead-letter header); default the scheme.
	Name  string
	Group string
	// InstanceID is the static group membership id of a continuous consumer (empty:
	// dynamic membership).
	InstanceID string
	// Entities to consume.
	Entities        []catalog.Entity
	BatchMaxRecords int
	BatchMaxBytes   int
	BatchMaxWait    time.Duration
	MemoryBudget    int
	Once            bool
	// OnceStallTimeout bounds --once and replay: they give up when nothing was stored
	// for this long.
	OnceStallTimeout time.Duration
	// DuckDBThreads and DuckDBMemoryLimit tune DuckDB (0 / "": DuckDB's defaults).
	DuckDBThreads     int
	DuckDBMemoryLimit string
	// DuckDBCheckpointThreshold is the WAL size that triggers a checkpoint.
	DuckDBCheckpointThreshold string
	// BigQuery tunes the BigQuery sink.
	BigQuery BigQuery
	// Observe is the metrics and health HTTP server.
	Observe Observe
}

// String describes the configuration with secrets redacted.
func (c Consumer) String() string {
	return fmt.Sprintf("dest=%s schema=%s sink=%s brokers=%s prefix=%q once=%v",
		RedactURI(c.DestURI), c.Schema, c.Name, strings.Join(c.Kafka.Brokers, ","), c.Kafka.TopicPrefix, c.Once)
}

// RedactURI hides credentials in a destination URI (user info and query values other
// than location).
func RedactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "<unparseable URI>"
	}
	if u.User != nil {
		u.User = url.User("***")
	}
	q := u.Query()
	for k := range q {
		if k != "location" && k != "credentials_path" {
			q.Set(k, "***")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// ConsumerKeys declares every key of the consumer.
func ConsumerKeys() []Key {
	keys := []Key{
		{Name: "dest.uri", Default: "duckdb:///gorgias.duckdb", Redact: RedactURI, Help: "destination: duckdb:///relative.duckdb, duckdb:////absolute.duckdb or bigquery://<project>?credentials_path=...&location=..."},
		{Name: "dest.schema", Default: "gorgias", Help: "target schema (DuckDB) or dataset (BigQuery)"},
		{Name: "dest.changelog", Default: false, Help: "also keep <entity>_changelog tables with every version"},
		{Name: "sink.name", Default: "", Help: "sink name (consumer group <prefix>sink-<name>); default the destination scheme"},
		{Name: "sink.group", Default: "", Help: "Kafka consumer group, for lag monitoring only (default <prefix>sink-<name>)"},
		{Name: "sink.entities", Default: "all", Alias: "entities", Help: "entities to consume, comma-separated, or all"},
		{Name: "sink.instance_id", Default: "", Help: "static consumer-group membership id (group.instance.id) of a continuous consumer: a restart with the same id resumes at once; each running instance of one sink needs its own; default the sink name; none: dynamic membership"},
		{Name: "sink.once", Default: false, Alias: "once", Help: "consume every partition until its stored offset reaches the end offset seen at start, then exit 0 (3 if interrupted or stalled)"},
		{Name: "sink.once_stall_timeout", Default: "5m", Help: "with --once or replay: give up (exit 3, naming the partitions behind) when nothing was stored for this long"},
		{Name: "sink.batch_max_records", Default: 5000, Help: "a batch closes at this many records"},
		{Name: "sink.batch_max_bytes", Default: 16 << 20, Help: "a batch closes at this many bytes of record values"},
		{Name: "sink.batch_max_wait", Default: "auto", Help: "a non-empty batch closes this long after its first record; auto: 5s for DuckDB, 1m for BigQuery (job quotas)"},
		{Name: "sink.memory_budget", Default: 32 << 20, Help: "bytes of fetched records held at most; partitions pause beyond half of it"},
		{Name: "duckdb.threads", Default: 1, Help: "DuckDB threads (0: one per core); 1 keeps memory lowest and is the cheapest in CPU"},
		{Name: "duckdb.memory_limit", Default: "64MB", Help: "DuckDB memory limit, e.g. 512MB (empty: DuckDB's default, 80% of RAM)"},
		{Name: "duckdb.checkpoint_threshold", Default: "32MB", Help: "WAL size that triggers a DuckDB checkpoint"},
	}
	keys = append(keys, KafkaKeys("gorgias-kafka-consumer")...)
	keys = append(keys, ObserveKeys(":9465")...)
	keys = append(keys, BigQueryKeys()...)
	return append(keys, LogKeys()...)
}

// LoadConsumer loads the consumer configuration (see LoadProducer). It reports every
// problem at once.
func LoadConsumer(l *Loader, file string, fs *pflag.FlagSet) (Consumer, error) {
	if err := l.Load(file, fs); err != nil {
		return Consumer{}, err
	}
	var c Consumer
	c.Kafka = loadKafka(l)
	c.Log = loadLog(l)
	c.Observe = loadObserve(l)
	c.DestURI = l.String("dest.uri")
	if u, err := url.Parse(c.DestURI); err != nil || (u.Scheme != "duckdb" && u.Scheme != "bigquery") {
		l.Problem("dest.uri", "must start with duckdb:// or bigquery://")
	} else {
		c.DestScheme = u.Scheme
	}
	c.Schema = l.String("dest.schema")
	if c.Schema == "" || strings.ContainsAny(c.Schema, " .\"`;") {
		l.Problem("dest.schema", "must be a plain identifier")
	}
	c.Changelog = l.Bool("dest.changelog")
	c.Name = l.String("sink.name")
	if c.Name == "" {
		c.Name = c.DestScheme
	}
	c.Group = l.String("sink.group")
	c.InstanceID = instanceID(l, c.Name)
	if ents, err := catalog.Parse(strings.Join(l.Strings("sink.entities"), ",")); err != nil {
		l.Problem("sink.entities", err.Error())
	} else {
		c.Entities = ents
	}
	c.Once = l.Bool("sink.once")
	c.OnceStallTimeout = l.Duration("sink.once_stall_timeout", time.Second)
	c.BatchMaxRecords = int(l.Int("sink.batch_max_records", 1, 10_000_000))
	c.BatchMaxBytes = int(l.Int("sink.batch_max_bytes", 1<<10, 1<<34))
	c.BatchMaxWait = batchMaxWait(l, c.DestScheme)
	c.MemoryBudget = int(l.Int("sink.memory_budget", 1<<20, 1<<40))
	c.DuckDBThreads = int(l.Int("duckdb.threads", 0, 1024))
	c.DuckDBMemoryLimit = l.String("duckdb.memory_limit")
	c.DuckDBCheckpointThreshold = l.String("duckdb.checkpoint_threshold")
	c.BigQuery = loadBigQuery(l)
	return c, l.Err()
}

// instanceID reads sink.instance_id: empty means the sink name, "none" dynamic
// membership (returned as ""). Kafka accepts at most 249 characters of [a-zA-Z0-9._-].
func instanceID(l *Loader, name string) string {
	id := strings.TrimSpace(l.String("sink.instance_id"))
	switch {
	case id == "":
		return name
	case strings.EqualFold(id, "none"):
		return ""
	case len(id) > 249 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "":
		l.Problem("sink.instance_id", "must be at most 249 characters of letters, digits, '.', '_' and '-'")
	}
	return id
}
