package testenv

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
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
	// Delete is set on a tombstone (then Version is the deletion time).
	Delete *tombstone.Deletion
}

// CheckTopicsExact asserts what the producer promises of every entity topic under
// e.Prefix (DESIGN §4), see CheckTopicExact, and returns the number of records per
// entity.
func (e *Env) CheckTopicsExact(t testing.TB) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, ent := range catalog.All() {
		counts[ent.Name] = len(e.CheckTopicExact(t, ent))
	}
	return counts
}

// CheckTopicExact asserts what the producer promises of ent's topic: each object
// version was published exactly once (no duplicate (id, version)), every object of the
// simulator is there, the newest record per id equals the simulator's object field for
// field (extraction time aside: nothing stale), no id is unknown to the simulator, and
// every key is the record's id. It reads the topic's committed records (read_committed)
// up to its end offsets and returns them.
func (e *Env) CheckTopicExact(t testing.TB, ent catalog.Entity) []TopicRecord {
	t.Helper()
	recs := e.ReadTopic(t, ent)
	e.checkTopic(t, ent, recs)
	return recs
}

// ReadTopic reads every committed record of ent's topic, up to the end offsets seen when
// it starts (the last stable offsets: an open transaction is not waited for), in offset
// order per partition. It fails the test on a record it cannot decode, a key that is not
// the id, or a malformed tombstone.
func (e *Env) ReadTopic(t testing.TB, ent catalog.Entity) []TopicRecord {
	t.Helper()
	topic := ent.Topic(e.Prefix)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang guard only
	defer cancel()
	want := e.endOffsets(ctx, t, topic)
	var out []TopicRecord
	if len(want) == 0 {
		return out
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, e.KOpts...),
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
			out = append(out, e.decodeRecord(t, ent, r))
		}
	}
	return out
}

// endOffsets are the last stable offsets of the topic's partitions that hold records.
func (e *Env) endOffsets(ctx context.Context, t testing.TB, topic string) map[int32]int64 {
	t.Helper()
	adm, err := kadm.NewOptClient(e.KOpts...)
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
	return want
}

// decodeRecord decodes one entity record and checks its key.
func (e *Env) decodeRecord(t testing.TB, ent catalog.Entity, r *kgo.Record) TopicRecord {
	t.Helper()
	where := fmt.Sprintf("%s[%d]@%d", r.Topic, r.Partition, r.Offset)
	if tombstone.Is(r) {
		d, err := tombstone.Parse(r)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		return TopicRecord{ID: d.ID, Version: d.At.UnixMicro(), Partition: r.Partition, Offset: r.Offset, Key: r.Key, Delete: &d}
	}
	s, vals, err := e.Reg.DecodeRow(e.SingleObject(t, ent.Name, r.Value))
	if err != nil {
		t.Fatalf("decode %s: %v", where, err)
	}
	rec := TopicRecord{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value}
	for i, f := range s.Root.Fields {
		switch f.Name {
		case catalog.Key:
			rec.ID, _ = vals[i].(int64)
		}
		if f.Name == ent.VersionField { // _extracted_at for snapshot entities
			v, _ := vals[i].(time.Time)
			rec.Version = v.UnixMicro()
		}
		if f.Name == catalog.ExtractedField {
			rec.ExtractedAt, _ = vals[i].(time.Time)
		}
	}
	if string(r.Key) != strconv.FormatInt(rec.ID, 10) {
		t.Fatalf("%s: key %q is not the id %d", where, r.Key, rec.ID)
	}
	return rec
}

// TruthObject is the simulator's current object: its version (Unix microseconds) and
// JSON.
type TruthObject struct {
	Version int64
	Raw     json.RawMessage
}

// Truth is the simulator's current object of ent per id.
func (e *Env) Truth(t testing.TB, ent catalog.Entity) map[int64]TruthObject {
	t.Helper()
	enc, err := avrocodec.NewEncoder(ent)
	if err != nil {
		t.Fatal(err)
	}
	return e.truth(t, enc, ent, TruthAsOf(e.Sim))
}

func (e *Env) truth(t testing.TB, enc *avrocodec.Encoder, ent catalog.Entity, now time.Time) map[int64]TruthObject {
	t.Helper()
	out := map[int64]TruthObject{}
	for _, raw := range e.Sim.Objects(ent.Resource) {
		rec, err := enc.Encode(raw, avrocodec.Meta{Domain: Domain, AsOf: now}, nil)
		if err != nil {
			t.Fatalf("truth %s: %v", ent.Name, err)
		}
		out[rec.ID] = TruthObject{Version: rec.Version.UnixMicro(), Raw: raw}
	}
	return out
}

// sameObject compares a record with the simulator's object at the same version, field
// for field except _extracted_at. It returns "" when they are equal, else the first
// field that differs. The fast path encodes the object with the record's _extracted_at
// and compares bytes; only when they differ are both decoded and compared field by
// field.
func (e *Env) sameObject(t testing.TB, enc *avrocodec.Encoder, r TopicRecord, tr TruthObject, now time.Time) string {
	t.Helper()
	want, err := enc.Encode(tr.Raw, avrocodec.Meta{Domain: Domain, ExtractedAt: r.ExtractedAt, AsOf: now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	value := e.SingleObject(t, enc.Schema().Entity, r.Value)
	if bytes.Equal(want.Value, value) {
		return ""
	}
	gs, got, err := e.Reg.DecodeRow(value)
	if err != nil {
		t.Fatal(err)
	}
	ws, wantVals, err := e.Reg.DecodeRow(want.Value)
	if err != nil {
		t.Fatal(err)
	}
	if gs.Fingerprint != ws.Fingerprint {
		return fmt.Sprintf(" written with schema %016x, want %016x", gs.Fingerprint, ws.Fingerprint)
	}
	for i, f := range ws.Root.Fields {
		if f.Name != "_extracted_at" && !reflect.DeepEqual(got[i], wantVals[i]) {
			return fmt.Sprintf(" field %s:\n  got  %.600v\n  want %.600v", f.Name, got[i], wantVals[i])
		}
	}
	return ""
}

// checkTopic compares one topic's records with the simulator's truth.
func (e *Env) checkTopic(t testing.TB, ent catalog.Entity, recs []TopicRecord) {
	t.Helper()
	enc, err := avrocodec.NewEncoder(ent)
	if err != nil {
		t.Fatal(err)
	}
	now := TruthAsOf(e.Sim)
	truth := e.truth(t, enc, ent, now)
	if len(truth) == 0 {
		t.Fatalf("%s: the simulator has no objects; the check proves nothing", ent.Name)
	}
	gone := e.checkDeletions(t, ent, recs)
	recs = slices.DeleteFunc(slices.Clone(recs), func(r TopicRecord) bool { return r.Delete != nil })
	newest, dup := newestVersions(recs)
	snapshot := ent.Mode == catalog.Snapshot
	if snapshot {
		dup = e.repeatedContents(t, ent, recs)
	}
	var missing, stale, diff, unknown []string
	example := ""
	for id, tr := range truth {
		n, ok := newest[id]
		switch {
		case !ok:
			missing = append(missing, strconv.FormatInt(id, 10))
		case !snapshot && n.Version != tr.Version:
			stale = append(stale, fmt.Sprintf("%d (have %d, want %d)", id, n.Version, tr.Version))
		default:
			if d := e.sameObject(t, enc, n, tr, now); d != "" {
				diff = append(diff, strconv.FormatInt(id, 10))
				if example == "" {
					example = fmt.Sprintf("%d:%s", id, d)
				}
			}
		}
	}
	for id := range newest {
		if _, ok := truth[id]; !ok && !gone[id] {
			unknown = append(unknown, strconv.FormatInt(id, 10))
		}
	}
	topic := ent.Topic(e.Prefix)
	for _, p := range []struct {
		what string
		ids  []string
	}{{"duplicated versions", dup}, {"missing objects", missing}, {"stale objects", stale}, {"unknown ids", unknown}, {"different objects", diff}} {
		if len(p.ids) > 0 {
			sort.Strings(p.ids)
			t.Errorf("%s: %d %s, e.g. %v", topic, len(p.ids), p.what, p.ids[:min(3, len(p.ids))])
		}
	}
	if example != "" {
		t.Errorf("%s: first different object %s", topic, example)
	}
}

// newestVersions returns the newest record per id, and the (id, version) pairs found
// more than once.
func newestVersions(recs []TopicRecord) (map[int64]TopicRecord, []string) {
	newest := map[int64]TopicRecord{}
	seen := map[[2]int64]bool{}
	var dup []string
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
	return newest, dup
}

// repeatedContents returns, for a snapshot entity, the records whose content (every
// field but _extracted_at) equals that of the previous record of the same id: a
// snapshot publishes an object only when it changed. Records of one id share a
// partition, so offset order is publication order.
func (e *Env) repeatedContents(t testing.TB, ent catalog.Entity, recs []TopicRecord) []string {
	t.Helper()
	sorted := sortedByOffset(recs)
	last := map[int64][]any{}
	var dup []string
	for _, r := range sorted {
		s, vals, err := e.Reg.DecodeRow(e.SingleObject(t, ent.Name, r.Value))
		if err != nil {
			t.Fatal(err)
		}
		vals = slices.Clone(vals)
		vals[s.Root.FieldIndex(catalog.ExtractedField)] = nil
		if prev, ok := last[r.ID]; ok && reflect.DeepEqual(prev, vals) {
			dup = append(dup, fmt.Sprintf("%d@%d", r.ID, r.Offset))
		}
		last[r.ID] = vals
	}
	return dup
}

// Detectable reports whether the pipeline learns of the deletions of ent's objects:
// from the events feed (when the events entity is produced too) or by disappearance from
// a snapshot.
func Detectable(ent catalog.Entity) bool {
	return ent.DeleteEvent != "" || ent.MergeEvent != "" || ent.Mode == catalog.Snapshot
}

// WantTombstone checks a deletion d the pipeline published (a tombstone or a deleted
// row) against the simulator's deletion s of the same object, and returns what differs
// ("" when nothing does). Events report their time, reason, survivor and event; a
// snapshot sees the object gone at or after it went. withEvent says whether d carries
// its event's id (a tombstone does, a sink's row does not).
func WantTombstone(ent catalog.Entity, d tombstone.Deletion, s gorgiassim.Deletion, withEvent bool) string {
	if ent.Mode == catalog.Snapshot {
		if d.Reason != tombstone.Disappeared || d.At.Before(s.At) || d.EventID != 0 || d.MergedInto != 0 {
			return fmt.Sprintf("got %+v, want disappeared at or after %s", d, s.At.Format(time.RFC3339Nano))
		}
		return ""
	}
	if string(d.Reason) != s.Reason || !d.At.Equal(s.At.Truncate(time.Microsecond)) || (withEvent && d.EventID != s.EventID) || d.MergedInto != s.MergedInto {
		return fmt.Sprintf("got %+v, want %+v", d, s)
	}
	return ""
}

// checkDeletions checks the tombstones of ent's topic against the simulator's
// deletions: every deleted object the pipeline can detect has exactly one tombstone,
// the last record of its key (never before one of its versions), with the deletion's
// reason, time and event (see WantTombstone); an object deleted before any of its
// versions was published may have none when a snapshot detects it; no live object has
// one. It returns the deleted ids.
func (e *Env) checkDeletions(t testing.TB, ent catalog.Entity, recs []TopicRecord) map[int64]bool {
	t.Helper()
	gone := map[int64]bool{}
	sim := map[int64]gorgiassim.Deletion{}
	for _, d := range e.Sim.Deleted(ent.Resource) {
		gone[d.ID], sim[d.ID] = true, d
	}
	last, tombs, versions := map[int64]TopicRecord{}, map[int64]int{}, map[int64]int{}
	for _, r := range sortedByOffset(recs) {
		last[r.ID] = r
		if r.Delete != nil {
			tombs[r.ID]++
		} else {
			versions[r.ID]++
		}
	}
	topic := ent.Topic(e.Prefix)
	var bad []string
	for id, s := range sim {
		l, ok := last[id]
		switch {
		case !Detectable(ent):
		case !ok && ent.Mode == catalog.Snapshot:
			// gone before a snapshot saw it
		case !ok || l.Delete == nil:
			bad = append(bad, fmt.Sprintf("%d: deleted (%s) but its last record is no tombstone", id, s.Reason))
		case tombs[id] != 1:
			bad = append(bad, fmt.Sprintf("%d: %d tombstones", id, tombs[id]))
		default:
			if d := WantTombstone(ent, *l.Delete, s, true); d != "" {
				bad = append(bad, fmt.Sprintf("%d: %s", id, d))
			}
		}
	}
	for id, n := range tombs {
		if !gone[id] {
			bad = append(bad, fmt.Sprintf("%d: %d tombstones for a live object", id, n))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		t.Errorf("%s: %d deletion problems, e.g. %v", topic, len(bad), bad[:min(3, len(bad))])
	}
	return gone
}

// sortedByOffset orders records by partition and offset: publication order per key.
func sortedByOffset(recs []TopicRecord) []TopicRecord {
	sorted := slices.Clone(recs)
	slices.SortFunc(sorted, func(a, b TopicRecord) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
	})
	return sorted
}
