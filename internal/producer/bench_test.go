package producer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

// replay serves pages recorded from the simulator, so a benchmark measures the producer
// (JSON → Avro → Kafka transaction), not the simulator or the HTTP layer.
type replay struct{ pages []*gorgias.Page }

func (r *replay) List(_ context.Context, _ string, p gorgias.ListParams) (*gorgias.Page, error) {
	i := 0
	if p.Cursor != "" {
		i, _ = strconv.Atoi(p.Cursor)
	}
	pg := *r.pages[i]
	pg.NextCursor = ""
	if i+1 < len(r.pages) {
		pg.NextCursor = strconv.Itoa(i + 1)
	}
	return &pg, nil
}

func (r *replay) Get(context.Context, string, url.Values) (json.RawMessage, error) {
	return r.pages[0].Data[0], nil
}

// record reads up to 50 pages of ent from api (its object, for a Single entity) and
// returns them with their record count.
func record(tb testing.TB, api Lister, ent catalog.Entity) ([]*gorgias.Page, int) {
	if ent.Single {
		obj, err := api.Get(context.Background(), ent.Resource, nil)
		if err != nil {
			tb.Fatal(err)
		}
		return []*gorgias.Page{{Data: []json.RawMessage{obj}}}, 1
	}
	var pages []*gorgias.Page
	params := gorgias.ListParams{OrderBy: ent.OrderBy(), Limit: 100}
	if pass := ent.Passes()[0]; pass.Param != "" {
		params.Query = url.Values{pass.Param: {pass.Value}}
	}
	records := 0
	for len(pages) < 50 {
		pg, err := api.List(context.Background(), ent.Resource, params)
		if err != nil {
			tb.Fatal(err)
		}
		pages = append(pages, pg)
		records += len(pg.Data)
		if pg.NextCursor == "" {
			break
		}
		params.Cursor = pg.NextCursor
	}
	return pages, records
}

// minBenchRecords is the fewest records BenchmarkPublish runs with, so that a run's
// fixed costs (topics, producer id, state read) do not hide the cost per record.
const minBenchRecords = 2000

// cloned returns pages of 100 copies of the objects of pages, with new ids, n in all.
func cloned(tb testing.TB, pages []*gorgias.Page, n int) ([]*gorgias.Page, int) {
	var objs []json.RawMessage
	for _, pg := range pages {
		objs = append(objs, pg.Data...)
	}
	var out []*gorgias.Page
	for i := range n {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(objs[i%len(objs)], &m); err != nil {
			tb.Fatal(err)
		}
		m["id"] = json.RawMessage(strconv.Itoa(90_000_000 + i))
		raw, err := json.Marshal(m)
		if err != nil {
			tb.Fatal(err)
		}
		if i%100 == 0 {
			out = append(out, &gorgias.Page{Received: pages[0].Received, ServerTime: pages[0].ServerTime})
		}
		last := out[len(out)-1]
		last.Data = append(last.Data, raw)
	}
	return out, n
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPublish measures the cost per record from Gorgias JSON to a committed Kafka
// record, for each entity and each value framing in the same run: single-object
// encoding (soe) and the Confluent wire format with an in-process registry
// (confluent; registration happens once per run, before the first page): parse,
// convert, Avro-encode, transactional produce and commit (one transaction per
// 100-record page) into an in-process kfake broker. Short reference lists (and the
// account, one object; snapshot entities) are cloned with new ids up to
// minBenchRecords records.
// cpu-µs/record is the whole process's CPU time (producer, broker and registry) per
// record.
func BenchmarkPublish(b *testing.B) {
	sim := gorgiassim.New(gorgiassim.Config{Seed: 3, Customers: 5000, Tickets: 5000, RateLimit: -1})
	for _, ent := range catalog.All() {
		b.Run(ent.Name, func(b *testing.B) {
			e := newEnvWith(b, testenv.NewCluster(b), sim)
			pages, records := record(b, e.api, ent)
			// A short reference list: clones with new ids (only a snapshot takes objects
			// out of the list's order; the other modes' state is positions in it).
			if records < minBenchRecords && ent.Mode == catalog.Snapshot {
				pages, records = cloned(b, pages, minBenchRecords)
				ent.Single = false // the account, as a list of accounts
			}
			_, reg := newRegistry(b)
			for _, mode := range []struct {
				name string
				reg  Registrar
			}{{"soe", nil}, {"confluent", reg}} {
				b.Run(mode.name, func(b *testing.B) {
					b.ResetTimer()
					cpu0, wall0 := cpuTime(), time.Now()
					for i := 0; i < b.N; i++ {
						cfg := e.config(func(c *Config) {
							c.Entities = []catalog.Entity{ent}
							c.TopicPrefix = fmt.Sprintf("%s%s%d.", e.Prefix, mode.name, i)
							c.Registry = mode.reg
						})
						p, err := New(cfg, &replay{pages: pages}, e.KOpts)
						if err != nil {
							b.Fatal(err)
						}
						if err := p.Run(context.Background()); err != nil {
							b.Fatal(err)
						}
						if got := p.States()[ent.Name].Published; got != int64(records) {
							b.Fatalf("published %d of %d records", got, records)
						}
					}
					n := float64(b.N * records)
					b.ReportMetric(float64(time.Since(wall0).Microseconds())/n, "µs/record")
					b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-µs/record")
					b.ReportMetric(float64(records), "records/run")
				})
			}
		})
	}
}

// BenchmarkAPIBudget measures the share of the account's API budget a backfill uses,
// against the simulator over real HTTP on 127.0.0.1 with a window scaled down to 40
// requests per 2 s. The budget available over a run of T seconds that starts with an
// empty bucket is capacity + rate·T requests.
func BenchmarkAPIBudget(b *testing.B) {
	const limit, window = 40, 2 * time.Second
	for i := 0; i < b.N; i++ {
		sim := gorgiassim.New(gorgiassim.Config{Seed: 5, Customers: 1000, Tickets: 3000, RateLimit: limit, RateWindow: window})
		srv := httptest.NewServer(sim.Handler())
		e := newEnvWith(b, testenv.NewCluster(b), sim, func(c *gorgias.Config) {
			c.Transport = nil
			c.BaseURL = srv.URL + "/api"
			c.RateLimit, c.RateWindow = limit, window
		})
		ent, _ := catalog.Lookup("ticket_messages")
		start := time.Now()
		e.mustRun(e.config(func(c *Config) { c.Entities = []catalog.Entity{ent} }))
		elapsed := time.Since(start)
		srv.Close()
		st := sim.Stats()
		if st.Throttled429 != 0 {
			b.Fatalf("%d requests throttled", st.Throttled429)
		}
		available := float64(limit) + float64(limit)/window.Seconds()*elapsed.Seconds()
		b.ReportMetric(100*float64(st.Requests)/available, "%budget")
		b.ReportMetric(float64(st.Throttled429), "429s")
		b.ReportMetric(float64(e.checkCount(ent))/float64(st.Paths["/api/messages"]), "records/request")
		b.ReportMetric(float64(st.Requests), "requests")
	}
}

func (e *env) checkCount(ent catalog.Entity) int {
	return len(e.readTopic(ent))
}
