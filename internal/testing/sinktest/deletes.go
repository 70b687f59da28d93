package sinktest

import (
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// Tombstone is the deletion record of id of entity e at offset (partition 0), as the
// runner hands it to a sink.
func Tombstone(e catalog.Entity, id int64, at time.Time, reason tombstone.Reason, mergedInto int64, offset int64) sink.Record {
	d := tombstone.Deletion{ID: id, At: at.UTC().Truncate(time.Microsecond), Reason: reason, MergedInto: mergedInto, EventID: 900 + offset}
	return withOffset(sink.Record{Entity: e, ID: id, Version: d.At, Delete: &d}, offset)
}

// deletedRow is the row a soft delete leaves: the last version's fields (none for an id
// never seen), the deletion's Kafka and deletion columns.
func deletedRow(last *sink.Record, del sink.Record) map[string]any {
	row := DeletionRow(del)
	if last == nil {
		return row
	}
	out := RowOf(*last)
	for _, k := range markColumns {
		out[k] = row[k]
	}
	return out
}

// deleteCase is one conformance case about deletions: its name and its body, run on a
// sink opened with the mode under test and prepared for tickets.
type deleteCase struct {
	name string
	run  func(t *testing.T, d *deleteEnv)
}

// deleteEnv is a deletion case's destination and data: four tickets a, b, c, d written
// at offsets 0 to 3, and want, the rows the entity table must hold.
type deleteEnv struct {
	tg      Target
	s       sink.Sink
	fx      *Fixture
	mode    sink.DeleteMode
	tickets catalog.Entity
	v       []sink.Record // the first version of a, b, c, d
	next    int64         // the next offset of the tickets topic
}

// write stores recs as the next batch of the tickets topic, numbering their offsets.
func (d *deleteEnv) write(t *testing.T, recs ...sink.Record) {
	t.Helper()
	first := d.next
	if first == 0 {
		first = sink.NoOffset
	}
	for i := range recs {
		recs[i] = withOffset(recs[i], d.next)
		d.next++
	}
	if err := d.s.Write(bg, Batch(map[string]int64{Topic(d.tickets): first}, recs...)); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// check compares the tickets table with want (soft mode) or with the rows of want
// that are not deleted (hard mode).
func (d *deleteEnv) check(t *testing.T, want ...map[string]any) {
	t.Helper()
	var keep []map[string]any
	for _, w := range want {
		if d.mode.Hard() && w[sink.ColDeletedAt] != nil {
			continue
		}
		keep = append(keep, w)
	}
	compareMaps(t, d.tg.Form, d.root(), "tickets ("+string(d.mode)+" deletes)", d.tg.Rows(t, d.s, d.tickets), keep)
}

func (d *deleteEnv) root() *avrocodec.Type { return d.v[0].Schema.Root }

// changelog checks the number of changelog rows and of deletion rows among them.
func (d *deleteEnv) changelog(t *testing.T, rows, deletions int) {
	t.Helper()
	if d.tg.Changelog == nil {
		return
	}
	got := d.tg.Changelog(t, d.s, d.tickets)
	n := 0
	for _, r := range got {
		if r[sink.ColDeletedAt] != nil {
			n++
		}
	}
	if len(got) != rows || n != deletions {
		t.Fatalf("changelog: %d rows of which %d deletions, want %d and %d", len(got), n, rows, deletions)
	}
}

func live(r sink.Record) map[string]any { return RowOf(r) }

// deleteCases are the conformance cases about deletions (tombstones); each runs in
// both modes.
var deleteCases = []deleteCase{
	{"DeleteAndMerge", func(t *testing.T, d *deleteEnv) {
		a, b, c, x := d.v[0], d.v[1], d.v[2], d.v[3]
		at := latest(d.v).Add(time.Hour)
		delA := Tombstone(d.tickets, a.ID, at, tombstone.Deleted, 0, 0)
		delB := Tombstone(d.tickets, b.ID, at.Add(time.Second), tombstone.Merged, c.ID, 0)
		d.write(t, delA, delB)
		delA, delB = withOffset(delA, 4), withOffset(delB, 5)
		d.check(t, deletedRow(&a, delA), deletedRow(&b, delB), live(c), live(x))
		d.changelog(t, 6, 2)
	}},
	{"OlderVersionNeverResurrects", func(t *testing.T, d *deleteEnv) {
		a, b := d.v[0], d.v[1]
		del := Tombstone(d.tickets, a.ID, a.Version.Add(time.Microsecond), tombstone.Deleted, 0, 0)
		d.write(t, del)
		del = withOffset(del, 4)
		// A replay of older history, in a later batch, and in one batch after the delete.
		d.write(t, a)
		d.write(t, b, a)
		d.check(t, deletedRow(&a, del), live(b), live(d.v[2]), live(d.v[3])) // b's equal version changes nothing
		d.changelog(t, 8, 1)
	}},
	{"NewerVersionRestores", func(t *testing.T, d *deleteEnv) {
		a := d.v[0]
		del := Tombstone(d.tickets, a.ID, a.Version.Add(time.Microsecond), tombstone.Deleted, 0, 0)
		if err := d.fx.Sim.EditTicket(a.ID); err != nil {
			t.Fatal(err)
		}
		a2 := d.fx.one(t, d.tickets, a.ID, 0)
		if !a2.Version.After(del.Version) {
			t.Fatalf("the edit's version %v is not after the deletion %v", a2.Version, del.Version)
		}
		// The object comes back after its deletion: in the same batch, then alone.
		d.write(t, a2, del)
		d.check(t, live(withOffset(a2, 4)), live(d.v[1]), live(d.v[2]), live(d.v[3]))
		d.write(t, del)
		d.check(t, live(withOffset(a2, 4)), live(d.v[1]), live(d.v[2]), live(d.v[3]))
		d.changelog(t, 7, 2)
	}},
	{"DeletionOlderThanStoredVersionIgnored", func(t *testing.T, d *deleteEnv) {
		x := d.v[3]
		if err := d.fx.Sim.EditTicket(x.ID); err != nil {
			t.Fatal(err)
		}
		x2 := d.fx.one(t, d.tickets, x.ID, 0)
		d.write(t, x2)
		d.write(t, Tombstone(d.tickets, x.ID, x.Version, tombstone.Deleted, 0, 0))
		d.check(t, live(d.v[0]), live(d.v[1]), live(d.v[2]), live(withOffset(x2, 4)))
		d.changelog(t, 6, 1)
	}},
	{"VersionAndDeletionInOneBatch", func(t *testing.T, d *deleteEnv) {
		// A replay reads an object's last version and its tombstone in one batch: the
		// soft row keeps that version's fields, as when they came in two batches.
		recs := d.fx.Records(t, d.tickets, 5, 0)
		e := recs[4]
		del := Tombstone(d.tickets, e.ID, e.Version.Add(time.Minute), tombstone.Merged, d.v[0].ID, 0)
		d.write(t, e, del)
		d.check(t, live(d.v[0]), live(d.v[1]), live(d.v[2]), live(d.v[3]), deletedRow(ptr(withOffset(e, 4)), withOffset(del, 5)))
		d.changelog(t, 6, 1)
	}},
	{"UnknownIDRecordedOrIgnored", func(t *testing.T, d *deleteEnv) {
		del := Tombstone(d.tickets, 999_999_999, latest(d.v), tombstone.Disappeared, 0, 0)
		again := Tombstone(d.tickets, 999_999_999, latest(d.v).Add(time.Second), tombstone.Deleted, 0, 0)
		d.write(t, again, del) // two deletions of one id: one row, of the latest
		d.check(t, live(d.v[0]), live(d.v[1]), live(d.v[2]), live(d.v[3]), deletedRow(nil, withOffset(again, 4)))
		d.changelog(t, 6, 2)
	}},
	{"ResetForgetsDeletions", func(t *testing.T, d *deleteEnv) {
		a := d.v[0]
		d.write(t, Tombstone(d.tickets, a.ID, a.Version.Add(time.Hour), tombstone.Deleted, 0, 0))
		if err := d.s.Reset(bg, nil); err != nil {
			t.Fatal(err)
		}
		d.next = 0
		d.write(t, a)
		d.check(t, live(withOffset(a, 0)))
		d.changelog(t, 1, 0)
	}},
}

func ptr[T any](v T) *T { return &v }

func latest(recs []sink.Record) time.Time {
	var m time.Time
	for _, r := range recs {
		if r.Version.After(m) {
			m = r.Version
		}
	}
	return m
}

// runDeletes runs every deletion case on fresh targets opened in mode.
func runDeletes(t *testing.T, newTarget func(t *testing.T) Target, mode sink.DeleteMode) {
	tickets, _ := catalog.Lookup("tickets")
	for _, c := range deleteCases {
		t.Run(c.name, func(t *testing.T) {
			tg, s, fx := prepared(t, newTarget, mode, []catalog.Entity{tickets})
			defer s.Close()
			d := &deleteEnv{tg: tg, s: s, fx: fx, mode: mode, tickets: tickets, v: fx.Records(t, tickets, 4, 0)}
			d.write(t, d.v...)
			c.run(t, d)
		})
	}
}
