package sinktest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
)

// errRecorder is a testing.TB that records Errorf instead of failing.
type errRecorder struct {
	testing.TB
	errs []string
}

func (r *errRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// CheckTopicsExact accepts what one producer run wrote, and catches a duplicated
// version, a stale object and an unknown id.
func TestCheckTopicsExact(t *testing.T) {
	w := NewWorld(t, gorgiassim.Config{Seed: 3, Customers: 30, Tickets: 40})
	w.Produce()
	counts := w.CheckTopicsExact(t)
	for _, e := range catalog.All() {
		if counts[e.Name] != len(w.Sim.IDs(e.Resource)) {
			t.Errorf("%s: %d records for %d objects", e.Name, counts[e.Name], len(w.Sim.IDs(e.Resource)))
		}
	}
	if t.Failed() {
		return
	}

	tickets, err := catalog.Lookup("tickets")
	if err != nil {
		t.Fatal(err)
	}
	first := w.ReadTopic(t, tickets)[0]
	cl, err := kgo.NewClient(w.KOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dup := &kgo.Record{Topic: tickets.Topic(w.Prefix), Key: first.Key, Value: first.Value}
	if err := cl.ProduceSync(context.Background(), dup).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := w.Sim.EditCustomer(w.Sim.IDs("customers")[0]); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(context.Background(), unknownCustomer(t, w)).FirstErr(); err != nil {
		t.Fatal(err)
	}

	rec := &errRecorder{TB: t}
	w.CheckTopicsExact(rec)
	got := strings.Join(rec.errs, "\n")
	// The edit also wrote an audit event, which no producer run published.
	for _, want := range []string{"tickets: 1 duplicated versions", "customers: 1 stale objects", "customers: 1 unknown ids", "events: 1 missing objects"} {
		if !strings.Contains(got, want) {
			t.Errorf("checker output lacks %q:\n%s", want, got)
		}
	}
	if len(rec.errs) != 4 {
		t.Errorf("want exactly four complaints:\n%s", got)
	}
}

// unknownCustomer is a record of a customer the simulator does not have: a copy of one
// with another id.
func unknownCustomer(t *testing.T, w *World) *kgo.Record {
	var obj map[string]any
	if err := json.Unmarshal(w.Sim.Objects("customers")[1], &obj); err != nil {
		t.Fatal(err)
	}
	obj["id"] = 987654321
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	customers, err := catalog.Lookup("customers")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := avrocodec.NewEncoder(customers)
	if err != nil {
		t.Fatal(err)
	}
	r, err := enc.Encode(raw, avrocodec.Meta{Domain: "acme"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: customers.Topic(w.Prefix), Key: []byte("987654321"), Value: r.Value}
}
