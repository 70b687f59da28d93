package avrocodec

import (
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
)

// BenchmarkDecodeRow measures the sinks' decoding of one record (the runner's step
// before batching) in both framings, in the same run: single-object encoding looks the
// writer schema up by fingerprint; the Confluent wire format splits the 5-byte header
// and decodes the body with the schema the runner resolved for the id (a cache lookup,
// not counted: the registry is asked once per id per process).
//
//	go test ./internal/avrocodec -run '^$' -bench DecodeRow -benchtime 20000x
func BenchmarkDecodeRow(b *testing.B) {
	sim := gorgiassim.New(gorgiassim.Config{Seed: 5, Customers: 200, Tickets: 300, RateLimit: -1})
	reg, err := NewRegistry()
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range catalog.All() {
		enc, err := NewEncoder(e)
		if err != nil {
			b.Fatal(err)
		}
		var soe, conf [][]byte
		now := time.Now()
		for _, raw := range sim.Objects(e.Resource) {
			rec, err := enc.Encode(raw, Meta{Domain: "acme", ExtractedAt: now, AsOf: now}, nil)
			if err != nil {
				b.Fatal(err)
			}
			soe = append(soe, append([]byte(nil), rec.Value...))
			c, err := ReframeConfluent(append([]byte(nil), rec.Value...), 7)
			if err != nil {
				b.Fatal(err)
			}
			conf = append(conf, c)
		}
		schema := enc.Schema()
		b.Run(e.Name+"/soe", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, _, err := reg.DecodeRow(soe[i%len(soe)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/record")
		})
		b.Run(e.Name+"/confluent", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_, body, err := SplitConfluent(conf[i%len(conf)])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := reg.DecodeRowBody(schema, body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/record")
		})
	}
}
