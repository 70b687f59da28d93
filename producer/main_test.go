package main

import (
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"

	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestStatusCommand runs `producer status` through run, as the binary does, after a real
// producer run.
func TestStatusCommand(t *testing.T) {
	w := sinktest.NewWorld(t, gorgiassim.Config{Seed: 5, Customers: 40, Tickets: 50})
	w.Produce()
	cl, err := kgo.NewClient(w.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	brokers := strings.Join(cl.OptValue(kgo.SeedBrokers).([]string), ",")
	cl.Close()
	t.Setenv("GORGIAS_URI", "") // status needs no account
	args := []string{"producer", "status", "--kafka.brokers", brokers, "--kafka.topic_prefix", w.Prefix}
	defer func(old []string) { os.Args = old }(os.Args)
	os.Args = args

	code, out, errOut := proctest.Capture(t, run)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1+len(catalog.All()) || !strings.HasPrefix(lines[0], "ENTITY") {
		t.Fatalf("output:\n%s", out)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		wm, err := time.Parse(time.RFC3339Nano, f[1])
		if err != nil || f[5] != "yes" || f[4] == "0" {
			t.Errorf("line %q: want a watermark, records and a finished backfill", l)
			continue
		}
		if age, err := time.ParseDuration(f[2]); err != nil || (time.Since(wm)-age).Abs() > time.Minute {
			t.Errorf("line %q: age %q, watermark %v ago", l, f[2], time.Since(wm))
		}
	}

	// Failure: exit 1 and one line on stderr.
	os.Args = []string{"producer", "status", "--kafka.brokers", brokers, "--kafka.topic_prefix", "nope."}
	code, out, errOut = proctest.Capture(t, run)
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "producer status: ") {
		t.Fatalf("wrong prefix: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
