package gorgiassim

import (
	"fmt"
	"html"
	"math/rand/v2"
	"strings"
	"time"
)

// Ids of the account's messaging integrations.
const (
	integrationEmail    = 61234
	integrationChat     = 61240
	integrationSMS      = 61255
	integrationFacebook = 61260
	integrationPhone    = 61270
)

// draft is what writing one message needs to know.
type draft struct {
	r               *rand.Rand
	tk              *ticket
	tp              topicT
	agent, cust     personRef
	custName        string
	fromAgent, note bool
	email           bool // an e-mail-like public message: quoted, with headers
	prev            *message
}

// buildMessage draws the content of a message (everything but its
// timestamps other than created_datetime, which the caller sets).
func (g *messageGen) buildMessage(r *rand.Rand, id int64, tk *ticket, fromAgent, note bool, prev *message, at time.Time) *message {
	d := g.newDraft(r, tk, fromAgent, note, prev)
	m := &message{
		ID: id, URI: fmt.Sprintf("/api/tickets/%d/messages/%d/", tk.ID, id), TicketID: tk.ID,
		Public: !note, Channel: tk.Channel, Via: tk.Via, FromAgent: fromAgent,
		Headers: map[string]string{}, Attachments: []attachment{}, Macros: []macroRef{},
		extras: newExtras(g.s.cfg.ExtraFields), form: g.t.form(id),
	}
	if prev != nil && fromAgent {
		m.Via = "helpdesk"
	}
	g.writeBody(d, m)
	g.writeSource(d, m)
	setParticipants(d, m)
	setIntegration(d, m)
	if d.email {
		g.writeEmailHeaders(d, m, at)
	}
	if tk.Channel == "api" {
		m.ExternalID = ptr(fmt.Sprintf("ext-msg-%d", id%1000000))
	}
	if !fromAgent {
		g.drawCustomerExtras(d, m)
	} else if !note {
		drawAgentExtras(d, m)
	}
	return m
}

// newDraft draws the agent (the assignee if any) and sets the context.
func (g *messageGen) newDraft(r *rand.Rand, tk *ticket, fromAgent, note bool, prev *message) draft {
	d := draft{r: r, tk: tk, tp: topics[tk.topic], agent: pick(r, g.s.users), cust: tk.Customer,
		custName: "Customer", fromAgent: fromAgent, note: note, prev: prev,
		email: emailLike(tk.Channel) && !note}
	if tk.AssigneeUser != nil {
		d.agent = *tk.AssigneeUser
	}
	d.cust.extras = extras{}
	if d.cust.Name != nil {
		d.custName = *d.cust.Name
	}
	return d
}

func emailLike(ch string) bool {
	return ch == "email" || ch == "contact_form" || ch == "help-center" || ch == "api"
}

// writeBody draws the text and renders body, stripped text, signature and
// the quoted previous message.
func (g *messageGen) writeBody(d draft, m *message) {
	text := g.tickets().expand(drawText(d), d.tk, *d.agent.Name)
	body, stripped := text, text
	var sig *string
	if d.email {
		team := titleDomain(g.s.cfg.Domain) + " Support"
		if d.fromAgent {
			stripped = g.tickets().expand("Hi {first},\n\n", d.tk, "") + text
			sig = ptr("Best,\n" + d.agent.Firstname + "\n" + team)
			body = stripped + "\n\n" + *sig
		} else {
			stripped = "Hi,\n\n" + text + "\n\nThanks,\n" + d.cust.Firstname
			body = stripped
		}
		body += g.quote(d)
	}
	m.BodyText, m.BodyHTML = ptr(body), ptr(htmlOf(body))
	m.StrippedText, m.StrippedHTML = ptr(stripped), ptr(htmlOf(stripped))
	m.StrippedSignature = sig
}

// drawText draws the message's template.
func drawText(d draft) string {
	switch {
	case d.note:
		return pick(d.r, internalNotes)
	case d.fromAgent:
		return pick(d.r, d.tp.agent)
	case d.prev == nil || d.r.Float64() < 0.5:
		return pick(d.r, d.tp.customer)
	default:
		return pick(d.r, shortCustomer)
	}
}

// quote is the quoted previous public message of an e-mail thread, or "".
func (g *messageGen) quote(d draft) string {
	prev := d.prev
	if prev == nil || prev.StrippedText == nil || !prev.Public {
		return ""
	}
	who := titleDomain(g.s.cfg.Domain) + " Support <" + g.s.supportAddress() + ">"
	if !prev.FromAgent {
		who = d.custName + " <" + deref(d.cust.Email) + ">"
	}
	quoted := strings.Split(*prev.StrippedText, "\n")
	return "\n\nOn " + prev.CreatedDatetime.t.Format("Mon, Jan 2, 2006 at 3:04 PM") + " " + who + " wrote:\n> " + strings.Join(quoted, "\n> ")
}

func htmlOf(text string) string {
	var b strings.Builder
	for i, para := range strings.Split(text, "\n\n") {
		if i > 0 {
			b.WriteString("<div><br></div>")
		}
		b.WriteString("<div>")
		for j, line := range strings.Split(para, "\n") {
			if j > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(html.EscapeString(line))
		}
		b.WriteString("</div>")
	}
	return b.String()
}
