package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/bqfake"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
)

// BenchmarkReplayMemory replays 1,000,000 records (tickets and messages, realistic
// sizes) into a new DuckDB file with the real consumer binary, in its own process, and
// reports that process's peak RSS (bar: 256 MiB) and its rate.
//
//	go test ./consumer -run '^$' -bench ReplayMemory -benchtime 1x
//
// The consumer is started through a launcher (this test binary re-executed, see
// TestReplayLauncher), not directly: Go starts children with vfork (CLONE_VM), and
// Linux folds the parent's RSS high-water mark into the child's ru_maxrss at exec, so
// a consumer started straight from this process, which holds every record in its fake
// Kafka cluster (about 1 GiB for 1M records), reported this process's peak instead of
// its own. The launcher is small, so its share of the figure is a few MiB at most.
//
// REPLAY_DEST=bigquery replays into the BigQuery fake instead (in this process, so
// its memory is not the consumer's) and also reports the jobs the replay ran, the
// figure that counts against BigQuery's quotas.
//
// REPLAY_ARGS adds consumer flags and REPLAY_ENV ("|"-separated) environment, e.g.
// the settings that kept a 1M-record replay at about 230 MiB:
//
//	REPLAY_ARGS='--sink.memory_budget 33554432 --sink.batch_max_records 5000 --duckdb.threads 1
//	  --duckdb.checkpoint_threshold 32MB --duckdb.memory_limit 64MB' REPLAY_ENV=GOMEMLIMIT=64MiB
func BenchmarkReplayMemory(b *testing.B) {
	total := 1_000_000
	if s := os.Getenv("REPLAY_RECORDS"); s != "" {
		total, _ = strconv.Atoi(s)
	}
	dir := b.TempDir()
	bin := proctest.Build(b, ".")
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	kopts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerLinger(5 * time.Millisecond), kgo.MaxBufferedRecords(100_000)}
	prefix := "replay."
	fill(b, kopts, prefix, total)

	var bq *bqfake.Server
	if os.Getenv("REPLAY_DEST") == "bigquery" {
		if bq, err = bqfake.New(bqfake.Options{Project: "test-project"}); err != nil {
			b.Fatal(err)
		}
		defer bq.Close()
	}
	for i := 0; i < b.N; i++ {
		dest := []string{"--dest.uri", "duckdb:///" + filepath.Join(dir, fmt.Sprintf("replay%d.duckdb", i))}
		if bq != nil {
			dest = []string{"--dest.uri", "bigquery://test-project", "--dest.schema", fmt.Sprintf("replay%d", i),
				"--bigquery.endpoint", bq.URL()}
		}
		jobs := 0
		if bq != nil {
			jobs = len(bq.Jobs())
		}
		args := append([]string{bin, "replay", "--from", "earliest",
			"--kafka.brokers", c.ListenAddrs()[0], "--kafka.topic_prefix", prefix, "--log.level", "warn",
			"--metrics.listen=127.0.0.1:0"}, dest...) // a free port: no clash with a consumer on :9465
		args = append(args, extraArgs()...)
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplayLauncher$", "-test.count=1")
		spec, _ := json.Marshal(args)
		cmd.Env = append(os.Environ(), launchEnv+"="+string(spec))
		if env := os.Getenv("REPLAY_ENV"); env != "" {
			cmd.Env = append(cmd.Env, strings.Split(env, "|")...)
		}
		cmd.Dir = "/"
		cmd.Stderr = os.Stderr
		start := time.Now()
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("consumer replay: %v\n%s", err, out)
		}
		elapsed := time.Since(start)
		var maxrss int64
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "consumer-maxrss-kib "); ok {
				maxrss, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		if maxrss == 0 {
			b.Fatalf("launcher reported no peak RSS:\n%s", out)
		}
		b.ReportMetric(float64(maxrss)/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(total)/elapsed.Seconds(), "records/s")
		b.ReportMetric(float64(total), "records")
		if bq != nil {
			b.ReportMetric(float64(len(bq.Jobs())-jobs), "jobs")
		}
	}
}

// launchEnv carries the consumer's command line (a JSON array) to TestReplayLauncher.
const launchEnv = "REPLAY_LAUNCH"

// TestReplayLauncher is BenchmarkReplayMemory's launcher, not a test: when launchEnv
// is set it runs that command, prints "consumer-maxrss-kib N" (the child's peak RSS
// from wait4) on stdout, and exits with the child's status.
func TestReplayLauncher(t *testing.T) {
	spec := os.Getenv(launchEnv)
	if spec == "" {
		t.Skip("launcher for BenchmarkReplayMemory")
	}
	var argv []string
	if err := json.Unmarshal([]byte(spec), &argv); err != nil || len(argv) == 0 {
		fmt.Fprintf(os.Stderr, "launcher: bad %s: %v\n", launchEnv, err)
		os.Exit(2)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, launchEnv+"=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "launcher:", err)
		os.Exit(1)
	}
	if os.Getenv("REPLAY_TRACE_RSS") != "" {
		go traceRSS(cmd.Process.Pid)
	}
	err := cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		fmt.Printf("consumer-maxrss-kib %d\n", ru.Maxrss)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "launcher:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// fill writes total records into the tickets and messages topics: simulator objects
// encoded once, then copied with fresh ids (the id is the first field of the body).
func fill(b *testing.B, kopts []kgo.Opt, prefix string, total int) {
	b.Helper()
	sim := gorgiassim.New(gorgiassim.Config{Seed: 9, Customers: 500, Tickets: 2000, RateLimit: -1})
	adm, err := kadm.NewOptClient(kopts...)
	if err != nil {
		b.Fatal(err)
	}
	defer adm.Close()
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	type base struct {
		topic string
		rest  []byte // body after the id
		hdr   []byte
	}
	var bases []base
	for _, name := range []string{"tickets", "ticket_messages"} {
		e, _ := catalog.Lookup(name)
		if _, err := adm.CreateTopic(context.Background(), 3, 1, nil, e.Topic(prefix)); err != nil {
			b.Fatal(err)
		}
		enc, _ := avrocodec.NewEncoder(e)
		for _, raw := range sim.Objects(e.Resource) {
			rec, err := enc.Encode(raw, avrocodec.Meta{Domain: "acme", ExtractedAt: time.Now(), AsOf: sim.Now()}, nil)
			if err != nil {
				b.Fatal(err)
			}
			_, n := binary.Uvarint(rec.Value[10:])
			bases = append(bases, base{topic: e.Topic(prefix), hdr: rec.Value[:10], rest: rec.Value[10+n:]})
		}
	}
	ctx := context.Background()
	var errs atomic.Int64
	for i := 0; i < total; i++ {
		bs := bases[i%len(bases)]
		id := int64(1_000_000_000 + i)
		v := append(append([]byte{}, bs.hdr...), binary.AppendUvarint(nil, uint64(id<<1))...)
		v = append(v, bs.rest...)
		cl.Produce(ctx, &kgo.Record{Topic: bs.topic, Key: []byte(strconv.FormatInt(id, 10)), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				errs.Add(1)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil || errs.Load() > 0 {
		b.Fatalf("fill: %v (%d errors)", err, errs.Load())
	}
}

// extraArgs are more consumer flags from REPLAY_ARGS (space-separated), for experiments.
func extraArgs() []string {
	if s := os.Getenv("REPLAY_ARGS"); s != "" {
		return strings.Fields(s)
	}
	return nil
}

// traceRSS prints the process's resident set and its high-water mark every 100 ms
// (REPLAY_TRACE_RSS=1).
func traceRSS(pid int) {
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS") || strings.HasPrefix(line, "VmHWM") {
				fmt.Fprintln(os.Stderr, time.Now().Format("15:04:05.000"), line)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}
