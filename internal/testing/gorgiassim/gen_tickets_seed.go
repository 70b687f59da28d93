package gorgiassim

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// ticketPlan is a seeded ticket before its messages exist.
type ticketPlan struct {
	cust                                     *customer
	created                                  time.Time
	ord                                      int
	tk                                       *ticket
	msgs                                     []*msgPlan
	closed, opened, snooze, trashed, updated time.Time
}

// seed plans every ticket (customer, creation, conversation, lifecycle),
// has the messages generator write the conversations, then finishes the
// tickets from their messages.
func (g *ticketGen) seed(r *rand.Rand) {
	begin, end := g.s.seedSpan()
	plans := g.planTickets(r, end)
	var threads []*msgPlan
	for _, p := range plans {
		p.tk = g.newTicketCore(r, g.t.newID(r), p.cust)
		first := g.planConversation(r, p, end)
		planLifecycle(r, p, first, end)
		threads = append(threads, p.msgs...)
	}
	g.messages().seedThreads(r, threads)
	for _, p := range plans {
		g.finish(r, p, begin)
	}
}

// planTickets draws each ticket's customer and creation time (after the
// customer's), in creation order.
func (g *ticketGen) planTickets(r *rand.Rand, end time.Time) []*ticketPlan {
	custs := objectsOf[*customer](g.customers().t)
	plans := make([]*ticketPlan, g.s.cfg.Tickets)
	for i := range plans {
		c := pick(r, custs)
		lo := c.CreatedDatetime.t
		if r.Float64() < 0.08 { // recent activity
			lo = later(lo, end.Add(-72*time.Hour))
		}
		plans[i] = &ticketPlan{cust: c, created: lo.Add(randDur(r, end.Sub(lo))), ord: i}
	}
	slices.SortFunc(plans, func(a, b *ticketPlan) int {
		return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.ord, b.ord))
	})
	return plans
}

// planConversation draws when the ticket's messages are written and by
// whom; it returns the first message's time.
func (g *ticketGen) planConversation(r *rand.Rand, p *ticketPlan, end time.Time) time.Time {
	tk := p.tk
	k := messageCount(r, g.s.cfg.MessagesPerTicket)
	first := earlier(p.created.Add(randDur(r, 3*time.Second)), end)
	mean := 10 * time.Hour
	if tk.Channel != "email" && tk.Channel != "contact_form" {
		mean = 2 * time.Hour
	}
	gaps, scale := drawGaps(r, k, mean, float64(end.Sub(first))*0.97)
	t := first
	agentSide := tk.FromAgent
	for i := range k {
		if i > 0 {
			t = t.Add(time.Duration(gaps[i] * scale))
			if r.Float64() < 0.8 {
				agentSide = !agentSide
			}
		}
		m := &msgPlan{tk: tk, at: t, fromAgent: agentSide, seq: i}
		m.note = agentSide && i > 0 && r.Float64() < 0.06
		p.msgs = append(p.msgs, m)
	}
	return first
}

// drawGaps draws k-1 exponential gaps between messages and the scale that
// fits them into avail.
func drawGaps(r *rand.Rand, k int, mean time.Duration, avail float64) ([]float64, float64) {
	gaps := make([]float64, k)
	total := 0.0
	for i := 1; i < k; i++ {
		gaps[i] = float64(expDur(r, mean))
		total += gaps[i]
	}
	if total > avail {
		return gaps, avail / total
	}
	return gaps, 1
}

// planLifecycle draws when the ticket was closed, snoozed, opened by an
// agent, trashed and last updated.
func planLifecycle(r *rand.Rand, p *ticketPlan, first, end time.Time) {
	last := p.msgs[len(p.msgs)-1].at
	recent := p.created.After(end.Add(-48 * time.Hour))
	pClosed := 0.78
	if recent {
		pClosed = 0.35
	}
	if r.Float64() < pClosed {
		p.closed = last.Add(randDur(r, min(2*time.Hour, end.Sub(last))))
		if recent && r.Float64() < 0.2 {
			p.snooze = end.Add(12*time.Hour + randDur(r, 60*time.Hour))
		}
	}
	p.opened = drawOpened(r, p.msgs, first, end)
	if r.Float64() < 0.01 {
		p.tk.Spam = true
	}
	activity := latest(last, p.closed, p.opened)
	if p.tk.Spam || r.Float64() < 0.02 {
		p.trashed = activity.Add(randDur(r, min(24*time.Hour, end.Sub(activity))))
		activity = p.trashed
	}
	p.updated = activity.Add(randDur(r, min(90*time.Second, end.Sub(activity))))
}

// drawOpened is when an agent first opened the ticket: before the first
// agent message, or (half the time) some time after the first message.
func drawOpened(r *rand.Rand, msgs []*msgPlan, first, end time.Time) time.Time {
	for _, m := range msgs {
		if m.fromAgent {
			return later(first, m.at.Add(-randDur(r, 30*time.Minute)))
		}
	}
	if r.Float64() < 0.5 {
		return first.Add(randDur(r, min(6*time.Hour, end.Sub(first))))
	}
	return time.Time{}
}

// messageCount draws 1 + Binomial(n, p) with mean m: 1..10 for m = 4.
func messageCount(r *rand.Rand, m float64) int {
	if m <= 1 {
		return 1
	}
	n := max(9, int(math.Ceil(2*(m-1))))
	p := (m - 1) / float64(n)
	k := 1
	for range n {
		if r.Float64() < p {
			k++
		}
	}
	return k
}

// finish sets the fields that follow from the ticket's messages and plan,
// and stores the ticket.
func (g *ticketGen) finish(r *rand.Rand, p *ticketPlan, begin time.Time) {
	tk, f := p.tk, p.tk.form
	msgs := g.messages().thread(tk.ID)
	tk.MessagesCount = len(msgs)
	tk.CreatedDatetime = mk(later(p.msgs[0].at.Add(-randDur(r, time.Second)), begin), f)
	lastM := msgs[len(msgs)-1]
	tk.LastMessageDatetime = mk(lastM.CreatedDatetime.t, f)
	if m := lastReceived(msgs); m != nil {
		tk.LastReceivedMessageDatetime = mk(m.CreatedDatetime.t, f)
	}
	tk.setExcerpt(lastM)
	if p.closed.IsZero() {
		tk.Status = "open"
		tk.IsUnread = !lastM.FromAgent
	} else {
		tk.Status = "closed"
		tk.ClosedDatetime = mk(p.closed, f)
	}
	if !p.opened.IsZero() {
		tk.OpenedDatetime = mk(p.opened, f)
	} else {
		tk.IsUnread = true
	}
	tk.SnoozeDatetime = mkSet(p.snooze, f)
	tk.TrashedDatetime = mkSet(p.trashed, f)
	tk.UpdatedDatetime = mk(p.updated, f)
	g.t.add(tk)
}

// lastReceived is the customer's latest message, or nil.
func lastReceived(msgs []*message) *message {
	for i := len(msgs) - 1; i >= 0; i-- {
		if !msgs[i].FromAgent {
			return msgs[i]
		}
	}
	return nil
}

// mkSet is mk, or null for the zero time.
func mkSet(t time.Time, f tsForm) stamp {
	if t.IsZero() {
		return stamp{}
	}
	return mk(t, f)
}
