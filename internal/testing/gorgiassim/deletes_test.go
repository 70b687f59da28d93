package gorgiassim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// removalCase is what the removals of one resource look like.
type removalCase struct {
	res, kind     string // resource, event object_type
	mergeKey      string // data key of the merge event ("" if never merged)
	updated       bool   // the survivor of a merge gets a new updated_datetime
	mustBeDeleted bool   // the run below deletes (not merges) at least one
}

var removalCases = []removalCase{
	{res: Tickets, kind: "Ticket", mergeKey: "source_ticket_id", updated: true, mustBeDeleted: true},
	{res: Customers, kind: "Customer", mergeKey: "source_customer_id", updated: true, mustBeDeleted: true},
	{res: Tags, kind: "Tag", mergeKey: "source_tag_id", mustBeDeleted: true},
	{res: Macros, kind: "Macro", mustBeDeleted: true},
	{res: Teams, kind: "Team", mustBeDeleted: true},
	{res: Views, kind: "View", mustBeDeleted: true},
	{res: Widgets, kind: "Widget", mustBeDeleted: true},
	{res: Rules, kind: "Rule", mustBeDeleted: true},
}

// removalRun is a sim with Config.Deletes after a few Advance calls, and
// the ids each call reported removed.
type removalRun struct {
	s       *Sim
	removed map[string][]int64
}

func newRemovalRun(t *testing.T) removalRun {
	t.Helper()
	s, clk := newTestSim(t, Config{Deletes: true, Customers: 150, Tickets: 300})
	run := removalRun{s: s, removed: map[string][]int64{}}
	for _, d := range []time.Duration{time.Hour, time.Minute, 0, 26 * time.Hour, 3 * time.Hour, time.Hour} {
		clk.Add(time.Second)
		ch := s.Advance(d)
		for _, e := range catalog.All() {
			for _, id := range ch.Removed(e.Resource) {
				if slices.Contains(ch.IDs(e.Resource), id) {
					t.Fatalf("%s %d both removed and changed", e.Resource, id)
				}
			}
			run.removed[e.Resource] = append(run.removed[e.Resource], ch.Removed(e.Resource)...)
		}
	}
	return run
}

// TestRemovals: every removed object is gone from every pass of its list
// and from its single-object endpoint, its event says when and why, and a
// merge's survivor is there with a newer version.
func TestRemovals(t *testing.T) {
	t.Parallel()
	run := newRemovalRun(t)
	events := truth(t, run.s, Events)
	for _, c := range removalCases {
		t.Run(c.res, func(t *testing.T) {
			gone := run.s.Deleted(c.res)
			checkDeletedList(t, run, c, gone)
			listed := listedIDs(t, run.s, c.res)
			for _, del := range gone {
				if listed[del.ID] {
					t.Errorf("%s %d removed but listed", c.res, del.ID)
				}
				if r := get(t, run.s, fmt.Sprintf("/api/%s/%d", c.res, del.ID), true); r.status != 404 {
					t.Errorf("%s %d removed but its endpoint answers %d", c.res, del.ID, r.status)
				}
				checkRemovalEvent(t, run.s, c, del, events)
				checkSurvivor(t, run.s, c, del, gone)
			}
		})
	}
}

// checkDeletedList: Deleted is ascending, lists what the Advance calls
// reported, and has at least one deletion when the run must make one.
func checkDeletedList(t *testing.T, run removalRun, c removalCase, gone []Deletion) {
	t.Helper()
	ids := make([]int64, len(gone))
	deleted := 0
	for i, d := range gone {
		ids[i] = d.ID
		if d.Reason == ReasonDeleted {
			deleted++
		}
	}
	if !slices.IsSorted(ids) {
		t.Errorf("Deleted(%s) not ascending: %v", c.res, ids)
	}
	if want := slices.Sorted(slices.Values(run.removed[c.res])); !slices.Equal(ids, want) {
		t.Errorf("Deleted(%s) = %v, Changes.Removed reported %v", c.res, ids, want)
	}
	if c.mustBeDeleted && deleted == 0 {
		t.Errorf("no %s deleted", c.res)
	}
	if c.mergeKey != "" && deleted == len(gone) {
		t.Errorf("no %s merged", c.res)
	}
}

// listedIDs are the ids of every page of every pass of the resource's list.
func listedIDs(t *testing.T, s *Sim, res string) map[int64]bool {
	t.Helper()
	e := mustEntity(t, res)
	out := map[int64]bool{}
	for _, q := range passParams(e) {
		for _, id := range walk(t, s, res, withParams(q, "limit", "100"), nil) {
			out[id] = true
		}
	}
	if len(out) != len(s.IDs(res)) {
		t.Fatalf("%s: %d listed, %d in IDs", res, len(out), len(s.IDs(res)))
	}
	return out
}

// checkRemovalEvent: exactly one event of the removal's type, fetched
// through the events list filtered on its object; it is the one Deleted
// names, created at At, with the merge's source in data.
func checkRemovalEvent(t *testing.T, s *Sim, c removalCase, del Deletion, events map[int64]map[string]any) {
	t.Helper()
	typ, about, wantData := kebab(c.kind)+"-deleted", del.ID, map[string]any(nil)
	if del.Reason == ReasonMerged {
		typ, about, wantData = kebab(c.kind)+"-merged", del.MergedInto, map[string]any{c.mergeKey: float64(del.ID)}
	}
	q := map[string]string{"object_type": c.kind, "object_id": fmt.Sprint(about), "limit": "100"}
	var found []map[string]any
	for _, id := range walk(t, s, Events, q, nil) {
		ev := events[id]
		if ev["type"] == typ && (wantData == nil || ev["data"].(map[string]any)[c.mergeKey] == wantData[c.mergeKey]) {
			found = append(found, ev)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s %d (%s): %d %s events, want 1", c.res, del.ID, del.Reason, len(found), typ)
	}
	ev := found[0]
	if id := int64(ev["id"].(float64)); id != del.EventID {
		t.Errorf("%s %d: event %d, Deleted says %d", c.res, del.ID, id, del.EventID)
	}
	if at := tsField(t, ev, createdField); !at.Equal(del.At) {
		t.Errorf("%s %d: event created %v, Deleted.At %v", c.res, del.ID, at, del.At)
	}
	if wantData == nil && ev["data"] != nil {
		t.Errorf("%s %d: deletion event data %v, want null", c.res, del.ID, ev["data"])
	}
}

// checkSurvivor: a merge's survivor is listed (unless removed later) and,
// where objects have one, its updated_datetime is not before the merge.
func checkSurvivor(t *testing.T, s *Sim, c removalCase, del Deletion, gone []Deletion) {
	t.Helper()
	if del.Reason != ReasonMerged {
		if del.MergedInto != 0 {
			t.Errorf("%s %d deleted, yet merged into %d", c.res, del.ID, del.MergedInto)
		}
		return
	}
	if i := slices.IndexFunc(gone, func(d Deletion) bool { return d.ID == del.MergedInto }); i >= 0 {
		if !gone[i].At.After(del.At) {
			t.Errorf("%s %d merged at %v into %d, removed before (%v)", c.res, del.ID, del.At, del.MergedInto, gone[i].At)
		}
		return
	}
	r := get(t, s, fmt.Sprintf("/api/%s/%d", c.res, del.MergedInto), true)
	if r.status != 200 {
		t.Fatalf("%s %d merged into %d, which answers %d", c.res, del.ID, del.MergedInto, r.status)
	}
	if !c.updated {
		return
	}
	if u := tsField(t, obj(t, r.body), "updated_datetime"); u.Before(del.At) {
		t.Errorf("%s survivor %d updated %v, before the merge at %v", c.res, del.MergedInto, u, del.At)
	}
}

// eventsSince are the events written after seeding, by object id, oldest
// first.
func eventsSince(t *testing.T, s *Sim, start time.Time, kind string) map[int64][]map[string]any {
	t.Helper()
	out := map[int64][]map[string]any{}
	for _, raw := range s.Objects(Events) {
		m := obj(t, raw)
		if m["object_type"] == kind && tsField(t, m, createdField).After(start) {
			id := int64(m["object_id"].(float64))
			out[id] = append(out[id], m)
		}
	}
	return out
}

// lastOf is the last of the events with one of the types, nil when none.
func lastOf(evs []map[string]any, types ...string) map[string]any {
	var last map[string]any
	for _, ev := range evs {
		if slices.Contains(types, ev["type"].(string)) {
			last = ev
		}
	}
	return last
}

// stampedBefore: the change stamped at changed was written just before its
// event (at most a second, for whole-second forms).
func stampedBefore(t *testing.T, changed time.Time, ev map[string]any) bool {
	t.Helper()
	d := tsField(t, ev, createdField).Sub(changed)
	return d > 0 && d <= time.Second
}

// TestTicketStates: each ticket's trashed_datetime and spam match its last
// trash and spam events; trash, untrash, spam and unspam all happen.
func TestTicketStates(t *testing.T) {
	t.Parallel()
	run := newRemovalRun(t)
	evs := eventsSince(t, run.s, run.s.cfg.Start, "Ticket")
	counts := map[string]int{}
	for id, tk := range truth(t, run.s, Tickets) {
		for _, ev := range evs[id] {
			counts[ev["type"].(string)]++
		}
		if ev := lastOf(evs[id], evTicketTrashed, evTicketUntrashed); ev != nil {
			tr := tsField(t, tk, "trashed_datetime")
			if ok := ev["type"] == evTicketTrashed; ok != !tr.IsZero() || ok && !stampedBefore(t, tr, ev) {
				t.Errorf("ticket %d: trashed_datetime %v, last event %v at %v", id, tr, ev["type"], ev[createdField])
			}
		}
		if ev := lastOf(evs[id], evTicketSpam, evTicketUnspam); ev != nil && (ev["type"] == evTicketSpam) != tk["spam"] {
			t.Errorf("ticket %d: spam %v, last event %v", id, tk["spam"], ev["type"])
		}
	}
	for _, typ := range []string{evTicketTrashed, evTicketUntrashed, evTicketSpam, evTicketUnspam} {
		if counts[typ] == 0 {
			t.Errorf("no %s event", typ)
		}
	}
}

// TestSoftDeletedMessages: a soft-deleted message stays listed (under its
// ticket too) with deleted_datetime set just before its event.
func TestSoftDeletedMessages(t *testing.T) {
	t.Parallel()
	run := newRemovalRun(t)
	deleted := 0
	for id, evs := range eventsSince(t, run.s, run.s.cfg.Start, "TicketMessage") {
		ev := lastOf(evs, evMessageDeleted)
		if ev == nil {
			continue
		}
		deleted++
		tid := ev["data"].(map[string]any)["ticket_id"]
		listed := walk(t, run.s, Messages, map[string]string{"ticket_id": ftoa(tid)}, nil)
		if !slices.Contains(listed, id) {
			t.Fatalf("message %d deleted, not listed under ticket %v (%v)", id, tid, listed)
		}
		m := truth(t, run.s, Messages)[id]
		if del := tsField(t, m, "deleted_datetime"); !stampedBefore(t, del, ev) {
			t.Errorf("message %d: deleted_datetime %v, event at %v", id, del, ev[createdField])
		}
	}
	if deleted == 0 {
		t.Fatal("no message deleted")
	}
}

// TestNoTicketOfARemovedCustomer: merged customers' tickets moved to the
// survivor, and deleted customers had none.
func TestNoTicketOfARemovedCustomer(t *testing.T) {
	t.Parallel()
	run := newRemovalRun(t)
	gone := map[int64]bool{}
	for _, d := range run.s.Deleted(Customers) {
		gone[d.ID] = true
	}
	for id, tk := range truth(t, run.s, Tickets) {
		if c := int64(tk["customer"].(map[string]any)["id"].(float64)); gone[c] {
			t.Errorf("ticket %d: customer %d was removed", id, c)
		}
	}
}

// TestDeletesOff: without Config.Deletes nothing is removed and no removal
// or state event is written; the seeded data is the same either way.
func TestDeletesOff(t *testing.T) {
	t.Parallel()
	off, clk := newTestSim(t, Config{Customers: 150, Tickets: 300})
	on, _ := newTestSim(t, Config{Customers: 150, Tickets: 300, Deletes: true})
	for _, e := range catalog.All() {
		if a, b := off.Objects(e.Resource), on.Objects(e.Resource); !slices.EqualFunc(a, b, sameJSON) {
			t.Fatalf("%s: seeded data differs with Deletes", e.Resource)
		}
	}
	for range 4 {
		clk.Add(time.Second)
		ch := off.Advance(time.Hour)
		for _, e := range catalog.All() {
			if r := ch.Removed(e.Resource); r == nil || len(r) != 0 {
				t.Fatalf("%s: Removed = %#v, want empty", e.Resource, r)
			}
		}
	}
	for _, e := range catalog.All() {
		if d := off.Deleted(e.Resource); d == nil || len(d) != 0 {
			t.Errorf("Deleted(%s) = %#v, want empty", e.Resource, d)
		}
	}
	for _, m := range truth(t, off, Events) {
		if typ := m["type"].(string); isRemovalType(typ) && tsField(t, m, createdField).After(off.cfg.Start) {
			t.Errorf("event %v: %s without Deletes", m["id"], typ)
		}
	}
}

// isRemovalType reports whether typ is written only with Config.Deletes.
func isRemovalType(typ string) bool {
	special := []string{evTicketTrashed, evTicketUntrashed, evTicketSpam, evTicketUnspam, evTicketMerged, evCustomerMerged, evTagMerged}
	return slices.Contains(special, typ) || strings.HasSuffix(typ, "-deleted")
}

// TestRemovalsDeterministic: the same Config and calls remove the same
// objects at the same times.
func TestRemovalsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := newRemovalRun(t), newRemovalRun(t)
	for _, c := range removalCases {
		if x, y := a.s.Deleted(c.res), b.s.Deleted(c.res); !slices.Equal(x, y) {
			t.Fatalf("%s: %v vs %v", c.res, x, y)
		}
	}
	if x, y := a.s.Objects(Events), b.s.Objects(Events); !slices.EqualFunc(x, y, sameJSON) {
		t.Fatal("events differ")
	}
	if !maps.EqualFunc(a.removed, b.removed, slices.Equal[[]int64]) {
		t.Fatal("Changes.Removed differ")
	}
}
