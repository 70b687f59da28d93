package gorgiassim

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// createdField is the field every list can be ordered on; the default
// order is createdField:desc, as on the real API.
const createdField = "created_datetime"

// orderFields are the order_by fields of an entity's list: created_datetime,
// the catalog sort field and, when the API sends it, the version field.
func orderFields(e catalog.Entity) []string {
	fields := []string{createdField}
	for _, f := range []string{e.SortField, e.VersionField} {
		if f == "" || f == catalog.ExtractedField || (f == e.VersionField && e.DerivedVersion) {
			continue
		}
		if !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	return fields
}

// orderChoices are the order_by values of an entity: each field asc and desc.
func orderChoices(e catalog.Entity) []string {
	var out []string
	for _, f := range orderFields(e) {
		out = append(out, f+":asc", f+":desc")
	}
	return out
}

// orders maps every catalog Resource to its order_by values.
var orders = func() map[string][]string {
	m := map[string][]string{}
	for _, e := range catalog.All() {
		m[e.Resource] = orderChoices(e)
	}
	return m
}()

// orderSpec is a validated order_by value.
type orderSpec struct {
	name string // e.g. "updated_datetime:desc"
	f    int    // index into the table's fields
	desc bool
}

func (t *table) parseOrder(v string) (orderSpec, bool) {
	name, dir, ok := strings.Cut(v, ":")
	f := slices.Index(t.fields, name)
	if !ok || f < 0 || (dir != "asc" && dir != "desc") {
		return orderSpec{}, false
	}
	return orderSpec{name: v, f: f, desc: dir == "desc"}, true
}

const invalidParams = "Invalid request parameters."

// list answers a list endpoint. Must hold s.mu.
func (s *Sim) list(t *table, q url.Values) answer {
	pq, cur, bad := t.parseList(q)
	if bad != nil {
		return *bad
	}
	items, hasBefore, hasAfter := t.page(pq)
	return answer{status: 200, body: t.renderPage(items, pq.order.name, hasBefore && cur != nil, hasAfter)}
}

// parseList validates limit, order_by, the filters and cursor, in that order.
func (t *table) parseList(q url.Values) (pq pageQuery, cur *cursor, bad *answer) {
	fail := func(a answer) (pageQuery, *cursor, *answer) { return pageQuery{}, nil, &a }
	pq.limit = 30
	if vs, ok := q["limit"]; ok {
		n, err := strconv.Atoi(vs[0])
		if err != nil || n < 1 || n > 100 {
			return fail(badRequest(invalidParams, "limit", "Must be between 1 and 100."))
		}
		pq.limit = n
	}
	order := createdField + ":desc"
	if vs, ok := q["order_by"]; ok {
		order = vs[0]
	}
	var ok bool
	if pq.order, ok = t.parseOrder(order); !ok {
		return fail(badRequest(invalidParams, "order_by", "Must be one of: "+strings.Join(orders[t.ent.Resource], ", ")+"."))
	}
	if pq.keep, bad = t.parseFilters(q); bad != nil {
		return pageQuery{}, nil, bad
	}
	if cur, bad = parseCursor(q.Get("cursor"), pq.order.name); cur != nil {
		pq.pos, pq.prev = &cur.pos, cur.prev
	}
	return pq, cur, bad
}

// parseFilters reads the entity's filter parameters (positive integers).
func (t *table) parseFilters(q url.Values) (func(*item) bool, *answer) {
	type want struct {
		index []int
		id    int64
	}
	var wants []want
	for _, f := range t.filters {
		if vs, ok := q[f.param]; ok {
			id, err := strconv.ParseInt(vs[0], 10, 64)
			if err != nil || id <= 0 {
				a := badRequest(invalidParams, f.param, "Not a valid integer.")
				return nil, &a
			}
			wants = append(wants, want{f.index, id})
		}
	}
	return func(it *item) bool {
		for _, w := range wants {
			if t.layout.intAt(it.obj, w.index) != w.id {
				return false
			}
		}
		return true
	}, nil
}

// renderPage writes the list envelope around the items' cached JSON.
func (t *table) renderPage(items []ranked, order string, withPrev, withNext bool) []byte {
	size := 512 // envelope and two cursors
	for _, r := range items {
		size += len(t.render(r.it)) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"object":"list","uri":"/api/`...)
	b = append(b, t.ent.Resource...)
	b = append(b, `","data":[`...)
	for i, r := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, t.render(r.it)...)
	}
	b = append(b, `],"meta":{"next_cursor":`...)
	b = appendCursor(b, withNext, false, order, items, len(items)-1)
	b = append(b, `,"prev_cursor":`...)
	b = appendCursor(b, withPrev, true, order, items, 0)
	return append(b, "}}"...)
}
