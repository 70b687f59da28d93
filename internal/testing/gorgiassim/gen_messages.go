package gorgiassim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Messages is the resource of ticket messages (for Objects, IDs and Deny).
const Messages = "messages"

func init() {
	register(genSpec{
		entity: "ticket_messages", model: message{},
		firstID: 123000000, idGap: 40, salt: 0x51d0e6b2c98a,
		filters: []string{"ticket_id"},
		parent:  &nesting{entity: Tickets, key: "ticket_id"},
		needs:   []string{Tickets},
		make: func(s *Sim, t *table) generator {
			return &messageGen{s: s, t: t, byTicket: make(map[int64][]*message)}
		},
	})
}

type message struct {
	ID                int64             `json:"id"`
	URI               string            `json:"uri"`
	MessageID         *string           `json:"message_id"`
	TicketID          int64             `json:"ticket_id"`
	ExternalID        *string           `json:"external_id"`
	Public            bool              `json:"public"`
	Channel           string            `json:"channel"`
	Via               string            `json:"via"`
	Source            *msgSource        `json:"source"`
	Sender            personRef         `json:"sender"`
	Receiver          *personRef        `json:"receiver"`
	IntegrationID     *int64            `json:"integration_id"`
	Intents           []intent          `json:"intents"`
	RuleID            *int64            `json:"rule_id"`
	FromAgent         bool              `json:"from_agent"`
	Subject           *string           `json:"subject"`
	BodyText          *string           `json:"body_text"`
	BodyHTML          *string           `json:"body_html"`
	StrippedText      *string           `json:"stripped_text"`
	StrippedHTML      *string           `json:"stripped_html"`
	StrippedSignature *string           `json:"stripped_signature"`
	Headers           map[string]string `json:"headers"`
	Attachments       []attachment      `json:"attachments"`
	Actions           []action          `json:"actions"`
	Macros            []macroRef        `json:"macros"`
	Meta              map[string]any    `json:"meta"`
	CreatedDatetime   stamp             `json:"created_datetime"`
	SentDatetime      stamp             `json:"sent_datetime"`
	FailedDatetime    stamp             `json:"failed_datetime"`
	DeletedDatetime   stamp             `json:"deleted_datetime"`
	OpenedDatetime    stamp             `json:"opened_datetime"`
	LastSendingError  *string           `json:"last_sending_error"`
	IsRetriable       bool              `json:"is_retriable"`
	extras

	form tsForm
}

// messageGen makes the messages of tickets. Messages are written with
// their ticket: the tickets generator plans the seeded conversations and
// opens new tickets with a first message; Advance adds replies.
type messageGen struct {
	s        *Sim
	t        *table
	byTicket map[int64][]*message // each ticket's messages, oldest first
}

func (g *messageGen) tickets() *ticketGen { return g.s.gen(Tickets).(*ticketGen) }

// thread is the ticket's messages, oldest first.
func (g *messageGen) thread(ticketID int64) []*message { return g.byTicket[ticketID] }

// seed does nothing: seeded messages come with their tickets (seedThreads).
func (g *messageGen) seed(*rand.Rand) {}

// msgPlan is a seeded message: its ticket, time, author and kind.
type msgPlan struct {
	tk              *ticket
	at              time.Time
	fromAgent, note bool
	seq             int // position in its ticket's conversation
}

// seedThreads writes the planned messages of every ticket; ids follow
// creation order and content is drawn in that order.
func (g *messageGen) seedThreads(r *rand.Rand, plans []*msgPlan) {
	_, end := g.s.seedSpan()
	slices.SortStableFunc(plans, func(a, b *msgPlan) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.tk.ID, b.tk.ID), cmp.Compare(a.seq, b.seq))
	})
	prevOf := map[int64]*message{}
	for _, p := range plans {
		m := g.buildMessage(r, g.t.newID(r), p.tk, p.fromAgent, p.note, prevOf[p.tk.ID], p.at)
		m.CreatedDatetime = mk(p.at, m.form)
		drawDelivery(r, m, p, end)
		if r.Float64() < 0.01 {
			m.DeletedDatetime = mk(p.at.Add(randDur(r, min(72*time.Hour, end.Sub(p.at)))), m.form)
		}
		prevOf[p.tk.ID] = m
		g.store(m)
	}
}

// drawDelivery sets when a seeded message was sent, failed or opened.
func drawDelivery(r *rand.Rand, m *message, p *msgPlan, end time.Time) {
	f := m.form
	switch {
	case p.note:
		m.SentDatetime = m.CreatedDatetime
	case p.fromAgent:
		if r.Float64() < 0.02 {
			m.FailedDatetime = mk(earlier(p.at.Add(2*time.Second), end), f)
			m.LastSendingError = ptr("550 5.1.1 The email account that you tried to reach does not exist.")
			m.IsRetriable = true
			return
		}
		sent := earlier(p.at.Add(randDur(r, 5*time.Second)), end)
		m.SentDatetime = mk(sent, f)
		if (m.Channel == "email" || m.Channel == "chat") && r.Float64() < 0.5 {
			m.OpenedDatetime = mk(sent.Add(randDur(r, min(48*time.Hour, end.Sub(sent)))), f)
		}
	default:
		if r.Float64() < 0.85 {
			m.SentDatetime = m.CreatedDatetime
		}
	}
}

// store adds a message to the table and to its ticket's thread.
func (g *messageGen) store(m *message) {
	g.t.add(m)
	g.byTicket[m.TicketID] = append(g.byTicket[m.TicketID], m)
}

// plan adds replies on about 3% of the tickets (not trashed, not spam).
func (g *messageGen) plan(b *batch) {
	tickets := g.tickets().t
	n := tickets.len()
	if n == 0 {
		return
	}
	times(0.03, g.s.cfg.Tickets, func() {
		tk := objectAt[*ticket](tickets, b.r.IntN(n))
		if !tk.TrashedDatetime.isSet() && !tk.Spam {
			b.at(b.when(), func(at time.Time) {
				if tickets.has(tk.ID) { // not removed meanwhile (Config.Deletes)
					g.add(tk, at, nil)
				}
			})
		}
	})
}

// AddMessage adds a message to the ticket and returns its id (larger than
// every existing message id). The message comes from the customer when the
// ticket's last message came from an agent, else from an agent. The ticket
// gets messages_count+1, a new excerpt, last_message_datetime and a fresh
// updated_datetime; a customer message reopens a closed ticket.
func (s *Sim) AddMessage(ticketID int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gen(Messages).(*messageGen)
	tk, ok := objectOf[*ticket](g.tickets().t, ticketID)
	if !ok {
		return 0, fmt.Errorf("ticket %d: %w", ticketID, ErrNotFound)
	}
	return g.add(tk, s.now(), nil), nil
}

// add writes a sent message on tk at time at and updates the ticket;
// fromAgent nil alternates with the previous message.
func (g *messageGen) add(tk *ticket, at time.Time, fromAgent *bool) int64 {
	r := g.s.rng
	var prev *message
	if msgs := g.byTicket[tk.ID]; len(msgs) > 0 {
		prev = msgs[len(msgs)-1]
	}
	agent := tk.FromAgent
	if fromAgent != nil {
		agent = *fromAgent
	} else if prev != nil {
		agent = !prev.FromAgent
	}
	m := g.buildMessage(r, g.t.newID(r), tk, agent, false, prev, at)
	m.CreatedDatetime = g.s.stampAt(at, m.form)
	m.SentDatetime = m.CreatedDatetime
	g.store(m)
	g.tickets().onMessage(tk, m, at)
	return m.ID
}
