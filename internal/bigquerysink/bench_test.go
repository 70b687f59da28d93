package bigquerysink

import (
	"fmt"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// BenchmarkWrite measures what one batch costs against the fake: rows/s the sink
// sustains (JSON encoding, upload, and the commit transaction run by the fake on
// DuckDB), jobs, API requests and load bytes per batch. Each iteration writes one batch
// of n records continuing the previous one, so the target tables grow as in a backfill.
//
//	go test ./internal/bigquerysink -run '^$' -bench Write -benchtime 20x
func BenchmarkWrite(b *testing.B) {
	for _, name := range []string{"tickets", "ticket_messages"} {
		e, _ := catalog.Lookup(name)
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/batch=%d", name, n), func(b *testing.B) {
				srv := newFake(b)
				tg := newTarget(srv, "conformance.")
				fx := sinktest.NewFixture(b, nil)
				s := tg.open(b)
				defer s.Close()
				if err := s.Prepare(bg, catalog.All(), fx.Reg.Schemas("")); err != nil {
					b.Fatal(err)
				}
				tmpl := fx.Records(b, e, 0, 0)
				idIdx := tmpl[0].Schema.Root.FieldIndex(catalog.Key)
				verIdx := tmpl[0].Schema.Root.FieldIndex(e.VersionField)
				tp := sinktest.Topic(e)
				next := sink.NoOffset
				recs := make([]sink.Record, n)
				// Batch i: half new ids, half new versions of the previous batch's new ids.
				write := func(i int) {
					off := int64(i * n)
					for j := range recs {
						t := tmpl[j%len(tmpl)]
						seq := int64(i*n/2 + j)
						if j >= n/2 {
							seq = int64((i-1)*n/2 + j - n/2)
							if i == 0 {
								seq = int64(j)
							}
						}
						vals := append([]any(nil), t.Values...)
						id, ver := 1_000_000_000+seq, t.Version.Add(time.Duration(i)*time.Hour)
						vals[idIdx], vals[verIdx] = id, ver
						recs[j] = sink.Record{Entity: e, Schema: t.Schema, Values: vals, ID: id, Version: ver,
							Offset: off + int64(j), Timestamp: t.Timestamp}
					}
					batch := sinktest.Batch(map[string]int64{tp: next}, recs...)
					if next == sink.NoOffset {
						batch = sinktest.Batch(nil, recs...)
					}
					if err := s.Write(bg, batch); err != nil {
						b.Fatal(err)
					}
					next = off + int64(n)
				}
				before := s.Stats()
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					write(i)
				}
				el := time.Since(start)
				b.StopTimer()
				st := s.Stats()
				batches := float64(st.Batches - before.Batches)
				b.ReportMetric(float64(b.N*n)/el.Seconds(), "rows/s")
				b.ReportMetric(float64(st.Jobs-before.Jobs)/batches, "jobs/batch")
				b.ReportMetric(float64(st.Requests-before.Requests)/batches, "requests/batch")
				b.ReportMetric(float64(st.LoadBytes-before.LoadBytes)/float64(st.Loads-before.Loads)/(1<<20), "MiB/load")
			})
		}
	}
}
