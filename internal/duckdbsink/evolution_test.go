package duckdbsink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
	"github.com/gorgias-kafka/gorgias-kafka/schemas"
)

// evolvedTickets returns the current tickets schema plus a top-level field
// x_new_field (before _extra, which must stay last), a field x_nested in the Person
// record (customer, assignee_user) and a field x_tag_field in the Tag record (a LIST
// of STRUCT).
func evolvedTickets(t testing.TB) string {
	t.Helper()
	text, err := schemas.Current("tickets")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(text, "\n")
	var out []string
	personDone, tagSeen := false, false
	for _, l := range lines {
		trim := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(trim, `{"name": "_extra"`):
			out = append(out, `    {"name": "x_new_field", "type": ["null", "string"], "default": null},`)
		case !personDone && trim == `{"name": "meta", "type": ["null", "string"], "default": null, "json": true}`:
			l += `,` + "\n" + `        {"name": "x_nested", "type": ["null", "string"], "default": null}`
			personDone = true
		case strings.Contains(trim, `"name": "Tag"`):
			tagSeen = true
		case tagSeen && trim == `{"name": "decoration", "type": ["null", "string"], "default": null, "json": true}`:
			l += `,` + "\n" + `        {"name": "x_tag_field", "type": ["null", "long"], "default": null}`
			tagSeen = false
		}
		out = append(out, l)
	}
	evolved := strings.Join(out, "\n")
	if evolved == text || !strings.Contains(evolved, "x_tag_field") || !strings.Contains(evolved, "x_nested") {
		t.Fatal("schema edit did not apply")
	}
	return evolved
}

// withNewFields adds values for the evolved fields to a raw ticket.
func withNewFields(t testing.TB, raw json.RawMessage) json.RawMessage {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	m["x_new_field"] = fmt.Sprintf("hello-%v", m["id"])
	if c, ok := m["customer"].(map[string]any); ok {
		c["x_nested"] = "nested"
	}
	if tags, ok := m["tags"].([]any); ok {
		for _, tg := range tags {
			tg.(map[string]any)["x_tag_field"] = 7
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSchemaEvolution(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := testenv.Entity(t, "tickets")
	path := t.TempDir() + "/evo.duckdb"
	s := f.openSink(t, Config{Path: path, Changelog: true}) // prepared with the released schemas only
	old := f.recs[e.Name]
	if err := s.Write(ctx, batchOf(sink.NoOffset, old[:100]...)); err != nil {
		t.Fatal(err)
	}
	colsBefore, _ := s.Columns(ctx, e)

	text := evolvedTickets(t)
	sc, err := f.Reg.Register(e.Name, text)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Fingerprint == old[0].Schema.Fingerprint {
		t.Fatal("evolved schema has the old fingerprint")
	}
	enc, err := avrocodec.NewEncoderWithSchema(e, text)
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	for _, raw := range f.Sim.Objects(e.Name)[50:150] {
		raws = append(raws, withNewFields(t, raw))
	}
	evolved := f.encode(t, e, enc, raws)
	for i := range evolved { // later versions at later offsets
		evolved[i] = variant(evolved[i], evolved[i].Version.Add(time.Hour), int64(100+i), "", nil)
	}
	if err := s.Write(ctx, batchOf(100, evolved...)); err != nil {
		t.Fatal(err)
	}
	// A late record of the old schema still goes in after the widening.
	late := old[150]
	late.Offset = 200
	if err := s.Write(ctx, batchOf(200, late)); err != nil {
		t.Fatal(err)
	}

	cols, err := s.Columns(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(colsBefore, "x_new_field"); !reflect.DeepEqual(cols, want) {
		t.Errorf("columns %v, want %v", cols, want)
	}
	rows, err := s.Rows(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 151 {
		t.Fatalf("%d rows, want 151", len(rows))
	}
	for i, row := range rows {
		switch {
		case i < 50 || i == 150: // old schema only
			if v, ok := row["x_new_field"]; !ok || v != nil {
				t.Fatalf("row %d: x_new_field = %#v, %v; want NULL", i, v, ok)
			}
			if c, ok := row["customer"].(map[string]any); ok {
				if v, ok := c["x_nested"]; !ok || v != nil {
					t.Fatalf("row %d: customer.x_nested = %#v, %v; want NULL", i, v, ok)
				}
			}
			for _, tg := range row["tags"].([]any) {
				if v, ok := tg.(map[string]any)["x_tag_field"]; !ok || v != nil {
					t.Fatalf("row %d: tags[].x_tag_field = %#v, %v; want NULL", i, v, ok)
				}
			}
			want := wantRow(old[i])
			if i == 150 {
				want = wantRow(late)
			}
			for _, k := range []string{"id", "subject", "updated_datetime", "_extra", ColOffset} {
				if !reflect.DeepEqual(row[k], want[k]) {
					t.Fatalf("row %d: %s = %#v, want %#v", i, k, row[k], want[k])
				}
			}
		default: // rewritten with the evolved schema: every field as decoded
			if diffRow(t, row, wantRow(evolved[i-50])) {
				t.FailNow()
			}
			if row["x_new_field"] != fmt.Sprintf("hello-%d", row["id"]) {
				t.Fatalf("row %d: x_new_field = %#v", i, row["x_new_field"])
			}
		}
	}
	cl, err := s.ChangelogRows(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(cl) != 201 || cl[0]["x_new_field"] != nil || cl[100]["x_new_field"] == nil {
		t.Errorf("changelog: %d rows", len(cl))
	}

	// Reopened and prepared with both versions, nothing changes.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	s2, err := Open(ctx, Config{Path: path, Changelog: true, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Prepare(ctx, catalog.All(), f.Reg.Schemas("")); err != nil {
		t.Fatal(err)
	}
	if logs.String() != "" {
		t.Errorf("Prepare after reopen changed tables:\n%s", logs.String())
	}

	// A fresh file prepared with both versions (in either order) keeps schema order:
	// x_new_field before _extra.
	for _, order := range [][]*avrocodec.Schema{{old[0].Schema, sc}, {sc, old[0].Schema}} {
		s3 := f.openSinkWith(t, Config{}, order)
		cols, _ := s3.Columns(ctx, e)
		var want []string
		for _, fl := range sc.Root.Fields {
			want = append(want, fl.Name)
		}
		want = append(want, ColPartition, ColOffset, ColTimestamp, ColDeletedAt, ColDeletedReason, ColMergedInto)
		if !reflect.DeepEqual(cols, want) {
			t.Errorf("fresh columns %v, want %v", cols, want)
		}
	}
}

// A schema version changing the type of an existing field is refused clearly.
func TestIncompatibleSchema(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := testenv.Entity(t, "satisfaction_surveys")
	s := f.openSink(t, Config{})
	text, _ := schemas.Current(e.Name)
	bad := strings.Replace(text, `{"name": "score", "type": ["null", "long"]`, `{"name": "score", "type": ["null", "string"]`, 1)
	if bad == text {
		t.Fatal("schema edit did not apply")
	}
	sc, err := f.Reg.Register(e.Name, bad)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Prepare(ctx, []catalog.Entity{e}, []*avrocodec.Schema{sc})
	if !errors.Is(err, ErrIncompatibleSchema) || !strings.Contains(err.Error(), "score") {
		t.Fatalf("Prepare = %v, want an error about score", err)
	}
	t.Log(err)
}

// openSinkWith opens a sink on a fresh file prepared with the given schemas only.
func (f *fixture) openSinkWith(t testing.TB, cfg Config, scs []*avrocodec.Schema) *Sink {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = t.TempDir() + "/with.duckdb"
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ents := map[string]bool{}
	var es []catalog.Entity
	for _, sc := range scs {
		if !ents[sc.Entity] {
			ents[sc.Entity] = true
			es = append(es, testenv.Entity(t, sc.Entity))
		}
	}
	if err := s.Prepare(context.Background(), es, scs); err != nil {
		t.Fatal(err)
	}
	return s
}
