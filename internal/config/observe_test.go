package config

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestMetricsListen(t *testing.T) {
	loadC := func(env map[string]string, args ...string) (Consumer, error) {
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
	p, err := loadProducer(t, map[string]string{"GORGIAS_URI": goodURI}, nil, "")
	if err != nil || p.Observe.Listen != ":9464" {
		t.Fatalf("producer default: %q %v", p.Observe.Listen, err)
	}
	c, err := loadC(nil)
	if err != nil || c.Observe.Listen != ":9465" {
		t.Fatalf("consumer default: %q %v", c.Observe.Listen, err)
	}
	c, err = loadC(map[string]string{"METRICS_LISTEN": "127.0.0.1:9100"})
	if err != nil || c.Observe.Listen != "127.0.0.1:9100" {
		t.Fatalf("env: %q %v", c.Observe.Listen, err)
	}
	c, err = loadC(map[string]string{"METRICS_LISTEN": "127.0.0.1:9100"}, "--metrics.listen", "[::1]:0")
	if err != nil || c.Observe.Listen != "[::1]:0" {
		t.Fatalf("flag: %q %v", c.Observe.Listen, err)
	}
	c, err = loadC(nil, "--metrics.listen", "")
	if err != nil || c.Observe.Listen != "" {
		t.Fatalf("empty (disabled): %q %v", c.Observe.Listen, err)
	}
	// Viper ignores empty environment variables: "off" disables the server from there.
	c, err = loadC(map[string]string{"METRICS_LISTEN": "off"})
	if err != nil || c.Observe.Listen != "" {
		t.Fatalf("off (disabled): %q %v", c.Observe.Listen, err)
	}
	for _, bad := range []string{"9464", "localhost:http", ":99999", "a b:80", "host:-1"} {
		_, err := loadC(map[string]string{"METRICS_LISTEN": bad})
		if err == nil || !strings.Contains(err.Error(), "metrics.listen") || !strings.Contains(err.Error(), "\""+bad+"\"") {
			t.Errorf("%q: error should name the key and the value: %v", bad, err)
		}
	}
}

func TestProducerStatusNeedsNoAccount(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	l := NewLoader(ProducerKeys())
	l.RegisterFlags(fs)
	t.Setenv("GORGIAS_URI", "")
	if err := fs.Parse([]string{"--kafka.brokers", "k:9092", "--entities", "tickets"}); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProducerStatus(l, "", fs)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kafka.Brokers[0] != "k:9092" || len(p.Entities) != 1 || p.Entities[0].Name != "tickets" {
		t.Fatalf("%+v", p)
	}
	fs = pflag.NewFlagSet("test", pflag.ContinueOnError)
	l = NewLoader(ProducerKeys())
	l.RegisterFlags(fs)
	if err := fs.Parse([]string{"--kafka.brokers", "nohost"}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadProducerStatus(l, "", fs); err == nil || !strings.Contains(err.Error(), "kafka.brokers") {
		t.Fatalf("bad brokers accepted: %v", err)
	}
}
