package main

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
	const file = "../configs/producer.yaml"
	var s settings
	keys := newLoader(&s, false).Keys()
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
		if v != flat(k.Default) {
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
