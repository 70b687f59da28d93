package gorgiassim

import (
	"cmp"
	"slices"
	"sort"
)

// store holds the objects of one resource in id order, plus lazily rebuilt
// indexes sorted by each order field.
type store struct {
	name   string
	all    []entry // id ascending (ids only grow)
	byID   map[int64]entry
	sorted [2][]entry
	fresh  [2]bool
}

func newStore(name string) *store {
	return &store{name: name, byID: make(map[int64]entry)}
}

func (st *store) add(e entry) {
	if n := len(st.all); n > 0 && st.all[n-1].entryID() >= e.entryID() {
		panic("gorgiassim: ids must grow")
	}
	st.all = append(st.all, e)
	st.byID[e.entryID()] = e
	st.fresh = [2]bool{}
}

// changed must be called after an object of the store was modified.
func (st *store) changed(e entry) {
	e.invalidate()
	st.fresh = [2]bool{}
}

func (st *store) index(f field) []entry {
	if !st.fresh[f] {
		idx := append(st.sorted[f][:0], st.all...)
		slices.SortFunc(idx, func(a, b entry) int {
			if c := cmp.Compare(a.sortVal(f), b.sortVal(f)); c != 0 {
				return c
			}
			return cmp.Compare(a.entryID(), b.entryID())
		})
		st.sorted[f] = idx
		st.fresh[f] = true
	}
	return st.sorted[f]
}

// orderSpec is a validated order_by value.
type orderSpec struct {
	name string // e.g. "updated_datetime:desc"
	f    field
	desc bool
}

// pagePos is a keyset position: the sort value and id of a boundary object.
type pagePos struct {
	v, id int64
}

// page returns up to limit objects after (next) or before (prev) pos in the
// order of o, keeping only objects whose parent ticket is ticketID when it
// is non-zero. first/last report whether there are matching objects before
// the first or after the last returned one.
func (st *store) page(o orderSpec, pos *pagePos, prev bool, limit int, ticketID int64) (items []entry, hasBefore, hasAfter bool) {
	asc := st.index(o.f)
	n := len(asc)
	at := func(i int) entry {
		if o.desc {
			return asc[n-1-i]
		}
		return asc[i]
	}
	// cmpTo orders e against pos in the requested direction.
	cmpTo := func(e entry, p pagePos) int {
		c := cmp.Compare(e.sortVal(o.f), p.v)
		if c == 0 {
			c = cmp.Compare(e.entryID(), p.id)
		}
		if o.desc {
			c = -c
		}
		return c
	}
	match := func(e entry) bool { return ticketID == 0 || e.ticketRef() == ticketID }

	firstIdx, lastIdx := -1, -1
	if prev && pos != nil {
		end := sort.Search(n, func(i int) bool { return cmpTo(at(i), *pos) >= 0 })
		for i := end - 1; i >= 0 && len(items) < limit; i-- {
			if e := at(i); match(e) {
				items = append(items, e)
				firstIdx = i
				if lastIdx < 0 {
					lastIdx = i
				}
			}
		}
		slices.Reverse(items)
	} else {
		start := 0
		if pos != nil {
			start = sort.Search(n, func(i int) bool { return cmpTo(at(i), *pos) > 0 })
		}
		for i := start; i < n && len(items) < limit; i++ {
			if e := at(i); match(e) {
				items = append(items, e)
				lastIdx = i
				if firstIdx < 0 {
					firstIdx = i
				}
			}
		}
	}
	if len(items) == 0 {
		return nil, false, false
	}
	for i := firstIdx - 1; i >= 0; i-- {
		if match(at(i)) {
			hasBefore = true
			break
		}
	}
	for i := lastIdx + 1; i < n; i++ {
		if match(at(i)) {
			hasAfter = true
			break
		}
	}
	return items, hasBefore, hasAfter
}
