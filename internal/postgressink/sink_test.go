package postgressink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/pgtest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
	"github.com/gorgias-kafka/gorgias-kafka/schemas"
)

var bg = context.Background()

// openSink opens a sink on uri and closes it when the test ends.
func openSink(t testing.TB, uri string, cfg Config, changelog bool) *Sink {
	t.Helper()
	s, err := Open(bg, sink.Dest{URI: uri, Schema: "gorgias", Changelog: changelog}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustEntity(t testing.TB, name string) catalog.Entity {
	t.Helper()
	e, err := catalog.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// withoutPassword returns uri without the password in its user info.
func withoutPassword(t testing.TB, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// TestPasswordSources connects with the password given in each supported way, through
// the driver registry too, and checks a missing password fails cleanly.
func TestPasswordSources(t *testing.T) {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	bare := withoutPassword(t, uri)
	file := filepath.Join(t.TempDir(), "pw")
	writeFile(t, file, pgtest.Password+"\n")
	for _, tc := range []struct {
		name string
		uri  string
		cfg  Config
	}{
		{"in the URI", uri, Config{}},
		{"postgres.password", bare, Config{Password: pgtest.Password}},
		{"postgres.password_file", bare, Config{PasswordFile: file}},
		{"URI wins over a wrong postgres.password", uri, Config{Password: "wrong"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openSink(t, tc.uri, tc.cfg, false)
			if _, err := s.Offsets(bg); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("both password and file", func(t *testing.T) {
		_, err := Open(bg, sink.Dest{URI: bare}, Config{Password: pgtest.Password, PasswordFile: file})
		if err == nil || !strings.Contains(err.Error(), "set only one") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("no password", func(t *testing.T) {
		t.Setenv("PGPASSWORD", "")
		t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "none"))
		_, err := Open(bg, sink.Dest{URI: bare}, Config{})
		if err == nil || !strings.Contains(err.Error(), "password") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("registry", func(t *testing.T) {
		d := sink.Dest{URI: uri, Schema: "gorgias"}
		if d.Name() != "postgres" || d.DefaultBatchMaxWait() != BatchMaxWait {
			t.Fatalf("driver %q, batch wait %s", d.Name(), d.DefaultBatchMaxWait())
		}
		for _, scheme := range []string{"postgresql", "postgres"} {
			d.URI = scheme + strings.TrimPrefix(uri, "postgresql")
			s, err := sink.Open(bg, d)
			if err != nil {
				t.Fatalf("%s: %v", scheme, err)
			}
			if _, ok := s.(*Sink); !ok {
				t.Fatalf("%s opened a %T", scheme, s)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestErrorsAndLogsHideThePassword makes connections fail in every way a server can
// refuse them, with the password in the URI and from the configuration, and checks that
// no error message and no log line shows it.
func TestErrorsAndLogsHideThePassword(t *testing.T) {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	u, _ := url.Parse(uri)
	db := strings.TrimPrefix(u.Path, "/")
	closed := freeAddr(t)
	hostURI := func(host, user, pw, db string) string {
		return (&url.URL{Scheme: "postgresql", User: url.UserPassword(user, pw), Host: host, Path: "/" + db,
			RawQuery: "sslmode=disable&connect_timeout=5"}).String()
	}
	here := u.Host
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, tc := range []struct {
		name string
		uri  string
		cfg  Config
		want string
	}{
		{"wrong password", hostURI(here, pgtest.User, secret, db), Config{}, "password authentication failed"},
		{"wrong password from configuration", withoutPassword(t, hostURI(here, pgtest.User, "x", db)), Config{Password: secret}, "password authentication failed"},
		{"unknown user", hostURI(here, "nobody", secret, db), Config{}, "password authentication failed"},
		{"no such database", hostURI(here, pgtest.User, pgtest.Password, "nodb_x"), Config{}, "does not exist"},
		{"closed port", hostURI(closed, pgtest.User, secret, db), Config{}, "connect"},
		{"unknown host", hostURI("no-such-host.invalid:5432", pgtest.User, secret, db), Config{}, "connect"},
		{"bad sslmode", hostURI(here, pgtest.User, secret, db) + "&sslmode=sometimes", Config{}, "sslmode"},
		{"TLS required, server has none", strings.Replace(hostURI(here, pgtest.User, secret, db), "sslmode=disable", "sslmode=require", 1), Config{}, "TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(bg, sink.Dest{URI: tc.uri, Logger: logger}, tc.cfg)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%q does not say %q", err, tc.want)
			}
			t.Log(err)
			for _, form := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				noSecret(t, form)
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				noSecret(t, e.Error())
			}
		})
	}
	// A working sink logs nothing secret either, at debug level, with its password in
	// the URI.
	pwURI := hostURI(here, pgtest.User, pgtest.Password, db)
	s, err := Open(bg, sink.Dest{URI: pwURI, Schema: "gorgias", Logger: logger, Changelog: true}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fx := sinktest.NewFixture(t, nil)
	tickets := mustEntity(t, "tickets")
	if err := s.Prepare(bg, []catalog.Entity{tickets}, fx.Reg.Schemas(tickets.Name)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(bg, sinktest.Batch(nil, fx.Records(t, tickets, 5, 0)...)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(bg, sinktest.Batch(nil, fx.Records(t, tickets, 5, 0)...)); !errors.Is(err, sink.ErrStaleOffset) {
		t.Fatalf("stale write: %v", err)
	}
	if err := s.Reset(bg, nil); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	noSecret(t, out, pgtest.Password, url.QueryEscape(pgtest.Password), url.PathEscape(pgtest.Password))
	if !strings.Contains(out, "connected") || !strings.Contains(out, "batch written") {
		t.Fatalf("expected log lines missing:\n%s", out)
	}
}

// freeAddr returns a 127.0.0.1 address nothing listens on.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestConcurrentWritersFenced runs two sinks (two consumers that both believe they own
// the partition) writing batches that start at the same stored offset, the first held
// inside its transaction until the second is blocked on the offsets: exactly the first
// is stored, the second fails with ErrStaleOffset and stores nothing. Then both write
// freely at the same time, round after round: each round exactly one wins.
func TestConcurrentWritersFenced(t *testing.T) {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	fx := sinktest.NewFixture(t, nil)
	tickets := mustEntity(t, "tickets")
	a := openSink(t, uri, Config{}, true)
	b := openSink(t, uri, Config{}, true)
	for _, s := range []*Sink{a, b} {
		if err := s.Prepare(bg, []catalog.Entity{tickets}, fx.Reg.Schemas(tickets.Name)); err != nil {
			t.Fatal(err)
		}
	}
	watch, err := pgx.Connect(bg, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(bg)
	recs := fx.Records(t, tickets, 40, 0)
	ids := func(rs []sink.Record) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	// batchAt builds a batch of the records recs[from:to] renumbered to start at
	// offset first (NoOffset: 0).
	batchAt := func(first int64, from, to int) sink.Batch {
		var rs []sink.Record
		start := max(first, 0)
		for i, r := range recs[from:to] {
			r.Offset = start + int64(i)
			rs = append(rs, r)
		}
		return sinktest.Batch(map[string]int64{sinktest.Topic(tickets): first}, rs...)
	}
	held := func(t *testing.T, first int64, aBatch, bBatch sink.Batch) {
		t.Helper()
		inTx, release := make(chan struct{}), make(chan struct{})
		a.hook = func(point string) error {
			if point == pointOffsets {
				close(inTx)
				<-release
			}
			return nil
		}
		defer func() { a.hook = nil }()
		var wg sync.WaitGroup
		var errA, errB error
		wg.Add(2)
		go func() { defer wg.Done(); errA = a.Write(bg, aBatch) }()
		<-inTx
		go func() { defer wg.Done(); errB = b.Write(bg, bBatch) }()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var waiting int
			if err := watch.QueryRow(bg, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting > 0 {
				break
			}
			if time.Now().After(deadline) {
				close(release)
				wg.Wait()
				t.Fatalf("the second writer never waited for the first (its error: %v)", errB)
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(release)
		wg.Wait()
		if errA != nil {
			t.Fatalf("first writer: %v", errA)
		}
		if !errors.Is(errB, sink.ErrStaleOffset) {
			t.Fatalf("second writer: %v, want ErrStaleOffset", errB)
		}
	}
	t.Run("no offset stored yet", func(t *testing.T) {
		held(t, sink.NoOffset, batchAt(sink.NoOffset, 0, 10), batchAt(sink.NoOffset, 20, 30))
		checkState(t, a, tickets, ids(recs[0:10]), 10)
	})
	t.Run("offset stored", func(t *testing.T) {
		held(t, 10, batchAt(10, 10, 15), batchAt(10, 30, 35))
		checkState(t, b, tickets, ids(recs[0:15]), 15)
	})
	t.Run("free race", func(t *testing.T) {
		next := int64(15)
		for round := 0; round < 12; round++ {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, s := range []*Sink{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.Write(bg, batchAt(next, 15+i, 16+i))
				}()
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, sink.ErrStaleOffset):
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d writers stored their batch (%v)", round, won, errs)
			}
			next++
		}
		offs, err := a.Offsets(bg)
		if err != nil || offs[sink.TopicPartition{Topic: sinktest.Topic(tickets)}] != next {
			t.Fatalf("offsets %v (%v), want %d", offs, err, next)
		}
		log, err := a.ChangelogRows(bg, tickets)
		if err != nil || len(log) != int(next) {
			t.Fatalf("changelog has %d rows (%v), want one per offset (%d)", len(log), err, next)
		}
	})
}

// checkState checks the ids in the entity table and the changelog's length.
func checkState(t *testing.T, s *Sink, e catalog.Entity, wantIDs []int64, logRows int) {
	t.Helper()
	rows, err := s.Rows(bg, e)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for _, r := range rows {
		got[r["id"].(int64)] = true
	}
	want := map[int64]bool{}
	for _, id := range wantIDs {
		want[id] = true
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("table holds ids %v, want %v", got, want)
	}
	log, err := s.ChangelogRows(bg, e)
	if err != nil || len(log) != logRows {
		t.Fatalf("changelog has %d rows (%v), want %d", len(log), err, logRows)
	}
}

// evolvedTickets registers a tickets schema with one more field (before _extra) and
// returns it.
func evolvedTickets(t *testing.T, reg *avrocodec.Registry, field map[string]any, edit func(doc map[string]any)) *avrocodec.Schema {
	t.Helper()
	text, err := schemas.Current("tickets")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	if field != nil {
		fields := doc["fields"].([]any)
		last := fields[len(fields)-1]
		doc["fields"] = append(fields[:len(fields)-1:len(fields)-1], field, last)
	}
	if edit != nil {
		edit(doc)
	}
	b, _ := json.Marshal(doc)
	sc, err := reg.Register("tickets", string(b))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// withField returns r re-encoded under sc (which has one more field before _extra),
// with that field set to v.
func withField(r sink.Record, sc *avrocodec.Schema, v any) sink.Record {
	vals := append([]any(nil), r.Values[:len(r.Values)-1]...)
	r.Values = append(vals, v, r.Values[len(r.Values)-1])
	r.Schema = sc
	return r
}

// TestValuesRoundTrip stores the values PostgreSQL cannot take as they are (NUL
// characters, invalid UTF-8, the JSON escape \u0000, text that is not JSON in a JSON
// field, NaN) and nested records, arrays, timestamps and JSON, and reads them back
// through Rows and through SQL the way a user would (->>, jsonb_array_elements).
func TestValuesRoundTrip(t *testing.T) {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	fx := sinktest.NewFixture(t, nil)
	tickets := mustEntity(t, "tickets")
	nested := map[string]any{"name": "x_nested", "default": nil, "type": []any{"null", map[string]any{
		"type": "record", "name": "XNested", "fields": []any{
			map[string]any{"name": "at", "type": []any{"null", map[string]any{"type": "long", "logicalType": "timestamp-micros"}}, "default": nil},
			map[string]any{"name": "doc", "type": []any{"null", "string"}, "default": nil, "json": true},
			map[string]any{"name": "ratio", "type": []any{"null", "double"}, "default": nil},
			map[string]any{"name": "labels", "type": []any{"null", map[string]any{"type": "array", "items": "string"}}, "default": nil},
			map[string]any{"name": "n", "type": []any{"null", "long"}, "default": nil},
		}}}}
	sc := evolvedTickets(t, fx.Reg, nested, nil)
	s := openSink(t, uri, Config{}, false)
	if err := s.Prepare(bg, []catalog.Entity{tickets}, fx.Reg.Schemas(tickets.Name)); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 4, 3, 2, 1, 123456000, time.UTC)
	r := withField(fx.Records(t, tickets, 1, 0)[0], sc, map[string]any{
		"at": at, "doc": `{"k": [1, 2, {"z": null}], "nul": "a\u0000b", "esc": "\\u0000"}`, "ratio": math.NaN(),
		"labels": []any{"a\x00", "b\xff"}, "n": int64(1) << 62,
	})
	set := func(name string, v any) {
		r.Values[sc.Root.FieldIndex(name)] = v
	}
	set("subject", "nul\x00 and bad \xffUTF-8")
	set("meta", `{"a": "\u0000"}`)
	set("custom_fields", `not JSON at all`)
	if err := s.Write(bg, sinktest.Batch(nil, r)); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Rows(bg, tickets)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	row := rows[0]
	if got := row["subject"]; got != "nul\uFFFD and bad \uFFFDUTF-8" {
		t.Errorf("subject %q", got)
	}
	jsonEq(t, "meta", row["meta"], `{"a": "\ufffd"}`)
	jsonEq(t, "custom_fields", row["custom_fields"], `"not JSON at all"`)
	x, ok := row["x_nested"].(map[string]any)
	if !ok {
		t.Fatalf("x_nested is %T", row["x_nested"])
	}
	if got, _ := x["at"].(time.Time); !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("x_nested.at %v", x["at"])
	}
	jsonEq(t, "x_nested.doc", x["doc"], `{"k": [1, 2, {"z": null}], "nul": "a\ufffdb", "esc": "\\u0000"}`)
	if f, _ := x["ratio"].(float64); !math.IsNaN(f) {
		t.Errorf("x_nested.ratio %v", x["ratio"])
	}
	if !reflect.DeepEqual(x["labels"], []any{"a\uFFFD", "b\uFFFD"}) || x["n"] != int64(1)<<62 {
		t.Errorf("x_nested labels %q n %v", x["labels"], x["n"])
	}
	// As users query it: nested JSON is JSON, not a string inside JSON.
	var n, esc, label, ts string
	if err := s.conn.QueryRow(bg, `SELECT x_nested->>'n', x_nested->'doc'->>'esc', l, x_nested->>'at'
		FROM gorgias.tickets, jsonb_array_elements_text(x_nested->'labels') AS l WHERE id = $1 LIMIT 1`, r.ID).Scan(&n, &esc, &label, &ts); err != nil {
		t.Fatal(err)
	}
	if n != "4611686018427387904" || esc != `\u0000` || label != "a\uFFFD" || ts != "2026-05-04T03:02:01.123456Z" {
		t.Errorf("SQL reads n=%s esc=%q label=%q at=%s", n, esc, label, ts)
	}
	// Column types.
	cols, err := loadColumns(bg, s.conn, "gorgias", "tickets")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"id": "bigint", "subject": "text", "spam": "boolean", "updated_datetime": "timestamp with time zone",
		"meta": "jsonb", "customer": "jsonb", "tags": "jsonb", "x_nested": "jsonb", "_kafka_partition": "integer",
		"_kafka_offset": "bigint", "_kafka_timestamp": "timestamp with time zone"}
	for _, c := range cols {
		if w, ok := want[c.name]; ok && w != c.typ {
			t.Errorf("column %s is %s, want %s", c.name, c.typ, w)
		}
	}
}

// jsonEq checks that got is JSON text equal to want.
func jsonEq(t *testing.T, what string, got any, want string) {
	t.Helper()
	s, ok := got.(string)
	var a, b any
	if !ok || json.Unmarshal([]byte(s), &a) != nil || json.Unmarshal([]byte(want), &b) != nil || !reflect.DeepEqual(a, b) {
		t.Errorf("%s = %#v, want JSON %s", what, got, want)
	}
}

// TestIncompatibleSchema: a schema version that changes a field's type is refused with
// ErrIncompatibleSchema, at the top level (seen in the table, even by a new process)
// and nested (seen against the earlier versions), and nothing is changed.
func TestIncompatibleSchema(t *testing.T) {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	tickets := mustEntity(t, "tickets")
	setType := func(name string, typ any) func(doc map[string]any) {
		return func(doc map[string]any) {
			for _, f := range doc["fields"].([]any) {
				if f := f.(map[string]any); f["name"] == name {
					f["type"] = typ
				}
			}
		}
	}
	current := reg.Schemas(tickets.Name)
	topLevel := evolvedTickets(t, reg, nil, setType("subject", []any{"null", "long"}))
	nested := evolvedTickets(t, reg, nil, func(doc map[string]any) {
		for _, f := range doc["fields"].([]any) {
			f := f.(map[string]any)
			if f["name"] != "assignee_team" {
				continue
			}
			team := f["type"].([]any)[1].(map[string]any)
			for _, tf := range team["fields"].([]any) {
				if tf := tf.(map[string]any); tf["name"] == "name" {
					tf["type"] = []any{"null", "boolean"}
				}
			}
		}
	})
	s := openSink(t, uri, Config{}, true)
	if err := s.Prepare(bg, []catalog.Entity{tickets}, current); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []*avrocodec.Schema{topLevel, nested} {
		if err := s.Prepare(bg, []catalog.Entity{tickets}, []*avrocodec.Schema{sc}); !errors.Is(err, sink.ErrIncompatibleSchema) {
			t.Fatalf("schema %016x: %v, want ErrIncompatibleSchema", sc.Fingerprint, err)
		}
	}
	// A new process knows only the table.
	fresh := openSink(t, uri, Config{}, true)
	err = fresh.Prepare(bg, []catalog.Entity{tickets}, []*avrocodec.Schema{topLevel})
	if !errors.Is(err, sink.ErrIncompatibleSchema) || !strings.Contains(err.Error(), "subject") {
		t.Fatalf("new process: %v, want ErrIncompatibleSchema naming subject", err)
	}
	cols, err := loadColumns(bg, s.conn, "gorgias", "tickets")
	if err != nil || cols[slices.IndexFunc(cols, func(c column) bool { return c.name == "subject" })].typ != "text" {
		t.Fatalf("subject column changed: %v %v", cols, err)
	}
	// The sink still writes the current version.
	fx := sinktest.NewFixture(t, reg)
	if err := s.Write(bg, sinktest.Batch(nil, fx.Records(t, tickets, 3, 0)...)); err != nil {
		t.Fatal(err)
	}
}

// TestReconnects: when the server ends the sink's session (a restart, a failover, an
// idle timeout), the batch in flight fails without storing anything and the next call
// reconnects and recreates the temporary tables.
func TestReconnects(t *testing.T) {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	fx := sinktest.NewFixture(t, nil)
	messages := mustEntity(t, "ticket_messages")
	s := openSink(t, uri, Config{}, true)
	if err := s.Prepare(bg, catalog.All(), fx.Reg.Schemas("")); err != nil {
		t.Fatal(err)
	}
	recs := fx.Records(t, messages, 30, 0)
	if err := s.Write(bg, sinktest.Batch(nil, recs[:10]...)); err != nil {
		t.Fatal(err)
	}
	kill := func() {
		t.Helper()
		pid := s.conn.PgConn().PID()
		if err := srv.Admin(bg, fmt.Sprintf("SELECT pg_terminate_backend(%d)", pid)); err != nil {
			t.Fatal(err)
		}
	}
	next := map[string]int64{sinktest.Topic(messages): 10}
	kill()
	if err := s.Write(bg, sinktest.Batch(next, recs[10:20]...)); err == nil {
		t.Log("the write after the kill succeeded (the session ended only after it)")
		next[sinktest.Topic(messages)] = 20
	}
	if err := s.Write(bg, sinktest.Batch(next, recs[next[sinktest.Topic(messages)]:30]...)); err != nil {
		t.Fatalf("after reconnecting: %v", err)
	}
	// Mid-transaction: the session ends while the batch is written.
	more := fx.Records(t, messages, 40, 0)[30:]
	s.hook = func(point string) error {
		if point == pointWritten {
			kill()
		}
		return nil
	}
	err := s.Write(bg, sinktest.Batch(map[string]int64{sinktest.Topic(messages): 30}, more...))
	s.hook = nil
	if err == nil {
		t.Fatal("a write whose session ended before COMMIT succeeded")
	}
	checkState(t, s, messages, idsOf(fx.Records(t, messages, 30, 0)), 30)
	if err := s.Write(bg, sinktest.Batch(map[string]int64{sinktest.Topic(messages): 30}, more...)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	checkState(t, s, messages, idsOf(fx.Records(t, messages, 40, 0)), 40)
}

func idsOf(rs []sink.Record) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// TestSensitiveConfig: the configuration struct prints without its password.
func TestSensitiveConfig(t *testing.T) {
	c := Config{Password: config.Sensitive(secret), PasswordFile: "/run/secrets/pg"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "postgres", c)
	noSecret(t, buf.String()+fmt.Sprintf("%v %+v %#v", c, c, c))
}
