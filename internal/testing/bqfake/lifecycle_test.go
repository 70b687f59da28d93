package bqfake

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
)

// TestCloseLeavesNoGoroutines: after Close (and the client's Close) the goroutine
// count returns to where it was.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client, err := bigquery.NewClient(ctx, "test-project", srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Dataset("d").Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	it, err := client.Query("SELECT 1").Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = readAll(t, it)
	client.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestConcurrentJobs runs loads, queries and reads from many goroutines at once
// (meant for -race): every load lands exactly once.
func TestConcurrentJobs(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	ds := setupDataset(t, client, "d")
	tbl := ds.Table("t")
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: bigquery.Schema{{Name: "g", Type: bigquery.IntegerFieldType}, {Name: "i", Type: bigquery.IntegerFieldType}}}); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 6, 4
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*3)
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				var b strings.Builder
				for i := 0; i < 50; i++ {
					fmt.Fprintf(&b, `{"g": %d, "i": %d}`+"\n", g, r*50+i)
				}
				src := bigquery.NewReaderSource(strings.NewReader(b.String()))
				src.SourceFormat = bigquery.JSON
				ld := tbl.LoaderFrom(src)
				ld.JobID = fmt.Sprintf("load_%d_%d", g, r)
				job, err := ld.Run(ctx)
				if err == nil {
					var st *bigquery.JobStatus
					st, err = job.Wait(ctx)
					if err == nil {
						err = st.Err()
					}
				}
				if err != nil {
					errs <- err
				}
				// a non-transactional DML statement and a read, interleaved
				q := client.Query(fmt.Sprintf("UPDATE d.t SET i = i WHERE g = %d; SELECT COUNT(*) FROM d.t WHERE g = %d", g, g))
				it, err := q.Read(ctx)
				if err != nil {
					errs <- err
					continue
				}
				var rows [][]bigquery.Value
				for {
					var row []bigquery.Value
					if err := it.Next(&row); err != nil {
						if err != iterator.Done {
							errs <- err
						}
						break
					}
					rows = append(rows, row)
				}
				if len(rows) != 1 || rows[0][0].(int64) != int64((r+1)*50) {
					errs <- fmt.Errorf("worker %d round %d: count %v", g, r, rows)
				}
				if _, err := tbl.Metadata(ctx); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := count(t, srv, "d.t"); n != workers*rounds*50 {
		t.Errorf("%d rows, want %d", n, workers*rounds*50)
	}
	if n := len(srv.Jobs()); n != workers*rounds*2 {
		t.Errorf("%d jobs", n)
	}
}
