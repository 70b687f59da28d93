package gorgiassim

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// layout tells the shared code where an object's id, timestamps, integer
// and string fields are, by their JSON names, so that paging, ordering and
// filtering need no per-entity code.
type layout struct {
	typ    reflect.Type     // the object struct type (objects are pointers to it)
	stamps map[string][]int // stamp fields by JSON name
	ints   map[string][]int // int64 fields by JSON name
	strs   map[string][]int // string fields by JSON name
	idAt   []int            // the "id" field (nil for a single object without one)
}

// idField is the JSON name of every object's id; lists that take no
// order_by are ordered on it.
const idField = "id"

// layoutOf reads the JSON-tagged stamp, int64 and string fields of a
// struct type.
func layoutOf(typ reflect.Type) *layout {
	if typ == nil || typ.Kind() != reflect.Struct {
		panic(fmt.Sprintf("gorgiassim: object model %v is not a struct", typ))
	}
	l := &layout{typ: typ, stamps: map[string][]int{}, ints: map[string][]int{}, strs: map[string][]int{}}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "" || name == "-":
		case f.Type == reflect.TypeFor[stamp]():
			l.stamps[name] = f.Index
		case f.Type.Kind() == reflect.Int64:
			l.ints[name] = f.Index
		case f.Type.Kind() == reflect.String:
			l.strs[name] = f.Index
		}
	}
	l.idAt = l.ints[idField]
	return l
}

// field returns the struct field at index of the object obj points to.
func (l *layout) field(obj any, index []int) reflect.Value {
	return reflect.ValueOf(obj).Elem().FieldByIndex(index)
}

// id is the object's "id"; catalog.SingleKey for a single object without
// one (the account).
func (l *layout) id(obj any) int64 {
	if l.idAt == nil {
		return catalog.SingleKey
	}
	return l.field(obj, l.idAt).Int()
}

// intAt is the value of the int64 field at index.
func (l *layout) intAt(obj any, index []int) int64 { return l.field(obj, index).Int() }

// strAt is the value of the string field at index.
func (l *layout) strAt(obj any, index []int) string { return l.field(obj, index).String() }

// micros is the sort value of the stamp field at index (0 when null).
func (l *layout) micros(obj any, index []int) int64 {
	return l.field(obj, index).Addr().Interface().(*stamp).micros()
}

// isSet reports whether the stamp field at index is not null.
func (l *layout) isSet(obj any, index []int) bool {
	return l.field(obj, index).Addr().Interface().(*stamp).isSet()
}

// sortKey returns how to read the sort value of field name: the
// microseconds of a stamp or the value of an int64 field; nil when the
// model has neither.
func (l *layout) sortKey(name string) func(obj any) int64 {
	if at, ok := l.stamps[name]; ok {
		return func(obj any) int64 { return l.micros(obj, at) }
	}
	if at, ok := l.ints[name]; ok {
		return func(obj any) int64 { return l.intAt(obj, at) }
	}
	return nil
}

// check panics unless the layout has an int64 id (a single object may
// lack one), a stamp or int64 field for every sort field, an int64 field
// for every filter, a string field for every enum filter and a stamp for
// every range filter.
func (l *layout) check(entity string, single bool, sortFields []string, spec genSpec) {
	fail := func(what string) {
		panic(fmt.Sprintf("gorgiassim: the generator of %q: object %v has no %s", entity, l.typ, what))
	}
	if l.idAt == nil && !single {
		fail(`int64 field tagged json:"id"`)
	}
	for _, f := range sortFields {
		if l.sortKey(f) == nil {
			fail(fmt.Sprintf("stamp or int64 field tagged json:%q (a catalog sort or version field)", f))
		}
	}
	for _, f := range spec.filters {
		if l.ints[f] == nil {
			fail(fmt.Sprintf("int64 field tagged json:%q (a filter)", f))
		}
	}
	for _, e := range spec.enums {
		if l.strs[e.param] == nil {
			fail(fmt.Sprintf("string field tagged json:%q (an enum filter)", e.param))
		}
	}
	for _, f := range spec.flags {
		if l.stamps[f.stamp] == nil {
			fail(fmt.Sprintf("stamp field tagged json:%q (a flag filter)", f.stamp))
		}
	}
	for _, f := range spec.ranges {
		if l.stamps[f] == nil {
			fail(fmt.Sprintf("stamp field tagged json:%q (a date-range filter)", f))
		}
	}
}
