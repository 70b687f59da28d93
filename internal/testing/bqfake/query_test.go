package bqfake

import (
	"cmp"
	"math/big"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
)

// readAll reads every row of an iterator.
func readAll(t *testing.T, it *bigquery.RowIterator) [][]bigquery.Value {
	t.Helper()
	var out [][]bigquery.Value
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if err == iterator.Done {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
}

// setupOrders creates d.orders (id, qty, _off) and d._offsets (topic, part, next_offset)
// and a staging table d.stg with rows.
func setupOrders(t *testing.T, srv *Server, client *bigquery.Client) {
	t.Helper()
	setupDataset(t, client, "d")
	mustExec(t, srv, `CREATE TABLE d.orders (id BIGINT, qty BIGINT, _off BIGINT)`)
	mustExec(t, srv, `CREATE TABLE d._offsets (topic VARCHAR, part BIGINT, next_offset BIGINT)`)
	mustExec(t, srv, `CREATE TABLE d.stg (id BIGINT, qty BIGINT, _off BIGINT, _deleted BOOLEAN)`)
	mustExec(t, srv, `INSERT INTO d.orders VALUES (1, 10, 0), (2, 20, 1), (3, 30, 2)`)
	mustExec(t, srv, `INSERT INTO d._offsets VALUES ('orders', 0, 3)`)
	// offsets 3..7: update 1 twice (latest wins), delete 2, insert 4, and a stale duplicate of offset 2.
	mustExec(t, srv, `INSERT INTO d.stg VALUES (1, 11, 3, false), (1, 12, 4, false), (2, NULL, 5, true), (4, 40, 6, false), (3, 99, 2, false), (4, 40, 6, false)`)
}

const commitScript = `-- commit batch
BEGIN TRANSACTION;
ASSERT (SELECT COUNT(*) FROM ` + "`test-project.d._offsets`" + ` WHERE topic = 'orders' AND part = 0 AND next_offset = @expect) = 1 AS 'stale offset';
CREATE TEMP TABLE src AS
SELECT s.* FROM ` + "`d.stg`" + ` s
LEFT JOIN d._offsets o ON o.topic = 'orders' AND o.part = 0
WHERE s._off >= COALESCE(o.next_offset, 0)
QUALIFY ROW_NUMBER() OVER (PARTITION BY _off ORDER BY _off) = 1;
MERGE ` + "`test-project.d.orders`" + ` T
USING (SELECT * FROM src WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY _off DESC) = 1) S
ON T.id = S.id
WHEN MATCHED AND S._deleted THEN DELETE
WHEN MATCHED AND S._off > T._off THEN UPDATE SET qty = S.qty, _off = S._off
WHEN NOT MATCHED AND NOT S._deleted THEN INSERT (id, qty, _off) VALUES (S.id, S.qty, S._off);
MERGE d._offsets O
USING (SELECT 'orders' AS topic, 0 AS part, MAX(_off) + 1 AS next_offset FROM src) N
ON O.topic = N.topic AND O.part = N.part
WHEN MATCHED THEN UPDATE SET next_offset = GREATEST(O.next_offset, N.next_offset)
WHEN NOT MATCHED THEN INSERT (topic, part, next_offset) VALUES (N.topic, N.part, N.next_offset);
COMMIT TRANSACTION;
SELECT id, qty FROM d.orders ORDER BY id`

func TestTransactionScript(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	setupOrders(t, srv, client)

	q := client.Query(commitScript)
	q.JobID, q.Location = "kbq_commit_orders_1", "US"
	q.Parameters = []bigquery.QueryParameter{{Name: "expect", Value: 3}}
	job, err := q.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := job.Wait(ctx)
	if err != nil || st.Err() != nil {
		t.Fatalf("wait: %v / %v", err, st.Err())
	}
	rows := readAll(t, mustRead(t, job))
	want := [][]bigquery.Value{{int64(1), int64(12)}, {int64(3), int64(30)}, {int64(4), int64(40)}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("result %v, want %v", rows, want)
	}
	var next int
	if err := srv.DB().QueryRow(`SELECT next_offset FROM d._offsets`).Scan(&next); err != nil || next != 7 {
		t.Errorf("next_offset %d, %v", next, err)
	}
	// the temp table died with the job
	if _, err := srv.DB().Exec(`SELECT * FROM src`); err == nil {
		t.Error("temp table src is visible after the job")
	}
	js := srv.Jobs()
	if len(js) != 1 || js[0].ID != "kbq_commit_orders_1" || js[0].State != "DONE" || js[0].Err != "" || js[0].OutputRows != 4 {
		t.Errorf("jobs %+v", js)
	}
	if qs, ok := st.Statistics.Details.(*bigquery.QueryStatistics); !ok || qs.StatementType != "SCRIPT" {
		t.Errorf("statistics %+v", st.Statistics.Details)
	}

	// Running the same commit again under a new job ID: the ASSERT fails (offset moved),
	// the job fails with the assertion's message and nothing changes.
	q2 := client.Query(commitScript)
	q2.JobID, q2.Location = "kbq_commit_orders_2", "US"
	q2.Parameters = q.Parameters
	job2, err := q2.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = job2.Wait(ctx)
	if ge := apiErr(t, err); ge.Code != http.StatusBadRequest || reason(ge) != "invalidQuery" || !strings.Contains(ge.Message, "stale offset") {
		t.Fatalf("Wait on a failed script: %v", err)
	}
	st2, err := job2.Status(ctx)
	if err != nil || st2.Err() == nil || !strings.Contains(st2.Err().Error(), "stale offset") {
		t.Fatalf("status %v / %v", st2, err)
	}
	if n := count(t, srv, "d.orders"); n != 3 {
		t.Errorf("orders %d rows after a failed commit", n)
	}
}

func mustRead(t *testing.T, job *bigquery.Job) *bigquery.RowIterator {
	t.Helper()
	it, err := job.Read(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestScriptErrorsRollBack(t *testing.T) {
	cases := []struct {
		name, script, msg string
		reason            string // of the job error; "" means invalidQuery
	}{
		{"assert", "BEGIN; INSERT INTO d.orders VALUES (9, 9, 9); DELETE FROM d._offsets WHERE TRUE; ASSERT 1 = 2 AS 'boom'; COMMIT;", "boom", ""},
		{"assert null", "BEGIN; INSERT INTO d.orders VALUES (9, 9, 9); ASSERT (SELECT NULL) AS 'null is not true'; COMMIT;", "null is not true", ""},
		{"sql error", "BEGIN TRANSACTION; INSERT INTO d.orders VALUES (9, 9, 9); SELECT no_such_column FROM d.orders; COMMIT TRANSACTION;", "no_such_column", ""},
		{"missing table", "BEGIN; INSERT INTO d.orders VALUES (9, 9, 9); INSERT INTO d.nope VALUES (1); COMMIT;", "nope", "notFound"},
		{"no commit", "BEGIN; INSERT INTO d.orders VALUES (9, 9, 9); DELETE FROM d._offsets WHERE TRUE", "", ""},
		{"explicit rollback", "BEGIN; INSERT INTO d.orders VALUES (9, 9, 9); ROLLBACK TRANSACTION; SELECT 1", "", ""},
		{"permanent DDL in transaction", "BEGIN; INSERT INTO d.orders VALUES (9, 9, 9); CREATE TABLE d.x (a INT64); COMMIT;", "not supported inside a transaction", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, client := newTestServer(t)
			ctx := ctxT(t)
			setupOrders(t, srv, client)
			q := client.Query(tc.script)
			q.JobID = "j1"
			job, err := q.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			st, err := job.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tc.msg == "" {
				if st.Err() != nil {
					t.Fatalf("job failed: %v", st.Err())
				}
			} else {
				reason := cmp.Or(tc.reason, "invalidQuery")
				e, ok := st.Err().(*bigquery.Error)
				if !ok || e.Reason != reason || !strings.Contains(e.Message, tc.msg) {
					t.Fatalf("job error %v, want %s containing %q", st.Err(), reason, tc.msg)
				}
			}
			if n := count(t, srv, "d.orders"); n != 3 {
				t.Errorf("orders has %d rows, want 3 (rolled back)", n)
			}
			if n := count(t, srv, "d._offsets"); n != 1 {
				t.Errorf("_offsets has %d rows, want 1", n)
			}
		})
	}
}

func TestNonTransactionalDMLIsPerStatement(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	setupOrders(t, srv, client)
	q := client.Query("INSERT INTO d.orders VALUES (7, 7, 7); UPDATE d.orders SET qty = 0 WHERE id = 7; SELECT 1/0 FROM d.nope")
	job, err := q.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := job.Status(ctx)
	if err != nil || st.Err() == nil {
		t.Fatalf("want a failed job: %v %v", st, err)
	}
	var qty int
	if err := srv.DB().QueryRow(`SELECT qty FROM d.orders WHERE id = 7`).Scan(&qty); err != nil || qty != 0 {
		t.Errorf("statements before the error were not kept: qty %d, %v", qty, err)
	}
}

// TestReadTypedRows checks that values of every common type come back decoded by the
// client, through jobs.query (Query.Read), jobs.insert + getQueryResults (Run + Read),
// and tabledata.list (Table.Read).
func TestReadTypedRows(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	ds := setupDataset(t, client, "d")
	schema := bigquery.Schema{
		{Name: "id", Type: bigquery.IntegerFieldType},
		{Name: "name", Type: bigquery.StringFieldType},
		{Name: "ts", Type: bigquery.TimestampFieldType},
		{Name: "rec", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{{Name: "a", Type: bigquery.IntegerFieldType}, {Name: "tags", Type: bigquery.StringFieldType, Repeated: true}}},
		{Name: "nums", Type: bigquery.IntegerFieldType, Repeated: true},
		{Name: "doc", Type: bigquery.JSONFieldType},
		{Name: "f", Type: bigquery.FloatFieldType},
		{Name: "ok", Type: bigquery.BooleanFieldType},
		{Name: "amount", Type: bigquery.NumericFieldType},
		{Name: "day", Type: bigquery.DateFieldType},
		{Name: "raw", Type: bigquery.BytesFieldType},
	}
	if err := ds.Table("t").Create(ctx, &bigquery.TableMetadata{Schema: schema}); err != nil {
		t.Fatal(err)
	}
	st, err := load(t, ds.Table("t"), "l1", jsonl(
		`{"id": 1, "name": "héllo", "ts": "2024-05-06 07:08:09.123456 UTC", "rec": {"a": 2, "tags": ["x", "y"]}, "nums": [3, 4], "doc": {"b": 12345678901234567, "a": [true]}, "f": 1.5, "ok": true, "amount": "3.141592653", "day": "2024-05-06", "raw": "AAE="}`,
		`{"id": 2}`,
	), nil)
	if err != nil || st.Err() != nil {
		t.Fatalf("load: %v %v", err, st.Err())
	}
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	want := [][]bigquery.Value{
		{int64(1), "héllo", ts, []bigquery.Value{int64(2), []bigquery.Value{"x", "y"}}, []bigquery.Value{int64(3), int64(4)},
			`{"b":12345678901234567,"a":[true]}`, 1.5, true, big.NewRat(3141592653, 1000000000), mustDate("2024-05-06"), []byte{0, 1}},
		{int64(2), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
	}
	check := func(t *testing.T, got [][]bigquery.Value) {
		t.Helper()
		if len(got) != 2 {
			t.Fatalf("%d rows", len(got))
		}
		for i := range want {
			for k := range want[i] {
				g, w := got[i][k], want[i][k]
				if r, ok := w.(*big.Rat); ok {
					if gr, ok := g.(*big.Rat); !ok || gr.Cmp(r) != 0 {
						t.Errorf("row %d col %s: %v, want %v", i, schema[k].Name, g, w)
					}
					continue
				}
				if ws, ok := w.([]bigquery.Value); ok && len(ws) == 0 {
					w = nil
				}
				if !reflect.DeepEqual(g, w) && !(isEmpty(g) && w == nil) {
					t.Errorf("row %d col %s: %#v, want %#v", i, schema[k].Name, g, w)
				}
			}
		}
	}
	const sel = "SELECT * FROM `test-project.d.t` WHERE id >= @min ORDER BY id"
	params := []bigquery.QueryParameter{{Name: "min", Value: 1}}

	t.Run("jobs.query", func(t *testing.T) {
		q := client.Query(sel)
		q.Parameters = params
		it, err := q.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check(t, readAll(t, it))
	})
	t.Run("jobs.insert+getQueryResults", func(t *testing.T) {
		q := client.Query(sel)
		q.Parameters = params
		q.JobID = "read_job"
		job, err := q.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		it := mustRead(t, job)
		it.PageInfo().MaxSize = 1 // two pages
		check(t, readAll(t, it))
	})
	t.Run("tabledata.list", func(t *testing.T) {
		it := ds.Table("t").Read(ctx)
		check(t, readAll(t, it))
	})
	ops := map[string]int{}
	for _, r := range srv.Requests() {
		ops[r.Op]++
	}
	if ops["jobs.query"] != 1 || ops["jobs.getQueryResults"] < 3 || ops["tabledata.list"] != 1 {
		t.Errorf("request ops %v", ops)
	}
}

func isEmpty(v bigquery.Value) bool {
	s, ok := v.([]bigquery.Value)
	return ok && len(s) == 0
}

func TestQueryParameterTypes(t *testing.T) {
	_, client := newTestServer(t)
	ctx := ctxT(t)
	ts := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	q := client.Query("SELECT @i + 1, @s || '!', @ts, @b, @f * 2, ARRAY_LENGTH(@arr), 2 IN UNNEST(@arr), @arr[OFFSET(1)], @n IS NULL")
	q.Parameters = []bigquery.QueryParameter{
		{Name: "i", Value: int64(41)},
		{Name: "s", Value: "it's"},
		{Name: "ts", Value: ts},
		{Name: "b", Value: true},
		{Name: "f", Value: 1.25},
		{Name: "arr", Value: []int64{1, 2, 3}},
		{Name: "n", Value: bigquery.NullString{}},
	}
	it, err := q.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, it)
	want := []bigquery.Value{int64(42), "it's!", ts, true, 2.5, int64(3), true, int64(2), true}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Errorf("got %#v\nwant %#v", rows, want)
	}
}

func mustDate(s string) bigquery.Value {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return civilDate(d)
}

// TestConcurrentTransactionsAbort pauses transaction A after its first write to a
// table; transaction B then writes the same table and is aborted with BigQuery's
// message and rolled back entirely; A commits.
func TestConcurrentTransactionsAbort(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	setupOrders(t, srv, client)

	paused, resume := make(chan struct{}), make(chan struct{})
	srv.SetStatementHook(func(jobID string, stmt int, sql string) {
		if jobID == "A" && strings.HasPrefix(sql, "COMMIT") {
			close(paused)
			<-resume
		}
	})
	var wg sync.WaitGroup
	var errA error
	var stA *bigquery.JobStatus
	wg.Add(1)
	go func() {
		defer wg.Done()
		q := client.Query("BEGIN TRANSACTION; INSERT INTO d.orders VALUES (100, 1, 100); UPDATE d._offsets SET next_offset = 101 WHERE TRUE; COMMIT TRANSACTION")
		q.JobID = "A"
		job, err := q.Run(ctx)
		if err != nil {
			errA = err
			return
		}
		stA, errA = job.Status(ctx)
	}()
	select {
	case <-paused:
	case <-time.After(30 * time.Second):
		t.Fatal("A never reached COMMIT")
	}
	// B touches a different table first (allowed), then d.orders (held by A).
	q := client.Query("BEGIN; INSERT INTO d.stg VALUES (200, 2, 200, false); INSERT INTO `test-project.d.orders` VALUES (200, 2, 200); COMMIT")
	q.JobID = "B"
	jobB, err := q.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stB, err := jobB.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := stB.Err().(*bigquery.Error)
	if !ok || e.Reason != "invalidQuery" || e.Message != "Transaction is aborted due to concurrent update against table test-project:d.orders." {
		t.Fatalf("B: %v", stB.Err())
	}
	close(resume)
	wg.Wait()
	if errA != nil || stA.Err() != nil {
		t.Fatalf("A: %v %v", errA, stA.Err())
	}
	var n100, n200, stg int
	srv.DB().QueryRow(`SELECT count(*) FILTER (WHERE id = 100), count(*) FILTER (WHERE id = 200) FROM d.orders`).Scan(&n100, &n200)
	srv.DB().QueryRow(`SELECT count(*) FROM d.stg WHERE id = 200`).Scan(&stg)
	if n100 != 1 || n200 != 0 || stg != 0 {
		t.Errorf("A's row %d (want 1), B's rows %d and %d (want 0: B rolled back entirely)", n100, n200, stg)
	}
	// After A committed, the same transaction as B succeeds.
	srv.SetStatementHook(nil)
	q.JobID = "B2"
	jobB2, err := q.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := jobB2.Status(ctx); err != nil || st.Err() != nil {
		t.Fatalf("B2: %v %v", err, st.Err())
	}
}

// TestDMLQueuedBehindTransaction: a DML statement outside a transaction waits until
// the transaction holding its table ends, then runs on the committed data.
func TestDMLQueuedBehindTransaction(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	setupOrders(t, srv, client)
	paused, resume := make(chan struct{}), make(chan struct{})
	srv.SetStatementHook(func(jobID string, stmt int, sql string) {
		if jobID == "A" && sql == "COMMIT" {
			close(paused)
			<-resume
		}
	})
	doneA := make(chan error, 1)
	go func() {
		_, err := runQuery(ctx, client, "A", "BEGIN; INSERT INTO d.orders VALUES (100, 1, 100); COMMIT")
		doneA <- err
	}()
	<-paused
	doneB := make(chan error, 1)
	go func() {
		_, err := runQuery(ctx, client, "B", "UPDATE d.orders SET qty = qty + 1 WHERE TRUE")
		doneB <- err
	}()
	// B is accepted and waits.
	deadline := time.Now().Add(10 * time.Second)
	for {
		js := srv.Jobs()
		if len(js) == 2 && js[1].ID == "B" {
			if js[1].State != "RUNNING" {
				t.Fatalf("B did not wait: %+v", js[1])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if js := srv.Jobs(); js[1].State != "RUNNING" {
		t.Fatalf("B ran while A held the table: %+v", js[1])
	}
	close(resume)
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	if err := <-doneB; err != nil {
		t.Fatal(err)
	}
	var qty int
	if err := srv.DB().QueryRow(`SELECT qty FROM d.orders WHERE id = 100`).Scan(&qty); err != nil || qty != 2 {
		t.Errorf("B did not see A's row: qty %d, %v", qty, err)
	}
	if js := srv.Jobs(); js[1].OutputRows != 4 || js[1].Err != "" {
		t.Errorf("B %+v", js[1])
	}
}
