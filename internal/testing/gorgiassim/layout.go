package gorgiassim

import (
	"fmt"
	"reflect"
	"strings"
)

// layout tells the shared code where an object's id, timestamps and
// integer fields are, by their JSON names, so that paging, ordering and
// filtering need no per-entity code.
type layout struct {
	typ    reflect.Type     // the object struct type (objects are pointers to it)
	stamps map[string][]int // stamp fields by JSON name
	ints   map[string][]int // int64 fields by JSON name
	idAt   []int            // the "id" field
}

// layoutOf reads the JSON-tagged stamp and int64 fields of a struct type.
func layoutOf(typ reflect.Type) *layout {
	if typ == nil || typ.Kind() != reflect.Struct {
		panic(fmt.Sprintf("gorgiassim: object model %v is not a struct", typ))
	}
	l := &layout{typ: typ, stamps: map[string][]int{}, ints: map[string][]int{}}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "" || name == "-":
		case f.Type == reflect.TypeFor[stamp]():
			l.stamps[name] = f.Index
		case f.Type.Kind() == reflect.Int64:
			l.ints[name] = f.Index
		}
	}
	l.idAt = l.ints["id"]
	return l
}

// field returns the struct field at index of the object obj points to.
func (l *layout) field(obj any, index []int) reflect.Value {
	return reflect.ValueOf(obj).Elem().FieldByIndex(index)
}

// id is the object's "id".
func (l *layout) id(obj any) int64 { return l.field(obj, l.idAt).Int() }

// intAt is the value of the int64 field at index.
func (l *layout) intAt(obj any, index []int) int64 { return l.field(obj, index).Int() }

// micros is the sort value of the stamp field at index (0 when null).
func (l *layout) micros(obj any, index []int) int64 {
	return l.field(obj, index).Addr().Interface().(*stamp).micros()
}

// check panics unless the layout has an int64 id, a stamp for every sort
// field and an int64 field for every filter.
func (l *layout) check(entity string, sortFields, filters []string) {
	fail := func(what string) {
		panic(fmt.Sprintf("gorgiassim: the generator of %q: object %v has no %s", entity, l.typ, what))
	}
	if l.idAt == nil {
		fail(`int64 field tagged json:"id"`)
	}
	for _, f := range sortFields {
		if l.stamps[f] == nil {
			fail(fmt.Sprintf("stamp field tagged json:%q (a catalog sort or version field)", f))
		}
	}
	for _, f := range filters {
		if l.ints[f] == nil {
			fail(fmt.Sprintf("int64 field tagged json:%q (a filter)", f))
		}
	}
}
