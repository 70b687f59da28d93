package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestProcessSchemaRegistry runs issue 11 end to end on the real binaries, for every
// registered sink: a load in single-object encoding (the in-process producer), then
// edits published by the producer binary through a Confluent-compatible registry
// (srfake), then `consumer --once` with the registry. Every record of the second
// load must be in the Confluent wire format with an id of the subject <topic>-value,
// and each destination must end equal to the simulator's truth (mixed framings on
// the same topics).
func TestProcessSchemaRegistry(t *testing.T) {
	producerBin := proctest.Build(t, "../producer")
	for _, d := range sinktest.Destinations() {
		t.Run(d.Name, func(t *testing.T) {
			reg := srfake.New()
			t.Cleanup(reg.Close)
			h := newHarness(t, gorgiassim.Config{Seed: 41, Customers: 150, Tickets: 250}, d.New)
			h.w.Produce() // single-object encoding
			soe := h.endOffsets()

			ch := h.w.Sim.Advance(6 * time.Hour)
			api := httptest.NewServer(h.w.Sim.Handler())
			t.Cleanup(api.Close)
			p := proctest.Start(t, producerBin, []string{
				"GORGIAS_URI=gorgias://acme?api_key=sim-api-key&email=sim@example.com",
				"GORGIAS_BASE_URL=" + api.URL + "/api",
				"GORGIAS_RATE_LIMIT=10000", "GORGIAS_RATE_WINDOW=1s",
				"KAFKA_BROKERS=" + strings.Join(h.w.Brokers, ","),
				"KAFKA_TOPIC_PREFIX=" + h.w.Prefix,
				"TOPICS_PARTITIONS=3", "TOPICS_REPLICATION_FACTOR=1",
				"METRICS_LISTEN=off",
				"SCHEMA_REGISTRY_URL=" + reg.URL(),
			}, "--once")
			if code := p.Wait(2 * time.Minute); code != 0 {
				t.Fatalf("producer with the registry exited %d:\n%s", code, p.Tail(20))
			}
			t.Logf("edits: %d customers, %d tickets, %d messages, %d surveys", len(ch.Customers), len(ch.Tickets), len(ch.Messages), len(ch.SatisfactionSurveys))
			checkConfluentTail(t, h, reg.URL(), soe)

			once := h.start("--once with the registry", []string{"SCHEMA_REGISTRY_URL=" + reg.URL()}, "--once")
			if code := once.Wait(2 * time.Minute); code != 0 {
				t.Fatalf("consumer --once exited %d: %q", code, errorLines(once))
			}
			h.checkDone()
		})
	}
}

// checkConfluentTail asserts that every record after the offsets in from is in the
// Confluent wire format, and that its schema id belongs to the subject <topic>-value.
func checkConfluentTail(t *testing.T, h *harness, url string, from map[sink.TopicPartition]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rcl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]map[int]bool{} // subject → ids
	for _, e := range catalog.All() {
		subject := e.Topic(h.w.Prefix) + "-value"
		versions, err := rcl.SubjectVersions(ctx, subject)
		if err != nil {
			t.Fatalf("subject %s: %v", subject, err)
		}
		ids[subject] = map[int]bool{}
		for _, v := range versions {
			ss, err := rcl.SchemaByVersion(ctx, subject, v)
			if err != nil {
				t.Fatal(err)
			}
			ids[subject][ss.ID] = true
		}
	}
	end := h.endOffsets()
	assign := map[string]map[int32]kgo.Offset{}
	left := 0
	for tp, e := range end {
		if e > from[tp] {
			if assign[tp.Topic] == nil {
				assign[tp.Topic] = map[int32]kgo.Offset{}
			}
			assign[tp.Topic][tp.Partition] = kgo.NewOffset().At(from[tp])
			left++
		}
	}
	if left == 0 {
		t.Fatal("the producer with the registry published nothing")
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, h.w.KOpts...), kgo.ConsumePartitions(assign),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := 0
	done := map[sink.TopicPartition]bool{}
	for len(done) < left {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading the registry-mode records: %d of %d partitions read", len(done), left)
		}
		fs.EachRecord(func(r *kgo.Record) {
			tp := sink.TopicPartition{Topic: r.Topic, Partition: r.Partition}
			if r.Offset+1 >= end[tp] {
				done[tp] = true
			}
			if r.Offset >= end[tp] || r.Attrs.IsControl() {
				return
			}
			seen++
			if len(r.Value) < 5 || r.Value[0] != 0x00 {
				t.Fatalf("%s[%d]@%d: value starts % x, want the Confluent magic byte 0x00", r.Topic, r.Partition, r.Offset, r.Value[:min(5, len(r.Value))])
			}
			id := int(binary.BigEndian.Uint32(r.Value[1:5]))
			if subject := r.Topic + "-value"; !ids[subject][id] {
				t.Fatalf("%s[%d]@%d: schema id %d is not a version of subject %s", r.Topic, r.Partition, r.Offset, id, subject)
			}
		})
	}
	t.Logf("%d records in the Confluent wire format, ids of the subjects %s", seen, fmt.Sprint(keys(ids)))
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
