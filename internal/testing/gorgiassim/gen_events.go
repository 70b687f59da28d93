package gorgiassim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Events is the resource of the account's events, its audit trail (for
// Objects, IDs and Deny).
const Events = "events"

// auditedKinds are the object_type of the objects of each audited entity
// (catalog Name); their creations and changes are events. Entities not in
// the catalog are ignored.
var auditedKinds = map[string]string{
	"customers": "Customer", "tickets": "Ticket", "ticket_messages": "TicketMessage",
	"satisfaction_surveys": "SatisfactionSurvey", "users": "User", "teams": "Team", "tags": "Tag",
	"macros": "Macro", "rules": "Rule", "views": "View", "integrations": "Integration", "widgets": "Widget",
}

// eventObjectTypes are the values of the list's object_type filter.
var eventObjectTypes = []string{
	"Account", "Customer", "Integration", "Macro", "Rule", "SatisfactionSurvey", "Tag", "Team",
	"Ticket", "TicketMessage", "User", "View", "Widget",
}

func init() {
	register(genSpec{
		entity: "events", model: auditEvent{},
		firstID: 910000000, idGap: 6, salt: 0x6e7e5a11d0c3,
		filters: []string{"object_id"},
		enums:   []enumFilter{{param: "object_type", values: eventObjectTypes}},
		ranges:  []string{createdField},
		needs:   []string{Customers, Tickets, Messages, SatisfactionSurveys},
		make: func(s *Sim, t *table) generator {
			g := &eventGen{s: s, t: t, rng: rand.New(rand.NewPCG(uint64(s.cfg.Seed), streamAudit))}
			s.watch(g.observe)
			return g
		},
	})
}

type auditEvent struct {
	ID              int64          `json:"id"`
	Type            string         `json:"type"`
	ObjectType      string         `json:"object_type"`
	ObjectID        int64          `json:"object_id"`
	UserID          *int64         `json:"user_id"`
	Context         *string        `json:"context"`
	Data            map[string]any `json:"data"`
	URI             string         `json:"uri"`
	CreatedDatetime stamp          `json:"created_datetime"`
	extras
}

// eventGen writes the events feed: seeded from the history of the
// entities before it in the catalog (about 2 events per ticket: every
// ticket's and customer's creation, some of their updates, a few messages,
// the surveys sent and answered), then one event for every creation or
// change of an audited object, as it happens (see Sim.watch). Events never
// change.
type eventGen struct {
	s   *Sim
	t   *table
	rng *rand.Rand // draws made while other generators change objects
}

// auditEntry is an event before it gets its id and stamp.
type auditEntry struct {
	at                time.Time
	typ, kind         string
	objectID          int64
	userID            *int64
	data              map[string]any
	fromAgent, system bool
}

// seed writes the seeded history's events in time order (ids grow with
// time).
func (g *eventGen) seed(r *rand.Rand) {
	begin, end := g.s.seedSpan()
	var entries []auditEntry
	for _, t := range g.s.tables {
		if t == g.t {
			break
		}
		entries = append(entries, g.history(r, t)...)
	}
	for i := range entries {
		entries[i].at = lag(r, entries[i].at, end)
	}
	entries = slices.DeleteFunc(entries, func(e auditEntry) bool { return e.at.Before(begin) || e.at.After(end) })
	slices.SortStableFunc(entries, func(a, b auditEntry) int { return a.at.Compare(b.at) })
	for _, e := range entries {
		id := g.t.newID(r)
		g.t.add(g.event(r, id, e, mk(e.at, g.t.form(id))))
	}
}

// lag is how long after a seeded change its event was written: a few
// hundred milliseconds, never after end.
func lag(r *rand.Rand, at, end time.Time) time.Time {
	return earlier(at.Add(time.Millisecond+randDur(r, 500*time.Millisecond)), end)
}

// history draws the seeded events of one table's objects.
func (g *eventGen) history(r *rand.Rand, t *table) []auditEntry {
	kind := auditedKinds[t.ent.Name]
	if kind == "" {
		return nil
	}
	var out []auditEntry
	for _, it := range t.all {
		switch o := it.obj.(type) {
		case *ticket:
			out = append(out, g.ticketHistory(r, o)...)
		case *message:
			if r.Float64() < 0.05 {
				out = append(out, g.messageEntry(o, o.CreatedDatetime.t))
			}
		case *survey:
			out = append(out, surveyHistory(o)...)
		default:
			out = append(out, genericHistory(r, t, kind, it)...)
		}
	}
	return out
}

// ticketHistory: the ticket's creation and, for about 30%, its last update.
func (g *eventGen) ticketHistory(r *rand.Rand, tk *ticket) []auditEntry {
	out := []auditEntry{g.ticketEntry(r, tk, true, tk.CreatedDatetime.t)}
	if tk.UpdatedDatetime.t.After(tk.CreatedDatetime.t) && r.Float64() < 0.3 {
		out = append(out, g.ticketEntry(r, tk, false, tk.UpdatedDatetime.t))
	}
	return out
}

// surveyHistory: the survey sent and answered.
func surveyHistory(sv *survey) []auditEntry {
	var out []auditEntry
	if sv.SentDatetime.isSet() {
		out = append(out, surveyEntry(sv, false, sv.SentDatetime.t))
	}
	if sv.ScoredDatetime.isSet() {
		out = append(out, surveyEntry(sv, true, sv.ScoredDatetime.t))
	}
	return out
}

// genericHistory: the creation of every object and, for about 20%, its
// last update, read from created_datetime and updated_datetime.
func genericHistory(r *rand.Rand, t *table, kind string, it *item) []auditEntry {
	var created, updated time.Time
	if at, ok := t.layout.stamps[createdField]; ok {
		created = t.layout.field(it.obj, at).Interface().(stamp).t
	}
	if at, ok := t.layout.stamps["updated_datetime"]; ok {
		updated = t.layout.field(it.obj, at).Interface().(stamp).t
	}
	var out []auditEntry
	if !created.IsZero() {
		out = append(out, auditEntry{at: created, typ: kebab(kind) + "-created", kind: kind, objectID: it.id})
	}
	if updated.After(created) && r.Float64() < 0.2 {
		out = append(out, auditEntry{at: updated, typ: kebab(kind) + "-updated", kind: kind, objectID: it.id})
	}
	return out
}

// ticketEntry is a ticket's creation or update at time at; agents cause
// most updates and the tickets they open.
func (g *eventGen) ticketEntry(r *rand.Rand, tk *ticket, created bool, at time.Time) auditEntry {
	e := auditEntry{at: at, typ: "ticket-updated", kind: "Ticket", objectID: tk.ID}
	if created {
		e.typ = "ticket-created"
		e.data = map[string]any{"channel": tk.Channel, "via": tk.Via}
		e.fromAgent = tk.FromAgent
		return e
	}
	e.fromAgent = r.Float64() < 0.7
	e.system = !e.fromAgent && r.Float64() < 0.5
	switch r.IntN(3) {
	case 0:
		e.data = map[string]any{"status": tk.Status}
	case 1:
		e.data = map[string]any{"priority": tk.Priority}
	default:
		e.data = map[string]any{"assignee_user_id": tk.AssigneeUserID}
	}
	if tk.AssigneeUserID != nil && e.fromAgent {
		e.userID = ptr(*tk.AssigneeUserID)
	}
	return e
}

// messageEntry is a message's creation; an agent's message is theirs.
func (g *eventGen) messageEntry(m *message, at time.Time) auditEntry {
	e := auditEntry{at: at, typ: "ticket-message-created", kind: "TicketMessage", objectID: m.ID,
		data: map[string]any{"ticket_id": m.TicketID}, fromAgent: m.FromAgent}
	if m.FromAgent {
		e.userID = ptr(m.Sender.ID)
	}
	return e
}

// surveyEntry is a survey sent (by Gorgias) or answered (by the customer).
func surveyEntry(sv *survey, answered bool, at time.Time) auditEntry {
	if answered && sv.Score != nil {
		return auditEntry{at: at, typ: "satisfaction-survey-responded", kind: "SatisfactionSurvey", objectID: sv.ID,
			data: map[string]any{"score": *sv.Score, "ticket_id": sv.TicketID}}
	}
	return auditEntry{at: at, typ: "satisfaction-survey-sent", kind: "SatisfactionSurvey", objectID: sv.ID,
		data: map[string]any{"ticket_id": sv.TicketID}, system: true}
}

// event makes the event of an entry: an agent event without a known agent
// gets a drawn one; system events (rules, Gorgias) have no context.
func (g *eventGen) event(r *rand.Rand, id int64, e auditEntry, at stamp) *auditEvent {
	ev := &auditEvent{
		ID: id, Type: e.typ, ObjectType: e.kind, ObjectID: e.objectID, UserID: e.userID, Data: e.data,
		URI: fmt.Sprintf("/api/events/%d/", id), CreatedDatetime: at, extras: newExtras(g.s.cfg.ExtraFields),
	}
	if e.fromAgent && ev.UserID == nil {
		ev.UserID = ptr(pick(r, g.s.users).ID)
	}
	if !e.system {
		ev.Context = ptr(uuidText(r))
	}
	return ev
}

// observe writes the event of a creation or change of an audited object
// made after seeding (Sim.watch), stamped just after the change.
func (g *eventGen) observe(t *table, obj any, created bool) {
	kind := auditedKinds[t.ent.Name]
	if t == g.t || kind == "" {
		return
	}
	at := g.s.changeTime()
	if n := g.s.del.takeNote(); n != nil {
		g.record(auditEntry{at: at, typ: n.typ, kind: kind, objectID: t.layout.id(obj), data: n.data, fromAgent: true})
		return
	}
	var e auditEntry
	switch o := obj.(type) {
	case *ticket:
		e = g.ticketEntry(g.rng, o, created, at)
	case *message:
		if !created {
			return
		}
		e = g.messageEntry(o, at)
	case *survey:
		if !o.SentDatetime.isSet() {
			return
		}
		e = surveyEntry(o, o.ScoredDatetime.isSet() && !o.ScoredDatetime.t.Before(o.SentDatetime.t), at)
	default:
		e = auditEntry{at: at, typ: kebab(kind) + map[bool]string{true: "-created", false: "-updated"}[created],
			kind: kind, objectID: t.layout.id(obj), fromAgent: true}
	}
	g.record(e)
}

// record writes the event of e, stamped at e.at or just after the latest
// stamp, and returns it.
func (g *eventGen) record(e auditEntry) *auditEvent {
	id := g.t.newID(g.rng)
	ev := g.event(g.rng, id, e, g.s.stampAt(e.at, g.t.form(id)))
	g.t.add(ev)
	return ev
}

// plan adds nothing itself: the other generators' changes write the
// events (every Advance edits tickets).
func (g *eventGen) plan(*batch) {}

// kebab turns an object type into its event prefix: TicketMessage →
// ticket-message.
func kebab(kind string) string {
	var b strings.Builder
	for i, c := range kind {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// uuidText draws a random UUID in its text form.
func uuidText(r *rand.Rand) string {
	h := hexID(r, 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + h[16:20] + "-" + h[20:]
}
