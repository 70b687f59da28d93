package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/configtest"
	"github.com/spf13/pflag"

	"github.com/gorgias-kafka/gorgias-kafka/internal/bigquerysink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// loadConsumer loads the consumer's configuration as main does: env on top of the
// process environment (set for the rest of the test), the flags args and the optional
// file.
func loadConsumer(t *testing.T, env map[string]string, file string, args ...string) (settings, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var s settings
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	l := newLoader(&s)
	l.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	err := l.Load(file, fs)
	return s, err
}

func TestConsumerConfig(t *testing.T) {
	load := func(env map[string]string, args ...string) (settings, error) {
		return loadConsumer(t, env, "", args...)
	}
	c, err := load(map[string]string{"DEST_URI": "duckdb:////var/lib/g.duckdb", "KAFKA_BROKERS": "k:9092", "SINK_BATCH_MAX_WAIT": "2s"}, "--once")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Sink.For(c.Dest) // the defaults that depend on the destination
	if c.Dest.Scheme() != "duckdb" || r.Name != "duckdb" || r.InstanceID != "duckdb" || !c.Sink.Once || r.BatchMaxWait.String() != "2s" || c.Kafka.Brokers[0] != "k:9092" {
		t.Fatalf("%+v\n%+v", c, r)
	}
	// A URI that no sink of this build serves (with a password), and bad values.
	_, err = load(map[string]string{"DEST_URI": "mysql://u:pw@h/db", "SINK_BATCH_MAX_RECORDS": "0", "DEST_SCHEMA": "a b"})
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
	if got := config.RedactURI("bigquery://proj?credentials_path=/k.json&token=abc&location=EU"); strings.Contains(got, "abc") {
		t.Errorf("RedactURI leaks: %s", got)
	}
}

// TestBigQueryConfigFile: the shipped BigQuery file loads, picks the BigQuery batch
// wait and catch-up lag, and an endpoint override that is not a URL is reported by key.
func TestBigQueryConfigFile(t *testing.T) {
	bq := driverConfig(t, "bigquery").(*bigquerysink.Config) // the struct every loader fills
	c, err := loadConsumer(t, nil, "../configs/sink-bigquery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Sink.For(c.Dest)
	if c.Dest.Scheme() != "bigquery" || r.BatchMaxWait != bigquerysink.BatchMaxWait || r.CatchUpLag != bigquerysink.CatchUpLag ||
		c.Dest.Schema != "gorgias" || bq.Retry.Attempts != 10 {
		t.Fatalf("got scheme %s, wait %s, catch-up lag %d, dataset %s, attempts %d", c.Dest.Scheme(), r.BatchMaxWait, r.CatchUpLag, c.Dest.Schema, bq.Retry.Attempts)
	}
	// The catch-up lag is the sink's own unless set: DuckDB never catches up by default.
	duck, err := loadConsumer(t, nil, "../configs/sink-duckdb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if lag := duck.Sink.For(duck.Dest).CatchUpLag; lag != -1 {
		t.Errorf("DuckDB catch-up lag %d, want -1 (never)", lag)
	}
	set, err := loadConsumer(t, map[string]string{"SINK_CATCHUP_LAG": "7000"}, "../configs/sink-bigquery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if lag := set.Sink.For(set.Dest).CatchUpLag; lag != 7000 {
		t.Errorf("SINK_CATCHUP_LAG=7000 gave %d", lag)
	}
	t.Run("bad endpoint", func(t *testing.T) {
		_, err := loadConsumer(t, map[string]string{"BIGQUERY_ENDPOINT": "127.0.0.1:9050"}, "../configs/sink-bigquery.yaml")
		if err == nil || !strings.Contains(err.Error(), "bigquery.endpoint") {
			t.Fatalf("bad endpoint: %v", err)
		}
	})
	// A later loader does not take that value for the key's default: the drivers'
	// sections are shared by every loader of the process (package sink keeps them).
	if _, err := loadConsumer(t, nil, ""); err != nil || bq.Endpoint != "" {
		t.Fatalf("a later load: endpoint %q, %v", bq.Endpoint, err)
	}
}

// driverConfig returns the configuration struct registered by the named sink, which
// every later loader fills.
func driverConfig(t *testing.T, name string) any {
	t.Helper()
	for _, d := range sink.Sections() {
		if d.Name == name {
			return d.Config
		}
	}
	t.Fatalf("no sink %s registered", name)
	return nil
}

// TestMetricsListen (consumer half; the producer's default is checked in producer).
func TestMetricsListen(t *testing.T) {
	loadC := func(env map[string]string, args ...string) (settings, error) {
		return loadConsumer(t, env, "", args...)
	}
	c, err := loadC(nil)
	if err != nil || c.Metrics.Listen != ":9465" {
		t.Fatalf("consumer default: %q %v", c.Metrics.Listen, err)
	}
	c, err = loadC(map[string]string{"METRICS_LISTEN": "127.0.0.1:9100"})
	if err != nil || c.Metrics.Listen != "127.0.0.1:9100" {
		t.Fatalf("env: %q %v", c.Metrics.Listen, err)
	}
	c, err = loadC(map[string]string{"METRICS_LISTEN": "127.0.0.1:9100"}, "--metrics.listen", "[::1]:0")
	if err != nil || c.Metrics.Listen != "[::1]:0" {
		t.Fatalf("flag: %q %v", c.Metrics.Listen, err)
	}
	c, err = loadC(nil, "--metrics.listen", "")
	if err != nil || c.Metrics.Listen != "" {
		t.Fatalf("empty (disabled): %q %v", c.Metrics.Listen, err)
	}
	// Viper ignores empty environment variables: "off" disables the server from there.
	c, err = loadC(map[string]string{"METRICS_LISTEN": "off"})
	if err != nil || c.Metrics.Listen != "" {
		t.Fatalf("off (disabled): %q %v", c.Metrics.Listen, err)
	}
	for _, bad := range []string{"9464", "localhost:http", ":99999", "a b:80", "host:-1"} {
		_, err := loadC(map[string]string{"METRICS_LISTEN": bad})
		if err == nil || !strings.Contains(err.Error(), "metrics.listen") || !strings.Contains(err.Error(), "\""+bad+"\"") {
			t.Errorf("%q: error should name the key and the value: %v", bad, err)
		}
	}
}

// TestShippedConfigsMatchKeys keeps the sink files in configs/ complete and true: every
// registered sink has configs/sink-<name>.yaml, which holds the consumer's common keys
// and that sink's own section, each with its default (or a value set on purpose), and
// nothing else.
func TestShippedConfigsMatchKeys(t *testing.T) {
	var s settings
	keys := newLoader(&s).Keys()
	// The common sections are the fields of settings; each driver adds its own.
	var common []string
	st := reflect.TypeOf(s)
	for i := 0; i < st.NumField(); i++ {
		common = append(common, st.Field(i).Tag.Get("config"))
	}
	in := func(k config.Key, sections []string) bool {
		for _, sec := range sections {
			if strings.HasPrefix(k.Name, sec+".") {
				return true
			}
		}
		return false
	}
	drivers := sink.Sections()
	if len(drivers) == 0 {
		t.Fatal("no sink registered")
	}
	shipped := map[string]bool{}
	for _, d := range drivers {
		name := "sink-" + d.Name + ".yaml"
		shipped[name] = true
		file := filepath.Join("..", "configs", name)
		if _, err := os.Stat(file); err != nil {
			t.Errorf("sink %s: %v", d.Name, err)
			continue
		}
		var mine []config.Key
		for _, k := range keys {
			if in(k, append(common[:len(common):len(common)], d.Name)) {
				mine = append(mine, k)
			}
		}
		// Each file's example destination is one its sink serves (the default URI is
		// DuckDB's); every other key holds its default.
		configtest.CheckFile(t, file, mine, func(k config.Key, v string) (string, bool) {
			if k.Name != "dest.uri" {
				return "", false
			}
			if served := (sink.Dest{URI: v}).Name(); served != d.Name {
				return fmt.Sprintf("served by sink %q, want %s", served, d.Name), true
			}
			return "", true
		})
	}
	// And no file for a sink this build does not have.
	files, err := filepath.Glob(filepath.Join("..", "configs", "sink-*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !shipped[filepath.Base(f)] {
			t.Errorf("%s: no sink of that name is registered", f)
		}
	}
}
