package gorgiassim

import (
	"fmt"
	"time"
)

type address struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

type msgSource struct {
	Type  string         `json:"type"`
	From  address        `json:"from"`
	To    []address      `json:"to"`
	Cc    []address      `json:"cc"`
	Bcc   []address      `json:"bcc"`
	Extra map[string]any `json:"extra"`
}

type intent struct {
	Name           string `json:"name"`
	IsUserFeedback bool   `json:"is_user_feedback"`
	Rejected       bool   `json:"rejected"`
}

type attachment struct {
	URL         string         `json:"url"`
	Name        string         `json:"name"`
	ContentType string         `json:"content_type"`
	Size        int            `json:"size"`
	Public      bool           `json:"public"`
	Extra       map[string]any `json:"extra"`
}

type action struct {
	Name      string         `json:"name"`
	Title     string         `json:"title"`
	Type      string         `json:"type"`
	Status    string         `json:"status"`
	Arguments map[string]any `json:"arguments"`
}

type macroRef struct {
	ID int64 `json:"id"`
}

// writeSource sets the message's source: channel type, from, to, cc and
// per-channel extras (an internal note changes the message's channel).
func (g *messageGen) writeSource(d draft, m *message) {
	tk := d.tk
	src := &msgSource{Type: tk.Channel, To: []address{}, Cc: []address{}, Bcc: []address{}, Extra: map[string]any{}}
	if emailLike(tk.Channel) {
		src.Type = "email"
	}
	custAddr := address{Name: d.custName, Address: deref(d.cust.Email)}
	switch {
	case d.note:
		m.Channel, m.Via = "internal-note", "helpdesk"
		src.Type = "internal-note"
		src.From = address{Name: *d.agent.Name, Address: deref(d.agent.Email)}
	case d.fromAgent:
		src.From = address{Name: d.agent.Firstname + " from " + titleDomain(g.s.cfg.Domain), Address: g.s.supportAddress()}
		src.To = []address{custAddr}
		if d.email {
			src.Extra["include_thread"] = d.prev != nil
		}
	default:
		src.From = custAddr
		src.To = []address{{Name: titleDomain(g.s.cfg.Domain) + " Support", Address: g.s.supportAddress()}}
		if d.email && d.r.Float64() < 0.05 {
			src.Cc = []address{{Name: "", Address: fold(d.cust.Firstname) + ".partner@" + pick(d.r, mailDomains)}}
		}
	}
	if tk.Channel == "facebook-messenger" || tk.Channel == "instagram-comment" {
		src.Extra["page_id"] = "102938475610293"
		if tk.Channel == "instagram-comment" {
			src.Extra["post_id"] = fmt.Sprintf("1789%011d", tk.order*7919%100000000000)
		}
	}
	m.Source = src
}

// setParticipants sets sender and receiver (a note has no receiver).
func setParticipants(d draft, m *message) {
	if !d.fromAgent {
		m.Sender = d.cust
		return
	}
	m.Sender = d.agent
	if !d.note {
		cust := d.cust
		m.Receiver = &cust
	}
}

// setIntegration sets the integration the message went through.
func setIntegration(d draft, m *message) {
	ch := d.tk.Channel
	var id int64
	switch {
	case d.note:
		return
	case emailLike(ch):
		id = integrationEmail
	case ch == "chat":
		id = integrationChat
	case ch == "sms":
		id = integrationSMS
	case ch == "facebook-messenger" || ch == "instagram-comment":
		id = integrationFacebook
	case ch == "phone":
		id = integrationPhone
	default:
		return
	}
	m.IntegrationID = ptr(id)
}

// writeEmailHeaders sets message_id, subject and the e-mail headers.
func (g *messageGen) writeEmailHeaders(d draft, m *message, at time.Time) {
	if d.fromAgent {
		m.MessageID = ptr("<" + hexID(d.r, 24) + "@" + g.s.cfg.Domain + ".gorgias.email>")
	} else {
		m.MessageID = ptr("<CA+" + hexID(d.r, 28) + "@mail.gmail.com>")
	}
	subj := deref(d.tk.Subject)
	if d.prev != nil {
		subj = "Re: " + subj
	}
	m.Subject = ptr(subj)
	src := m.Source
	h := m.Headers
	h["Message-Id"] = *m.MessageID
	h["Subject"] = subj
	h["Date"] = at.UTC().Format(time.RFC1123Z)
	h["From"] = src.From.Name + " <" + src.From.Address + ">"
	h["To"] = src.To[0].Name + " <" + src.To[0].Address + ">"
	h["Mime-Version"] = "1.0"
	h["Content-Type"] = "multipart/alternative; boundary=\"000000000000" + hexID(d.r, 12) + "\""
	if d.prev != nil && d.prev.MessageID != nil {
		h["In-Reply-To"] = *d.prev.MessageID
	}
}

// drawCustomerExtras draws intents, an attachment and the chat page of a
// customer message.
func (g *messageGen) drawCustomerExtras(d draft, m *message) {
	r := d.r
	if !d.note && d.prev == nil || r.Float64() < 0.3 {
		m.Intents = []intent{{Name: d.tp.intent}}
		if r.Float64() < 0.15 {
			m.Intents = append(m.Intents, intent{Name: "other/thanks", IsUserFeedback: r.Float64() < 0.3})
		}
	}
	if r.Float64() < 0.08 || (d.tp.intent == "order/damaged" && d.prev == nil) {
		a := attachmentPool[r.IntN(len(attachmentPool))]
		m.Attachments = []attachment{{
			URL:  "https://uploads.gorgias.io/" + g.s.cfg.Domain + "/" + hexID(r, 16) + "/" + a.name,
			Name: a.name, ContentType: a.ctype, Size: 20000 + r.IntN(2000000), Public: true, Extra: map[string]any{},
		}}
	}
	if d.tk.Channel == "chat" {
		m.Meta = map[string]any{"current_page": g.s.shopURL() + "/pages/track-order"}
	}
}

// drawAgentExtras draws the macro, rule and Shopify action of an agent reply.
func drawAgentExtras(d draft, m *message) {
	r := d.r
	if r.Float64() < 0.35 {
		m.Macros = []macroRef{{ID: int64(90000 + d.tk.topic*10 + r.IntN(3))}}
	}
	if r.Float64() < 0.05 && d.prev != nil {
		m.Via = "rule"
		m.RuleID = ptr(int64(880100 + r.IntN(20)))
		m.Meta = map[string]any{"rule_id": *m.RuleID, "is_auto_reply": true}
	}
	if r.Float64() < 0.06 {
		m.Actions = []action{shopifyAction(d.tp.intent, d.tk.order)}
	}
}

// shopifyAction is the order action an agent ran for the topic.
func shopifyAction(intent string, order int64) action {
	name, title := "shopifyRefundOrder", "Refund order"
	switch intent {
	case "order/cancel":
		name, title = "shopifyCancelOrder", "Cancel order"
	case "order/edit":
		name, title = "shopifyEditShippingAddressOfOrder", "Edit shipping address"
	}
	return action{Name: name, Title: title, Type: "user", Status: "success",
		Arguments: map[string]any{"order_id": 5100000000000 + order, "reason": "customer"}}
}
