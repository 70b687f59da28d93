package bigquerysink

import (
	"sync"
	"testing"

	"cloud.google.com/go/bigquery"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestSchemaPatchRetries412: another writer changes the table between the sink's read
// of the etag and its tables.patch. BigQuery answers 412; the sink reads the table
// again, merges both changes and patches again. Both columns exist afterwards, and
// records of the new schema version land with old rows NULL in the new column.
func TestSchemaPatchRetries412(t *testing.T) {
	srv := newFake(t)
	tg := newTarget(srv, "conformance.")
	fx := sinktest.NewFixture(t, nil)
	tickets, _ := catalog.Lookup("tickets")
	s := tg.open(t)
	defer s.Close()
	if err := s.Prepare(bg, catalog.All(), fx.Reg.Schemas("")); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(bg, sinktest.Batch(nil, fx.Records(t, tickets, 5, 0)...)); err != nil {
		t.Fatal(err)
	}
	evolved, err := fx.Reg.Register(tickets.Name, sinktest.EvolvedSchema(t, tickets))
	if err != nil {
		t.Fatal(err)
	}

	var once sync.Once
	patched := 0
	beforePatch = func(table string) {
		patched++
		if table != tickets.Table() {
			return
		}
		once.Do(func() { // a concurrent writer adds its own column first
			tbl := s.Client().Dataset(tg.dataset).Table(table)
			md, err := tbl.Metadata(bg)
			if err != nil {
				t.Error(err)
				return
			}
			_, err = tbl.Update(bg, bigquery.TableMetadataToUpdate{
				Schema: append(md.Schema, &bigquery.FieldSchema{Name: "x_other_writer", Type: bigquery.StringFieldType}),
			}, md.ETag)
			if err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(func() { beforePatch = nil })

	if err := s.Prepare(bg, []catalog.Entity{tickets}, []*avrocodec.Schema{evolved}); err != nil {
		t.Fatalf("Prepare with the evolved schema: %v", err)
	}
	md, err := s.Client().Dataset(tg.dataset).Table(tickets.Table()).Metadata(bg)
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"x_new_field", "x_other_writer"} {
		if indexOf(md.Schema, col) < 0 {
			t.Errorf("column %s missing after the 412 retry: %v", col, columnNames(md.Schema))
		}
	}
	if patched < 3 { // tickets (412, then again) and the changelog
		t.Errorf("%d patches, want at least 3", patched)
	}
	// The next batch carries every column, including the other writer's.
	if err := s.Write(bg, sinktest.Batch(map[string]int64{sinktest.Topic(tickets): 5}, fx.Records(t, tickets, 5, 5)...)); err != nil {
		t.Fatalf("write after the schema change: %v", err)
	}
	log, err := s.ChangelogRows(bg, tickets)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 10 {
		t.Fatalf("changelog has %d rows, want 10", len(log))
	}
	rows, err := s.Rows(bg, tickets)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5 (the same objects again)", len(rows))
	}
	for _, r := range rows {
		if r["x_new_field"] != nil {
			t.Errorf("old row has x_new_field = %v, want NULL", r["x_new_field"])
		}
	}
}
