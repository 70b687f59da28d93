package sink_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// The fake registry's own sentinels, as a registry client would have them.
var (
	errNotFound     = errors.New("registry: 404 schema not found")
	errRegistryDown = errors.New("registry: 503 service unavailable")
)

// fakeRegistry is a SchemaSource: ids are handed out per schema text; the first
// failFirst calls fail as a registry that is down; calls are counted per id.
type fakeRegistry struct {
	mu        sync.Mutex
	texts     map[int]string
	ids       map[string]int
	failFirst int
	calls     map[int]int
}

func newFakeRegistry() *fakeRegistry {
	return &fakeRegistry{texts: map[int]string{}, ids: map[string]int{}, calls: map[int]int{}}
}

// idFor registers text (once) and returns its id.
func (f *fakeRegistry) idFor(text string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.ids[text]; ok {
		return id
	}
	id := 100 + len(f.ids)
	f.ids[text], f.texts[id] = id, text
	return id
}

func (f *fakeRegistry) SchemaByID(_ context.Context, id int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[id]++
	if f.failFirst > 0 {
		f.failFirst--
		return "", fmt.Errorf("get schema %d: %w", id, errRegistryDown)
	}
	text, ok := f.texts[id]
	if !ok {
		return "", fmt.Errorf("get schema %d: %w", id, errNotFound)
	}
	return text, nil
}

func (f *fakeRegistry) callsOf(id int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func withSource(src sink.SchemaSource) func(*sink.Config) {
	return func(c *sink.Config) { c.Schemas = src }
}

// produceRaw produces records to the partitions they name.
func (w *world) produceRaw(recs []*kgo.Record) {
	w.T.Helper()
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, w.KOpts...), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		w.T.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		w.T.Fatal(err)
	}
}

// reencode re-publishes every single-object record of the entity topics (or only of
// entity, if not empty) in the Confluent wire format, to the same partition, with the
// id the fake registry gives its schema text. rewrite, if set, gives another schema
// text and body for a record. It returns how many records it published.
func (w *world) reencode(f *fakeRegistry, entity string, rewrite func(s *avrocodec.Schema, body []byte) (string, []byte)) int {
	w.T.Helper()
	var out []*kgo.Record
	for _, e := range catalog.All() {
		if entity != "" && e.Name != entity {
			continue
		}
		for _, rec := range readAll(w.T, w.KOpts, e.Topic(w.Prefix)) {
			fp, err := avrocodec.Fingerprint(rec.Value)
			if err != nil {
				continue // a tombstone
			}
			s, ok := w.Reg.Lookup(fp)
			if !ok {
				w.T.Fatalf("record of unknown fingerprint %016x", fp)
			}
			text, body := s.Text, rec.Value[10:]
			if rewrite != nil {
				text, body = rewrite(s, body)
			}
			out = append(out, &kgo.Record{Topic: rec.Topic, Partition: rec.Partition, Key: rec.Key, Headers: rec.Headers,
				Value: avrocodec.AppendConfluent(nil, uint32(f.idFor(text)), body)})
		}
	}
	w.produceRaw(out)
	return len(out)
}

func changelogRows(m *sinktest.Memory) int {
	n := 0
	for _, e := range catalog.All() {
		n += len(m.Changelog(e))
	}
	return n
}

// A topic that switches from single-object encoding to the registry stays readable: the
// same objects re-published in the Confluent wire format land (every version is in the
// changelog), nothing is dead-lettered, the tables equal the truth, and each id was
// asked for once, even by a runner that fails its first fetches (a registry down).
func TestMixedFramingsMatchTruth(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failFirst int
	}{
		{"registry up", 0},
		{"registry down for the first fetches", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.produce()
			m := sinktest.NewMemory()
			w.consume("mem", m)
			single := changelogRows(m)

			f := newFakeRegistry()
			n := w.reencode(f, "", nil)
			f.failFirst = tc.failFirst
			r := w.runner("mem", m, withSource(sink.UnknownIDs(f, errNotFound)))
			sink.SetSchemaRetryBase(r, 5*time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := r.Run(ctx); err != nil {
				t.Fatalf("runner: %v", err)
			}
			w.checkTruth(m)
			if got := changelogRows(m); got != single+n {
				t.Fatalf("changelog has %d rows, want %d single-object + %d Confluent", got, single, n)
			}
			if dlq := readAll(t, w.KOpts, sink.DLQTopic(w.Prefix)); len(dlq) != 0 {
				t.Fatalf("%d records dead-lettered, first: %s", len(dlq), headerOf(dlq[0], sink.HeaderReason))
			}
			for id := range f.texts {
				if got, want := f.callsOf(id), 1; got != want && tc.failFirst == 0 {
					t.Errorf("schema id %d fetched %d times, want once", id, got)
				}
			}
			if f.failFirst != 0 {
				t.Fatalf("%d planned failures left", f.failFirst)
			}
			// A new sink on the mixed topics rebuilds the same tables from history.
			fresh := sinktest.NewMemory()
			w.consume("other", fresh, withSource(f))
			w.checkTruth(fresh)
		})
	}
}

func headerOf(rec *kgo.Record, key string) string {
	for _, h := range rec.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// Records whose schema id the registry does not know, or whose writer schema no sink can
// store, are dead-lettered with the reason; the others land; an unknown id is asked for
// once however many records carry it.
func TestBadSchemaIDsAreDeadLettered(t *testing.T) {
	w := newWorld(t)
	w.produce()
	tickets, _ := catalog.Lookup("tickets")
	f := newFakeRegistry()
	noKey := f.idFor(`{"type": "record", "name": "t", "fields": [{"name": "x", "type": "long"}]}`)
	notAvro := f.idFor(`{"type": "recurd"}`)
	body := []byte{2, 4}
	tests := []struct {
		name   string
		id     int
		copies int
		reason string
	}{
		{"unknown id", 4242, 2, "schema id 4242: schema id unknown to the schema registry"},
		{"schema without the key field", noKey, 1, "incompatible schema"},
		{"not an Avro schema", notAvro, 1, "not a readable tickets schema"},
	}
	var recs []*kgo.Record
	for _, tc := range tests {
		for i := 0; i < tc.copies; i++ {
			recs = append(recs, &kgo.Record{Topic: tickets.Topic(w.Prefix), Key: []byte(tc.name),
				Value: avrocodec.AppendConfluent(nil, uint32(tc.id), body)})
		}
	}
	w.produceRaw(recs)
	m := sinktest.NewMemory()
	w.consume("mem", m, withSource(sink.UnknownIDs(f, errNotFound)))
	w.checkTruth(m)
	dlq := readAll(t, w.KOpts, sink.DLQTopic(w.Prefix))
	if len(dlq) != len(recs) {
		t.Fatalf("DLQ has %d records, want %d", len(dlq), len(recs))
	}
	reasons := map[string]string{}
	for _, d := range dlq {
		reasons[string(d.Key)] = headerOf(d, sink.HeaderReason)
	}
	for _, tc := range tests {
		if got := reasons[tc.name]; !strings.Contains(got, tc.reason) {
			t.Errorf("%s: dead-letter reason %q, want it to contain %q", tc.name, got, tc.reason)
		}
		if got := f.callsOf(tc.id); got != 1 {
			t.Errorf("%s: schema id %d fetched %d times, want once", tc.name, tc.id, got)
		}
	}
}

// A Confluent record with no schema registry configured stops the runner with one clear
// error naming SCHEMA_REGISTRY_URL; it is not dead-lettered, its offset is not stored,
// and a runner given a registry then reads it.
func TestConfluentRecordWithoutRegistryStops(t *testing.T) {
	w, m, f := customersReencoded(t)
	before := changelogRows(m)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := w.runner("mem", m).Run(ctx)
	if !errors.Is(err, sink.ErrNoSchemaRegistry) || !strings.Contains(err.Error(), "SCHEMA_REGISTRY_URL") {
		t.Fatalf("Run = %v, want ErrNoSchemaRegistry naming SCHEMA_REGISTRY_URL", err)
	}
	if dlq := readAll(t, w.KOpts, sink.DLQTopic(w.Prefix)); len(dlq) != 0 {
		t.Fatalf("%d records dead-lettered", len(dlq))
	}
	if got := changelogRows(m); got != before {
		t.Fatalf("changelog grew from %d to %d rows without a registry", before, got)
	}
	w.consume("mem", m, withSource(f))
	w.checkTruth(m)
	if changelogRows(m) == before {
		t.Fatal("the Confluent records did not land once a registry was given")
	}
}

// A registry that keeps failing is retried until the run is stopped; nothing is
// dead-lettered and nothing of the Confluent records is stored.
func TestRegistryDownRetriesUntilStopped(t *testing.T) {
	w, m, f := customersReencoded(t)
	f.failFirst = 1 << 30
	r := w.runner("mem", m, withSource(f), func(c *sink.Config) { c.Once = false })
	sink.SetSchemaRetryBase(r, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	before := changelogRows(m)
	if err := r.Run(ctx); err != nil {
		t.Fatalf("a continuous run stopped while retrying returned %v, want nil", err)
	}
	if dlq := readAll(t, w.KOpts, sink.DLQTopic(w.Prefix)); len(dlq) != 0 {
		t.Fatalf("%d records dead-lettered while the registry was down", len(dlq))
	}
	if got := changelogRows(m); got != before {
		t.Fatalf("changelog grew from %d to %d while the registry was down", before, got)
	}
	if f.callsOf(100) < 3 {
		t.Fatalf("schema fetched %d times in 3 s, want retries", f.callsOf(100))
	}
}

// A registry that refuses (bad credentials) stops the run with ErrSchemaRegistryRefused:
// no retry loop, nothing dead-lettered, nothing stored of the refused records.
func TestRegistryRefusalStops(t *testing.T) {
	w, m, _ := customersReencoded(t)
	before := changelogRows(m)
	refused := errors.New("HTTP 401: unauthorized")
	src := sink.Refusals(refusing{err: fmt.Errorf("get schema: %w", refused)}, refused)
	r := w.runner("mem", m, withSource(src), func(c *sink.Config) { c.Once = false })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang guard
	defer cancel()
	err := r.Run(ctx)
	if !errors.Is(err, sink.ErrSchemaRegistryRefused) || ctx.Err() != nil {
		t.Fatalf("Run with a refusing registry returned %v (context %v), want ErrSchemaRegistryRefused at once", err, ctx.Err())
	}
	if dlq := readAll(t, w.KOpts, sink.DLQTopic(w.Prefix)); len(dlq) != 0 {
		t.Fatalf("%d records dead-lettered by a refusing registry", len(dlq))
	}
	if got := changelogRows(m); got != before {
		t.Fatalf("changelog grew from %d to %d with a refusing registry", before, got)
	}
}

// refusing is a SchemaSource that always answers err.
type refusing struct{ err error }

func (r refusing) SchemaByID(context.Context, int) (string, error) { return "", r.err }

// A --once run does not wait for a registry that stays down beyond its stall limit: it
// ends incomplete (ErrIncomplete), naming the partitions behind, with nothing
// dead-lettered.
func TestOnceRegistryDownEndsIncomplete(t *testing.T) {
	w, m, f := customersReencoded(t)
	f.failFirst = 1 << 30
	r := w.runner("mem", m, withSource(f), func(c *sink.Config) { c.Once, c.OnceStallTimeout = true, 2*time.Second })
	sink.SetSchemaRetryBase(r, 50*time.Millisecond)
	// A hang guard only: the stall limit ends the run after about 2 s.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := r.Run(ctx)
	if !errors.Is(err, sink.ErrIncomplete) || ctx.Err() != nil {
		t.Fatalf("--once with the registry down returned %v (context %v), want ErrIncomplete before the hang guard", err, ctx.Err())
	}
	if !strings.Contains(err.Error(), "customers") {
		t.Errorf("error does not name the partitions behind: %v", err)
	}
	if dlq := readAll(t, w.KOpts, sink.DLQTopic(w.Prefix)); len(dlq) != 0 {
		t.Fatalf("%d records dead-lettered while the registry was down", len(dlq))
	}
}

// A writer schema the binary does not embed (a newer producer added a nullable field)
// lands with its field as a new column.
func TestEvolvedWriterSchemaAddsColumn(t *testing.T) {
	w := newWorld(t)
	w.produce()
	tickets, _ := catalog.Lookup("tickets")
	evolved := sinktest.EvolvedSchema(t, tickets)
	newCodec, err := goavro.NewCodec(evolved)
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeRegistry()
	n := w.reencode(f, "tickets", func(s *avrocodec.Schema, body []byte) (string, []byte) {
		old, err := goavro.NewCodec(s.Text)
		if err != nil {
			t.Fatal(err)
		}
		native, _, err := old.NativeFromBinary(body)
		if err != nil {
			t.Fatal(err)
		}
		rec := native.(map[string]any)
		rec["x_new_field"] = goavro.Union("string", fmt.Sprintf("new-%d", rec["id"]))
		out, err := newCodec.BinaryFromNative(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		return evolved, out
	})
	m := sinktest.NewMemory()
	w.consume("mem", m, withSource(f))
	w.checkTruth(m)
	landed := 0
	for _, row := range m.Changelog(tickets) {
		if v, ok := row["x_new_field"]; ok {
			if v != fmt.Sprintf("new-%d", row["id"]) {
				t.Fatalf("x_new_field = %v for ticket %v", v, row["id"])
			}
			landed++
		}
	}
	if landed != n {
		t.Fatalf("%d changelog rows carry x_new_field, want %d", landed, n)
	}
	for _, row := range m.Rows(tickets) {
		if _, ok := row["x_new_field"]; !ok {
			t.Fatal("the tickets table has no x_new_field column")
		}
	}
}

// UnknownIDs makes a client's own "unknown id" error match ErrUnknownSchemaID and
// leaves every other answer as it was.
func TestUnknownIDs(t *testing.T) {
	other := errors.New("other")
	tests := []struct {
		name        string
		err         error
		wantUnknown bool
	}{
		{"client's unknown id", fmt.Errorf("get: %w", errNotFound), true},
		{"already ErrUnknownSchemaID", fmt.Errorf("get: %w", sink.ErrUnknownSchemaID), true},
		{"unavailable", fmt.Errorf("get: %w", errRegistryDown), false},
		{"other", other, false},
		{"none", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := sink.UnknownIDs(sourceFunc(func(context.Context, int) (string, error) { return "{}", tc.err }), errNotFound)
			_, err := src.SchemaByID(context.Background(), 1)
			if got := errors.Is(err, sink.ErrUnknownSchemaID); got != tc.wantUnknown {
				t.Fatalf("errors.Is(%v, ErrUnknownSchemaID) = %v, want %v", err, got, tc.wantUnknown)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("error %v lost the source's error %v", err, tc.err)
			}
		})
	}
}

type sourceFunc func(ctx context.Context, id int) (string, error)

func (f sourceFunc) SchemaByID(ctx context.Context, id int) (string, error) { return f(ctx, id) }

// customersReencoded is the start of the registry tests: the topics loaded in
// single-object encoding and consumed into a memory sink, then every customer
// re-published in the Confluent wire format with an id of the returned fake registry.
func customersReencoded(t *testing.T) (*world, *sinktest.Memory, *fakeRegistry) {
	t.Helper()
	w := newWorld(t)
	w.produce()
	m := sinktest.NewMemory()
	w.consume("mem", m)
	f := newFakeRegistry()
	w.reencode(f, "customers", nil)
	return w, m, f
}
