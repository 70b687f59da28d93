package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/configtest"
	"github.com/spf13/pflag"
)

// loadProducer loads the producer's configuration as main does: env on top of the
// process environment, the flags args and the optional file.
func loadProducer(t *testing.T, env map[string]string, args []string, file string) (settings, error) {
	t.Helper()
	return loadSettings(t, false, env, args, file)
}

// loadSettings is loadProducer; accountOptional loads as `producer status` does.
func loadSettings(t *testing.T, accountOptional bool, env map[string]string, args []string, file string) (settings, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var s settings
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	l := newLoader(&s, accountOptional)
	l.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	err := l.Load(file, fs)
	return s, err
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
	if strings.Join(p.Kafka.Brokers, ",") != "a:1,b:2" || p.Producer.PollInterval.String() != "30s" || p.Topics.Partitions != 12 ||
		p.Gorgias.BaseURL != "http://127.0.0.1:8089/api" || p.Gorgias.Credentials.Domain != "acme" {
		t.Fatalf("overrides not applied: %+v", p)
	}
	// Flags beat the environment.
	p, err = loadProducer(t, map[string]string{"GORGIAS_URI": goodURI, "TOPICS_PARTITIONS": "12"},
		[]string{"--topics.partitions", "7", "--once", "--entities", "tickets"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Topics.Partitions != 7 || !p.Producer.Once || len(p.Producer.Entities) != 1 || p.Producer.Entities[0].Name != "tickets" {
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
	if p.Producer.Lookback.Hours() != 48 || p.Kafka.Brokers[0] != "x:1" {
		t.Fatalf("file not applied: %+v", p)
	}
	if s := p.String(); strings.Contains(s, "s3cr3t-key") {
		t.Fatalf("String leaks the key: %s", s)
	}
}

// TestMetricsListen (producer half): the producer's own default address. The consumer
// half, and the checks of the key (one metrics.Config for both), are in consumer.
func TestMetricsListen(t *testing.T) {
	p, err := loadProducer(t, map[string]string{"GORGIAS_URI": goodURI}, nil, "")
	if err != nil || p.Metrics.Listen != ":9464" {
		t.Fatalf("producer default: %q %v", p.Metrics.Listen, err)
	}
}

func TestProducerStatusNeedsNoAccount(t *testing.T) {
	t.Setenv("GORGIAS_URI", "")
	p, err := loadSettings(t, true, nil, []string{"--kafka.brokers", "k:9092", "--entities", "tickets"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Kafka.Brokers[0] != "k:9092" || len(p.Producer.Entities) != 1 || p.Producer.Entities[0].Name != "tickets" {
		t.Fatalf("%+v", p)
	}
	if _, err := loadSettings(t, true, nil, []string{"--kafka.brokers", "nohost"}, ""); err == nil || !strings.Contains(err.Error(), "kafka.brokers") {
		t.Fatalf("bad brokers accepted: %v", err)
	}
}

// TestShippedConfigsMatchKeys keeps configs/producer.yaml complete and true: it holds
// every declared key of the producer with its default, and nothing else.
func TestShippedConfigsMatchKeys(t *testing.T) {
	var s settings
	configtest.CheckFile(t, "../configs/producer.yaml", newLoader(&s, false).Keys(), nil)
}
