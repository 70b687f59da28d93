package gorgiassim

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// TestEveryEntityEncodes: every object of every catalog entity, seeded and after
// Advance calls short and long, encodes with the entity's Avro schema and decodes to
// its id. Without Config.ExtraFields nothing lands in _extra (the schema covers every
// field the simulator sends); with it only the extra keys do (at the top level, and
// inside the customer tickets embed).
func TestEveryEntityEncodes(t *testing.T) {
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, extra := range []bool{false, true} {
		s, _ := newTestSim(t, Config{Customers: 60, Tickets: 150, ExtraFields: extra})
		objs := map[string][][]byte{}
		collect := func() {
			for _, e := range catalog.All() {
				for _, raw := range s.Objects(e.Name) {
					objs[e.Name] = append(objs[e.Name], raw)
				}
			}
		}
		collect()
		for _, d := range []time.Duration{time.Minute, time.Hour, 30 * time.Hour} {
			s.Advance(d)
			collect()
		}
		m := avrocodec.Meta{Domain: "acme", ExtractedAt: s.Now(), AsOf: s.Now()}
		for _, e := range catalog.All() {
			t.Run(e.Name+"/extra="+strconv.FormatBool(extra), func(t *testing.T) {
				enc, err := avrocodec.NewEncoder(e)
				if err != nil {
					t.Fatal(err)
				}
				for _, raw := range objs[e.Name] {
					checkEncodes(t, reg, enc, raw, m, extra)
				}
			})
		}
	}
}

// checkEncodes encodes one object, decodes the record and checks its id and _extra.
func checkEncodes(t *testing.T, reg *avrocodec.Registry, enc *avrocodec.Encoder, raw []byte, m avrocodec.Meta, extra bool) {
	t.Helper()
	rec, err := enc.Encode(raw, m, nil)
	if err != nil {
		t.Fatalf("encode %.300s: %v", raw, err)
	}
	d, err := reg.Decode(rec.Value)
	if err != nil {
		t.Fatalf("decode %.300s: %v", raw, err)
	}
	if want := rec.ID; d.Value["id"] != want {
		t.Fatalf("id %v, want %d", d.Value["id"], want)
	}
	got := union(d.Value["_extra"])
	if !extra {
		if got != nil {
			t.Fatalf("_extra %v for %.300s", got, raw)
		}
		return
	}
	var keys map[string]any
	if s, ok := got.(string); !ok || json.Unmarshal([]byte(s), &keys) != nil {
		t.Fatalf("_extra %v is not a JSON object", got)
	}
	if keys["x_sim_flag"] != true || keys["x_sim_info"] == nil {
		t.Fatalf("_extra %v lacks the two extra fields", keys)
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if last := k[strings.LastIndex(k, ".")+1:]; last != "x_sim_flag" && last != "x_sim_info" {
			t.Fatalf("_extra key %q: the schema misses a field the simulator sends", k)
		}
	}
}
