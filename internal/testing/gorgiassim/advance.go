package gorgiassim

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Advance moves the sim clock forward by d (negative counts as 0) and
// applies one deterministic batch of changes at times spread over
// (old now, new now], in time order. Every entity's generator plans its
// share of the batch; for the helpdesk entities that is:
//   - edits about 2% of the customers and 5% of the tickets (as EditCustomer
//     and EditTicket do; closing tickets may create surveys),
//   - adds about 1% new tickets (30% of them from new customers), each with
//     a first message, and new messages on about 3% of the tickets
//     (percentages of the configured Customers and Tickets, so repeated
//     calls grow the data linearly),
//   - sends every survey created within SurveyResponseWindow whose
//     should_send_datetime (plus a per-survey lag of up to 10 minutes) falls
//     before the new now,
//   - scores about 10% of the surveys created within SurveyResponseWindow
//     that were sent before the old now.
//
// The other entities change too, at least one object each per call:
// custom fields (one edited), events (one per change of an audited
// object), phone calls (0.4% of Tickets new calls, at least one, and the
// steps of calls going on), their events and recordings (one deleted when
// no call ends with one), and the account (one setting edited).
//
// With Config.Deletes, each call also removes and restores objects, at
// times drawn in the same interval (percentages of the configured
// Tickets and Customers, each at least one when there is a candidate):
//   - tickets: trashes 0.5% (ticket-trashed), untrashes 30% of the tickets
//     trashed by earlier calls (ticket-untrashed), marks 0.2% as spam
//     (ticket-marked-spam) and unmarks 30% of the ones earlier calls marked
//     (ticket-unmarked-spam), each moving updated_datetime; hard-deletes
//     0.2%, chosen among trashed tickets (trashing one first when none is;
//     ticket-deleted), and merges 0.1% into another live ticket, of the
//     same customer when it has one (ticket-merged about the survivor,
//     data {"source_ticket_id": source}; the survivor's updated_datetime
//     moves after the event),
//   - customers: deletes 0.1% among the customers without tickets
//     (customer-deleted) and merges 0.1% into another (customer-merged
//     about the survivor, data {"source_customer_id": source}; the
//     source's tickets move to the survivor, each with a ticket-updated
//     event, data {"customer_id": survivor}; the survivor's
//     updated_datetime moves),
//   - messages: soft-deletes 0.2% of the messages of the newest 5% of the
//     tickets (at least 20 tickets): deleted_datetime is set, the message
//     stays listed (ticket-message-deleted, data {"ticket_id": ...}),
//   - tags: deletes one (tag-deleted) and merges one into another
//     (tag-merged about the survivor, data {"source_tag_id": source}),
//   - with probability 0.5 each, deletes one macro, team, view (never a
//     system view), widget and rule (<object type>-deleted),
//
// every reference entity keeping at least 3 objects. A ticket edit that
// trashes or untrashes writes ticket-trashed or ticket-untrashed instead
// of ticket-updated. Removal events have data null unless said otherwise,
// and their created_datetime is the removal time (Deletion.At).
//
// The batch size does not depend on d. Every change gets a stamp later
// than anything stamped before, so clients never see a change appear
// behind a value they already read. The returned Changes lists the ids of
// every created or modified object, and of every removed one.
func (s *Sim) Advance(d time.Duration) Changes {
	s.mu.Lock()
	defer s.mu.Unlock()
	d = max(d, 0)
	from := s.now()
	s.advanced += d
	b := &batch{r: s.rng, from: from, to: from.Add(d), d: d}
	for _, t := range s.tables {
		t.gen.plan(b)
	}
	s.del.plan(b)
	s.cs = newChangeSet()
	defer func() { s.cs, s.at = nil, time.Time{} }()
	b.apply(func(at time.Time) { s.at = at })
	return s.cs.changes(b.from, b.to, s.tables)
}

// batch is one Advance call: generators schedule changes on it, which are
// then applied in time order (ties in scheduling order).
type batch struct {
	r        *rand.Rand
	from, to time.Time
	d        time.Duration
	evs      []event
}

// event is one scheduled change.
type event struct {
	at     time.Time
	seq    int
	change func(at time.Time)
}

// when draws a time in (from, to].
func (b *batch) when() time.Time { return b.drawTime(b.r) }

// drawTime draws a time in (from, to] from r.
func (b *batch) drawTime(r *rand.Rand) time.Time {
	if b.d <= time.Microsecond {
		return b.from.Add(time.Microsecond)
	}
	return b.from.Add(time.Microsecond + randDur(r, b.d-time.Microsecond))
}

// at schedules change to run at time t.
func (b *batch) at(t time.Time, change func(at time.Time)) {
	b.evs = append(b.evs, event{at: t, seq: len(b.evs), change: change})
}

// sample schedules, at drawn times, the changes of about share*base of
// n objects, distinct: change(j) makes the change of the j-th one.
func (b *batch) sample(n int, share float64, base int, change func(j int) func(at time.Time)) {
	if n == 0 {
		return
	}
	k := min(max(1, int(math.Round(share*float64(base)))), n)
	for _, j := range b.r.Perm(n)[:k] {
		b.at(b.when(), change(j))
	}
}

// times runs fn about share*base times, at least once.
func times(share float64, base int, fn func()) {
	for range max(1, int(math.Round(share*float64(base)))) {
		fn()
	}
}

// apply runs the scheduled changes in time order; before each, setTime
// gets its time.
func (b *batch) apply(setTime func(time.Time)) {
	slices.SortFunc(b.evs, func(x, y event) int {
		return cmp.Or(x.at.Compare(y.at), cmp.Compare(x.seq, y.seq))
	})
	for _, ev := range b.evs {
		setTime(ev.at)
		ev.change(ev.at)
	}
}
