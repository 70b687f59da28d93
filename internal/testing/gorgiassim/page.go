package gorgiassim

import (
	"cmp"
	"slices"
	"sort"
)

// pagePos is a keyset position: the sort value and id of a boundary object.
type pagePos struct {
	v, id int64
}

// pageQuery is one validated list request against a table.
type pageQuery struct {
	order orderSpec
	pos   *pagePos // nil for the first page
	prev  bool     // the page before pos (a prev_cursor)
	limit int
	keep  func(*item) bool // the filters
	// lo and hi bound the order field's values (inclusive): a date range
	// on the field the list is ordered on.
	lo, hi int64
}

// view is one index in the requested direction.
type view struct {
	rs   []ranked
	desc bool
}

func (w view) n() int { return len(w.rs) }

func (w view) at(i int) ranked {
	if w.desc {
		return w.rs[len(w.rs)-1-i]
	}
	return w.rs[i]
}

// cmpTo orders r against p in the view's direction.
func (w view) cmpTo(r ranked, p pagePos) int {
	c := cmp.Or(cmp.Compare(r.v, p.v), cmp.Compare(r.it.id, p.id))
	if w.desc {
		c = -c
	}
	return c
}

// page returns up to limit matching objects after (next) or before (prev)
// the position, and whether matching objects exist before the first and
// after the last returned one.
func (t *table) page(q pageQuery) (items []ranked, hasBefore, hasAfter bool) {
	w := view{rs: within(t.index(q.order.f), q.lo, q.hi), desc: q.order.desc}
	var first, last int
	if q.prev && q.pos != nil {
		items, first, last = w.scanBack(q)
	} else {
		items, first, last = w.scanForward(q)
	}
	if len(items) == 0 {
		return nil, false, false
	}
	return items, w.anyMatch(first-1, -1, q.keep), w.anyMatch(last+1, 1, q.keep)
}

// within is the part of an ascending index whose values lie in [lo, hi].
func within(rs []ranked, lo, hi int64) []ranked {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].v >= lo })
	j := sort.Search(len(rs), func(j int) bool { return rs[j].v > hi })
	if j < i {
		j = i
	}
	return rs[i:j]
}

// scanBack collects the matching objects just before q.pos, in order.
func (w view) scanBack(q pageQuery) (items []ranked, first, last int) {
	first, last = -1, -1
	end := sort.Search(w.n(), func(i int) bool { return w.cmpTo(w.at(i), *q.pos) >= 0 })
	for i := end - 1; i >= 0 && len(items) < q.limit; i-- {
		if r := w.at(i); q.keep(r.it) {
			items = append(items, r)
			first = i
			if last < 0 {
				last = i
			}
		}
	}
	slices.Reverse(items)
	return items, first, last
}

// scanForward collects the matching objects after q.pos (or from the start).
func (w view) scanForward(q pageQuery) (items []ranked, first, last int) {
	first, last = -1, -1
	start := 0
	if q.pos != nil {
		start = sort.Search(w.n(), func(i int) bool { return w.cmpTo(w.at(i), *q.pos) > 0 })
	}
	for i := start; i < w.n() && len(items) < q.limit; i++ {
		if r := w.at(i); q.keep(r.it) {
			items = append(items, r)
			last = i
			if first < 0 {
				first = i
			}
		}
	}
	return items, first, last
}

// anyMatch reports whether a matching object lies from i onwards in steps of step.
func (w view) anyMatch(i, step int, keep func(*item) bool) bool {
	for ; i >= 0 && i < w.n(); i += step {
		if keep(w.at(i).it) {
			return true
		}
	}
	return false
}
