package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

func loadProducer(t *testing.T, env map[string]string, args []string, file string) (Producer, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	l := NewLoader(ProducerKeys())
	l.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return LoadProducer(l, file, fs)
}

const goodURI = "gorgias://acme?api_key=s3cr3t-key&email=ops@example.com"

func TestEnvOverridesNestedKeys(t *testing.T) {
	p, err := loadProducer(t, map[string]string{
		"GORGIAS_URI":            goodURI,
		"GORGIAS_BASE_URL":       "http://127.0.0.1:8089/api",
		"KAFKA_BROKERS":          "a:1, b:2",
		"PRODUCER_POLL_INTERVAL": "30s",
		"TOPICS_PARTITIONS":      "12",
	}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Kafka.Brokers, ",") != "a:1,b:2" || p.PollInterval.String() != "30s" || p.Partitions != 12 ||
		p.Gorgias.BaseURL != "http://127.0.0.1:8089/api" || p.Gorgias.Credentials.Domain != "acme" {
		t.Fatalf("overrides not applied: %+v", p)
	}
	// Flags beat the environment.
	p, err = loadProducer(t, map[string]string{"GORGIAS_URI": goodURI, "TOPICS_PARTITIONS": "12"},
		[]string{"--topics.partitions", "7", "--once", "--entities", "tickets"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Partitions != 7 || !p.Once || len(p.Entities) != 1 || p.Entities[0].Name != "tickets" {
		t.Fatalf("flags not applied: %+v", p)
	}
}

func TestAllErrorsAtOnceWithoutSecrets(t *testing.T) {
	_, err := loadProducer(t, map[string]string{
		"GORGIAS_URI":             "gorgias://?api_key=s3cr3t-key",
		"KAFKA_BROKERS":           "nohost",
		"TOPICS_PARTITIONS":       "many",
		"PRODUCER_LOOKBACK":       "a week",
		"PRODUCER_ENTITIES":       "tickets,nope",
		"LOG_LEVEL":               "loud",
		"PRODUCER_INTERVAL_START": "yesterday",
	}, nil, "")
	if err == nil {
		t.Fatal("bad values accepted")
	}
	msg := err.Error()
	for _, key := range []string{"gorgias.uri", "kafka.brokers", "topics.partitions", "producer.lookback",
		"producer.entities", "log.level", "producer.interval_start"} {
		if !strings.Contains(msg, key) {
			t.Errorf("error does not name %s:\n%s", key, msg)
		}
	}
	if strings.Contains(msg, "s3cr3t-key") {
		t.Fatalf("error leaks the API key:\n%s", msg)
	}
}

func TestConfigFileAndUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "p.yaml")
	os.WriteFile(f, []byte("kafka:\n  brokers: [x:1]\n  brokrs: [typo:1]\nproducer:\n  lookback: 48h\n"), 0o644)
	_, err := loadProducer(t, map[string]string{"GORGIAS_URI": goodURI}, nil, f)
	if err == nil || !strings.Contains(err.Error(), "kafka.brokrs") {
		t.Fatalf("unknown key not reported: %v", err)
	}
	os.WriteFile(f, []byte("kafka:\n  brokers: [x:1]\nproducer:\n  lookback: 48h\n"), 0o644)
	p, err := loadProducer(t, map[string]string{"GORGIAS_URI": goodURI}, nil, f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Lookback.Hours() != 48 || p.Kafka.Brokers[0] != "x:1" {
		t.Fatalf("file not applied: %+v", p)
	}
	if s := p.String(); strings.Contains(s, "s3cr3t-key") {
		t.Fatalf("String leaks the key: %s", s)
	}
}

// TestShippedConfigsMatchKeys keeps the files in configs/ complete and true: each holds
// every declared key of its binary with its default, and nothing else.
func TestShippedConfigsMatchKeys(t *testing.T) {
	// Values a file sets on purpose instead of the default.
	overrides := map[string]map[string]string{
		"../../configs/sink-bigquery.yaml": {"dest.uri": "bigquery://my-gcp-project?location=US"},
	}
	for file, keys := range map[string][]Key{
		"../../configs/producer.yaml":      ProducerKeys(),
		"../../configs/sink-duckdb.yaml":   ConsumerKeys(),
		"../../configs/sink-bigquery.yaml": ConsumerKeys(),
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		flatten(doc, "", got)
		var missing []string
		for _, k := range keys {
			v, ok := got[k.Name]
			if !ok {
				missing = append(missing, k.Name)
				continue
			}
			if want, ok := overrides[file][k.Name]; ok {
				if v != want {
					t.Errorf("%s: %s = %s, want %s", file, k.Name, v, want)
				}
			} else if v != flat(k.Default) {
				t.Errorf("%s: %s = %s, default is %s", file, k.Name, v, flat(k.Default))
			}
			delete(got, k.Name)
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s lacks %v", file, missing)
		}
		for k := range got {
			t.Errorf("%s has undeclared key %s", file, k)
		}
	}
}

func TestConsumerConfig(t *testing.T) {
	load := func(env map[string]string, args ...string) (Consumer, error) {
		for k, v := range env {
			t.Setenv(k, v)
		}
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		l := NewLoader(ConsumerKeys())
		l.RegisterFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return LoadConsumer(l, "", fs)
	}
	c, err := load(map[string]string{"DEST_URI": "duckdb:////var/lib/g.duckdb", "KAFKA_BROKERS": "k:9092", "SINK_BATCH_MAX_WAIT": "2s"}, "--once")
	if err != nil {
		t.Fatal(err)
	}
	if c.DestScheme != "duckdb" || c.Name != "duckdb" || !c.Once || c.BatchMaxWait.String() != "2s" || c.Kafka.Brokers[0] != "k:9092" {
		t.Fatalf("%+v", c)
	}
	_, err = load(map[string]string{"DEST_URI": "postgres://u:pw@h/db", "SINK_BATCH_MAX_RECORDS": "0", "DEST_SCHEMA": "a b"})
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for _, k := range []string{"dest.uri", "sink.batch_max_records", "dest.schema"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s: %v", k, err)
		}
	}
	if strings.Contains(err.Error(), "pw@") {
		t.Errorf("error leaks the URI password: %v", err)
	}
	if got := RedactURI("bigquery://proj?credentials_path=/k.json&token=abc&location=EU"); strings.Contains(got, "abc") {
		t.Errorf("RedactURI leaks: %s", got)
	}
}

// flatten stores the leaves of a nested YAML map under their dotted keys (kafka.tls.enabled).
func flatten(m map[string]any, prefix string, into map[string]string) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(sub, prefix+k+".", into)
			continue
		}
		into[prefix+k] = flat(v)
	}
}

func flat(v any) string {
	switch x := v.(type) {
	case []any:
		var s []string
		for _, e := range x {
			s = append(s, flat(e))
		}
		return strings.Join(s, ",")
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}

// TestBigQueryConfigFile: the shipped BigQuery file loads, picks the BigQuery batch
// wait, and an endpoint override that is not a URL is reported by key.
func TestBigQueryConfigFile(t *testing.T) {
	l := NewLoader(ConsumerKeys())
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	l.RegisterFlags(fs)
	c, err := LoadConsumer(l, "../../configs/sink-bigquery.yaml", fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.DestScheme != "bigquery" || c.BatchMaxWait != BigQueryBatchMaxWait || c.Schema != "gorgias" || c.BigQuery.MaxAttempts != 10 {
		t.Fatalf("got scheme %s, wait %s, dataset %s, attempts %d", c.DestScheme, c.BatchMaxWait, c.Schema, c.BigQuery.MaxAttempts)
	}
	t.Setenv("BIGQUERY_ENDPOINT", "127.0.0.1:9050")
	l = NewLoader(ConsumerKeys())
	fs = pflag.NewFlagSet("t", pflag.ContinueOnError)
	l.RegisterFlags(fs)
	if _, err := LoadConsumer(l, "../../configs/sink-bigquery.yaml", fs); err == nil || !strings.Contains(err.Error(), "bigquery.endpoint") {
		t.Fatalf("bad endpoint: %v", err)
	}
}
