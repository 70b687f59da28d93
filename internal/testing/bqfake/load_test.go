package bqfake

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

var ordersSchema = bigquery.Schema{
	{Name: "id", Type: bigquery.IntegerFieldType, Required: true},
	{Name: "name", Type: bigquery.StringFieldType},
	{Name: "at", Type: bigquery.TimestampFieldType},
	{Name: "doc", Type: bigquery.JSONFieldType},
	{Name: "rec", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{{Name: "a", Type: bigquery.IntegerFieldType}, {Name: "b", Type: bigquery.BooleanFieldType}}},
	{Name: "tags", Type: bigquery.StringFieldType, Repeated: true},
}

func ordersTable(t *testing.T, srv *Server, client *bigquery.Client) *bigquery.Table {
	t.Helper()
	tbl := setupDataset(t, client, "d").Table("orders")
	if err := tbl.Create(ctxT(t), &bigquery.TableMetadata{Schema: ordersSchema}); err != nil {
		t.Fatal(err)
	}
	return tbl
}

func TestLoadMultipart(t *testing.T) {
	srv, client := newTestServer(t)
	tbl := ordersTable(t, srv, client)
	data := jsonl(
		`{"id": 1, "name": "a", "at": "2024-01-02T03:04:05.123456Z", "doc": {"k": [1, "x"]}, "rec": {"a": 1, "b": true}, "tags": ["t1"]}`,
		`{"id": 2, "at": "2024-01-02 03:04:05 UTC", "doc": [1,2]}`,
		`{"id": 3, "at": "2024-01-02 03:04:05.5+02:00", "doc": "just a string", "tags": null}`,
		`{"id": "4", "at": 1704164645.25, "doc": 7, "rec": null}`,
		``,
	)
	st, err := load(t, tbl, "load_mp", data, nil)
	if err != nil || st.Err() != nil {
		t.Fatalf("%v %v", err, st.Err())
	}
	if ls, ok := st.Statistics.Details.(*bigquery.LoadStatistics); !ok || ls.OutputRows != 4 || ls.InputFileBytes != int64(len(data)) {
		t.Errorf("load statistics %+v", st.Statistics.Details)
	}
	if n := count(t, srv, `d.orders`); n != 4 {
		t.Fatalf("%d rows", n)
	}
	rows, err := srv.DB().Query(`SELECT id, epoch_us("at"), CAST(doc AS VARCHAR), len(tags) FROM d.orders ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := []string{
		`1 1704164645123456 {"k":[1,"x"]} 1`,
		`2 1704164645000000 [1,2] 0`,
		`3 1704157445500000 "just a string" 0`,
		`4 1704164645250000 7 0`,
	}
	i := 0
	for rows.Next() {
		var id, us, n int64
		var doc string
		if err := rows.Scan(&id, &us, &doc, &n); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(id, " ", us, " ", doc, " ", n); got != want[i] {
			t.Errorf("row %d: %s, want %s", i, got, want[i])
		}
		i++
	}
	for _, r := range srv.Requests() {
		if r.Op == "jobs.insert.load" && r.Method != http.MethodPost {
			t.Errorf("unexpected %+v", r)
		}
	}
}

// TestLoadResumable forces a resumable upload with a small chunk size: start, chunks
// answered "308", and the final chunk that creates the job.
func TestLoadResumable(t *testing.T) {
	srv, client := newTestServer(t)
	tbl := ordersTable(t, srv, client)
	var buf bytes.Buffer
	n := 0
	for buf.Len() < 600*1024 {
		fmt.Fprintf(&buf, `{"id": %d, "name": "%s", "tags": ["a","b"]}`+"\n", n, strings.Repeat("x", 200))
		n++
	}
	st, err := load(t, tbl, "load_resumable", buf.String(), func(l *bigquery.Loader) {
		l.MediaOptions = []googleapi.MediaOption{googleapi.ChunkSize(googleapi.MinUploadChunkSize)}
	})
	if err != nil || st.Err() != nil {
		t.Fatalf("%v %v", err, st.Err())
	}
	if got := count(t, srv, "d.orders"); got != n {
		t.Errorf("%d rows, want %d", got, n)
	}
	ops := map[string]int{}
	for _, r := range srv.Requests() {
		ops[r.Op]++
	}
	if ops["jobs.insert.load.start"] != 1 || ops["jobs.insert.load.chunk"] != 2 || ops["jobs.insert.load"] != 1 {
		t.Errorf("requests %v, want start, 2 chunks, final", ops)
	}
	if js := srv.Jobs(); len(js) != 1 || js[0].InputBytes != int64(buf.Len()) || js[0].OutputRows != int64(n) || js[0].DestTable != "d.orders" {
		t.Errorf("jobs %+v", js)
	}
}

func TestLoadDuplicateJobID(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	tbl := ordersTable(t, srv, client)
	data := jsonl(`{"id": 1}`, `{"id": 2}`)
	if st, err := load(t, tbl, "kbq_orders_p0_1_2_a0", data, nil); err != nil || st.Err() != nil {
		t.Fatalf("%v %v", err, st)
	}
	for _, resumable := range []bool{false, true} {
		_, err := load(t, tbl, "kbq_orders_p0_1_2_a0", data, func(l *bigquery.Loader) {
			if resumable {
				l.MediaOptions = []googleapi.MediaOption{googleapi.ChunkSize(1)} // data < chunk: one final chunk
			}
		})
		ge := apiErr(t, err)
		if ge.Code != http.StatusConflict || reason(ge) != "duplicate" || ge.Message != "Already Exists: Job test-project:US.kbq_orders_p0_1_2_a0" {
			t.Fatalf("resumable=%v: %v", resumable, err)
		}
	}
	job, err := client.JobFromIDLocation(ctx, "kbq_orders_p0_1_2_a0", "US")
	if err != nil {
		t.Fatal(err)
	}
	st, err := job.Wait(ctx)
	if err != nil || st.Err() != nil {
		t.Fatalf("%v %v", err, st.Err())
	}
	if ls := st.Statistics.Details.(*bigquery.LoadStatistics); ls.OutputRows != 2 {
		t.Errorf("output rows %d", ls.OutputRows)
	}
	if job.ID() != "kbq_orders_p0_1_2_a0" || job.Location() != "US" {
		t.Errorf("job %s %s", job.ID(), job.Location())
	}
	if n := count(t, srv, "d.orders"); n != 2 {
		t.Errorf("%d rows: duplicates must do nothing", n)
	}
	// a wrong location is another job: 404
	if _, err := client.JobFromIDLocation(ctx, "kbq_orders_p0_1_2_a0", "EU"); reason(apiErr(t, err)) != "notFound" {
		t.Errorf("wrong location: %v", err)
	}
	// query jobs share the namespace
	q := client.Query("SELECT 1")
	q.JobID = "kbq_orders_p0_1_2_a0"
	if _, err := q.Run(ctx); reason(apiErr(t, err)) != "duplicate" {
		t.Errorf("query with a load's job ID: %v", err)
	}
}

// TestLoadRejectsWholeJob: one bad line fails the job and nothing is written.
func TestLoadRejectsWholeJob(t *testing.T) {
	cases := []struct {
		name, line, msg string
	}{
		{"unknown field", `{"id": 3, "nope": 1}`, "No such field: nope."},
		{"unknown nested field", `{"id": 3, "rec": {"a": 1, "zz": 2}}`, "No such field: rec.zz."},
		{"string for integer", `{"id": "x"}`, "Could not convert value to integer. Field: id"},
		{"fraction for integer", `{"id": 1.5}`, "Could not convert value to integer"},
		{"bad timestamp", `{"id": 3, "at": "yesterday"}`, "Could not convert value to timestamp. Field: at"},
		{"object for string", `{"id": 3, "name": {"a": 1}}`, "Could not convert value to string"},
		{"missing required", `{"name": "x"}`, "Missing required field: id."},
		{"null in required", `{"id": null}`, "Only optional fields can be set to NULL. Field: id"},
		{"scalar for repeated", `{"id": 3, "tags": "x"}`, "Array specified for non-repeated field"},
		{"null in array", `{"id": 3, "tags": ["a", null]}`, "Only optional fields can be set to NULL. Field: tags"},
		{"wrong nested type", `{"id": 3, "rec": {"b": "maybe"}}`, "Could not convert value to boolean. Field: rec.b"},
		{"not json", `{"id": 3`, "Parser terminated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, client := newTestServer(t)
			tbl := ordersTable(t, srv, client)
			data := jsonl(`{"id": 1}`, `{"id": 2, "name": "ok"}`, tc.line)
			st, err := load(t, tbl, "bad", data, nil)
			if err != nil {
				t.Fatal(err)
			}
			e, ok := st.Err().(*bigquery.Error)
			if !ok || e.Reason != "invalid" || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("job error %v, want reason invalid with %q", st.Err(), tc.msg)
			}
			wantPos := fmt.Sprintf("position %d:", len(jsonl(`{"id": 1}`, `{"id": 2, "name": "ok"}`)))
			if !strings.Contains(e.Message, wantPos) {
				t.Errorf("message %q lacks %q", e.Message, wantPos)
			}
			if n := count(t, srv, "d.orders"); n != 0 {
				t.Errorf("%d rows written by a failed load", n)
			}
			if js := srv.Jobs(); js[0].Err == "" || js[0].OutputRows != 0 {
				t.Errorf("job info %+v", js[0])
			}
		})
	}
}

func TestLoadDispositions(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	ds := setupDataset(t, client, "d")
	tbl := ds.Table("t")
	small := bigquery.Schema{{Name: "id", Type: bigquery.IntegerFieldType}}
	withSchema := func(s bigquery.Schema, f func(*bigquery.Loader)) func(*bigquery.Loader) {
		return func(l *bigquery.Loader) {
			l.Src.(*bigquery.ReaderSource).Schema = s
			if f != nil {
				f(l)
			}
		}
	}
	jobErr := func(st *bigquery.JobStatus, err error) *bigquery.Error {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		e, _ := st.Err().(*bigquery.Error)
		return e
	}

	// CREATE_NEVER on a missing table fails notFound.
	e := jobErr(load(t, tbl, "j1", jsonl(`{"id": 1}`), withSchema(small, func(l *bigquery.Loader) { l.CreateDisposition = bigquery.CreateNever })))
	if e == nil || e.Reason != "notFound" || e.Message != "Not found: Table test-project:d.t" {
		t.Fatalf("CREATE_NEVER: %v", e)
	}
	// CREATE_IF_NEEDED without a schema fails.
	if e := jobErr(load(t, tbl, "j2", jsonl(`{"id": 1}`), nil)); e == nil || e.Reason != "invalid" {
		t.Fatalf("no schema: %v", e)
	}
	// CREATE_IF_NEEDED with a schema creates the table, with partitioning kept.
	if e := jobErr(load(t, tbl, "j3", jsonl(`{"id": 1}`, `{"id": 2}`), withSchema(small, func(l *bigquery.Loader) {
		l.TimePartitioning = &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType}
	}))); e != nil {
		t.Fatal(e)
	}
	md, err := tbl.Metadata(ctx)
	if err != nil || len(md.Schema) != 1 || md.TimePartitioning == nil || md.NumRows != 2 {
		t.Fatalf("created table %+v %v", md, err)
	}
	// WRITE_EMPTY on a non-empty table fails.
	if e := jobErr(load(t, tbl, "j4", jsonl(`{"id": 3}`), func(l *bigquery.Loader) { l.WriteDisposition = bigquery.WriteEmpty })); e == nil || e.Reason != "duplicate" {
		t.Fatalf("WRITE_EMPTY: %v", e)
	}
	// A new field without ALLOW_FIELD_ADDITION fails; with it, the column is added.
	grown := bigquery.Schema{small[0], {Name: "note", Type: bigquery.StringFieldType}}
	if e := jobErr(load(t, tbl, "j5", jsonl(`{"id": 3, "note": "n"}`), withSchema(grown, nil))); e == nil || e.Reason != "invalid" || !strings.Contains(e.Message, "Cannot add fields") {
		t.Fatalf("field addition not allowed: %v", e)
	}
	if e := jobErr(load(t, tbl, "j6", jsonl(`{"id": 3, "note": "n"}`), withSchema(grown, func(l *bigquery.Loader) {
		l.SchemaUpdateOptions = []string{"ALLOW_FIELD_ADDITION"}
	}))); e != nil {
		t.Fatal(e)
	}
	md2, _ := tbl.Metadata(ctx)
	if len(md2.Schema) != 2 || md2.ETag == md.ETag {
		t.Errorf("schema after field addition %+v (etag %s→%s)", md2.Schema, md.ETag, md2.ETag)
	}
	if n := count(t, srv, "d.t"); n != 3 {
		t.Errorf("%d rows", n)
	}
	// WRITE_TRUNCATE replaces the rows.
	if e := jobErr(load(t, tbl, "j7", jsonl(`{"id": 9}`), func(l *bigquery.Loader) { l.WriteDisposition = bigquery.WriteTruncate })); e != nil {
		t.Fatal(e)
	}
	var id int
	if err := srv.DB().QueryRow(`SELECT max(id) FROM d.t HAVING count(*) = 1`).Scan(&id); err != nil || id != 9 {
		t.Errorf("after WRITE_TRUNCATE: %d %v", id, err)
	}
	// Unsupported format: 400 before a job exists.
	src := bigquery.NewReaderSource(strings.NewReader("a,b\n"))
	_, err = tbl.LoaderFrom(src).Run(ctx)
	if ge := apiErr(t, err); ge.Code != 400 || !strings.Contains(ge.Message, "unsupported by fake") {
		t.Errorf("CSV: %v", err)
	}
}

// TestLoadSpeed: 10,000 ticket-sized rows load well under a second (without -race).
func TestLoadSpeed(t *testing.T) {
	srv, client := newTestServer(t)
	tbl := setupDataset(t, client, "d").Table("tickets")
	schema := bigquery.Schema{
		{Name: "id", Type: bigquery.IntegerFieldType, Required: true},
		{Name: "subject", Type: bigquery.StringFieldType},
		{Name: "status", Type: bigquery.StringFieldType},
		{Name: "created_datetime", Type: bigquery.TimestampFieldType},
		{Name: "updated_datetime", Type: bigquery.TimestampFieldType},
		{Name: "customer", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{{Name: "id", Type: bigquery.IntegerFieldType}, {Name: "email", Type: bigquery.StringFieldType}}},
		{Name: "tags", Type: bigquery.StringFieldType, Repeated: true},
		{Name: "messages", Type: bigquery.JSONFieldType},
		{Name: "meta", Type: bigquery.JSONFieldType},
		{Name: "_kafka_partition", Type: bigquery.IntegerFieldType},
		{Name: "_kafka_offset", Type: bigquery.IntegerFieldType},
	}
	if err := tbl.Create(ctxT(t), &bigquery.TableMetadata{Schema: schema}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	const rows = 10000
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&buf, `{"id": %d, "subject": "Where is my order #%d?", "status": "open", "created_datetime": "2024-03-01T10:00:00.000000Z", "updated_datetime": "2024-03-02 11:%02d:00 UTC", "customer": {"id": %d, "email": "c%d@example.com"}, "tags": ["shipping", "urgent"], "messages": [{"id": %d, "body": "%s", "sender": {"email": "c@example.com"}}], "meta": {"channel": "email", "score": 0.5}, "_kafka_partition": 0, "_kafka_offset": %d}`+"\n",
			i, i, i%60, i%500, i%500, i, strings.Repeat("Lorem ipsum dolor sit amet. ", 30), i)
	}
	start := time.Now()
	st, err := load(t, tbl, "speed", buf.String(), nil)
	el := time.Since(start)
	if err != nil || st.Err() != nil {
		t.Fatalf("%v %v", err, st.Err())
	}
	if n := count(t, srv, "d.tickets"); n != rows {
		t.Fatalf("%d rows", n)
	}
	t.Logf("loaded %d rows (%.1f MB) in %v", rows, float64(buf.Len())/1e6, el)
	if !raceEnabled && el > time.Second {
		t.Errorf("load took %v, want < 1s", el)
	}
}
