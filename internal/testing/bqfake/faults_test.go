package bqfake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

// statuses returns the statuses of the requests of op, in order.
func statuses(srv *Server, op string) []int {
	var out []int
	for _, r := range srv.Requests() {
		if r.Op == op {
			out = append(out, r.Status)
		}
	}
	return out
}

func eqInts(a []int, b ...int) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// faultEnv is a server with dataset d and table d.t (id INT64).
func faultEnv(t *testing.T) (*Server, *bigquery.Client, *bigquery.Table) {
	t.Helper()
	srv, client := newTestServer(t)
	tbl := setupDataset(t, client, "d").Table("t")
	if err := tbl.Create(ctxT(t), &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "id", Type: bigquery.IntegerFieldType}}}); err != nil {
		t.Fatal(err)
	}
	return srv, client, tbl
}

func runQuery(ctx context.Context, client *bigquery.Client, id, sql string) (*bigquery.Job, error) {
	q := client.Query(sql)
	q.JobID, q.Location = id, "US"
	return q.Run(ctx)
}

// TestFaults covers every fault kind against the real client and records what the
// client does about it (retry or surface the error).
func TestFaults(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table)
	}{
		{"5xx/tables.get is retried by the client", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "tables.get", Kind: Fault5xx})
			if _, err := tbl.Metadata(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if s := statuses(srv, "tables.get"); !eqInts(s, 503, 200) {
				t.Errorf("tables.get statuses %v", s)
			}
		}},
		{"5xx/jobs.insert.query is retried and runs once", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "jobs.insert.query", Kind: Fault5xx, Table: "d.t"})
			job, err := runQuery(ctxT(t), client, "q1", "INSERT INTO `test-project.d.t` VALUES (1)")
			if err != nil {
				t.Fatal(err)
			}
			if st, err := job.Status(ctxT(t)); err != nil || st.Err() != nil {
				t.Fatal(err, st.Err())
			}
			if n := count(t, srv, "d.t"); n != 1 || len(srv.Jobs()) != 1 {
				t.Errorf("%d rows, %d jobs", n, len(srv.Jobs()))
			}
		}},
		{"5xx/multipart load is not retried and does nothing", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "jobs.insert.load", Kind: Fault5xx})
			_, err := load(t, tbl, "l1", jsonl(`{"id": 1}`), nil)
			if ge := apiErr(t, err); ge.Code != 503 || reason(ge) != "backendError" {
				t.Fatalf("got %v", err)
			}
			if n := count(t, srv, "d.t"); n != 0 || len(srv.Jobs()) != 0 {
				t.Fatalf("%d rows, %d jobs", n, len(srv.Jobs()))
			}
			if st, err := load(t, tbl, "l1", jsonl(`{"id": 1}`), nil); err != nil || st.Err() != nil {
				t.Fatalf("resubmit: %v", err)
			}
			if n := count(t, srv, "d.t"); n != 1 {
				t.Errorf("%d rows", n)
			}
		}},
		{"5xx/resumable final chunk is retried by the uploader", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "jobs.insert.load", Kind: Fault5xx})
			data := strings.Repeat(`{"id": 7}`+"\n", 30000) // ~300 KB: one chunk + the final one
			st, err := load(t, tbl, "l1", data, func(l *bigquery.Loader) {
				l.MediaOptions = []googleapi.MediaOption{googleapi.ChunkSize(googleapi.MinUploadChunkSize)}
			})
			if err != nil || st.Err() != nil {
				t.Fatal(err, st)
			}
			if n := count(t, srv, "d.t"); n != 30000 {
				t.Errorf("%d rows", n)
			}
			if s := statuses(srv, "jobs.insert.load"); !eqInts(s, 503, 200) {
				t.Errorf("final chunk statuses %v", s)
			}
		}},
		{"lose-reply/load: done once, 409 on resubmit, then JobFromIDLocation", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "jobs.insert.load", Kind: FaultLoseReply})
			_, err := load(t, tbl, "l1", jsonl(`{"id": 1}`, `{"id": 2}`), nil)
			var ge *googleapi.Error
			if err == nil || errors.As(err, &ge) {
				t.Fatalf("want a transport error, got %v", err)
			}
			t.Logf("lost reply surfaces as: %v", err)
			_, err = load(t, tbl, "l1", jsonl(`{"id": 1}`, `{"id": 2}`), nil)
			if reason(apiErr(t, err)) != "duplicate" {
				t.Fatalf("resubmit: %v", err)
			}
			job, err := client.JobFromIDLocation(ctxT(t), "l1", "US")
			if err != nil {
				t.Fatal(err)
			}
			if st, err := job.Wait(ctxT(t)); err != nil || st.Err() != nil {
				t.Fatal(err, st.Err())
			}
			if n := count(t, srv, "d.t"); n != 2 {
				t.Errorf("%d rows, want 2 (work done exactly once)", n)
			}
			if s := statuses(srv, "jobs.insert.load"); !eqInts(s, 0, 409) {
				t.Errorf("statuses %v", s)
			}
		}},
		{"lose-reply/query job", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "jobs.insert.query", Kind: FaultLoseReply})
			_, err := runQuery(ctxT(t), client, "q1", "INSERT INTO d.t VALUES (1)")
			if err == nil {
				t.Fatal("want an error")
			}
			t.Logf("lost reply surfaces as: %v", err)
			_, err = runQuery(ctxT(t), client, "q1", "INSERT INTO d.t VALUES (1)")
			if reason(apiErr(t, err)) != "duplicate" {
				t.Fatalf("resubmit: %v", err)
			}
			if n := count(t, srv, "d.t"); n != 1 {
				t.Errorf("%d rows", n)
			}
		}},
		{"error-after-work/query: the client's retry gets 409", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "jobs.insert.query", Kind: FaultErrorAfterWork})
			_, err := runQuery(ctxT(t), client, "q1", "INSERT INTO d.t VALUES (1)")
			if ge := apiErr(t, err); ge.Code != 409 || reason(ge) != "duplicate" {
				t.Fatalf("got %v", err)
			}
			if s := statuses(srv, "jobs.insert.query"); !eqInts(s, 503, 409) {
				t.Errorf("statuses %v", s)
			}
			if n := count(t, srv, "d.t"); n != 1 {
				t.Errorf("%d rows", n)
			}
		}},
		{"error-after-work/multipart load: 503 but the job ran", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "jobs.insert.load", Kind: FaultErrorAfterWork})
			_, err := load(t, tbl, "l1", jsonl(`{"id": 1}`), nil)
			if ge := apiErr(t, err); ge.Code != 503 {
				t.Fatalf("got %v", err)
			}
			if n := count(t, srv, "d.t"); n != 1 || srv.Jobs()[0].State != "DONE" {
				t.Errorf("%d rows, jobs %+v", n, srv.Jobs())
			}
		}},
		{"error-after-work/tables.insert: the client's retry gets 409", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "tables.insert", Kind: FaultErrorAfterWork})
			err := client.Dataset("d").Table("t2").Create(ctxT(t), &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "x", Type: bigquery.StringFieldType}}})
			if reason(apiErr(t, err)) != "duplicate" {
				t.Fatalf("got %v", err)
			}
			if _, err := client.Dataset("d").Table("t2").Metadata(ctxT(t)); err != nil {
				t.Errorf("table missing: %v", err)
			}
		}},
		{"error-after-work/tables.patch with etag: the client's retry gets 412", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			md, err := tbl.Metadata(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			srv.Inject(Fault{Op: "tables.patch", Kind: FaultErrorAfterWork})
			_, err = tbl.Update(ctxT(t), bigquery.TableMetadataToUpdate{Schema: append(md.Schema, &bigquery.FieldSchema{Name: "n", Type: bigquery.StringFieldType})}, md.ETag)
			if ge := apiErr(t, err); ge.Code != 412 || reason(ge) != "conditionNotMet" {
				t.Fatalf("got %v", err)
			}
			if md2, _ := tbl.Metadata(ctxT(t)); len(md2.Schema) != 2 {
				t.Errorf("patch not applied: %+v", md2.Schema)
			}
		}},
		{"rate-limit/tables.patch is retried by the client", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "tables.patch", Kind: FaultRateLimit, Table: "d.t", Times: 2})
			if _, err := tbl.Update(ctxT(t), bigquery.TableMetadataToUpdate{Description: "x"}, ""); err != nil {
				t.Fatal(err)
			}
			if s := statuses(srv, "tables.patch"); !eqInts(s, 403, 403, 200) {
				t.Errorf("statuses %v", s)
			}
		}},
		{"rate-limit/datasets.insert is not retried", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "datasets.insert", Kind: FaultRateLimit})
			err := client.Dataset("d2").Create(ctxT(t), nil)
			if ge := apiErr(t, err); ge.Code != 403 || reason(ge) != "rateLimitExceeded" || !strings.Contains(ge.Message, "too many table update operations") {
				t.Fatalf("got %v", err)
			}
			if _, err := client.Dataset("d2").Metadata(ctxT(t)); reason(apiErr(t, err)) != "notFound" {
				t.Errorf("dataset created anyway: %v", err)
			}
		}},
		{"404-after-create", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "tables.insert", Kind: FaultNotFoundAfterCreate, Table: "d.new", Times: 3})
			nt := client.Dataset("d").Table("new")
			if err := nt.Create(ctxT(t), &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "id", Type: bigquery.IntegerFieldType}}}); err != nil {
				t.Fatal(err)
			}
			_, err := nt.Metadata(ctxT(t))
			if ge := apiErr(t, err); ge.Code != 404 || ge.Message != "Not found: Table test-project:d.new" {
				t.Fatalf("get: %v", err)
			}
			_, err = load(t, nt, "l1", jsonl(`{"id": 1}`), nil)
			if reason(apiErr(t, err)) != "notFound" {
				t.Fatalf("load: %v", err)
			}
			_, err = runQuery(ctxT(t), client, "q1", "INSERT INTO `d.new` VALUES (1)")
			if reason(apiErr(t, err)) != "notFound" {
				t.Fatalf("query: %v", err)
			}
			// the 404s are used up: everything works, and the refused requests left nothing
			if st, err := load(t, nt, "l1", jsonl(`{"id": 1}`), nil); err != nil || st.Err() != nil {
				t.Fatalf("load after: %v", err)
			}
			if n := count(t, srv, "d.new"); n != 1 {
				t.Errorf("%d rows", n)
			}
			// other tables were never affected
			if _, err := tbl.Metadata(ctxT(t)); err != nil {
				t.Error(err)
			}
		}},
		{"job-fails/load", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "jobs.insert.load", Kind: FaultJobFails})
			st, err := load(t, tbl, "l1_a0", jsonl(`{"id": 1}`), nil)
			if err != nil {
				t.Fatal(err)
			}
			e, ok := st.Err().(*bigquery.Error)
			if !ok || e.Reason != "backendError" || e.Message != "injected job failure" {
				t.Fatalf("job error %v", st.Err())
			}
			if n := count(t, srv, "d.t"); n != 0 {
				t.Errorf("%d rows", n)
			}
			if st, err := load(t, tbl, "l1_a1", jsonl(`{"id": 1}`), nil); err != nil || st.Err() != nil {
				t.Fatalf("next attempt: %v", err)
			}
		}},
		{"job-fails/query job: Status shows it, Wait retries until its context ends", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "jobs.insert.query", Kind: FaultJobFails})
			job, err := runQuery(ctxT(t), client, "q1", "INSERT INTO d.t VALUES (1)")
			if err != nil {
				t.Fatal(err)
			}
			st, err := job.Status(ctxT(t))
			if err != nil || st.Err() == nil || st.Err().(*bigquery.Error).Reason != "backendError" {
				t.Fatalf("status %v %v", st, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if _, err := job.Wait(ctx); err == nil {
				t.Error("Wait returned without error")
			}
			if n := count(t, srv, "d.t"); n != 0 {
				t.Errorf("%d rows", n)
			}
		}},
		{"job-fails/jobs.query is retried by the client", func(t *testing.T, srv *Server, client *bigquery.Client, tbl *bigquery.Table) {
			srv.Inject(Fault{Op: "jobs.query", Kind: FaultJobFails})
			it, err := client.Query("SELECT 42").Read(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if rows := readAll(t, it); len(rows) != 1 || rows[0][0] != int64(42) {
				t.Errorf("rows %v", rows)
			}
			if s := statuses(srv, "jobs.query"); !eqInts(s, 500, 200) {
				t.Errorf("statuses %v", s)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client, tbl := faultEnv(t)
			tc.run(t, srv, client, tbl)
		})
	}
}

func TestFaultMatching(t *testing.T) {
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.Inject(Fault{Op: "tables.get", Table: "d.b", Kind: Fault5xx, Skip: 1, Times: 2})
	seq := []struct {
		op, table string
		fires     bool
	}{
		{"tables.get", "d.a", false},
		{"tables.patch", "d.b", false},
		{"tables.get", "d.b", false}, // skipped
		{"tables.get", "D.B", true},
		{"tables.get", "d.b", true},
		{"tables.get", "d.b", false}, // used up
	}
	for i, s := range seq {
		if got := srv.takeFault(s.op, s.table) != nil; got != s.fires {
			t.Errorf("step %d (%s %s): fired %v", i, s.op, s.table, got)
		}
	}
	// Concurrent requests: exactly Times fire, after exactly Skip passed.
	srv.ClearFaults()
	srv.Inject(Fault{Op: "jobs.get", Kind: Fault5xx, Skip: 10, Times: 25})
	var fired atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if srv.takeFault("jobs.get") != nil {
					fired.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if fired.Load() != 25 {
		t.Errorf("fired %d times, want 25", fired.Load())
	}
}

// TestRequestsRecorded checks the request log of one plain call.
func TestRequestsRecorded(t *testing.T) {
	srv, client := newTestServer(t)
	if _, err := client.Dataset("x").Metadata(ctxT(t)); err == nil {
		t.Fatal("want 404")
	}
	r := srv.Requests()
	if len(r) != 1 || r[0] != (RequestInfo{Op: "datasets.get", Method: http.MethodGet, Path: "/bigquery/v2/projects/test-project/datasets/x", Status: 404}) {
		t.Errorf("requests %+v", r)
	}
}
