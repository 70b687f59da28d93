package gorgiassim

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// EditCustomer changes a few fields of the customer (note, data,
// timezone, language, custom_fields) and sets updated_datetime to a fresh
// stamp. Fields copied into tickets and messages (name, email, meta) are
// never edited, so embedded copies stay true.
//
// Every mutator stamps the current sim time; stamps are distinct and
// strictly increasing across all calls (1µs apart at least; objects
// rendered with whole seconds round up to the next second).
func (s *Sim) EditCustomer(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.custByID[id]
	if !ok {
		return fmt.Errorf("customer %d: %w", id, ErrNotFound)
	}
	s.editCustomer(c, s.now(), nil)
	return nil
}

// EditTicket applies one or two edits to the ticket (status open/closed,
// priority, tags, subject, assignee, read state, snooze, custom field,
// rarely trash/untrash) and sets updated_datetime to a fresh stamp.
// Closing a ticket without a survey creates one with probability about
// SurveyShare/0.7 (should_send_datetime one day later).
func (s *Sim) EditTicket(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tk, ok := s.ticketByID[id]
	if !ok {
		return fmt.Errorf("ticket %d: %w", id, ErrNotFound)
	}
	s.editTicket(tk, s.now(), nil)
	return nil
}

// AddMessage adds a message to the ticket and returns its id (larger than
// every existing message id). The message comes from the customer when the
// ticket's last message came from an agent, else from an agent. The ticket
// gets messages_count+1, a new excerpt, last_message_datetime and a fresh
// updated_datetime; a customer message reopens a closed ticket.
func (s *Sim) AddMessage(ticketID int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tk, ok := s.ticketByID[ticketID]
	if !ok {
		return 0, fmt.Errorf("ticket %d: %w", ticketID, ErrNotFound)
	}
	return s.addMessage(tk, s.now(), nil, nil), nil
}

// SendSurvey sets sent_datetime of an unsent survey to a fresh stamp. It
// fails with ErrNotDue when should_send_datetime is null or after the sim
// clock (so the survey's derived version, the latest of its *_datetime
// fields, always moves forward), and with ErrState when already sent.
func (s *Sim) SendSurvey(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, ok := s.surveyByID[id]
	if !ok {
		return fmt.Errorf("survey %d: %w", id, ErrNotFound)
	}
	if sv.SentDatetime.isSet() {
		return fmt.Errorf("survey %d already sent: %w", id, ErrState)
	}
	now := s.now()
	if !sv.ShouldSendDatetime.isSet() || sv.ShouldSendDatetime.t.After(now) {
		return fmt.Errorf("survey %d (should_send_datetime %s, sim time %s): %w", id,
			sv.ShouldSendDatetime.text(), now.Format(time.RFC3339), ErrNotDue)
	}
	s.sendSurvey(sv, now, nil)
	return nil
}

// ScoreSurvey records the customer's answer to a sent survey: score (1..5),
// scored_datetime (a fresh stamp) and body_text (a comment matching the
// score). Scoring again replaces the answer. Errors: ErrInvalid for a score
// outside 1..5, ErrState when the survey was not sent.
func (s *Sim) ScoreSurvey(id int64, score int) error {
	if score < 1 || score > 5 {
		return fmt.Errorf("survey %d: score %d not in 1..5: %w", id, score, ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, ok := s.surveyByID[id]
	if !ok {
		return fmt.Errorf("survey %d: %w", id, ErrNotFound)
	}
	if !sv.SentDatetime.isSet() {
		return fmt.Errorf("survey %d not sent yet: %w", id, ErrState)
	}
	s.applyScore(s.rng, sv, score, s.stampAt(s.now(), sv.form), true)
	s.surveys.changed(sv)
	return nil
}

func (s *Sim) editCustomer(c *customer, at time.Time, cs *changeSet) {
	r := s.rng
	for range 1 + r.IntN(2) {
		switch r.IntN(5) {
		case 0:
			c.Note = ptr(pick(r, customerNotes) + " (" + strconv.Itoa(r.IntN(1000)) + ")")
		case 1:
			c.Data = map[string]any{"loyalty_tier": pick(r, []string{"bronze", "silver", "gold", "platinum"}), "points": r.IntN(8000)}
		case 2:
			c.Timezone = ptr(pick(r, timezones))
		case 3:
			c.Language = ptr(pick(r, languages))
		case 4:
			c.CustomFields = map[string]any{strconv.Itoa(fieldCustomerTier): map[string]any{
				"id": fieldCustomerTier, "value": pick(r, []string{"VIP", "Wholesale", "Press", "Standard"}),
			}}
		}
	}
	c.UpdatedDatetime = s.stampAt(at, c.form)
	s.customers.changed(c)
	cs.add(kCustomer, c.ID)
}

func (s *Sim) editTicket(tk *ticket, at time.Time, cs *changeSet) {
	r := s.rng
	st := s.stampAt(at, tk.form)
	closedNow := false
	for range 1 + r.IntN(2) {
		switch x := r.IntN(100); {
		case x < 30: // status
			if tk.Status == "open" {
				tk.Status, tk.ClosedDatetime, tk.IsUnread = "closed", st, false
				closedNow = true
			} else {
				tk.Status, tk.ClosedDatetime, tk.SnoozeDatetime = "open", stamp{}, stamp{}
			}
		case x < 42:
			tk.Priority = pick(r, []string{"critical", "high", "normal", "low"})
		case x < 56: // tags
			t := pick(r, s.tags)
			if i := slices.IndexFunc(tk.Tags, func(x tagRef) bool { return x.ID == t.ID }); i >= 0 && len(tk.Tags) > 1 {
				tk.Tags = slices.Delete(slices.Clone(tk.Tags), i, i+1)
			} else if i < 0 {
				tk.Tags = append(slices.Clone(tk.Tags), t)
			}
		case x < 64:
			tk.Subject = ptr(s.expand(topics[tk.topic].subject, tk, "") + pick(r, []string{" (urgent)", " - follow-up", " [VIP]", ""}))
		case x < 76:
			if r.IntN(5) == 0 {
				s.assign(tk, -1)
			} else {
				s.assign(tk, r.IntN(len(s.users)))
				s.assignTeam(tk, r.IntN(len(s.teams)))
			}
		case x < 84:
			tk.IsUnread = false
			if !tk.OpenedDatetime.isSet() {
				tk.OpenedDatetime = st
			}
		case x < 90:
			if tk.Status == "closed" {
				tk.SnoozeDatetime = stamp{t: st.t.Add(24*time.Hour + time.Duration(r.IntN(48))*time.Hour), f: tk.form}
			} else {
				tk.Priority = "high"
			}
		case x < 97:
			tk.CustomFields = map[string]customFieldValue{
				strconv.Itoa(fieldContactReason): {ID: fieldContactReason, Value: topics[r.IntN(len(topics))].reason},
			}
		default:
			if tk.TrashedDatetime.isSet() {
				tk.TrashedDatetime = stamp{}
			} else {
				tk.TrashedDatetime = st
			}
		}
	}
	tk.UpdatedDatetime = st
	s.tickets.changed(tk)
	cs.add(kTicket, tk.ID)
	if closedNow && !tk.Spam && s.surveyByTicket[tk.ID] == nil && r.Float64() < math.Min(1, s.cfg.SurveyShare/0.7) {
		id := s.newID(kSurvey, r)
		sv := s.newSurvey(r, id, tk, time.Time{}, true)
		created := s.stampAt(at, sv.form)
		sv.CreatedDatetime = created
		sv.ShouldSendDatetime = stamp{t: created.t.Add(24 * time.Hour), f: sv.form}
		s.addSurvey(sv)
		cs.add(kSurvey, sv.ID)
	}
}

// addMessage adds a message to tk at time at; fromAgent nil alternates.
func (s *Sim) addMessage(tk *ticket, at time.Time, fromAgent *bool, cs *changeSet) int64 {
	r := s.rng
	msgs := s.msgsByTicket[tk.ID]
	var prev *message
	if len(msgs) > 0 {
		prev = msgs[len(msgs)-1]
	}
	agent := tk.FromAgent
	if fromAgent != nil {
		agent = *fromAgent
	} else if prev != nil {
		agent = !prev.FromAgent
	}
	id := s.newID(kMessage, r)
	m := s.buildMessage(r, id, tk, agent, false, prev, at)
	m.CreatedDatetime = s.stampAt(at, m.form)
	m.SentDatetime = m.CreatedDatetime
	s.messages.add(m)
	s.msgByID[id] = m
	s.msgsByTicket[tk.ID] = append(msgs, m)
	cs.add(kMessage, id)

	st := s.stampAt(at, tk.form)
	tk.MessagesCount = len(s.msgsByTicket[tk.ID])
	tk.LastMessageDatetime = mk(m.CreatedDatetime.t, tk.form)
	tk.setExcerpt(m)
	if agent {
		tk.IsUnread = false
		if !tk.OpenedDatetime.isSet() {
			tk.OpenedDatetime = st
		}
	} else {
		tk.LastReceivedMessageDatetime = tk.LastMessageDatetime
		tk.IsUnread = true
		if tk.Status == "closed" {
			tk.Status, tk.ClosedDatetime, tk.SnoozeDatetime = "open", stamp{}, stamp{}
		}
	}
	tk.UpdatedDatetime = st
	s.tickets.changed(tk)
	cs.add(kTicket, tk.ID)
	return id
}

// newTicket creates a ticket (sometimes with a new customer) with its first message.
func (s *Sim) newTicket(at time.Time, cs *changeSet) {
	r := s.rng
	var c *customer
	if len(s.customers.all) == 0 || r.Float64() < 0.3 {
		id := s.newID(kCustomer, r)
		st := s.stampAt(at, formFor(saltCustomer, id))
		c = s.genCustomerStamped(r, id, st, st)
		s.customers.add(c)
		s.custByID[c.ID] = c
		cs.add(kCustomer, c.ID)
	} else {
		c = s.customers.all[r.IntN(len(s.customers.all))].(*customer)
	}
	tk := s.newTicketCore(r, s.newID(kTicket, r), c)
	tk.CreatedDatetime = s.stampAt(at, tk.form)
	tk.UpdatedDatetime = tk.CreatedDatetime
	tk.Excerpt = ptr("")
	s.tickets.add(tk)
	s.ticketByID[tk.ID] = tk
	s.addMessage(tk, at, ptr(tk.FromAgent), cs)
}

func (s *Sim) sendSurvey(sv *survey, at time.Time, cs *changeSet) {
	sv.SentDatetime = s.stampAt(at, sv.form)
	s.surveys.changed(sv)
	cs.add(kSurvey, sv.ID)
}

// event is one planned change of an Advance batch.
type event struct {
	at   time.Time
	kind int
	id   int64
	seq  int
}

const (
	evEditCustomer = iota
	evEditTicket
	evNewTicket
	evAddMessage
	evSendSurvey
	evScoreSurvey
)

// SurveyResponseWindow is how long after its creation a survey can still be sent
// or scored by Advance: customers answer within days, as on the real service. It
// is shorter than the producer's default 7-day lookback.
const SurveyResponseWindow = 4 * 24 * time.Hour

// Advance moves the sim clock forward by d (negative counts as 0) and
// applies one deterministic batch of changes at times spread over
// (old now, new now], in time order:
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
// The batch size does not depend on d. Every change gets a stamp later
// than anything stamped before, so clients never see a change appear
// behind a value they already read. The returned Changes lists the ids of
// every created or modified object.
func (s *Sim) Advance(d time.Duration) Changes {
	s.mu.Lock()
	defer s.mu.Unlock()
	d = max(d, 0)
	from := s.now()
	s.advanced += d
	to := from.Add(d)
	r := s.rng
	when := func() time.Time {
		if d <= time.Microsecond {
			return from.Add(time.Microsecond)
		}
		return from.Add(time.Microsecond + randDur(r, d-time.Microsecond))
	}
	var evs []event
	plan := func(kind int, id int64, at time.Time) {
		evs = append(evs, event{at: at, kind: kind, id: id, seq: len(evs)})
	}
	// sample plans events for about share*base distinct objects of pool.
	sample := func(pool []entry, share float64, base int) {
		if len(pool) == 0 {
			return
		}
		k := min(max(1, int(math.Round(share*float64(base)))), len(pool))
		for _, j := range r.Perm(len(pool))[:k] {
			e := pool[j]
			kind := evEditTicket
			switch e.(type) {
			case *customer:
				kind = evEditCustomer
			case *survey:
				kind = evScoreSurvey
			}
			plan(kind, e.entryID(), when())
		}
	}
	// Batch sizes follow the configured (seeded) sizes, so repeated calls
	// grow the data linearly, not exponentially.
	sample(s.customers.all, 0.02, s.cfg.Customers)
	sample(s.tickets.all, 0.05, s.cfg.Tickets)
	if len(s.tickets.all) > 0 || len(s.customers.all) > 0 {
		for range max(1, int(math.Round(0.01*float64(s.cfg.Tickets)))) {
			plan(evNewTicket, 0, when())
		}
	}
	if n := len(s.tickets.all); n > 0 {
		for range max(1, int(math.Round(0.03*float64(s.cfg.Tickets)))) {
			tk := s.tickets.all[r.IntN(n)].(*ticket)
			if !tk.TrashedDatetime.isSet() && !tk.Spam {
				plan(evAddMessage, tk.ID, when())
			}
		}
	}
	for _, e := range s.surveys.all {
		sv := e.(*survey)
		if sv.SentDatetime.isSet() || !sv.ShouldSendDatetime.isSet() || sv.CreatedDatetime.t.Before(to.Add(-SurveyResponseWindow)) {
			continue
		}
		due := sv.ShouldSendDatetime.t.Add(time.Duration(mix64(uint64(sv.ID))%600) * time.Second)
		if due.After(to) {
			continue
		}
		plan(evSendSurvey, sv.ID, later(due, from.Add(time.Microsecond)))
	}
	var sent []entry
	for _, e := range s.surveys.all {
		if sv := e.(*survey); sv.SentDatetime.isSet() && !sv.SentDatetime.t.After(from) && sv.Score == nil &&
			!sv.CreatedDatetime.t.Before(from.Add(-SurveyResponseWindow)) {
			sent = append(sent, e)
		}
	}
	sample(sent, 0.1, len(sent))

	slices.SortFunc(evs, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	cs := newChangeSet()
	for _, ev := range evs {
		switch ev.kind {
		case evEditCustomer:
			s.editCustomer(s.custByID[ev.id], ev.at, cs)
		case evEditTicket:
			s.editTicket(s.ticketByID[ev.id], ev.at, cs)
		case evNewTicket:
			s.newTicket(ev.at, cs)
		case evAddMessage:
			s.addMessage(s.ticketByID[ev.id], ev.at, nil, cs)
		case evSendSurvey:
			if sv := s.surveyByID[ev.id]; !sv.SentDatetime.isSet() {
				s.sendSurvey(sv, ev.at, cs)
			}
		case evScoreSurvey:
			sv := s.surveyByID[ev.id]
			s.applyScore(r, sv, surveyScore(r), s.stampAt(ev.at, sv.form), false)
			s.surveys.changed(sv)
			cs.add(kSurvey, sv.ID)
		}
	}
	return cs.changes(from, to)
}
