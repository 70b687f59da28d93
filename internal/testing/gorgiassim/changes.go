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

	ids map[string][]int64 // by catalog Resource, every served entity
}

// IDs returns the ids of the objects of one resource (names as for
// Sim.Objects) created or modified, ascending; nil for an unknown resource.
func (c Changes) IDs(resource string) []int64 { return c.ids[resolve(resource)] }

// Len is the total number of touched objects.
func (c Changes) Len() int {
	n := 0
	for _, ids := range c.ids {
		n += len(ids)
	}
	return n
}

// changeSet collects the ids touched during an Advance, per resource.
type changeSet struct {
	ids map[string]map[int64]bool
}

func newChangeSet() *changeSet {
	return &changeSet{ids: make(map[string]map[int64]bool)}
}

func (cs *changeSet) add(resource string, id int64) {
	if cs.ids[resource] == nil {
		cs.ids[resource] = make(map[int64]bool)
	}
	cs.ids[resource][id] = true
}

// changes lists the touched ids of every table (an empty, non-nil slice
// for a table without changes).
func (cs *changeSet) changes(from, to time.Time, tables []*table) Changes {
	c := Changes{From: from, To: to, ids: make(map[string][]int64, len(tables))}
	for _, t := range tables {
		ids := slices.Sorted(maps.Keys(cs.ids[t.ent.Resource]))
		if ids == nil {
			ids = []int64{}
		}
		c.ids[t.ent.Resource] = ids
	}
	c.Customers, c.Tickets = c.IDs(Customers), c.IDs(Tickets)
	c.Messages, c.SatisfactionSurveys = c.IDs(Messages), c.IDs(SatisfactionSurveys)
	return c
}
