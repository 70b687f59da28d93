package gorgiassim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// table holds the objects of one catalog entity in id order, plus lazily
// rebuilt indexes sorted by each order_by field. Generators add objects
// and report changes; the shared code reads it for lists and truth.
type table struct {
	s       *Sim
	ent     catalog.Entity
	spec    genSpec
	gen     generator
	layout  *layout
	fields  []string           // order fields (orderFields)
	keys    []func(any) int64  // sort value of each order field
	choices []string           // accepted order_by values (none: the list takes no order_by)
	order   string             // default order_by
	filters []filter           // int64 list filters (spec.filters)
	enums   []enumFilterAt     // string list filters (spec.enums)
	flags   []flagFilterAt     // boolean list filters (spec.flags)
	ranges  map[string]rangeAt // date-range filters by field (spec.ranges)
	lastID  int64              // latest id handed out

	all    []*item // id ascending (ids only grow)
	byID   map[int64]*item
	sorted [][]ranked // per field: ascending by (value, id)
	fresh  []bool
}

// item is one stored object, its id and its cached JSON.
type item struct {
	id  int64
	obj any
	raw []byte
}

// ranked is an item with its sort value in one index.
type ranked struct {
	v  int64
	it *item
}

// filter is one list parameter matched against an int64 field.
type filter struct {
	param string
	index []int
}

// enumFilterAt is an enum filter and its string field.
type enumFilterAt struct {
	enumFilter
	index []int
}

// flagFilterAt is a flag filter and its stamp field.
type flagFilterAt struct {
	flagFilter
	index []int
}

// rangeAt is a date-range filter: its stamp field and its position among
// the order fields (-1 when the list cannot be ordered on it).
type rangeAt struct {
	index []int
	order int
}

func newTable(s *Sim, e catalog.Entity, spec genSpec) *table {
	l := layoutOf(spec.modelType())
	fields := orderFields(e, spec)
	l.check(e.Name, e.Single, fields, spec)
	t := &table{
		s: s, ent: e, spec: spec, layout: l, fields: fields, lastID: spec.firstID,
		choices: orderChoices(e, spec), order: defaultOrder(fields),
		ranges: map[string]rangeAt{},
		byID:   make(map[int64]*item),
		sorted: make([][]ranked, len(fields)),
		fresh:  make([]bool, len(fields)),
	}
	for _, f := range fields {
		t.keys = append(t.keys, l.sortKey(f))
	}
	for _, f := range spec.filters {
		t.filters = append(t.filters, filter{param: f, index: l.ints[f]})
	}
	for _, ff := range spec.flags {
		t.flags = append(t.flags, flagFilterAt{flagFilter: ff, index: l.stamps[ff.stamp]})
	}
	for _, ef := range spec.enums {
		t.enums = append(t.enums, enumFilterAt{enumFilter: ef, index: l.strs[ef.param]})
	}
	for _, f := range spec.ranges {
		t.ranges[f] = rangeAt{index: l.stamps[f], order: slices.Index(fields, f)}
	}
	t.checkCatalog()
	return t
}

// checkCatalog panics when the generator does not serve the catalog's
// SinceParam or its passes.
func (t *table) checkCatalog() {
	fail := func(what string) {
		panic(fmt.Sprintf("gorgiassim: the generator of %q does not serve %s", t.ent.Name, what))
	}
	if p := t.ent.SinceParam; p != "" {
		field, op, _ := strings.Cut(strings.TrimSuffix(p, "]"), "[")
		if _, ok := t.ranges[field]; !ok || !slices.Contains(rangeOps, op) {
			fail("the catalog SinceParam " + p + " (add the field to genSpec.ranges)")
		}
	}
	for _, p := range t.ent.Passes() {
		if p.Param == "" {
			continue
		}
		if slices.ContainsFunc(t.flags, func(f flagFilterAt) bool { return f.param == p.Param }) && (p.Value == "true" || p.Value == "false") {
			continue
		}
		i := slices.IndexFunc(t.enums, func(e enumFilterAt) bool { return e.param == p.Param })
		if i < 0 || !slices.Contains(t.enums[i].values, p.Value) {
			fail(fmt.Sprintf("the catalog pass %s=%s (add it to genSpec.enums or genSpec.flags)", p.Param, p.Value))
		}
	}
}

// newID hands out the next id of the entity.
func (t *table) newID(r *rand.Rand) int64 {
	t.lastID += 1 + r.Int64N(t.spec.idGap)
	return t.lastID
}

// form is the timestamp form of the object with id.
func (t *table) form(id int64) tsForm { return formFor(t.spec.salt, id) }

// add stores a new object (a pointer to the entity's model); its id must
// be larger than every stored one.
func (t *table) add(obj any) {
	if reflect.TypeOf(obj) != reflect.PointerTo(t.layout.typ) {
		panic(fmt.Sprintf("gorgiassim: %s objects are *%v, not %T", t.ent.Name, t.layout.typ, obj))
	}
	id := t.layout.id(obj)
	if n := len(t.all); n > 0 && t.all[n-1].id >= id {
		panic("gorgiassim: ids must grow")
	}
	it := &item{id: id, obj: obj}
	t.all = append(t.all, it)
	t.byID[id] = it
	t.touched(id)
	t.s.observe(t, obj, true)
}

// changed must be called after a stored object was modified. A change of
// an object removed meanwhile (Config.Deletes: an edit planned before the
// removal) is dropped.
func (t *table) changed(obj any) {
	id := t.layout.id(obj)
	it, ok := t.byID[id]
	if !ok {
		return
	}
	it.raw = nil
	t.touched(id)
	t.s.observe(t, obj, false)
}

// has reports whether the object with id is stored (not removed).
func (t *table) has(id int64) bool {
	_, ok := t.byID[id]
	return ok
}

// remove takes the object with id out of the table (lists, single reads
// and truth) for good and records it for Advance; false when it is not
// stored.
func (t *table) remove(id int64) bool {
	if !t.has(id) {
		return false
	}
	i, _ := slices.BinarySearchFunc(t.all, id, func(it *item, id int64) int { return cmp.Compare(it.id, id) })
	t.all = slices.Delete(t.all, i, i+1)
	delete(t.byID, id)
	clear(t.fresh)
	if t.s.cs != nil {
		t.s.cs.remove(t.ent.Resource, id)
	}
	return true
}

// touched drops the sorted indexes and records the change for Advance.
func (t *table) touched(id int64) {
	clear(t.fresh)
	if t.s.cs != nil {
		t.s.cs.add(t.ent.Resource, id)
	}
}

// len is the number of stored objects.
func (t *table) len() int { return len(t.all) }

// render is the object's JSON, cached until it changes.
func (t *table) render(it *item) []byte {
	if it.raw == nil {
		it.raw = marshal(it.obj)
	}
	return it.raw
}

// index is the table sorted by order field f, ascending by (value, id).
func (t *table) index(f int) []ranked {
	if t.fresh[f] {
		return t.sorted[f]
	}
	key := t.keys[f]
	idx := t.sorted[f][:0]
	for _, it := range t.all {
		idx = append(idx, ranked{v: key(it.obj), it: it})
	}
	slices.SortFunc(idx, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.v, b.v), cmp.Compare(a.it.id, b.it.id))
	})
	t.sorted[f], t.fresh[f] = idx, true
	return idx
}

// objectAt is the i-th object of t in id order, as T.
func objectAt[T any](t *table, i int) T { return t.all[i].obj.(T) }

// objectOf is the object of t with id, as T.
func objectOf[T any](t *table, id int64) (T, bool) {
	it, ok := t.byID[id]
	if !ok {
		var zero T
		return zero, false
	}
	return it.obj.(T), true
}

// objectsOf is every object of t in id order, as T.
func objectsOf[T any](t *table) []T {
	out := make([]T, len(t.all))
	for i, it := range t.all {
		out[i] = it.obj.(T)
	}
	return out
}
