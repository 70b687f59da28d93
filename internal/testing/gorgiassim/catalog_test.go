package gorgiassim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// TestEveryCatalogEntityIsServed runs over the catalog, so an entity added
// there is covered without editing this test: it must have a generator,
// and its objects must round-trip through the shared endpoint as its mode
// needs: lists in every order they accept (or id order when they accept
// none), each pass of the entity, over small pages, forwards and back,
// the entity's since filter, and single objects (the account's bare
// object).
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
			if e.Single {
				checkSingleEntity(t, s, e, truth)
				return
			}
			checkOrders(t, s, e)
			checkPasses(t, s, e)
			checkPrevCursor(t, s, e)
			checkSince(t, s, e)
			checkSingleObject(t, s, e, truth[len(truth)/2])
		})
	}
}

func sameJSON(a, b json.RawMessage) bool { return bytes.Equal(a, b) }

// checkCatalogFields: the sort field is in every object (a timestamp
// unless the entity is a snapshot); a version field the API sends is a
// timestamp of every object, a derived one is absent, the extraction time
// is never sent.
func checkCatalogFields(t *testing.T, e catalog.Entity, truth []json.RawMessage) {
	t.Helper()
	for _, raw := range truth {
		m := obj(t, raw)
		if e.SortField != "" {
			v, ok := m[e.SortField]
			if _, isTime := v.(string); !ok || (e.Mode != catalog.Snapshot && !isTime) {
				t.Fatalf("object %v: sort field %s is %v", m["id"], e.SortField, v)
			}
		}
		_, ok := m[e.VersionField]
		switch {
		case e.VersionField == catalog.ExtractedField:
			if ok {
				t.Fatalf("object %v sends %s", m["id"], e.VersionField)
			}
		case ok == e.DerivedVersion:
			t.Fatalf("object %v: version field %s present=%v, derived=%v", m["id"], e.VersionField, ok, e.DerivedVersion)
		case !e.DerivedVersion:
			tsField(t, m, e.VersionField)
		}
	}
}

// passParams are the query parameters of each pass of one full read.
func passParams(e catalog.Entity) []map[string]string {
	var out []map[string]string
	for _, p := range e.Passes() {
		q := map[string]string{}
		if p.Param != "" {
			q[p.Param] = p.Value
		}
		out = append(out, q)
	}
	return out
}

// withParams is a copy of base with more parameters.
func withParams(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// checkOrders walks every order the list accepts, or, for a list that
// takes no order_by, its id order (and an order_by answers 400), in every
// pass, over small pages.
func checkOrders(t *testing.T, s *Sim, e catalog.Entity) {
	t.Helper()
	choices := orders()[e.Resource]
	if e.OrderBy() == "" {
		if len(choices) != 0 {
			t.Fatalf("the list takes no order_by in the catalog but accepts %v", choices)
		}
		q := withParams(passParams(e)[0], "order_by", createdField+":asc")
		if r := get(t, s, listURL(e.Resource, q), true); r.status != 400 {
			t.Fatalf("order_by on a list without one: %d", r.status)
		}
		choices = []string{""}
	} else if !slices.Contains(choices, e.OrderBy()) {
		t.Fatalf("the producer's order %s is not served (orders %v)", e.OrderBy(), choices)
	}
	for _, pass := range passParams(e) {
		for _, order := range choices {
			q := withParams(pass, "limit", "7")
			if order != "" {
				q["order_by"] = order
			}
			got := walk(t, s, e.Resource, q, nil)
			if want := wantIDs(t, s, e.Resource, order, matching(e, pass)); !slices.Equal(got, want) {
				t.Fatalf("%s %v: paged ids differ from the truth's order:\n got %v\nwant %v", order, pass, got, want)
			}
		}
	}
}

// checkPasses: the passes read every object exactly once; a pass
// parameter that is required answers 400 when missing, and a value
// outside the passes answers 400.
func checkPasses(t *testing.T, s *Sim, e catalog.Entity) {
	t.Helper()
	var all []int64
	for _, pass := range passParams(e) {
		q := withParams(pass, "limit", "100")
		if e.OrderBy() != "" {
			q["order_by"] = e.OrderBy()
		}
		ids := walk(t, s, e.Resource, q, nil)
		if len(ids) == 0 {
			t.Fatalf("pass %v reads nothing", pass)
		}
		all = append(all, ids...)
	}
	slices.Sort(all)
	if !slices.Equal(all, s.IDs(e.Resource)) {
		t.Fatalf("the passes read %d ids, the truth has %d", len(all), len(s.IDs(e.Resource)))
	}
	if e.PassParam == "" {
		return
	}
	bad := []map[string]string{{e.PassParam: "Nope"}}
	if !slices.ContainsFunc(specs[e.Name].flags, func(f flagFilter) bool { return f.param == e.PassParam }) {
		bad = append(bad, map[string]string{}) // a required parameter (a flag has a default)
	}
	for _, q := range bad {
		if r := get(t, s, listURL(e.Resource, q), true); r.status != 400 {
			t.Fatalf("%v: status %d, want 400", q, r.status)
		} else if !strings.Contains(string(r.body), e.PassParam) {
			t.Fatalf("%v: the error does not name %s: %s", q, e.PassParam, r.body)
		}
	}
}

// checkPrevCursor: the prev_cursor of page 2 leads back to page 1.
func checkPrevCursor(t *testing.T, s *Sim, e catalog.Entity) {
	t.Helper()
	q := withParams(passParams(e)[0], "limit", "2")
	if e.OrderBy() != "" {
		q["order_by"] = e.OrderBy()
	}
	p1 := decodePage(t, get(t, s, listURL(e.Resource, q), true))
	if p1.Meta.NextCursor == nil {
		t.Fatalf("%s: one page of 2 holds every object: the simulator must seed more for this check", e.Name)
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

// checkSince: the catalog's since filter, sent in the forms clients use,
// keeps exactly the objects created at or after the time (and the other
// comparisons their share), in the producer's order; garbage answers 400.
func checkSince(t *testing.T, s *Sim, e catalog.Entity) {
	t.Helper()
	if e.SinceParam == "" {
		return
	}
	field, _, _ := strings.Cut(e.SinceParam, "[")
	ids := wantIDs(t, s, e.Resource, field+":asc", nil)
	mid := tsField(t, truth(t, s, e.Resource)[ids[len(ids)/2]], field)
	forms := []string{
		mid.Format(time.RFC3339Nano), mid.Format("2006-01-02T15:04:05.999999"), mid.Format("2006-01-02T15:04:05.000000+00:00"),
		mid.In(time.FixedZone("", -5*3600)).Format(time.RFC3339Nano), mid.Format("2006-01-02 15:04:05.999999"),
	}
	cmps := map[string]func(v time.Time) bool{
		"gte": func(v time.Time) bool { return !v.Before(mid) }, "gt": func(v time.Time) bool { return v.After(mid) },
		"lte": func(v time.Time) bool { return !v.After(mid) }, "lt": func(v time.Time) bool { return v.Before(mid) },
	}
	for _, form := range forms {
		for op, keep := range cmps {
			q := map[string]string{"limit": "9", "order_by": e.OrderBy(), field + "[" + op + "]": form}
			got := walk(t, s, e.Resource, q, nil)
			want := wantIDs(t, s, e.Resource, e.OrderBy(), func(m map[string]any) bool { return keep(tsField(t, m, field)) })
			if !slices.Equal(got, want) || len(want) == 0 {
				t.Fatalf("%s[%s]=%s: got %d ids, want %d in order", field, op, form, len(got), len(want))
			}
		}
	}
	if r := get(t, s, listURL(e.Resource, map[string]string{e.SinceParam: "yesterday"}), true); r.status != 400 {
		t.Fatalf("%s=yesterday: %d", e.SinceParam, r.status)
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

// checkSingleEntity: a single-object entity is its one object, without an
// id, served bare (not as a list) at its resource and nowhere below it.
func checkSingleEntity(t *testing.T, s *Sim, e catalog.Entity, truth []json.RawMessage) {
	t.Helper()
	if len(truth) != 1 || !slices.Equal(s.IDs(e.Resource), []int64{catalog.SingleKey}) {
		t.Fatalf("%d objects, ids %v", len(truth), s.IDs(e.Resource))
	}
	if _, ok := obj(t, truth[0])["id"]; ok {
		t.Fatal("the single object has an id")
	}
	if r := get(t, s, "/api/"+e.Resource, true); r.status != 200 || !bytes.Equal(r.body, truth[0]) {
		t.Fatalf("GET /api/%s: %d %.200s", e.Resource, r.status, r.body)
	}
	for _, p := range []string{"/api/" + e.Resource + "/0", "/api/" + e.Resource + "/x/y"} {
		if r := get(t, s, p, true); r.status != 404 {
			t.Fatalf("GET %s: %d", p, r.status)
		}
	}
}

// matching keeps the objects whose fields equal the pass parameters.
func matching(e catalog.Entity, pass map[string]string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		for k, v := range pass {
			if i := slices.IndexFunc(specs[e.Name].flags, func(f flagFilter) bool { return f.param == k }); i >= 0 {
				// A flag: its stamp is set, or not.
				if (m[specs[e.Name].flags[i].stamp] != nil) != (v == "true") {
					return false
				}
				continue
			}
			if m[k] != v {
				return false
			}
		}
		return true
	}
}

// wantIDs computes the ids of a list in order ("" is id order) from the
// truth, keeping the objects keep accepts (nil keeps all).
func wantIDs(t *testing.T, s *Sim, res, order string, keep func(map[string]any) bool) []int64 {
	t.Helper()
	field, dir, _ := strings.Cut(order, ":")
	if field == "" {
		field = idField
	}
	type kv struct{ v, id int64 }
	var xs []kv
	for _, raw := range s.Objects(res) {
		m := obj(t, raw)
		if keep == nil || keep(m) {
			xs = append(xs, kv{sortValue(t, m, field), int64(m["id"].(float64))})
		}
	}
	slices.SortFunc(xs, func(a, b kv) int {
		c := cmp.Or(cmp.Compare(a.v, b.v), cmp.Compare(a.id, b.id))
		if dir == "desc" {
			c = -c
		}
		return c
	})
	ids := make([]int64, len(xs))
	for i, x := range xs {
		ids[i] = x.id
	}
	return ids
}

// sortValue is what the simulator orders an object on: microseconds of a
// timestamp, an integer, 0 for null.
func sortValue(t *testing.T, m map[string]any, field string) int64 {
	t.Helper()
	switch v := m[field].(type) {
	case string:
		return parseTS(t, v).UnixMicro()
	case float64:
		return int64(v)
	case nil:
		return 0
	}
	t.Fatalf("cannot order on %s=%v", field, m[field])
	return 0
}

// TestNewFailsWithoutGenerator: an entity the simulator cannot serve stops
// New with a message naming it and what to add.
func TestNewFailsWithoutGenerator(t *testing.T) {
	ents := catalog.All()
	widgets := catalog.Entity{Name: "widgets-x", Resource: "widgets-x", SortField: "created_datetime", VersionField: "updated_datetime"}
	// ticket_messages claiming a sent updated_datetime its objects lack.
	misfit := slices.Clone(ents)
	i := slices.IndexFunc(misfit, func(e catalog.Entity) bool { return e.Name == "ticket_messages" })
	misfit[i].DerivedVersion = false
	// events claiming a since filter the endpoint does not have.
	since := slices.Clone(ents)
	i = slices.IndexFunc(since, func(e catalog.Entity) bool { return e.Name == "events" })
	since[i].SinceParam = "updated_datetime[gte]"
	// custom fields read in a pass the endpoint does not accept.
	pass := slices.Clone(ents)
	i = slices.IndexFunc(pass, func(e catalog.Entity) bool { return e.Name == "custom_fields" })
	pass[i].PassValues = "Ticket,Order"
	noTickets := slices.DeleteFunc(slices.Clone(ents), func(e catalog.Entity) bool { return e.Name == "tickets" })
	for _, tc := range []struct {
		name string
		ents []catalog.Entity
		want string
	}{
		{"missing", append(slices.Clone(ents), widgets), "gen_widgets-x.go"},
		{"misfit", misfit, `json:"updated_datetime"`},
		{"since", since, "SinceParam updated_datetime[gte]"},
		{"pass", pass, "pass object_type=Order"},
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
