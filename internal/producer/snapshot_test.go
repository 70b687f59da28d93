package producer

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// tagList serves a tags list by id, two objects a page.
type tagList map[int64]string // id → name

func (l tagList) List(_ context.Context, _ string, p gorgias.ListParams) (*gorgias.Page, error) {
	ids := slices.Sorted(maps.Keys(l))
	from := 0
	if p.Cursor != "" {
		fmt.Sscan(p.Cursor, &from)
	}
	pg := &gorgias.Page{}
	for _, id := range ids[from:min(from+2, len(ids))] {
		pg.Data = append(pg.Data, json.RawMessage(fmt.Sprintf(`{"id": %d, "name": %q, "created_datetime": "2026-01-01T00:00:00+00:00"}`, id, l[id])))
	}
	if from+2 < len(ids) {
		pg.NextCursor = fmt.Sprint(from + 2)
	}
	return pg, nil
}

func (l tagList) Get(context.Context, string, url.Values) (json.RawMessage, error) {
	return nil, fmt.Errorf("not served")
}

// A snapshot publishes an object when its content differs from the last one published
// (also when it changes back), nothing on an idle snapshot, a tombstone (reason
// disappeared) for an object that disappeared, which it then forgets, so that it is
// published again if it comes back.
func TestSnapshotPublishesChanges(t *testing.T) {
	ent := testenv.Entity(t, "tags")
	e := newEnv(t, smallSim)
	tags := tagList{1: "billing", 2: "refund", 3: "vip"}
	before := map[int64]int{} // records per id so far
	step := func(what string, want ...int64) {
		t.Helper()
		p, err := New(e.config(func(c *Config) { c.Entities = []catalog.Entity{ent} }), tags, e.KOpts)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		now := map[int64]int{}
		for _, r := range e.readTopic(ent) {
			now[r.id]++
			if d := r.deletion; d != nil && (d.Reason != tombstone.Disappeared || d.ID != 2 || d.EventID != 0 || d.At.IsZero()) {
				t.Fatalf("%s: tombstone %+v, want tag 2 disappeared", what, *d)
			}
		}
		var got []int64
		for id, n := range now {
			for range n - before[id] {
				got = append(got, id)
			}
		}
		slices.Sort(got)
		before = now
		if !slices.Equal(got, want) {
			t.Fatalf("%s: published %v, want %v", what, got, want)
		}
		st := p.States()[ent.Name]
		if ids := slices.Sorted(maps.Keys(st.Seen)); !slices.Equal(ids, slices.Sorted(maps.Keys(tags))) || st.Round != nil {
			t.Fatalf("%s: state remembers %v (round %v), the list holds %v", what, ids, st.Round, slices.Sorted(maps.Keys(tags)))
		}
	}
	step("backfill", 1, 2, 3)
	step("idle")
	tags[1] = "billing-v2"
	step("edit", 1)
	tags[1] = "billing"
	delete(tags, 2)
	step("edit back, delete", 1, 2) // 1's content, 2's tombstone
	tags[2] = "refund"
	step("reappears", 2)
}
