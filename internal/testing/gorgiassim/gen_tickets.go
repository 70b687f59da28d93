package gorgiassim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Tickets is the resource of tickets (for Objects, IDs and Deny).
const Tickets = "tickets"

func init() {
	register(genSpec{
		entity: "tickets", model: ticket{},
		firstID: 47000000, idGap: 25, salt: 0x2b9e44c1a7f3,
		needs: []string{Customers, Messages, SatisfactionSurveys},
		make:  func(s *Sim, t *table) generator { return &ticketGen{s: s, t: t} },
	})
}

type ticketIntegration struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Type    string `json:"type"`
}

type customFieldValue struct {
	ID         int64          `json:"id"`
	Value      any            `json:"value"`
	Prediction map[string]any `json:"prediction"`
}

type ticket struct {
	ID                          int64                       `json:"id"`
	URI                         string                      `json:"uri"`
	ExternalID                  *string                     `json:"external_id"`
	Language                    *string                     `json:"language"`
	Status                      string                      `json:"status"`
	Priority                    string                      `json:"priority"`
	Channel                     string                      `json:"channel"`
	Via                         string                      `json:"via"`
	FromAgent                   bool                        `json:"from_agent"`
	Spam                        bool                        `json:"spam"`
	Customer                    personRef                   `json:"customer"`
	AssigneeUser                *personRef                  `json:"assignee_user"`
	AssigneeUserID              *int64                      `json:"assignee_user_id"`
	AssigneeTeam                *teamRef                    `json:"assignee_team"`
	AssigneeTeamID              *int64                      `json:"assignee_team_id"`
	Subject                     *string                     `json:"subject"`
	Excerpt                     *string                     `json:"excerpt"`
	Integrations                []ticketIntegration         `json:"integrations"`
	Meta                        map[string]any              `json:"meta"`
	Tags                        []tagRef                    `json:"tags"`
	CustomFields                map[string]customFieldValue `json:"custom_fields"`
	MessagesCount               int                         `json:"messages_count"`
	IsUnread                    bool                        `json:"is_unread"`
	CreatedDatetime             stamp                       `json:"created_datetime"`
	OpenedDatetime              stamp                       `json:"opened_datetime"`
	LastReceivedMessageDatetime stamp                       `json:"last_received_message_datetime"`
	LastMessageDatetime         stamp                       `json:"last_message_datetime"`
	UpdatedDatetime             stamp                       `json:"updated_datetime"`
	ClosedDatetime              stamp                       `json:"closed_datetime"`
	SnoozeDatetime              stamp                       `json:"snooze_datetime"`
	TrashedDatetime             stamp                       `json:"trashed_datetime"`
	extras

	form  tsForm
	topic int
	order int64 // order number the conversation is about
}

// ticketGen makes tickets, each with its conversation (messages, made by
// the messages generator) and, once closed, sometimes a survey.
type ticketGen struct {
	s *Sim
	t *table
}

func (g *ticketGen) customers() *customerGen { return g.s.gen(Customers).(*customerGen) }
func (g *ticketGen) messages() *messageGen   { return g.s.gen(Messages).(*messageGen) }
func (g *ticketGen) surveys() *surveyGen     { return g.s.gen(SatisfactionSurveys).(*surveyGen) }

// plan edits about 5% of the tickets and opens about 1% new ones.
func (g *ticketGen) plan(b *batch) {
	all := objectsOf[*ticket](g.t)
	b.sample(len(all), 0.05, g.s.cfg.Tickets, func(j int) func(time.Time) {
		return func(at time.Time) { g.edit(all[j], at) }
	})
	if len(all) > 0 || g.customers().t.len() > 0 {
		times(0.01, g.s.cfg.Tickets, func() { b.at(b.when(), g.open) })
	}
}

// EditTicket applies one or two edits to the ticket (status open/closed,
// priority, tags, subject, assignee, read state, snooze, custom field,
// rarely trash/untrash) and sets updated_datetime to a fresh stamp.
// Closing a ticket without a survey creates one with probability about
// SurveyShare/0.7 (should_send_datetime one day later).
func (s *Sim) EditTicket(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gen(Tickets).(*ticketGen)
	tk, ok := objectOf[*ticket](g.t, id)
	if !ok {
		return fmt.Errorf("ticket %d: %w", id, ErrNotFound)
	}
	g.edit(tk, s.now())
	return nil
}

// edit applies one or two drawn edits at time at (see EditTicket); a
// ticket removed since the edit was planned is left alone.
func (g *ticketGen) edit(tk *ticket, at time.Time) {
	if !g.t.has(tk.ID) {
		return
	}
	r := g.s.rng
	st := g.s.stampAt(at, tk.form)
	closedNow := false
	wasTrashed := tk.TrashedDatetime.isSet()
	for range 1 + r.IntN(2) {
		closedNow = g.editOne(r, tk, st) || closedNow
	}
	tk.UpdatedDatetime = st
	g.s.changedAs(g.t, tk, g.s.del.trashNote(wasTrashed, tk))
	if closedNow && !tk.Spam {
		g.surveys().onClosed(tk, at)
	}
}

// editOne applies one drawn edit stamped st; true when it closed the ticket.
func (g *ticketGen) editOne(r *rand.Rand, tk *ticket, st stamp) (closed bool) {
	switch x := r.IntN(100); {
	case x < 30: // status
		if tk.Status == "open" {
			tk.Status, tk.ClosedDatetime, tk.IsUnread = "closed", st, false
			return true
		}
		tk.Status, tk.ClosedDatetime, tk.SnoozeDatetime = "open", stamp{}, stamp{}
	case x < 42:
		tk.Priority = pick(r, []string{"critical", "high", "normal", "low"})
	case x < 56:
		g.toggleTag(r, tk)
	case x < 64:
		tk.Subject = ptr(g.expand(topics[tk.topic].subject, tk, "") + pick(r, []string{" (urgent)", " - follow-up", " [VIP]", ""}))
	case x < 76:
		g.reassign(r, tk)
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
	return false
}

// toggleTag adds a drawn tag, or removes it when present (never the last).
func (g *ticketGen) toggleTag(r *rand.Rand, tk *ticket) {
	t := pick(r, g.s.tags)
	if i := slices.IndexFunc(tk.Tags, func(x tagRef) bool { return x.ID == t.ID }); i >= 0 && len(tk.Tags) > 1 {
		tk.Tags = slices.Delete(slices.Clone(tk.Tags), i, i+1)
	} else if i < 0 {
		tk.Tags = append(slices.Clone(tk.Tags), t)
	}
}

// reassign unassigns the agent (1 in 5) or assigns a drawn agent and team.
func (g *ticketGen) reassign(r *rand.Rand, tk *ticket) {
	if r.IntN(5) == 0 {
		g.assign(tk, -1)
		return
	}
	g.assign(tk, r.IntN(len(g.s.users)))
	g.assignTeam(tk, r.IntN(len(g.s.teams)))
}

// open creates a ticket (sometimes with a new customer) with its first message.
func (g *ticketGen) open(at time.Time) {
	r := g.s.rng
	custs := g.customers().t
	var c *customer
	if custs.len() == 0 || r.Float64() < 0.3 {
		c = g.customers().createAt(r, at)
	} else {
		c = objectAt[*customer](custs, r.IntN(custs.len()))
	}
	tk := g.newTicketCore(r, g.t.newID(r), c)
	tk.CreatedDatetime = g.s.stampAt(at, tk.form)
	tk.UpdatedDatetime = tk.CreatedDatetime
	tk.Excerpt = ptr("")
	g.t.add(tk)
	g.messages().add(tk, at, ptr(tk.FromAgent))
}

// onMessage updates the ticket for its new message m: count, excerpt,
// last message, read and open state.
func (g *ticketGen) onMessage(tk *ticket, m *message, at time.Time) {
	st := g.s.stampAt(at, tk.form)
	tk.MessagesCount = len(g.messages().thread(tk.ID))
	tk.LastMessageDatetime = mk(m.CreatedDatetime.t, tk.form)
	tk.setExcerpt(m)
	if m.FromAgent {
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
	g.t.changed(tk)
}

func (g *ticketGen) assign(tk *ticket, user int) {
	if user < 0 {
		tk.AssigneeUser, tk.AssigneeUserID = nil, nil
		return
	}
	u := g.s.users[user]
	tk.AssigneeUser = &u
	tk.AssigneeUserID = ptr(u.ID)
}

func (g *ticketGen) assignTeam(tk *ticket, team int) {
	if team < 0 {
		tk.AssigneeTeam, tk.AssigneeTeamID = nil, nil
		return
	}
	t := g.s.teams[team]
	tk.AssigneeTeam = &t
	tk.AssigneeTeamID = ptr(t.ID)
}

func (tk *ticket) setExcerpt(m *message) {
	txt := ""
	if m.StrippedText != nil {
		txt = strings.Join(strings.Fields(*m.StrippedText), " ")
	}
	if utf8.RuneCountInString(txt) > 100 {
		rs := []rune(txt)
		txt = string(rs[:100]) + "..."
	}
	tk.Excerpt = ptr(txt)
}
