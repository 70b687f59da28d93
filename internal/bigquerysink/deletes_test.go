package bigquerysink

import (
	"errors"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// TestDeletesRideInTheBatch: deletions of two entities, with versions in the same
// batch, cost no job more than the versions alone (one load per entity and one
// commit), and both entities' deletions land in the one _deletions table.
func TestDeletesRideInTheBatch(t *testing.T) {
	srv := newFake(t)
	tg := newTarget(srv, "conformance.")
	fx := sinktest.NewFixture(t, nil)
	tickets, _ := catalog.Lookup("tickets")
	customers, _ := catalog.Lookup("customers")
	s := tg.open(t)
	defer s.Close()
	if err := s.Prepare(bg, catalog.All(), fx.Reg.Schemas("")); err != nil {
		t.Fatal(err)
	}
	tk, cu := fx.Records(t, tickets, 3, 0), fx.Records(t, customers, 3, 0)
	before := s.Stats()
	if err := s.Write(bg, sinktest.Batch(nil, slices.Concat(tk, cu)...)); err != nil {
		t.Fatal(err)
	}
	plain := s.Stats().Jobs - before.Jobs
	at := time.Now().UTC()
	delT := sinktest.Tombstone(tickets, tk[0].ID, at, tombstone.Deleted, 0, 3)
	delC := sinktest.Tombstone(customers, cu[1].ID, at, tombstone.Merged, cu[2].ID, 3)
	tk2 := fx.Records(t, tickets, 1, 4)
	before = s.Stats()
	first := map[string]int64{sinktest.Topic(tickets): 3, sinktest.Topic(customers): 3}
	if err := s.Write(bg, sinktest.Batch(first, delT, tk2[0], delC)); err != nil {
		t.Fatal(err)
	}
	if jobs := s.Stats().Jobs - before.Jobs; jobs != plain {
		t.Errorf("a batch with deletions made %d jobs, a batch without %d", jobs, plain)
	}
	got := map[string]int64{}
	rows, err := srv.DB().QueryContext(bg, `SELECT table_name, id, _merged_into FROM "`+tg.dataset+`"."_deletions"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table string
		var id int64
		var into *int64
		if err := rows.Scan(&table, &id, &into); err != nil {
			t.Fatal(err)
		}
		got[table] = id
		if table == customers.Table() && (into == nil || *into != cu[2].ID) {
			t.Errorf("customers deletion has _merged_into %v, want %d", into, cu[2].ID)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{tickets.Table(): tk[0].ID, customers.Table(): cu[1].ID}
	if len(got) != 2 || got[tickets.Table()] != want[tickets.Table()] || got[customers.Table()] != want[customers.Table()] {
		t.Errorf("_deletions holds %v, want %v", got, want)
	}
}

// TestDeletesUpgradeInPlace: tables made before deletions existed get the deletion
// columns appended by Prepare (old rows NULL in them), and the next deletion marks an
// old row.
func TestDeletesUpgradeInPlace(t *testing.T) {
	srv := newFake(t)
	tg := newTarget(srv, "conformance.")
	fx := sinktest.NewFixture(t, nil)
	tickets, _ := catalog.Lookup("tickets")
	s := tg.open(t)
	defer s.Close()
	fields, err := entitySchema(tickets, fx.Reg.Schemas(tickets.Name))
	if err != nil {
		t.Fatal(err)
	}
	old := slices.Concat(fields, kafkaColumns)
	if err := s.ensureDataset(bg); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{tickets.Table(), tickets.ChangelogTable()} {
		if err := s.ds.Table(name).Create(bg, &bigquery.TableMetadata{Schema: old}); err != nil {
			t.Fatal(err)
		}
	}
	q := s.client.Query("INSERT INTO " + s.tableRef(tickets.Table()) + " (id, updated_datetime) VALUES (7, TIMESTAMP '2024-01-02 03:04:05+00')")
	if _, err := q.Read(bg); err != nil {
		t.Fatal(err)
	}
	if err := s.Prepare(bg, []catalog.Entity{tickets}, fx.Reg.Schemas(tickets.Name)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{tickets.Table(), tickets.ChangelogTable()} {
		md, err := s.ds.Table(name).Metadata(bg)
		if err != nil {
			t.Fatal(err)
		}
		if cols := columnNames(md.Schema); !slices.Equal(cols[len(old):], []string{ColDeletedAt, ColDeletedReason, ColMergedInto}) {
			t.Errorf("%s columns after Prepare: %v", name, cols)
		}
	}
	del := sinktest.Tombstone(tickets, 7, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), tombstone.Deleted, 0, 0)
	if err := s.Write(bg, sinktest.Batch(nil, del)); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Rows(bg, tickets)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0][ColDeletedAt] == nil || rows[0]["updated_datetime"] == nil || rows[0][ColDeletedReason] != "deleted" {
		t.Fatalf("after the deletion: %v", rows)
	}
}

// TestDeletionOfUnpreparedEntity: a deletion of an entity whose tables the sink
// cannot create (it has no schema of it) is refused before any job runs.
func TestDeletionOfUnpreparedEntity(t *testing.T) {
	srv := newFake(t)
	tg := newTarget(srv, "conformance.")
	fx := sinktest.NewFixture(t, nil)
	tickets, _ := catalog.Lookup("tickets")
	customers, _ := catalog.Lookup("customers")
	s := tg.open(t)
	defer s.Close()
	if err := s.Prepare(bg, []catalog.Entity{tickets}, fx.Reg.Schemas("")); err != nil {
		t.Fatal(err)
	}
	jobs := len(srv.Jobs())
	err := s.Write(bg, sinktest.Batch(nil, sinktest.Tombstone(customers, 1, time.Now(), tombstone.Deleted, 0, 0)))
	if !errors.Is(err, ErrNotPrepared) {
		t.Fatalf("Write = %v, want ErrNotPrepared", err)
	}
	if n := len(srv.Jobs()); n != jobs {
		t.Errorf("%d jobs ran", n-jobs)
	}
}

// TestBadDeletion: deletions are checked like records (a range of their partition,
// Kafka order) and must have a time.
func TestBadDeletion(t *testing.T) {
	tickets, _ := catalog.Lookup("tickets")
	del := sinktest.Tombstone(tickets, 1, time.Now(), tombstone.Deleted, 0, 5)
	beyond := sinktest.Batch(nil, del)
	beyond.Ranges[0].Next = 5
	timeless := del
	timeless.Delete = &tombstone.Deletion{ID: 1}
	for name, b := range map[string]sink.Batch{
		"beyond its range": beyond,
		"out of order":     sinktest.Batch(nil, del, del),
		"no time":          sinktest.Batch(nil, timeless),
	} {
		if err := sink.CheckBatch(b); !errors.Is(err, sink.ErrBadBatch) {
			t.Errorf("%s: CheckBatch = %v, want sink.ErrBadBatch", name, err)
		}
	}
	if err := sink.CheckBatch(sinktest.Batch(nil, del)); err != nil {
		t.Errorf("a good deletion: %v", err)
	}
}
