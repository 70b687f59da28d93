package gorgiassim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// TestEveryCatalogEntityIsServed runs over the catalog, so an entity added
// there is covered without editing this test: it must have a generator,
// and its objects must round-trip through the shared list endpoint in
// every order, over small pages, forwards and back.
func TestEveryCatalogEntityIsServed(t *testing.T) {
	s, _ := newTestSim(t, Config{Customers: 40, Tickets: 80})
	for _, e := range catalog.All() {
		t.Run(e.Name, func(t *testing.T) {
			if _, ok := specs[e.Name]; !ok {
				t.Fatalf("no generator registered for %q", e.Name)
			}
			truth := s.Objects(e.Resource)
			if len(truth) == 0 {
				t.Fatal("the generator seeded no objects")
			}
			if !slices.EqualFunc(s.Objects(e.Name), truth, sameJSON) {
				t.Fatal("Objects(Name) differs from Objects(Resource)")
			}
			checkCatalogFields(t, e, truth)
			if !slices.Contains(orders[e.Resource], e.OrderBy()) {
				t.Fatalf("the producer's order %s is not served (orders %v)", e.OrderBy(), orders[e.Resource])
			}
			for _, order := range orders[e.Resource] {
				got := walk(t, s, e.Resource, map[string]string{"limit": "7", "order_by": order}, nil)
				if want := expectedOrder(t, s, e.Resource, order, 0); !slices.Equal(got, want) {
					t.Fatalf("%s: paged ids differ from the truth's order", order)
				}
			}
			checkPrevCursor(t, s, e)
			checkSingleObject(t, s, e, truth[len(truth)/2])
		})
	}
}

func sameJSON(a, b json.RawMessage) bool { return bytes.Equal(a, b) }

// checkCatalogFields: the sort field and (unless derived) the version field
// are timestamps of every object; a derived version field is absent, and so
// is a snapshot's (the extraction time, which the producer stamps).
func checkCatalogFields(t *testing.T, e catalog.Entity, truth []json.RawMessage) {
	t.Helper()
	for _, raw := range truth {
		m := obj(t, raw)
		if _, ok := m[e.SortField].(string); !ok {
			t.Fatalf("object %v: sort field %s is %v", m["id"], e.SortField, m[e.SortField])
		}
		absent := e.DerivedVersion || e.VersionField == catalog.ExtractedField
		if _, ok := m[e.VersionField]; ok == absent {
			t.Fatalf("object %v: version field %s present=%v, derived=%v", m["id"], e.VersionField, ok, e.DerivedVersion)
		}
	}
}

// checkPrevCursor: the prev_cursor of page 2 leads back to page 1.
func checkPrevCursor(t *testing.T, s *Sim, e catalog.Entity) {
	t.Helper()
	q := map[string]string{"limit": "3", "order_by": e.OrderBy()}
	p1 := decodePage(t, get(t, s, listURL(e.Resource, q), true))
	if p1.Meta.NextCursor == nil {
		t.Fatalf("%s: one page of 3 holds every object: the simulator must seed more for this check", e.Name)
	}
	q["cursor"] = *p1.Meta.NextCursor
	p2 := decodePage(t, get(t, s, listURL(e.Resource, q), true))
	if p2.Meta.PrevCursor == nil {
		t.Fatal("page 2 has no prev_cursor")
	}
	q["cursor"] = *p2.Meta.PrevCursor
	back := decodePage(t, get(t, s, listURL(e.Resource, q), true))
	if !slices.EqualFunc(back.Data, p1.Data, sameJSON) {
		t.Fatal("prev_cursor does not lead back to page 1")
	}
}

// checkSingleObject: the object is served alone, rendered as in lists.
func checkSingleObject(t *testing.T, s *Sim, e catalog.Entity, raw json.RawMessage) {
	t.Helper()
	m := obj(t, raw)
	path := fmt.Sprintf("/api/%s/%s", e.Resource, ftoa(m["id"]))
	if p := specs[e.Name].parent; p != nil {
		parent := s.table(p.entity).ent.Resource
		path = fmt.Sprintf("/api/%s/%s/%s/%s", parent, ftoa(m[p.key]), e.Resource, ftoa(m["id"]))
	}
	if r := get(t, s, path, true); r.status != 200 || !bytes.Equal(r.body, raw) {
		t.Fatalf("GET %s: %d", path, r.status)
	}
}

// TestNewFailsWithoutGenerator: an entity the simulator cannot serve stops
// New with a message naming it and what to add.
func TestNewFailsWithoutGenerator(t *testing.T) {
	ents := catalog.All()
	gadgets := catalog.Entity{Name: "gadgets", Resource: "gadgets", SortField: "created_datetime", VersionField: "updated_datetime"}
	// ticket_messages claiming a sent updated_datetime its objects lack.
	misfit := slices.Clone(ents)
	i := slices.IndexFunc(misfit, func(e catalog.Entity) bool { return e.Name == "ticket_messages" })
	misfit[i].DerivedVersion = false
	noTickets := slices.DeleteFunc(slices.Clone(ents), func(e catalog.Entity) bool { return e.Name == "tickets" })
	for _, tc := range []struct {
		name string
		ents []catalog.Entity
		want string
	}{
		{"missing", append(slices.Clone(ents), gadgets), "gen_gadgets.go"},
		{"misfit", misfit, `json:"updated_datetime"`},
		{"relation", noTickets, `needs entity "tickets"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if msg := fmt.Sprint(recover()); !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %q, want one mentioning %s", msg, tc.want)
				}
			}()
			(&Sim{}).serveEntities(tc.ents, specs)
		})
	}
}
