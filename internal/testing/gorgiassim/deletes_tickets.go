package gorgiassim

import "time"

// Event types of the ticket states and removals (Config.Deletes).
const (
	evTicketTrashed   = "ticket-trashed"
	evTicketUntrashed = "ticket-untrashed"
	evTicketSpam      = "ticket-marked-spam"
	evTicketUnspam    = "ticket-unmarked-spam"
	evTicketDeleted   = "ticket-deleted"
	evTicketMerged    = "ticket-merged"
	evMessageDeleted  = "ticket-message-deleted"
)

func (d *removals) tickets() *table  { return d.s.table(Tickets) }
func (d *removals) messages() *table { return d.s.table(Messages) }

// planTickets: trash about 0.5% of Tickets, untrash about 30% of the
// tickets trashed before the batch, mark about 0.2% as spam and unmark
// about 30% of the ones marked before, hard-delete about 0.2% and merge
// about 0.1% (each at least one when possible).
func (d *removals) planTickets(b *batch) {
	n := d.s.cfg.Tickets
	d.schedule(b, atLeastOne(0.005, n), d.trashOne)
	d.schedule(b, portion(0.3, d.countTickets(d.trashedEarlier)), d.untrashOne)
	d.schedule(b, atLeastOne(0.002, n), d.spamOne)
	d.schedule(b, portion(0.3, d.countTickets(d.spammedEarlier)), d.unspamOne)
	d.schedule(b, atLeastOne(0.002, n), d.deleteTicket)
	d.schedule(b, atLeastOne(0.001, n), d.mergeTicket)
}

// countTickets is the number of stored tickets ok accepts.
func (d *removals) countTickets(ok func(*ticket) bool) int {
	n := 0
	for _, tk := range objectsOf[*ticket](d.tickets()) {
		if ok(tk) {
			n++
		}
	}
	return n
}

// trashedEarlier: trashed after seeding, before the batch.
func (d *removals) trashedEarlier(tk *ticket) bool {
	at := tk.TrashedDatetime
	return at.isSet() && at.t.After(d.s.cfg.Start) && !at.t.After(d.from)
}

// spammedEarlier: marked as spam by an earlier Advance.
func (d *removals) spammedEarlier(tk *ticket) bool { return tk.Spam && d.spammed[tk.ID] }

func live(tk *ticket) bool    { return !tk.TrashedDatetime.isSet() }
func trashed(tk *ticket) bool { return tk.TrashedDatetime.isSet() }
func anyTicket(*ticket) bool  { return true }
func notSpam(tk *ticket) bool { return live(tk) && !tk.Spam }

// trashType is the event of trashing (on) or untrashing a ticket.
func trashType(on bool) string {
	if on {
		return evTicketTrashed
	}
	return evTicketUntrashed
}

// spamType is the event of marking (on) or unmarking a ticket as spam.
func spamType(on bool) string {
	if on {
		return evTicketSpam
	}
	return evTicketUnspam
}

// pickTicket draws and claims a free ticket that ok accepts.
func (d *removals) pickTicket(ok func(*ticket) bool) (*ticket, bool) {
	return claimOne(d, d.tickets(), objectsOf[*ticket](d.tickets()), ok)
}

// trashNote is the event of a ticket edit that trashed or untrashed it
// (was: trashed before the edit); nil without Config.Deletes, where every
// edit writes ticket-updated.
func (d *removals) trashNote(was bool, tk *ticket) *auditNote {
	if d == nil || was == trashed(tk) {
		return nil
	}
	return &auditNote{typ: trashType(trashed(tk))}
}

func (d *removals) trashOne(at time.Time) {
	if tk, ok := d.pickTicket(live); ok {
		d.setTrashed(tk, true, at)
	}
}

func (d *removals) untrashOne(at time.Time) {
	if tk, ok := d.pickTicket(d.trashedEarlier); ok {
		d.setTrashed(tk, false, at)
	}
}

func (d *removals) spamOne(at time.Time) {
	if tk, ok := d.pickTicket(notSpam); ok {
		d.setSpam(tk, true, at)
	}
}

func (d *removals) unspamOne(at time.Time) {
	if tk, ok := d.pickTicket(d.spammedEarlier); ok {
		d.setSpam(tk, false, at)
	}
}

// setTrashed trashes or untrashes tk at time at: trashed_datetime and
// updated_datetime move, and the event is ticket-trashed or
// ticket-untrashed (no ticket-updated).
func (d *removals) setTrashed(tk *ticket, on bool, at time.Time) {
	st := d.s.stampAt(at, tk.form)
	tk.TrashedDatetime = stamp{}
	if on {
		tk.TrashedDatetime = st
	}
	tk.UpdatedDatetime = st
	d.s.changedAs(d.tickets(), tk, &auditNote{typ: trashType(on)})
}

// setSpam marks tk as spam, or unmarks it, at time at.
func (d *removals) setSpam(tk *ticket, on bool, at time.Time) {
	tk.Spam = on
	tk.UpdatedDatetime = d.s.stampAt(at, tk.form)
	if on {
		d.spammed[tk.ID] = true
	} else {
		delete(d.spammed, tk.ID)
	}
	d.s.changedAs(d.tickets(), tk, &auditNote{typ: spamType(on)})
}

// deleteTicket hard-deletes a trashed ticket (trashing one first when none
// is): ticket-deleted, then the ticket is gone. Its messages and survey
// stay (Gorgias writes no event for them).
func (d *removals) deleteTicket(at time.Time) {
	tk, ok := d.pickTicket(trashed)
	if !ok {
		if tk, ok = d.pickTicket(anyTicket); !ok {
			return
		}
		d.setTrashed(tk, true, at)
	}
	d.drop(d.tickets(), tk.ID, 0, d.audit(at, d.tickets(), evTicketDeleted, tk.ID, nil))
}

// mergeTicket merges a live (untrashed) ticket into another, of the same
// customer when it has one: ticket-merged about the survivor with
// source_ticket_id, the source is gone, then the survivor's
// updated_datetime moves. The source's messages keep their ticket_id.
func (d *removals) mergeTicket(at time.Time) {
	src, ok := d.pickTicket(live)
	if !ok {
		return
	}
	dst, ok := d.pickTicket(func(tk *ticket) bool { return live(tk) && tk.Customer.ID == src.Customer.ID })
	if !ok {
		if dst, ok = d.pickTicket(live); !ok {
			return
		}
	}
	t := d.tickets()
	d.drop(t, src.ID, dst.ID, d.audit(at, t, evTicketMerged, dst.ID, map[string]any{"source_ticket_id": src.ID}))
	d.quietly(func() {
		dst.UpdatedDatetime = d.s.stampAt(at, dst.form)
		t.changed(dst)
	})
}

// planMessages soft-deletes about 0.2% (at least one) of the messages of
// the newest tickets.
func (d *removals) planMessages(b *batch) {
	d.schedule(b, portion(0.002, len(d.recentMessages())), d.deleteMessage)
}

// recentMessages are the messages, not deleted, of the newest 5% of the
// tickets (at least 20).
func (d *removals) recentMessages() []*message {
	all := d.tickets().all
	g := d.s.gen(Messages).(*messageGen)
	var out []*message
	for _, it := range all[max(0, len(all)-max(20, len(all)/20)):] {
		for _, m := range g.thread(it.id) {
			if !m.DeletedDatetime.isSet() {
				out = append(out, m)
			}
		}
	}
	return out
}

// deleteMessage soft-deletes a recent message: deleted_datetime is set
// (the message stays listed, its derived version moves) and the event is
// ticket-message-deleted.
func (d *removals) deleteMessage(at time.Time) {
	t := d.messages()
	m, ok := claimOne(d, t, d.recentMessages(), func(*message) bool { return true })
	if !ok {
		return
	}
	m.DeletedDatetime = d.s.stampAt(at, m.form)
	d.s.changedAs(t, m, &auditNote{typ: evMessageDeleted, data: map[string]any{"ticket_id": m.TicketID}})
}
