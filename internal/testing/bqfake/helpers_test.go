package bqfake

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/googleapi"
)

// newTestServer starts a fake and a real BigQuery client pointed at it.
func newTestServer(t *testing.T) (*Server, *bigquery.Client) {
	t.Helper()
	srv, err := New(Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	client, err := bigquery.NewClient(context.Background(), "test-project", srv.ClientOptions()...)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, client
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustExec runs SQL directly on DuckDB.
func mustExec(t *testing.T, srv *Server, q string) {
	t.Helper()
	if _, err := srv.DB().Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t *testing.T, srv *Server, table string) int {
	t.Helper()
	var n int
	if err := srv.DB().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// apiErr returns the *googleapi.Error in err (failing the test if there is none).
func apiErr(t *testing.T, err error) *googleapi.Error {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("want *googleapi.Error, got %T %v", err, err)
	}
	return ge
}

func reason(ge *googleapi.Error) string {
	if len(ge.Errors) == 0 {
		return ""
	}
	return ge.Errors[0].Reason
}

func setupDataset(t *testing.T, client *bigquery.Client, ds string) *bigquery.Dataset {
	t.Helper()
	d := client.Dataset(ds)
	if err := d.Create(ctxT(t), &bigquery.DatasetMetadata{Location: "US"}); err != nil {
		t.Fatal(err)
	}
	return d
}

func jsonl(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// load runs a load job of JSON lines and waits for it.
func load(t *testing.T, tbl *bigquery.Table, jobID, data string, configure func(*bigquery.Loader)) (*bigquery.JobStatus, error) {
	t.Helper()
	src := bigquery.NewReaderSource(strings.NewReader(data))
	src.SourceFormat = bigquery.JSON
	ld := tbl.LoaderFrom(src)
	ld.JobID, ld.Location = jobID, "US"
	if configure != nil {
		configure(ld)
	}
	ctx := ctxT(t)
	job, err := ld.Run(ctx)
	if err != nil {
		return nil, err
	}
	return job.Wait(ctx)
}

// civilDate converts a time to the civil.Date the client returns for DATE.
func civilDate(t time.Time) bigquery.Value { return civil.DateOf(t) }
