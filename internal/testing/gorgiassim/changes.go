package gorgiassim

import (
	"maps"
	"slices"
	"time"
)

// Changes lists what an Advance call did.
type Changes struct {
	// From and To bound the sim-time interval (From, To] the changes were
	// spread over. Stamps of whole-second objects are rounded up and may
	// exceed To by less than a second.
	From, To time.Time
	// Ids of the objects created or modified, ascending, per resource. These
	// four fields predate IDs, which covers every catalog entity.
	Customers, Tickets, Messages, SatisfactionSurveys []int64

	ids     map[string][]int64 // by catalog Resource, every served entity
	removed map[string][]int64 // likewise, the removed ids
}

// IDs returns the ids of the objects of one resource (names as for
// Sim.Objects) created or modified, ascending; nil for an unknown resource.
func (c Changes) IDs(resource string) []int64 { return c.ids[resolve(resource)] }

// Removed returns the ids of the objects of one resource (names as for
// Sim.Objects) removed from the API during the call (hard-deleted or
// merged away, see Config.Deletes), ascending; nil for an unknown
// resource. A removed id is not in IDs, even when the object was changed
// before its removal.
func (c Changes) Removed(resource string) []int64 { return c.removed[resolve(resource)] }

// Len is the total number of touched objects.
func (c Changes) Len() int {
	n := 0
	for _, ids := range c.ids {
		n += len(ids)
	}
	return n
}

// changeSet collects the ids touched and removed during an Advance, per
// resource.
type changeSet struct {
	ids, removed map[string]map[int64]bool
}

func newChangeSet() *changeSet {
	return &changeSet{ids: make(map[string]map[int64]bool), removed: make(map[string]map[int64]bool)}
}

func (cs *changeSet) add(resource string, id int64) { mark(cs.ids, resource, id) }

func (cs *changeSet) remove(resource string, id int64) { mark(cs.removed, resource, id) }

// mark adds id to the set of resource.
func mark(sets map[string]map[int64]bool, resource string, id int64) {
	if sets[resource] == nil {
		sets[resource] = make(map[int64]bool)
	}
	sets[resource][id] = true
}

// changes lists the touched ids (without the removed ones) and the removed
// ids of every table (an empty, non-nil slice for a table without any).
func (cs *changeSet) changes(from, to time.Time, tables []*table) Changes {
	c := Changes{From: from, To: to, ids: make(map[string][]int64, len(tables)), removed: make(map[string][]int64, len(tables))}
	for _, t := range tables {
		res := t.ent.Resource
		gone := cs.removed[res]
		ids := slices.DeleteFunc(slices.Sorted(maps.Keys(cs.ids[res])), func(id int64) bool { return gone[id] })
		c.ids[res] = nonNil(ids)
		c.removed[res] = nonNil(slices.Sorted(maps.Keys(gone)))
	}
	c.Customers, c.Tickets = c.IDs(Customers), c.IDs(Tickets)
	c.Messages, c.SatisfactionSurveys = c.IDs(Messages), c.IDs(SatisfactionSurveys)
	return c
}

// nonNil is ids, or an empty slice for nil.
func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
