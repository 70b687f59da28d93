package producer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

// eventLog serves an events list oldest first, honouring created_datetime[gte] as
// Gorgias does, one page for the whole answer; it records the filters it was sent.
type eventLog struct {
	mu     sync.Mutex
	events map[int64]time.Time // id → created_datetime
	since  []string
}

func (l *eventLog) List(_ context.Context, _ string, p gorgias.ListParams) (*gorgias.Page, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	from := time.Time{}
	if v := p.Query.Get("created_datetime[gte]"); v != "" {
		l.since = append(l.since, v)
		t, err := gorgias.ParseTime(v)
		if err != nil {
			return nil, err
		}
		from = t
	}
	ids := make([]int64, 0, len(l.events))
	for id, at := range l.events {
		if !at.Before(from) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b int64) int { return l.events[a].Compare(l.events[b]) })
	pg := &gorgias.Page{Received: time.Now()}
	for _, id := range ids {
		pg.Data = append(pg.Data, json.RawMessage(fmt.Sprintf(`{"id": %d, "type": "ticket-updated", "object_type": "Ticket", "object_id": 1, "created_datetime": %q}`,
			id, l.events[id].Format(time.RFC3339Nano))))
	}
	return pg, nil
}

func (l *eventLog) Get(context.Context, string, url.Values) (json.RawMessage, error) {
	return nil, fmt.Errorf("not served")
}

// An append-only sweep publishes each event once; the next one asks only for events
// created from the newest published one minus the lookback window, and publishes an
// event committed late inside the window, not one older than the window (documented:
// it counts as published).
func TestAppendOnlyWindow(t *testing.T) {
	ent := testenv.Entity(t, "events")
	e := newEnv(t, smallSim)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	log := &eventLog{events: map[int64]time.Time{1: t0, 2: t0.Add(10 * time.Minute)}}
	run := func() {
		t.Helper()
		p, err := New(e.config(func(c *Config) { c.Entities = []catalog.Entity{ent}; c.AppendLookback = 5 * time.Minute }), log, e.KOpts)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	run()
	log.events[3] = t0.Add(8 * time.Minute)  // late, inside the window below the newest (t0+10m)
	log.events[4] = t0.Add(1 * time.Minute)  // late, below the window: counts as published
	log.events[5] = t0.Add(20 * time.Minute) // new
	run()
	var ids []int64
	for _, r := range e.readTopic(ent) {
		ids = append(ids, r.id)
	}
	slices.Sort(ids)
	if want := []int64{1, 2, 3, 5}; !slices.Equal(ids, want) {
		t.Fatalf("published ids %v, want %v", ids, want)
	}
	if want := []string{t0.Add(5 * time.Minute).Format("2006-01-02T15:04:05.000000Z07:00")}; !slices.Equal(log.since, want) {
		t.Fatalf("filters sent %v, want %v (the second sweep only)", log.since, want)
	}
}
