package main

import (
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"

	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
)

// TestStatusCommand runs `consumer status` through run, as the binary does, on a DuckDB
// file filled by a real run.
func TestStatusCommand(t *testing.T) {
	p := newPipeline(t)
	p.produce()
	p.mustConsume("st")
	cl, err := kgo.NewClient(p.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	addrs := strings.Join(cl.OptValue(kgo.SeedBrokers).([]string), ",")
	cl.Close()
	args := []string{"status", "--kafka.brokers", addrs, "--kafka.topic_prefix", p.Prefix,
		"--dest.uri", "duckdb:///" + filepath.Join(p.dir, "st.duckdb"), "--log.level", "error"}
	code, out, errOut := proctest.Capture(t, func() int { return run(args) })
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2+3*len(catalog.All()) || !strings.HasPrefix(lines[0], "TOPIC") || lines[len(lines)-1] != "total lag: 0" {
		t.Fatalf("output:\n%s", out)
	}
	for _, l := range lines[1 : len(lines)-1] {
		f := strings.Fields(l)
		// A partition that never held a record (the account's one record fills one of
		// three) has nothing stored.
		empty := f[2] == "-" && f[3] == "0"
		if !strings.HasPrefix(f[0], p.Prefix) || (!empty && f[2] != f[3]) || f[4] != "0" {
			t.Errorf("line %q: want stored = end, lag 0", l)
		}
	}

	// Failure: exit 1 and one line on stderr.
	args[4] = "nope."
	code, out, errOut = proctest.Capture(t, func() int { return run(args) })
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "consumer status: ") {
		t.Fatalf("wrong prefix: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
