package postgressink

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/pgtest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// openMode opens a sink (changelog on) applying deletions as mode and closes it when
// the test ends.
func openMode(t testing.TB, uri string, mode sink.DeleteMode) *Sink {
	t.Helper()
	s, err := Open(bg, sink.Dest{URI: uri, Schema: "gorgias", Changelog: true, Deletes: mode}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func columnNames(t *testing.T, s *Sink, table string) []string {
	t.Helper()
	cols, err := loadColumns(bg, s.conn, "gorgias", table)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cols {
		out = append(out, c.name)
	}
	return out
}

// deletionCols are the deletion columns, in the order the sink adds them.
var deletionCols = []string{sink.ColDeletedAt, sink.ColDeletedReason, sink.ColMergedInto}

// TestDeletionColumnsUpgradeInPlace: a new table has the deletion columns right after
// the Kafka columns; tables of a deployment from before deletions (and no deletions
// table) get them appended by the next Prepare, and take deletions at once.
func TestDeletionColumnsUpgradeInPlace(t *testing.T) {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	fx := sinktest.NewFixture(t, nil)
	tickets := mustEntity(t, "tickets")
	s := openMode(t, uri, sink.SoftDelete)
	if err := s.Prepare(bg, []catalog.Entity{tickets}, fx.Reg.Schemas(tickets.Name)); err != nil {
		t.Fatal(err)
	}
	cols := columnNames(t, s, tickets.Table())
	i := slices.Index(cols, sink.ColTimestamp)
	if i < 0 || !slices.Equal(cols[i+1:i+4], deletionCols) {
		t.Fatalf("columns %v: want %v right after %s", cols, deletionCols, sink.ColTimestamp)
	}
	recs := fx.Records(t, tickets, 3, 0)
	if err := s.Write(bg, sinktest.Batch(nil, recs...)); err != nil {
		t.Fatal(err)
	}
	// Back to the layout of before deletions.
	for _, table := range []string{tickets.Table(), tickets.ChangelogTable()} {
		for _, c := range deletionCols {
			if _, err := s.conn.Exec(bg, "ALTER TABLE "+s.qualified(table)+" DROP COLUMN "+quote(c)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.conn.Exec(bg, "DROP TABLE "+s.qualified(sink.DeletionsTable)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openMode(t, uri, sink.SoftDelete)
	if err := s.Prepare(bg, []catalog.Entity{tickets}, fx.Reg.Schemas(tickets.Name)); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{tickets.Table(), tickets.ChangelogTable()} {
		if cols := columnNames(t, s, table); !slices.Equal(cols[len(cols)-3:], deletionCols) {
			t.Fatalf("%s columns %v: want %v at the end", table, cols, deletionCols)
		}
	}
	del := sinktest.Tombstone(tickets, recs[0].ID, recs[0].Version.Add(time.Hour), tombstone.Deleted, 0, 3)
	if err := s.Write(bg, sinktest.Batch(map[string]int64{sinktest.Topic(tickets): 3}, del)); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Rows(bg, tickets)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		deleted := r[sink.ColDeletedAt] != nil
		if deleted != (r["id"] == recs[0].ID) || (deleted && r["subject"] != recs[0].Values[recs[0].Schema.Root.FieldIndex("subject")]) {
			t.Errorf("row %v: deleted %v", r["id"], deleted)
		}
	}
}

// TestDeletionBatchChecks: a batch whose deletions break the batch rules is refused
// with ErrBadBatch and stores nothing.
func TestDeletionBatchChecks(t *testing.T) {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	fx := sinktest.NewFixture(t, nil)
	tickets := mustEntity(t, "tickets")
	s := openMode(t, uri, sink.SoftDelete)
	if err := s.Prepare(bg, []catalog.Entity{tickets}, fx.Reg.Schemas(tickets.Name)); err != nil {
		t.Fatal(err)
	}
	v := fx.Records(t, tickets, 2, 0)
	at := v[1].Version.Add(time.Hour)
	del := func(off int64) sink.Record {
		return sinktest.Tombstone(tickets, v[0].ID, at, tombstone.Deleted, 0, off)
	}
	otherID := del(2)
	otherID.ID++
	otherTime := del(2)
	otherTime.Version = at.Add(time.Second)
	for name, b := range map[string]sink.Batch{
		"deletion out of Kafka order": sinktest.Batch(nil, v[0], del(1), v[1]),
		"deletion of another id":      sinktest.Batch(nil, v[0], v[1], otherID),
		"deletion at another time":    sinktest.Batch(nil, v[0], v[1], otherTime),
		"deletion past its range": {Records: []sink.Record{v[0], del(5)}, Ranges: []sink.Range{
			{TopicPartition: sink.TopicPartition{Topic: sinktest.Topic(tickets)}, First: sink.NoOffset, Next: 2}}},
	} {
		if err := s.Write(bg, b); !errors.Is(err, sink.ErrBadBatch) {
			t.Errorf("%s: %v, want ErrBadBatch", name, err)
		}
	}
	if offs, err := s.Offsets(bg); err != nil || len(offs) != 0 {
		t.Fatalf("offsets %v (%v), want none", offs, err)
	}
}

// TestDeletionsAtomic: a batch of versions and deletions that fails before COMMIT
// leaves the entity, changelog and deletions tables and the offsets as they were; the
// retry applies it all.
func TestDeletionsAtomic(t *testing.T) {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	fx := sinktest.NewFixture(t, nil)
	tickets := mustEntity(t, "tickets")
	s := openMode(t, uri, sink.HardDelete)
	if err := s.Prepare(bg, []catalog.Entity{tickets}, fx.Reg.Schemas(tickets.Name)); err != nil {
		t.Fatal(err)
	}
	v := fx.Records(t, tickets, 4, 0)
	if err := s.Write(bg, sinktest.Batch(nil, v[:2]...)); err != nil {
		t.Fatal(err)
	}
	at := v[3].Version.Add(time.Hour)
	last := v[3]
	last.Offset = 4
	b := sinktest.Batch(map[string]int64{sinktest.Topic(tickets): 2},
		v[2], sinktest.Tombstone(tickets, v[0].ID, at, tombstone.Deleted, 0, 3), last)
	s.hook = func(point string) error {
		if point == pointWritten {
			return errors.New("crash")
		}
		return nil
	}
	if err := s.Write(bg, b); err == nil {
		t.Fatal("the write failing before COMMIT succeeded")
	}
	s.hook = nil
	checkState(t, s, tickets, idsOf(v[:2]), 2)
	var n int
	if err := s.conn.QueryRow(bg, "SELECT count(*) FROM "+s.qualified(sink.DeletionsTable)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d deletions stored (%v), want 0", n, err)
	}
	if err := s.Write(bg, b); err != nil {
		t.Fatal(err)
	}
	checkState(t, s, tickets, idsOf(v[1:]), 5)
}

// TestDeletionOnlyEntities: deletions of an entity the batch has no version of, even
// one this process never prepared, are applied; of several deletions of one id at the
// same time, the first in Kafka order is the one kept.
func TestDeletionOnlyEntities(t *testing.T) {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	fx := sinktest.NewFixture(t, nil)
	tickets, customers := mustEntity(t, "tickets"), mustEntity(t, "customers")
	s := openMode(t, uri, sink.SoftDelete)
	if err := s.Prepare(bg, []catalog.Entity{tickets}, fx.Reg.Schemas(tickets.Name)); err != nil {
		t.Fatal(err)
	}
	v := fx.Records(t, tickets, 1, 0)
	at := v[0].Version.Add(time.Hour)
	b := sinktest.Batch(nil, v[0],
		sinktest.Tombstone(customers, 7, at, tombstone.Merged, 8, 0),
		sinktest.Tombstone(customers, 7, at, tombstone.Deleted, 0, 1))
	if err := s.Write(bg, b); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Rows(bg, customers)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0]["id"] != int64(7) || rows[0][sink.ColDeletedReason] != "merged" ||
		rows[0][sink.ColMergedInto] != int64(8) || rows[0][sink.ColOffset] != int64(0) || rows[0][customers.VersionField] != nil {
		t.Fatalf("customers rows %v, want the merge of 7 at offset 0", rows)
	}
	var reason string
	if err := s.conn.QueryRow(bg, "SELECT "+quote(sink.ColDeletedReason)+" FROM "+s.qualified(sink.DeletionsTable)+
		" WHERE table_name = $1 AND id = 7", customers.Table()).Scan(&reason); err != nil || reason != "merged" {
		t.Fatalf("deletions table: %q (%v), want merged", reason, err)
	}
	log, err := s.ChangelogRows(bg, customers)
	if err != nil || len(log) != 2 {
		t.Fatalf("customers changelog %v (%v), want both deletions", log, err)
	}
}
