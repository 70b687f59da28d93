package duckdbsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		uri, want string
		ok        bool
	}{
		{"duckdb:///gorgias.duckdb", "gorgias.duckdb", true},
		{"duckdb:///data/sub/gorgias.duckdb", "data/sub/gorgias.duckdb", true},
		{"duckdb:////var/lib/gorgias.duckdb", "/var/lib/gorgias.duckdb", true},
		{"DUCKDB:///x.duckdb", "x.duckdb", true},
		{"duckdb:///my%20file.duckdb", "my file.duckdb", true},
		{"duckdb:///", "", false},
		{"duckdb:////", "", false},
		{"duckdb:///dir/", "", false},
		{"duckdb://", "", false},
		{"duckdb://host/x.duckdb", "", false},
		{"duckdb:x.duckdb", "", false},
		{"bigquery://project", "", false},
		{"sqlite:///x.db", "", false},
		{"/plain/path.duckdb", "", false},
		{"", "", false},
		{"duckdb:///x.duckdb?mode=ro", "", false},
		{"duckdb:///bad%zz", "", false},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			got, err := ParseURI(tc.uri)
			if tc.ok {
				if err != nil || got != tc.want {
					t.Fatalf("ParseURI(%q) = %q, %v; want %q", tc.uri, got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrBadURI) {
				t.Fatalf("ParseURI(%q) = %q, %v; want ErrBadURI", tc.uri, got, err)
			}
		})
	}
}

// Every field of every entity reads back exactly as DecodeRow produced it, in the
// entity table and in the changelog.
func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	s := f.openSink(t, Config{Changelog: true})
	ctx := context.Background()
	for _, e := range catalog.All() {
		t.Run(e.Name, func(t *testing.T) {
			recs := f.recs[e.Name]
			if len(recs) == 0 { // reference lists are small (the account is one object)
				t.Fatalf("only %d %s records", len(recs), e.Name)
			}
			if err := s.Write(ctx, batchOf(sink.NoOffset, recs...)); err != nil {
				t.Fatal(err)
			}
			rows, err := s.Rows(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(recs) {
				t.Fatalf("%d rows, want %d", len(rows), len(recs))
			}
			for i, r := range recs { // recs are sorted by id, like Rows
				if diffRow(t, rows[i], wantRow(r)) {
					break
				}
			}
			cl, err := s.ChangelogRows(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if len(cl) != len(recs) {
				t.Fatalf("%d changelog rows, want %d", len(cl), len(recs))
			}
			for i, r := range recs { // offsets follow ids
				if diffRow(t, cl[i], wantRow(r)) {
					break
				}
			}
			cols, err := s.Columns(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, fl := range recs[0].Schema.Root.Fields {
				want = append(want, fl.Name)
			}
			want = append(want, ColPartition, ColOffset, ColTimestamp, ColDeletedAt, ColDeletedReason, ColMergedInto)
			if !reflect.DeepEqual(cols, want) {
				t.Errorf("columns %v, want %v", cols, want)
			}
		})
	}
	offs, err := s.Offsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range catalog.All() {
		tp := sink.TopicPartition{Topic: e.Topic(topicPrefix)}
		if got, want := offs[tp], int64(len(f.recs[e.Name])); got != want {
			t.Errorf("offset of %v = %d, want %d", tp, got, want)
		}
	}
}

func TestUpsert(t *testing.T) {
	f := newFixture(t)
	e := testenv.Entity(t, "tickets")
	base := f.recs[e.Name][0]
	t0 := base.Version
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	sub := func(s string) any { return s }
	for _, tc := range []struct {
		name    string
		batches [][]sink.Record // written in order, offsets as given
		subject string          // the subject that must win
		offset  int64           // and its offset
		history int             // changelog rows
	}{
		{"newer later wins", [][]sink.Record{
			{variant(base, t1, 0, "subject", sub("v1"))},
			{variant(base, t2, 1, "subject", sub("v2"))},
		}, "v2", 1, 2},
		{"older later is ignored", [][]sink.Record{
			{variant(base, t2, 0, "subject", sub("v2"))},
			{variant(base, t1, 1, "subject", sub("v1"))},
		}, "v2", 0, 2},
		{"equal later is ignored", [][]sink.Record{
			{variant(base, t1, 0, "subject", sub("first"))},
			{variant(base, t1, 1, "subject", sub("replayed"))},
		}, "first", 0, 2},
		{"in-batch duplicates keep the max version", [][]sink.Record{
			{variant(base, t1, 0, "subject", sub("v1")), variant(base, t2, 1, "subject", sub("v2")), variant(base, t0, 2, "subject", sub("v0"))},
		}, "v2", 1, 3},
		{"in-batch equal versions keep the max offset", [][]sink.Record{
			{variant(base, t1, 0, "subject", sub("a")), variant(base, t1, 1, "subject", sub("b"))},
		}, "b", 1, 2},
		{"in-batch newer than stored", [][]sink.Record{
			{variant(base, t1, 0, "subject", sub("v1"))},
			{variant(base, t0, 1, "subject", sub("v0")), variant(base, t2, 2, "subject", sub("v2"))},
		}, "v2", 2, 3},
		{"in-batch all older than stored", [][]sink.Record{
			{variant(base, t2, 0, "subject", sub("v2"))},
			{variant(base, t0, 1, "subject", sub("v0")), variant(base, t1, 2, "subject", sub("v1"))},
		}, "v2", 0, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := f.openSink(t, Config{Changelog: true})
			ctx := context.Background()
			first := sink.NoOffset
			for _, recs := range tc.batches {
				b := batchOf(first, recs...)
				if err := s.Write(ctx, b); err != nil {
					t.Fatal(err)
				}
				first = b.Ranges[0].Next
			}
			rows, err := s.Rows(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			if rows[0]["subject"] != tc.subject || rows[0][ColOffset] != tc.offset {
				t.Errorf("row has subject %v offset %v, want %q at %d", rows[0]["subject"], rows[0][ColOffset], tc.subject, tc.offset)
			}
			cl, err := s.ChangelogRows(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if len(cl) != tc.history {
				t.Errorf("%d changelog rows, want %d", len(cl), tc.history)
			}
		})
	}
}

// A batch that fails anywhere stores nothing: no row, no changelog row, no offset. The
// appenders' statements run inside the batch's transaction (their rows are visible
// on the writer connection and to no other), and a failure leaves no buffered row
// behind for the next batch.
func TestAtomicity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tickets, msgs := testenv.Entity(t, "tickets"), testenv.Entity(t, "ticket_messages")
	count := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}, table string) int {
		var n int
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM gorgias."+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, point := range []string{pointFilled, pointUpserted, pointOffsets} {
		t.Run(point, func(t *testing.T) {
			s := f.openSink(t, Config{Changelog: true})
			first := f.recs[tickets.Name][:100]
			if err := s.Write(ctx, batchOf(sink.NoOffset, first...)); err != nil {
				t.Fatal(err)
			}
			before := takeSnapshot(t, s)

			// The failing batch updates existing rows, adds new ones, and spans two
			// entities and a partition without records; it is large enough to be
			// converted by several goroutines.
			var recs []sink.Record
			for i := range 5000 {
				r := f.recs[tickets.Name][i%200]
				recs = append(recs, variant(r, r.Version.Add(time.Duration(1+i/200)*time.Hour), int64(100+i), "subject", fmt.Sprint("changed-", i/200)))
			}
			b := batchOf(100, recs...)
			b.Records = append(b.Records, f.recs[msgs.Name][:50]...)
			b.Ranges = append(b.Ranges,
				sink.Range{TopicPartition: sink.TopicPartition{Topic: msgs.Topic(topicPrefix)}, First: sink.NoOffset, Next: 50},
				sink.Range{TopicPartition: sink.TopicPartition{Topic: msgs.Topic(topicPrefix), Partition: 1}, First: sink.NoOffset, Next: 7})

			injected := errors.New("injected")
			inTx, outside, calls := -1, -1, 0
			s.failpoint = func(p string) error {
				if p == pointUpserted {
					// The statements ran on the writer connection, in the transaction...
					inTx = count(s.conn, "tickets_changelog")
					// ...and nothing is visible to another connection.
					outside = count(s.DB(), "tickets_changelog")
				}
				if p == point {
					calls++
					return injected
				}
				return nil
			}
			if err := s.Write(ctx, b); !errors.Is(err, injected) {
				t.Fatalf("Write = %v, want the injected error", err)
			}
			if calls != 1 {
				t.Fatalf("failpoint %s hit %d times", point, calls)
			}
			if point != pointFilled && (inTx != 5100 || outside != 100) {
				t.Errorf("changelog rows inside the transaction %d (want 5100), outside %d (want 100)", inTx, outside)
			}
			if after := takeSnapshot(t, s); !reflect.DeepEqual(before, after) {
				t.Errorf("failed batch changed the state")
			}

			s.failpoint = nil
			if err := s.Write(ctx, b); err != nil {
				t.Fatalf("retry: %v", err)
			}
			rows, err := s.Rows(ctx, tickets)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 200 || rows[0]["subject"] != "changed-24" || rows[199]["subject"] != "changed-24" {
				t.Errorf("after retry: %d rows, subjects %v/%v", len(rows), rows[0]["subject"], rows[len(rows)-1]["subject"])
			}
			if n := count(s.DB(), "tickets_changelog"); n != 5100 {
				t.Errorf("%d changelog rows after retry, want 5100", n)
			}
			if n := count(s.DB(), "ticket_messages_changelog"); n != 50 {
				t.Errorf("%d message changelog rows after retry, want 50", n)
			}
			offs, _ := s.Offsets(ctx)
			if offs[sink.TopicPartition{Topic: msgs.Topic(topicPrefix), Partition: 1}] != 7 {
				t.Errorf("offset of an empty range not stored: %v", offs)
			}
		})
	}
}

func TestStaleOffset(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := testenv.Entity(t, "customers")
	recs := f.recs[e.Name]
	tp := sink.TopicPartition{Topic: e.Topic(topicPrefix)}
	other := sink.TopicPartition{Topic: e.Topic(topicPrefix), Partition: 3}
	s := f.openSink(t, Config{Changelog: true})
	if err := s.Write(ctx, batchOf(sink.NoOffset, recs[:10]...)); err != nil { // stores next 10
		t.Fatal(err)
	}
	before := takeSnapshot(t, s)
	for _, tc := range []struct {
		name   string
		ranges []sink.Range
	}{
		{"behind", []sink.Range{{TopicPartition: tp, First: 5, Next: 20}}},
		{"ahead", []sink.Range{{TopicPartition: tp, First: 11, Next: 20}}},
		{"from start but stored", []sink.Range{{TopicPartition: tp, First: sink.NoOffset, Next: 20}}},
		{"stored expected but none", []sink.Range{{TopicPartition: tp, First: 10, Next: 20}, {TopicPartition: other, First: 4, Next: 9}}},
		{"one good one stale", []sink.Range{{TopicPartition: other, First: sink.NoOffset, Next: 9}, {TopicPartition: tp, First: 9, Next: 20}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := sink.Batch{Ranges: tc.ranges}
			for _, r := range recs[10:20] {
				b.Records = append(b.Records, variant(r, r.Version.Add(time.Hour), r.Offset, "name", "x"))
			}
			err := s.Write(ctx, b)
			if !errors.Is(err, sink.ErrStaleOffset) {
				t.Fatalf("Write = %v, want ErrStaleOffset", err)
			}
			if after := takeSnapshot(t, s); !reflect.DeepEqual(before, after) {
				t.Errorf("refused batch changed the state")
			}
		})
	}
	// The right First still works.
	if err := s.Write(ctx, batchOf(10, recs[10:20]...)); err != nil {
		t.Fatal(err)
	}
}

func TestBadBatch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := testenv.Entity(t, "customers")
	s := f.openSink(t, Config{})
	r := f.recs[e.Name][0]
	misaligned := r
	misaligned.Values = r.Values[:3]
	wrongEntity := r
	wrongEntity.Entity = testenv.Entity(t, "tickets")
	tp := sink.TopicPartition{Topic: "gorgias.customers"}
	for _, tc := range []struct {
		name string
		b    sink.Batch
	}{
		{"misaligned values", sink.Batch{Records: []sink.Record{misaligned}, Ranges: []sink.Range{{TopicPartition: tp, First: sink.NoOffset, Next: 1}}}},
		{"schema of another entity", sink.Batch{Records: []sink.Record{wrongEntity}, Ranges: []sink.Range{{TopicPartition: tp, First: sink.NoOffset, Next: 1}}}},
		{"partition twice", sink.Batch{Ranges: []sink.Range{{TopicPartition: tp, First: sink.NoOffset, Next: 1}, {TopicPartition: tp, First: sink.NoOffset, Next: 2}}}},
		{"range backwards", sink.Batch{Ranges: []sink.Range{{TopicPartition: tp, First: 5, Next: 2}}}},
		{"record beyond its range", sink.Batch{Records: []sink.Record{r}, Ranges: []sink.Range{{TopicPartition: tp, First: sink.NoOffset, Next: r.Offset}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Write(ctx, tc.b); !errors.Is(err, sink.ErrBadBatch) {
				t.Fatalf("Write = %v, want sink.ErrBadBatch", err)
			}
		})
	}
	if err := s.Reset(ctx, map[sink.TopicPartition]int64{tp: -1}); !errors.Is(err, sink.ErrBadBatch) {
		t.Fatalf("Reset to a negative offset = %v, want sink.ErrBadBatch", err)
	}
	offs, _ := s.Offsets(ctx)
	if len(offs) != 0 {
		t.Errorf("offsets stored: %v", offs)
	}
}

func TestReset(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.openSink(t, Config{Changelog: true})
	for _, e := range catalog.All() {
		if err := s.Write(ctx, batchOf(sink.NoOffset, f.recs[e.Name][:min(20, len(f.recs[e.Name]))]...)); err != nil {
			t.Fatal(err)
		}
	}
	tickets := sink.TopicPartition{Topic: "gorgias.tickets"}
	next := map[sink.TopicPartition]int64{tickets: 5, {Topic: "gorgias.customers", Partition: 2}: 0}
	if err := s.Reset(ctx, next); err != nil {
		t.Fatal(err)
	}
	snap := takeSnapshot(t, s)
	for _, e := range catalog.All() {
		if len(snap.rows[e.Name]) != 0 || len(snap.changelog[e.Name]) != 0 {
			t.Errorf("%s: %d rows, %d changelog rows after reset", e.Name, len(snap.rows[e.Name]), len(snap.changelog[e.Name]))
		}
	}
	if !reflect.DeepEqual(snap.offsets, next) {
		t.Errorf("offsets after reset %v, want %v", snap.offsets, next)
	}
	// Writing resumes from the reset offsets; the same keys can be stored again.
	recs := f.recs["tickets"][5:15]
	if err := s.Write(ctx, batchOf(5, recs...)); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if offs, _ := s.Offsets(ctx); len(offs) != 0 {
		t.Errorf("offsets after reset to nothing: %v", offs)
	}
}

// Reopening a file finds the tables as they are: a second Prepare runs no DDL, and
// offsets and rows survive.
func TestReopen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	path := t.TempDir() + "/re.duckdb"
	s := f.openSink(t, Config{Path: path, Changelog: true})
	if err := s.Write(ctx, batchOf(sink.NoOffset, f.recs["ticket_messages"][:30]...)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Write(ctx, sink.Batch{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close = %v, want ErrClosed", err)
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
		t.Errorf("second Prepare changed tables:\n%s", logs.String())
	}
	offs, _ := s2.Offsets(ctx)
	if offs[sink.TopicPartition{Topic: "gorgias.ticket_messages"}] != 30 {
		t.Errorf("offsets after reopen: %v", offs)
	}
	if err := s2.Write(ctx, batchOf(30, f.recs["ticket_messages"][30:40]...)); err != nil {
		t.Fatal(err)
	}
	rows, _ := s2.Rows(ctx, testenv.Entity(t, "ticket_messages"))
	if len(rows) != 40 {
		t.Errorf("%d rows, want 40", len(rows))
	}
}

func TestSchemaOption(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.openSink(t, Config{Schema: "My Schema"})
	if err := s.Write(ctx, batchOf(sink.NoOffset, f.recs["satisfaction_surveys"][:3]...)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM "My Schema".satisfaction_surveys`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("count = %d, %v", n, err)
	}
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM "My Schema"._kafka_offsets`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("offsets count = %d, %v", n, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []Config{
		{},
		{Path: t.TempDir() + "/x.duckdb", Threads: -1},
		{Path: t.TempDir() + "/y.duckdb", MemoryLimit: "lots"},
		{Path: t.TempDir()}, // a directory
		{Path: "x?.duckdb"},
		{Path: t.TempDir() + "/b.duckdb", BlockSize: 100_000},
		{Path: t.TempDir() + "/b.duckdb", BlockSize: 512 << 10},
		{Path: t.TempDir() + "/r.duckdb", RowGroupSize: 1000},
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			s, err := Open(ctx, cfg)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			t.Log(err)
		})
	}
	// A missing directory is created.
	s, err := Open(ctx, Config{Path: t.TempDir() + "/new/dir/z.duckdb"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// A new file gets the sink's block size and row group size; a file created by DuckDB
// with its own defaults keeps its block size and opens, under the same catalog name.
func TestFileLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	layout := func(s *Sink) (catalog string, blockSize, maxRows int64) {
		t.Helper()
		db := s.DB()
		if _, err := db.ExecContext(ctx, "CREATE OR REPLACE TABLE scratch AS SELECT range AS i FROM range(40000)"); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&catalog); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "SELECT block_size FROM pragma_database_size() WHERE database_name = current_database()").Scan(&blockSize); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "SELECT max(count) FROM pragma_storage_info('scratch')").Scan(&maxRows); err != nil {
			t.Fatal(err)
		}
		return catalog, blockSize, maxRows
	}

	s, err := Open(ctx, Config{Path: filepath.Join(dir, "fresh.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	if c, bs, rows := layout(s); c != "fresh" || bs != DefaultBlockSize || rows != DefaultRowGroupSize {
		t.Errorf("new file: catalog %q, block size %d, row group %d; want fresh, %d, %d", c, bs, rows, DefaultBlockSize, DefaultRowGroupSize)
	}
	s.Close()

	old := filepath.Join(dir, "old.duckdb")
	db, err := sql.Open("duckdb", old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (i INTEGER)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(ctx, Config{Path: old})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, bs, rows := layout(s); c != "old" || bs != 256<<10 || rows != DefaultRowGroupSize {
		t.Errorf("existing file: catalog %q, block size %d, row group %d; want old, %d, %d", c, bs, rows, 256<<10, DefaultRowGroupSize)
	}
}
