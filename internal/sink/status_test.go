package sink_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/duckdbsink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

func TestStatus(t *testing.T) {
	w := newWorld(t)
	w.produce()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "status.duckdb")
	open := func() *duckdbsink.Sink {
		t.Helper()
		s, err := duckdbsink.Open(ctx, duckdbsink.Config{Path: path, Logger: logger()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	status := func(s sink.Sink) []sink.PartitionStatus {
		t.Helper()
		st, err := sink.Status(ctx, s, w.KOpts, w.Prefix, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 3*len(catalog.All()) {
			t.Fatalf("%d partitions in the status, want %d: %+v", len(st), 3*len(catalog.All()), st)
		}
		return st
	}
	adm, err := kadm.NewOptClient(w.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	// hwm is each partition's high watermark: with no transaction open it is the end a
	// read_committed consumer reaches.
	hwm := func() map[sink.TopicPartition]int64 {
		t.Helper()
		var topics []string
		for _, e := range catalog.All() {
			topics = append(topics, e.Topic(w.Prefix))
		}
		l, err := adm.ListEndOffsets(ctx, topics...)
		if err != nil {
			t.Fatal(err)
		}
		out := map[sink.TopicPartition]int64{}
		l.Each(func(o kadm.ListedOffset) { out[sink.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.Offset })
		return out
	}

	// at reports whether s has stored end: a partition that never held a record (small
	// lists leave some empty) has nothing stored.
	at := func(s sink.PartitionStatus, end int64) bool {
		return s.Stored == end || (end == 0 && s.Stored == sink.NoOffset)
	}

	// A destination that has nothing yet lags by the whole topics.
	ends := hwm()
	var all int64
	for _, s := range status(sinktest.NewMemory()) {
		if s.Stored != sink.NoOffset || s.Start != 0 || s.End != ends[s.TopicPartition] || s.Lag != s.End {
			t.Errorf("fresh destination: %+v, end %d", s, ends[s.TopicPartition])
		}
		all += s.End
	}
	if all == 0 {
		t.Fatal("the producer published nothing")
	}

	// Caught up: what DuckDB stores is the end of every partition.
	d := open()
	w.consume("duckdb", d)
	first := status(d)
	d.Close()
	for _, s := range first {
		if !at(s, ends[s.TopicPartition]) || s.End != ends[s.TopicPartition] || s.Lag != 0 {
			t.Errorf("after catching up: %+v, end %d", s, ends[s.TopicPartition])
		}
	}

	// New records: the lag of each partition is what was appended since.
	w.Sim.Advance(24 * time.Hour)
	w.produce()
	ends2 := hwm()
	d = open()
	second := status(d)
	var total int64
	for i, s := range second {
		from := max(first[i].Stored, 0) // nothing stored: from the start, 0
		if s.Stored != first[i].Stored || s.End != ends2[s.TopicPartition] || s.Lag != ends2[s.TopicPartition]-from {
			t.Errorf("behind: %+v, end %d, stored before %d", s, ends2[s.TopicPartition], first[i].Stored)
		}
		total += s.Lag
	}
	if total == 0 {
		t.Fatal("a day of activity added nothing")
	}
	var buf bytes.Buffer
	if err := sink.WriteStatus(&buf, second); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2+len(second) || strings.Join(strings.Fields(lines[0]), " ") != "TOPIC PARTITION STORED END LAG" ||
		lines[len(lines)-1] != fmt.Sprintf("total lag: %d", total) {
		t.Fatalf("status output:\n%s", buf.String())
	}
	for i, s := range second {
		stored := strconv.FormatInt(s.Stored, 10)
		if s.Stored == sink.NoOffset {
			stored = "-"
		}
		want := fmt.Sprintf("%s %d %s %d %d", s.Topic, s.Partition, stored, s.End, s.Lag)
		if got := strings.Join(strings.Fields(lines[1+i]), " "); got != want {
			t.Errorf("line %q, want %q", got, want)
		}
	}

	// Caught up again.
	w.consume("duckdb", d)
	for _, s := range status(d) {
		if !at(s, ends2[s.TopicPartition]) || s.Lag != 0 {
			t.Errorf("after catching up again: %+v", s)
		}
	}

	// A destination that has nothing prints "-".
	buf.Reset()
	if err := sink.PrintStatus(ctx, &buf, sinktest.NewMemory(), w.KOpts, w.Prefix, nil); err != nil {
		t.Fatal(err)
	}
	if l := strings.Fields(strings.Split(buf.String(), "\n")[1]); l[2] != "-" {
		t.Errorf("fresh destination line %v", l)
	}

	// The wrong prefix: one clear error.
	err = sink.PrintStatus(ctx, &buf, d, w.KOpts, "nope.", nil)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "nope.tickets") {
		t.Fatalf("wrong prefix: %v", err)
	}
	d.Close()
}
