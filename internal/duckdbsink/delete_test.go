package duckdbsink

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// deletionRec is one row of the deletions table.
type deletionRec struct {
	table  string
	id     int64
	at     time.Time
	reason string
	into   *int64
}

// readDeletions returns the deletions table, ordered by table and id.
func readDeletions(t testing.TB, s *Sink) []deletionRec {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), fmt.Sprintf(
		"SELECT table_name, id, %s, %s, %s FROM %s ORDER BY table_name, id",
		ColDeletedAt, ColDeletedReason, ColMergedInto, s.Table(sink.DeletionsTable)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []deletionRec
	for rows.Next() {
		var d deletionRec
		if err := rows.Scan(&d.table, &d.id, &d.at, &d.reason, &d.into); err != nil {
			t.Fatal(err)
		}
		d.at = d.at.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rowOf returns the row of id among rows (nil if absent).
func rowOf(rows []map[string]any, id int64) map[string]any {
	for _, r := range rows {
		if r[catalog.Key] == id {
			return r
		}
	}
	return nil
}

// The deletions table keeps the latest deletion of an id whatever the order they come
// in, and guards the entity table against older versions, also after a reopen (when
// the sink no longer knows whether the entity has deletions); a newer version restores
// the row and clears its deletion columns.
func TestDeletionsTable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := testenv.Entity(t, "tickets")
	for _, mode := range []sink.DeleteMode{sink.SoftDelete, sink.HardDelete} {
		t.Run(string(mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "del.duckdb")
			s := f.openSink(t, Config{Path: path, Changelog: true, Deletes: mode})
			a := f.recs[e.Name][0]
			if err := s.Write(ctx, batchOf(sink.NoOffset, a)); err != nil {
				t.Fatal(err)
			}
			d1, d2 := a.Version.Add(time.Hour), a.Version.Add(2*time.Hour)
			later := sinktest.Tombstone(e, a.ID, d2, tombstone.Merged, 42, 1)
			earlier := sinktest.Tombstone(e, a.ID, d1, tombstone.Deleted, 0, 2)
			if err := s.Write(ctx, batchOf(1, later)); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, batchOf(2, earlier)); err != nil {
				t.Fatal(err)
			}
			into := int64(42)
			want := []deletionRec{{table: e.Table(), id: a.ID, at: d2, reason: "merged", into: &into}}
			if got := readDeletions(t, s); !reflect.DeepEqual(got, want) {
				t.Fatalf("deletions %+v, want %+v", got, want)
			}
			checkDeleted := func(s *Sink, what string) {
				t.Helper()
				rows, err := s.Rows(ctx, e)
				if err != nil {
					t.Fatal(err)
				}
				row := rowOf(rows, a.ID)
				switch {
				case mode.Hard() && row != nil:
					t.Fatalf("%s: hard-deleted row is back: %v", what, row)
				case !mode.Hard() && (row == nil || row[ColDeletedAt] != d2 || row[ColOffset] != int64(1) || row["subject"] != a.Values[fieldIndex(t, a, "subject")]):
					t.Fatalf("%s: soft-deleted row %v, want the version's fields with the deletion at offset 1", what, row)
				}
			}
			checkDeleted(s, "after deletions")

			// A version between the two deletions is older than the latest one.
			between := variant(a, d1.Add(time.Minute), 3, "subject", "between")
			if err := s.Write(ctx, batchOf(3, between)); err != nil {
				t.Fatal(err)
			}
			checkDeleted(s, "after a version between the deletions")

			// Reopened, the sink asks the deletions table again.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s2, err := Open(ctx, Config{Path: path, Changelog: true, Deletes: mode})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			equal := variant(a, d2, 4, "subject", "equal")
			if err := s2.Write(ctx, batchOf(4, equal)); err != nil {
				t.Fatal(err)
			}
			checkDeleted(s2, "after reopen and a version at the deletion time")

			back := variant(a, d2.Add(time.Microsecond), 5, "subject", "back")
			if err := s2.Write(ctx, batchOf(5, back)); err != nil {
				t.Fatal(err)
			}
			rows, err := s2.Rows(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0]["subject"] != "back" || rows[0][ColDeletedAt] != nil ||
				rows[0][ColDeletedReason] != nil || rows[0][ColMergedInto] != nil || rows[0][ColOffset] != int64(5) {
				t.Fatalf("after a newer version: %v", rows)
			}
			cl, err := s2.ChangelogRows(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			var dels []int64
			for _, r := range cl {
				if r[ColDeletedAt] != nil {
					dels = append(dels, r[ColOffset].(int64))
					if r[e.VersionField] != nil || r["subject"] != nil || r[catalog.Key] != a.ID {
						t.Errorf("changelog deletion row %v: want the id and NULL fields", r)
					}
				}
			}
			if len(cl) != 6 || !slices.Equal(dels, []int64{1, 2}) {
				t.Errorf("changelog: %d rows, deletions at offsets %v; want 6 and [1 2]", len(cl), dels)
			}
		})
	}
}

func fieldIndex(t testing.TB, r sink.Record, name string) int {
	t.Helper()
	for i, fl := range r.Schema.Root.Fields {
		if fl.Name == name {
			return i
		}
	}
	t.Fatalf("no field %s", name)
	return -1
}

// A file written before deletions existed (no deletion columns, no deletions table)
// is upgraded in place by Open and Prepare: the columns are added after the others,
// NULL on the existing rows.
func TestDeletionUpgradeInPlace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := testenv.Entity(t, "tickets")
	path := filepath.Join(t.TempDir(), "old.duckdb")
	s := f.openSink(t, Config{Path: path, Changelog: true})
	recs := f.recs[e.Name][:3]
	if err := s.Write(ctx, batchOf(sink.NoOffset, recs...)); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{e.Table(), e.ChangelogTable()} {
		for _, c := range []string{ColDeletedAt, ColDeletedReason, ColMergedInto} {
			if _, err := s.DB().ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", s.Table(tbl), c)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.DB().ExecContext(ctx, "DROP TABLE "+s.Table(sink.DeletionsTable)); err != nil {
		t.Fatal(err)
	}
	oldCols, _ := s.Columns(ctx, e)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := f.openSink(t, Config{Path: path, Changelog: true})
	cols, _ := s2.Columns(ctx, e)
	if want := append(oldCols, ColDeletedAt, ColDeletedReason, ColMergedInto); !reflect.DeepEqual(cols, want) {
		t.Fatalf("columns %v, want %v", cols, want)
	}
	del := sinktest.Tombstone(e, recs[0].ID, recs[0].Version, tombstone.Deleted, 0, 3)
	if err := s2.Write(ctx, batchOf(3, del)); err != nil {
		t.Fatal(err)
	}
	rows, err := s2.Rows(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if deleted := r[ColDeletedAt] != nil; deleted != (i == 0) {
			t.Errorf("row %d (id %v): %s = %v", i, r[catalog.Key], ColDeletedAt, r[ColDeletedAt])
		}
	}
	if got := len(readDeletions(t, s2)); got != 1 {
		t.Errorf("%d deletions stored, want 1", got)
	}

	// Reopened and not prepared, a batch of deletions only takes the table as it is.
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(ctx, Config{Path: path, Changelog: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	del = sinktest.Tombstone(e, recs[1].ID, recs[1].Version, tombstone.Deleted, 0, 4)
	if err := s3.Write(ctx, batchOf(4, del)); err != nil {
		t.Fatal(err)
	}
	if again, _ := s3.Columns(ctx, e); !reflect.DeepEqual(again, cols) {
		t.Errorf("columns after a deletion without Prepare %v, want %v", again, cols)
	}
	rows, err = s3.Rows(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][ColDeletedAt] == nil || rows[1]["subject"] != recs[1].Values[fieldIndex(t, recs[1], "subject")] {
		t.Errorf("after a deletion without Prepare: %v", rows[1])
	}
}

// Deletions of entities the sink was not prepared for create their tables (key,
// version, Kafka and deletion columns) and read back as rows of NULLs, whatever the
// column types; the first version adds the other columns and replaces the row.
func TestDeletionsOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tickets, msgs := testenv.Entity(t, "tickets"), testenv.Entity(t, "ticket_messages")
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "fresh.duckdb"), Changelog: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := f.recs[msgs.Name][0]
	at := m.Version.Add(-time.Hour)
	b := sink.Batch{
		Records: []sink.Record{
			sinktest.Tombstone(tickets, 7, at, tombstone.Merged, 8, 0),
			sinktest.Tombstone(msgs, m.ID, at, tombstone.Deleted, 0, 0),
		},
		Ranges: []sink.Range{
			{TopicPartition: sink.TopicPartition{Topic: tickets.Topic(topicPrefix)}, First: sink.NoOffset, Next: 1},
			{TopicPartition: sink.TopicPartition{Topic: msgs.Topic(topicPrefix)}, First: sink.NoOffset, Next: 1},
		},
	}
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	cols, _ := s.Columns(ctx, tickets)
	if want := []string{catalog.Key, tickets.VersionField, ColPartition, ColOffset, ColTimestamp, ColDeletedAt, ColDeletedReason, ColMergedInto}; !reflect.DeepEqual(cols, want) {
		t.Fatalf("columns %v, want %v", cols, want)
	}
	rows, err := s.Rows(ctx, tickets)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0][catalog.Key] != int64(7) || rows[0][ColMergedInto] != int64(8) || rows[0][ColDeletedReason] != "merged" || rows[0][tickets.VersionField] != nil {
		t.Fatalf("tickets %v", rows)
	}

	// The messages table exists (prepared) with every type of column: the deletion's
	// row reads back with NULL fields, in the table and in the changelog.
	if err := s.Prepare(ctx, []catalog.Entity{msgs}, f.Reg.Schemas("")); err != nil {
		t.Fatal(err)
	}
	for _, read := range []func(context.Context, catalog.Entity) ([]map[string]any, error){s.Rows, s.ChangelogRows} {
		rows, err := read(ctx, msgs)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("%d message rows, want 1", len(rows))
		}
		for k, v := range rows[0] {
			switch k {
			case catalog.Key, ColPartition, ColOffset, ColTimestamp, ColDeletedAt, ColDeletedReason:
				if v == nil {
					t.Errorf("message deletion row: %s is NULL", k)
				}
			default:
				if v != nil {
					t.Errorf("message deletion row: %s = %v, want NULL", k, v)
				}
			}
		}
	}

	// The deleted message's version, newer than the deletion, replaces the row.
	m.Offset = 1
	if err := s.Write(ctx, batchOf(1, m)); err != nil {
		t.Fatal(err)
	}
	rows, err = s.Rows(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d message rows, want 1", len(rows))
	}
	if diffRow(t, rows[0], wantRow(m)) || rows[0][ColDeletedAt] != nil {
		t.Fatalf("message row after its version: %v", rows[0])
	}
}

// A batch with deletions that fails inside its transaction stores nothing of them
// (rows, changelog, deletions table), and its retry applies them.
func TestDeletionAtomicity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := testenv.Entity(t, "tickets")
	for _, point := range Failpoints {
		t.Run(point, func(t *testing.T) {
			s := f.openSink(t, Config{Changelog: true})
			recs := f.recs[e.Name][:10]
			if err := s.Write(ctx, batchOf(sink.NoOffset, recs...)); err != nil {
				t.Fatal(err)
			}
			before := takeSnapshot(t, s)
			var batch []sink.Record
			for i, r := range recs[:5] {
				batch = append(batch, sinktest.Tombstone(e, r.ID, r.Version.Add(time.Hour), tombstone.Deleted, 0, int64(10+i)))
			}
			batch = append(batch, sinktest.Tombstone(e, 999_999_999, recs[0].Version, tombstone.Disappeared, 0, 15),
				variant(recs[6], recs[6].Version.Add(time.Hour), 16, "subject", "changed"))
			injected := errors.New("injected")
			s.failpoint = func(p string) error {
				if p == point {
					return injected
				}
				return nil
			}
			if err := s.Write(ctx, batchOf(10, batch...)); !errors.Is(err, injected) {
				t.Fatalf("Write = %v, want the injected error", err)
			}
			if after := takeSnapshot(t, s); !reflect.DeepEqual(before, after) {
				t.Errorf("failed batch changed the state")
			}
			if got := readDeletions(t, s); len(got) != 0 {
				t.Errorf("failed batch stored deletions %v", got)
			}
			s.failpoint = nil
			if err := s.Write(ctx, batchOf(10, batch...)); err != nil {
				t.Fatalf("retry: %v", err)
			}
			rows, err := s.Rows(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			deleted := 0
			for _, r := range rows {
				if r[ColDeletedAt] != nil {
					deleted++
				}
			}
			if len(rows) != 11 || deleted != 6 || rowOf(rows, recs[6].ID)["subject"] != "changed" {
				t.Errorf("after retry: %d rows, %d deleted; want 11 and 6", len(rows), deleted)
			}
			if got := len(readDeletions(t, s)); got != 6 {
				t.Errorf("%d deletions stored, want 6", got)
			}
		})
	}
}

// Deletions are held to the batch rules like versions: Kafka order within a partition
// (versions and deletions together) and a range of their topic partition.
func TestDeletionBadBatch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := testenv.Entity(t, "tickets")
	s := f.openSink(t, Config{})
	a := f.recs[e.Name][0]
	a.Offset = 1
	for name, b := range map[string]sink.Batch{
		"out of order": batchOf(sink.NoOffset, a, sinktest.Tombstone(e, a.ID, a.Version, tombstone.Deleted, 0, 0)),
		"no range":     {Records: []sink.Record{sinktest.Tombstone(e, a.ID, a.Version, tombstone.Deleted, 0, 0)}},
	} {
		if err := s.Write(ctx, b); !errors.Is(err, sink.ErrBadBatch) {
			t.Errorf("%s: Write = %v, want ErrBadBatch", name, err)
		}
	}
}
