package bigquerysink

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/bqfake"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

var bg = context.Background()

// fastRetry keeps the sink's own back-off short in tests (the Go client's retries of
// calls without media still start at 1 s).
var fastRetry = Retry{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond, Poll: 5 * time.Millisecond}

// newFake starts a BigQuery fake for the test.
func newFake(t testing.TB) *bqfake.Server {
	t.Helper()
	srv, err := bqfake.New(bqfake.Options{Project: "test-project"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

var datasetSeq atomic.Int64

// target is one dataset on a fake, opened as often as a test needs.
type target struct {
	srv     *bqfake.Server
	dataset string
	prefix  string
	deletes sink.DeleteMode
}

func newTarget(srv *bqfake.Server, prefix string) *target {
	return &target{srv: srv, dataset: "ds" + itoa(datasetSeq.Add(1)), prefix: prefix}
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}

func (tg *target) config() Config {
	return Config{
		Dest:        Destination{Project: "test-project", Location: "US"},
		Dataset:     tg.dataset,
		TopicPrefix: tg.prefix,
		Deletes:     tg.deletes,
		Endpoint:    tg.srv.URL() + "/bigquery/v2/",
		Retry:       fastRetry,
		Logger:      sinktest.Logger(),
	}
}

func (tg *target) open(t testing.TB) *Sink {
	t.Helper()
	s, err := Open(bg, tg.config())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reader adapts Rows/ChangelogRows to the conformance suite.
func reader(changelog bool) func(testing.TB, sink.Sink, catalog.Entity) []map[string]any {
	return func(t testing.TB, s sink.Sink, e catalog.Entity) []map[string]any {
		t.Helper()
		var rows []map[string]any
		var err error
		if changelog {
			rows, err = s.(*Sink).ChangelogRows(bg, e)
		} else {
			rows, err = s.(*Sink).Rows(bg, e)
		}
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
}

func errorsIs(err, target error) bool { return err != nil && errors.Is(err, target) }

// bqForm: BigQuery has no NULL arrays; the sink stores them as empty REPEATED values.
var bqForm = sinktest.Form{NullArrayIsEmpty: true}
