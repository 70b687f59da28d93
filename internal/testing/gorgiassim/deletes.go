package gorgiassim

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Deletion is one object removed from the API (hard delete or merge; trash
// and spam are not removals).
type Deletion struct {
	ID         int64
	At         time.Time // when it was removed: the created_datetime of its event
	Reason     string    // "deleted" or "merged"
	MergedInto int64     // the survivor's id when Reason is "merged", else 0
	EventID    int64     // the id of the event recorded for it
}

// Reasons of a Deletion.
const (
	// ReasonDeleted: the object was hard-deleted.
	ReasonDeleted = "deleted"
	// ReasonMerged: the object was merged into another (Deletion.MergedInto).
	ReasonMerged = "merged"
)

// Deleted returns every object of the resource (names as for Objects)
// removed since New, ascending by id: empty without Config.Deletes, nil
// for an unknown resource. Removed objects are in neither Objects nor IDs,
// their lists nor their single-object endpoints (404).
func (s *Sim) Deleted(resource string) []Deletion {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.table(resource)
	if t == nil {
		return nil
	}
	out := []Deletion{}
	if s.del != nil {
		out = append(out, s.del.gone[t.ent.Resource]...)
	}
	slices.SortFunc(out, func(a, b Deletion) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// removals makes the removals and restorations of Config.Deletes: it plans
// its share of every Advance batch from its own random stream (so the
// other generators draw what they draw without it) and remembers what it
// removed. Each operation picks its object when it runs, among the objects
// still there and not yet touched by another removal of the batch.
type removals struct {
	s       *Sim
	r       *rand.Rand                // streamDelete
	gone    map[string][]Deletion     // by catalog Resource
	busy    map[string]map[int64]bool // objects a removal touched in this batch
	spammed map[int64]bool            // tickets an Advance marked as spam, not unmarked since
	from    time.Time                 // start of the batch being planned
	note    *auditNote                // see Sim.changedAs
	muted   bool                      // see quietly
}

// auditNote is the event the next observed change writes instead of the
// generic one (ticket-trashed rather than ticket-updated).
type auditNote struct {
	typ  string
	data map[string]any
}

func newRemovals(s *Sim) *removals {
	return &removals{
		s: s, r: rand.New(rand.NewPCG(uint64(s.cfg.Seed), streamDelete)),
		gone: map[string][]Deletion{}, spammed: map[int64]bool{},
	}
}

// plan schedules the batch's removals and restorations at times drawn in
// (from, to]; nothing without Config.Deletes.
func (d *removals) plan(b *batch) {
	if d == nil {
		return
	}
	d.busy, d.from = map[string]map[int64]bool{}, b.from
	d.planTickets(b)
	d.planCustomers(b)
	d.planMessages(b)
	d.planReferences(b)
}

// schedule runs op n times, each at a drawn time.
func (d *removals) schedule(b *batch, n int, op func(at time.Time)) {
	for range n {
		b.at(b.drawTime(d.r), op)
	}
}

// atLeastOne is about share*base, at least 1.
func atLeastOne(share float64, base int) int { return max(1, int(math.Round(share*float64(base)))) }

// portion is about share*n, at least 1 when n > 0.
func portion(share float64, n int) int {
	if n == 0 {
		return 0
	}
	return atLeastOne(share, n)
}

// claim marks the object as touched by a removal of this batch.
func (d *removals) claim(t *table, id int64) { mark(d.busy, t.ent.Resource, id) }

// free reports whether the object is stored and untouched by the batch's
// removals.
func (d *removals) free(t *table, id int64) bool { return t.has(id) && !d.busy[t.ent.Resource][id] }

// claimOne draws one of xs (objects of t) that is free and that ok
// accepts, and claims it; false when there is none.
func claimOne[T any](d *removals, t *table, xs []T, ok func(T) bool) (T, bool) {
	var cands []T
	for _, o := range xs {
		if d.free(t, t.layout.id(o)) && ok(o) {
			cands = append(cands, o)
		}
	}
	if len(cands) == 0 {
		var zero T
		return zero, false
	}
	o := cands[d.r.IntN(len(cands))]
	d.claim(t, t.layout.id(o))
	return o, true
}

// audit writes the event of a removal (or of a restoration) at time at.
func (d *removals) audit(at time.Time, t *table, typ string, id int64, data map[string]any) *auditEvent {
	e := auditEntry{at: at, typ: typ, kind: auditedKinds[t.ent.Name], objectID: id, data: data, fromAgent: true}
	return d.s.gen(Events).(*eventGen).record(e)
}

// drop removes the object with id from t for good, under its event ev;
// mergedInto is the survivor of a merge, 0 for a deletion.
func (d *removals) drop(t *table, id, mergedInto int64, ev *auditEvent) {
	t.remove(id)
	reason := ReasonDeleted
	if mergedInto != 0 {
		reason = ReasonMerged
	}
	d.gone[t.ent.Resource] = append(d.gone[t.ent.Resource], Deletion{
		ID: id, At: ev.CreatedDatetime.t, Reason: reason, MergedInto: mergedInto, EventID: ev.ID,
	})
}

// quietly runs fn with the watchers muted: the change fn makes writes no
// event of its own (a merge's survivor, covered by the merge's event).
func (d *removals) quietly(fn func()) {
	d.muted = true
	defer func() { d.muted = false }()
	fn()
}

// muting reports whether changes are being made quietly.
func (d *removals) muting() bool { return d != nil && d.muted }

// takeNote returns the pending audit note, if any, and clears it.
func (d *removals) takeNote() *auditNote {
	if d == nil {
		return nil
	}
	n := d.note
	d.note = nil
	return n
}

// changedAs is t.changed(obj) whose event is n (nil: the generic one).
func (s *Sim) changedAs(t *table, obj any, n *auditNote) {
	if n != nil {
		s.del.note = n
		defer func() { s.del.note = nil }()
	}
	t.changed(obj)
}
