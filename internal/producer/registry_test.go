package producer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/schemaregistry"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

// newRegistry starts an in-process Confluent-compatible registry and returns it with a
// client of it.
func newRegistry(t testing.TB) (*srfake.Registry, *schemaregistry.Client) {
	t.Helper()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	cl, err := schemaregistry.New(schemaregistry.Config{URL: reg.URL(), Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return reg, cl
}

// TestRegistryWireFormat runs the producer with a registry: every value is in the
// Confluent wire format, its id resolves to the subject <topic>-value holding the
// entity's current schema, its body decodes to the row of the single-object record of
// the same object, and the topics hold exactly the simulator's truth.
func TestRegistryWireFormat(t *testing.T) {
	reg, cl := newRegistry(t)
	e := newEnv(t, smallSim)
	e.SchemaByID = cl.SchemaByID
	e.mustRun(e.config(func(c *Config) { c.Registry = cl }))
	counts := e.CheckTopicsExact(t)

	rcl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := e.Sim.Now()
	for _, ent := range catalog.All() {
		enc, err := avrocodec.NewEncoder(ent)
		if err != nil {
			t.Fatal(err)
		}
		truth := e.Truth(t, ent)
		recs := e.ReadTopic(t, ent)
		if len(recs) == 0 || len(recs) != counts[ent.Name] {
			t.Fatalf("%s: %d records read, %d checked", ent.Name, len(recs), counts[ent.Name])
		}
		ids := map[uint32]*avrocodec.Schema{}
		compared := 0
		for _, r := range recs {
			if r.Value[0] != 0x00 {
				t.Fatalf("%s offset %d: first byte 0x%02x, want 0x00", ent.Name, r.Offset, r.Value[0])
			}
			id, body, err := avrocodec.SplitConfluent(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			s, ok := ids[id]
			if !ok {
				subjects, err := rcl.SubjectsByID(ctx, int(id))
				if err != nil {
					t.Fatalf("subjects of id %d: %v", id, err)
				}
				if want := ent.Topic(e.Prefix) + "-value"; !reflect.DeepEqual(subjects, []string{want}) {
					t.Fatalf("%s: id %d has subjects %v, want [%s]", ent.Name, id, subjects, want)
				}
				text, err := rcl.SchemaByID(ctx, int(id))
				if err != nil {
					t.Fatal(err)
				}
				if s, err = e.Reg.Register(ent.Name, text.Schema); err != nil {
					t.Fatal(err)
				}
				if s.Canonical() != enc.Schema().Canonical() {
					t.Fatalf("%s: registered schema %s\nis not the current one %s", ent.Name, s.Canonical(), enc.Schema().Canonical())
				}
				ids[id] = s
			}
			got, err := e.Reg.DecodeRowBody(s, body)
			if err != nil {
				t.Fatalf("%s offset %d: %v", ent.Name, r.Offset, err)
			}
			tr, ok := truth[r.ID]
			// (A snapshot record's version is its extraction time; one backfill ran, so
			// it is the object's only record.)
			if !ok || (ent.Mode != catalog.Snapshot && tr.Version != r.Version) {
				continue // an older version of the object; the truth check covered the rest
			}
			soe, err := enc.Encode(tr.Raw, avrocodec.Meta{Domain: testenv.Domain, ExtractedAt: r.ExtractedAt, AsOf: now}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, want, err := e.Reg.DecodeRow(soe.Value)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s id %d: Confluent body decodes to\n %v\nsingle-object record to\n %v", ent.Name, r.ID, got, want)
			}
			compared++
		}
		if len(ids) != 1 || compared == 0 {
			t.Fatalf("%s: %d schema ids, %d rows compared", ent.Name, len(ids), compared)
		}
		t.Logf("%s: %d records in the Confluent wire format, %d compared with single-object records", ent.Name, len(recs), compared)
	}
}

// TestRegistryDownAtStart: an unreachable registry fails the run before anything
// reaches Kafka (no topic created, nothing published).
func TestRegistryDownAtStart(t *testing.T) {
	reg, cl := newRegistry(t)
	reg.Close()
	e := newEnv(t, smallSim)
	var steps []string
	err := e.run(context.Background(), e.config(func(c *Config) { c.Registry = cl }), func(step, _ string) error {
		steps = append(steps, step)
		return nil
	})
	if !errors.Is(err, schemaregistry.ErrUnavailable) {
		t.Fatalf("Run = %v, want ErrUnavailable", err)
	}
	if !reflect.DeepEqual(steps, []string{stepRegister}) {
		t.Fatalf("steps %v, want only the first registration", steps)
	}
	assertNoTopics(t, e)
	t.Logf("error: %v", err)
}

// TestRegistryRefused: a refused registration fails the run with the registry's message.
func TestRegistryRefused(t *testing.T) {
	const msg = "Schema being registered is incompatible with an earlier schema for subject"
	reg, cl := newRegistry(t)
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`{"error_code":409,"message":"` + msg + `"}`))
		return true
	})
	e := newEnv(t, smallSim)
	err := e.run(context.Background(), e.config(func(c *Config) { c.Registry = cl }), nil)
	if !errors.Is(err, schemaregistry.ErrRefused) || !strings.Contains(err.Error(), msg) {
		t.Fatalf("Run = %v, want ErrRefused quoting %q", err, msg)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error is not one line: %q", err)
	}
	assertNoTopics(t, e)
	t.Logf("error: %v", err)
}

// assertNoTopics fails when any topic under the test's prefix exists.
func assertNoTopics(t *testing.T, e *env) {
	t.Helper()
	adm, err := kadm.NewOptClient(e.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ts, err := adm.ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range ts.Names() {
		if strings.HasPrefix(name, e.Prefix) {
			t.Fatalf("topic %s created although the registration failed", name)
		}
	}
}

// TestRegistrySubjectStrategies: with the record-name strategies the producer registers
// each entity's schema under <namespace>.<name> (record) or <topic>-<namespace>.<name>
// (topic_record), and every value's id belongs to that subject.
func TestRegistrySubjectStrategies(t *testing.T) {
	for _, c := range []struct {
		strategy string
		subject  func(topic, fullName string) string
	}{
		{"record", func(_, full string) string { return full }},
		{"topic_record", func(topic, full string) string { return topic + "-" + full }},
	} {
		t.Run(c.strategy, func(t *testing.T) {
			reg := srfake.New()
			t.Cleanup(reg.Close)
			cl, err := schemaregistry.New(schemaregistry.Config{URL: reg.URL(), SubjectStrategy: c.strategy, Timeout: 5 * time.Second}, nil)
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, gorgiassim.Config{Seed: 3, Customers: 30, Tickets: 40})
			e.SchemaByID = cl.SchemaByID
			e.mustRun(e.config(func(cfg *Config) { cfg.Registry = cl }))
			e.CheckTopicsExact(t)
			rcl, err := sr.NewClient(sr.URLs(reg.URL()))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for _, ent := range catalog.All() {
				enc, err := avrocodec.NewEncoder(ent)
				if err != nil {
					t.Fatal(err)
				}
				var named struct{ Name, Namespace string }
				if err := json.Unmarshal([]byte(enc.Schema().Text), &named); err != nil {
					t.Fatal(err)
				}
				want := c.subject(ent.Topic(e.Prefix), named.Namespace+"."+named.Name)
				for _, r := range e.ReadTopic(t, ent) {
					id, _, err := avrocodec.SplitConfluent(r.Value)
					if err != nil {
						t.Fatal(err)
					}
					subjects, err := rcl.SubjectsByID(ctx, int(id))
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(subjects, []string{want}) {
						t.Fatalf("%s: id %d has subjects %v, want [%s]", ent.Name, id, subjects, want)
					}
					break // one id per entity and run
				}
			}
		})
	}
}
