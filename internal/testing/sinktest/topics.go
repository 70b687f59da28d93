package sinktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// TopicRecord is one record of an entity topic, decoded.
type TopicRecord struct {
	// ID and Version identify the object version (Version in Unix microseconds).
	ID, Version int64
	// Partition and Offset locate the record.
	Partition int32
	Offset    int64
	// Key and Value are the record's raw key and value.
	Key, Value []byte
	// ExtractedAt is the record's _extracted_at.
	ExtractedAt time.Time
}

// CheckTopicsExact asserts what the producer promises of every entity topic under
// w.Prefix (DESIGN §4): each object version was published exactly once (no duplicate
// (id, version)), every object of the simulator is there, the newest record per id
// equals the simulator's object field for field (extraction time aside: nothing
// stale), no id is unknown to the simulator, and every key is the record's id. It reads
// each topic's committed records (read_committed) up to its end offsets and returns
// the number of records per entity.
func (w *World) CheckTopicsExact(t testing.TB) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, e := range catalog.All() {
		recs := w.ReadTopic(t, e)
		counts[e.Name] = len(recs)
		w.checkTopic(t, e, recs)
	}
	return counts
}

// ReadTopic reads every committed record of e's topic, up to the end offsets seen when
// it starts (the last stable offsets: an open transaction is not waited for). It fails
// the test on a record it cannot decode, a key that is not the id, or a tombstone (the
// simulator deletes nothing).
func (w *World) ReadTopic(t testing.TB, e catalog.Entity) []TopicRecord {
	t.Helper()
	topic := e.Topic(w.Prefix)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang guard only
	defer cancel()
	adm, err := kadm.NewOptClient(w.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ends, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	var out []TopicRecord
	if len(want) == 0 {
		return out
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, w.KOpts...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: timed out with partitions %v outstanding", topic, want)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", tp, p, err) })
		for _, r := range fs.Records() {
			if end, ok := want[r.Partition]; ok && r.Offset >= end-1 {
				delete(want, r.Partition)
			}
			if r.Attrs.IsControl() {
				continue
			}
			out = append(out, w.decodeRecord(t, e, r))
		}
	}
	return out
}

// decodeRecord decodes one entity record and checks its key.
func (w *World) decodeRecord(t testing.TB, e catalog.Entity, r *kgo.Record) TopicRecord {
	t.Helper()
	where := fmt.Sprintf("%s[%d]@%d", r.Topic, r.Partition, r.Offset)
	if r.Value == nil {
		t.Fatalf("%s: unexpected tombstone for key %q", where, r.Key)
	}
	s, vals, err := w.Reg.DecodeRow(r.Value)
	if err != nil {
		t.Fatalf("decode %s: %v", where, err)
	}
	rec := TopicRecord{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value}
	for i, f := range s.Root.Fields {
		switch f.Name {
		case catalog.Key:
			rec.ID = asInt(vals[i])
		case e.VersionField:
			rec.Version = asTime(vals[i]).UnixMicro()
		case "_extracted_at":
			rec.ExtractedAt = asTime(vals[i])
		}
	}
	if string(r.Key) != strconv.FormatInt(rec.ID, 10) {
		t.Fatalf("%s: key %q is not the id %d", where, r.Key, rec.ID)
	}
	return rec
}

// truthObject is the simulator's current object: its version and JSON.
type truthObject struct {
	version int64
	raw     json.RawMessage
}

// topicTruth is the simulator's current object of e per id.
func (w *World) topicTruth(t testing.TB, enc *avrocodec.Encoder, e catalog.Entity, now time.Time) map[int64]truthObject {
	t.Helper()
	out := map[int64]truthObject{}
	for _, raw := range w.Sim.Objects(e.Resource) {
		rec, err := enc.Encode(raw, avrocodec.Meta{Domain: "acme", AsOf: now}, nil)
		if err != nil {
			t.Fatalf("truth %s: %v", e.Name, err)
		}
		out[rec.ID] = truthObject{version: rec.Version.UnixMicro(), raw: raw}
	}
	if len(out) == 0 {
		t.Fatalf("%s: the simulator has no objects; the check proves nothing", e.Name)
	}
	return out
}

// sameObject compares a record with the simulator's object at the same version, field
// for field except _extracted_at. It returns "" when they are equal, else both sides.
// The fast path encodes the object with the record's _extracted_at and compares bytes;
// only when they differ are both compared in the canonical form of CheckTruth.
func (w *World) sameObject(t testing.TB, enc *avrocodec.Encoder, r TopicRecord, tr truthObject, now time.Time) string {
	t.Helper()
	want, err := enc.Encode(tr.raw, avrocodec.Meta{Domain: "acme", ExtractedAt: r.ExtractedAt, AsOf: now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(want.Value, r.Value) {
		return ""
	}
	canonical := func(v []byte) string {
		s, vals, err := w.Reg.DecodeRow(v)
		if err != nil {
			t.Fatal(err)
		}
		return Form{}.truthKey(s.Root.Fields, vals)
	}
	if got, wantRow := canonical(r.Value), canonical(want.Value); got != wantRow {
		return fmt.Sprintf("\n  got  %.600s\n  want %.600s", got, wantRow)
	}
	return ""
}

// checkTopic compares one topic's records with the simulator's truth.
func (w *World) checkTopic(t testing.TB, e catalog.Entity, recs []TopicRecord) {
	t.Helper()
	enc, err := avrocodec.NewEncoder(e)
	if err != nil {
		t.Fatal(err)
	}
	now := w.Sim.Now()
	truth := w.topicTruth(t, enc, e, now)
	newest := map[int64]TopicRecord{}
	seen := map[[2]int64]bool{}
	var dup, missing, stale, diff, unknown []string
	example := ""
	for _, r := range recs {
		if k := [2]int64{r.ID, r.Version}; seen[k] {
			dup = append(dup, fmt.Sprintf("%d@%s", r.ID, time.UnixMicro(r.Version).UTC().Format(time.RFC3339Nano)))
		} else {
			seen[k] = true
		}
		if n, ok := newest[r.ID]; !ok || r.Version > n.Version {
			newest[r.ID] = r
		}
	}
	for id, tr := range truth {
		n, ok := newest[id]
		switch {
		case !ok:
			missing = append(missing, strconv.FormatInt(id, 10))
		case n.Version != tr.version:
			stale = append(stale, fmt.Sprintf("%d (have %d, want %d)", id, n.Version, tr.version))
		default:
			if d := w.sameObject(t, enc, n, tr, now); d != "" {
				diff = append(diff, strconv.FormatInt(id, 10))
				if example == "" {
					example = fmt.Sprintf("%d:%s", id, d)
				}
			}
		}
	}
	for id := range newest {
		if _, ok := truth[id]; !ok {
			unknown = append(unknown, strconv.FormatInt(id, 10))
		}
	}
	for _, p := range []struct {
		what string
		ids  []string
	}{{"duplicated versions", dup}, {"missing objects", missing}, {"stale objects", stale}, {"unknown ids", unknown}, {"different objects", diff}} {
		if len(p.ids) > 0 {
			sort.Strings(p.ids)
			t.Errorf("%s: %d %s, e.g. %v", e.Topic(w.Prefix), len(p.ids), p.what, p.ids[:min(3, len(p.ids))])
		}
	}
	if example != "" {
		t.Errorf("%s: first different object %s", e.Topic(w.Prefix), example)
	}
}
