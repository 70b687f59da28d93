package gorgiassim

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// createdField is the field most lists can be ordered on; their default
// order is createdField:desc, as on the real API.
const createdField = "created_datetime"

// orderFields are the fields an entity's list is ordered on: none for a
// single object; the generator's orderBy when set; "id" alone for an
// endpoint that accepts no order_by (catalog SortField empty), which lists
// oldest first by id; otherwise created_datetime, the catalog sort field
// and, when the API sends it, the version field.
func orderFields(e catalog.Entity, spec genSpec) []string {
	switch {
	case e.Single:
		return nil
	case spec.orderBy != nil:
		return slices.Clone(spec.orderBy)
	case e.SortField == "":
		return []string{idField}
	}
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

// orderChoices are the order_by values an entity's list accepts: each
// order field asc and desc; none when it accepts no order_by.
func orderChoices(e catalog.Entity, spec genSpec) []string {
	if e.Single || (spec.orderBy == nil && e.SortField == "") {
		return nil
	}
	var out []string
	for _, f := range orderFields(e, spec) {
		out = append(out, f+":asc", f+":desc")
	}
	return out
}

// defaultOrder is the order of a list request without order_by:
// created_datetime:desc where offered, else the first field ascending
// ("id:asc" for lists that take no order_by).
func defaultOrder(fields []string) string {
	switch {
	case slices.Contains(fields, createdField):
		return createdField + ":desc"
	case len(fields) > 0:
		return fields[0] + ":asc"
	}
	return ""
}

// orders maps every catalog Resource to the order_by values its list
// accepts (none for a single object or a list without order_by).
var orders = sync.OnceValue(func() map[string][]string {
	m := map[string][]string{}
	for _, e := range catalog.All() {
		m[e.Resource] = orderChoices(e, specs[e.Name])
	}
	return m
})

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
	order := t.order
	if vs, ok := q["order_by"]; ok {
		if len(t.choices) == 0 {
			return fail(badRequest(invalidParams, "order_by", "Unknown field."))
		}
		order = vs[0]
	}
	var ok bool
	if pq.order, ok = t.parseOrder(order); !ok {
		return fail(badRequest(invalidParams, "order_by", "Must be one of: "+strings.Join(t.choices, ", ")+"."))
	}
	if bad = t.parseFilters(q, &pq); bad != nil {
		return pageQuery{}, nil, bad
	}
	if cur, bad = parseCursor(q.Get("cursor"), pq.order.name); cur != nil {
		pq.pos, pq.prev = &cur.pos, cur.prev
	}
	return pq, cur, bad
}

// parseFilters reads the entity's filter parameters into pq: integer ids,
// enum values and date ranges. A date range on the order field narrows
// the scanned index (pq.lo, pq.hi); every other filter is a check of each
// object (pq.keep).
func (t *table) parseFilters(q url.Values, pq *pageQuery) *answer {
	var checks []func(*item) bool
	for _, f := range t.filters {
		if vs, ok := q[f.param]; ok {
			id, err := strconv.ParseInt(vs[0], 10, 64)
			if err != nil || id <= 0 {
				a := badRequest(invalidParams, f.param, "Not a valid integer.")
				return &a
			}
			checks = append(checks, func(it *item) bool { return t.layout.intAt(it.obj, f.index) == id })
		}
	}
	enumChecks, bad := t.parseEnums(q)
	if bad != nil {
		return bad
	}
	checks = append(checks, enumChecks...)
	flagChecks, bad := t.parseFlags(q)
	if bad != nil {
		return bad
	}
	checks = append(checks, flagChecks...)
	pq.lo, pq.hi = math.MinInt64, math.MaxInt64
	for field, r := range t.ranges {
		lo, hi, bad := parseRange(q, field)
		if bad != nil {
			return bad
		}
		switch {
		case lo == math.MinInt64 && hi == math.MaxInt64:
		case r.order == pq.order.f:
			pq.lo, pq.hi = max(pq.lo, lo), min(pq.hi, hi)
		default:
			checks = append(checks, func(it *item) bool {
				v := t.layout.micros(it.obj, r.index)
				return v >= lo && v <= hi
			})
		}
	}
	pq.keep = func(it *item) bool {
		for _, c := range checks {
			if !c(it) {
				return false
			}
		}
		return true
	}
	return nil
}

// parseEnums reads the enum filters: a value outside the accepted ones, or
// a missing required one, answers 400.
// parseFlags reads the entity's boolean parameters ("true" or "false"; absent:
// the default): each keeps the objects whose stamp is set, or not.
func (t *table) parseFlags(q url.Values) ([]func(*item) bool, *answer) {
	var checks []func(*item) bool
	for _, f := range t.flags {
		want := f.dflt
		if vs, ok := q[f.param]; ok {
			b, err := strconv.ParseBool(vs[0])
			if err != nil {
				a := badRequest(invalidParams, f.param, "Not a valid boolean.")
				return nil, &a
			}
			want = b
		}
		checks = append(checks, func(it *item) bool { return t.layout.isSet(it.obj, f.index) == want })
	}
	return checks, nil
}

func (t *table) parseEnums(q url.Values) ([]func(*item) bool, *answer) {
	var checks []func(*item) bool
	for _, e := range t.enums {
		vs, ok := q[e.param]
		switch {
		case !ok && e.required:
			a := badRequest(invalidParams, e.param, "Missing data for required field.")
			return nil, &a
		case !ok:
			continue
		case !slices.Contains(e.values, vs[0]):
			a := badRequest(invalidParams, e.param, "Must be one of: "+strings.Join(e.values, ", ")+".")
			return nil, &a
		}
		want := vs[0]
		checks = append(checks, func(it *item) bool { return t.layout.strAt(it.obj, e.index) == want })
	}
	return checks, nil
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
