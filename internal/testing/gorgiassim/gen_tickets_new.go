package gorgiassim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Ids of the account's ticket custom fields.
const (
	fieldContactReason = 1201
	fieldSentiment     = 1202
)

// newTicketCore draws a ticket of customer c without timestamps or
// message-derived fields.
func (g *ticketGen) newTicketCore(r *rand.Rand, id int64, c *customer) *ticket {
	combo := channelCombos[weightedCombo(r)]
	tk := &ticket{
		ID: id, URI: fmt.Sprintf("/api/tickets/%d/", id),
		Status: "open", Channel: combo.channel, Via: combo.via,
		FromAgent: combo.via == "helpdesk" || combo.via == "api",
		Customer:  customerRef(c, newExtras(g.s.cfg.ExtraFields)),
		extras:    newExtras(g.s.cfg.ExtraFields),
		form:      g.t.form(id),
		topic:     r.IntN(len(topics)),
		order:     10000 + r.Int64N(90000),
	}
	tk.Subject = ptr(g.expand(topics[tk.topic].subject, tk, ""))
	if r.Float64() < 0.95 {
		lang := "en"
		if c.Language != nil {
			lang = *c.Language
		}
		tk.Language = ptr(lang)
	}
	tk.Priority = drawPriority(r)
	g.drawAssignees(r, tk)
	g.drawTags(r, tk)
	tk.Integrations = g.integrationsOf(tk.Channel)
	g.drawMeta(r, tk)
	drawTicketFields(r, tk)
	if tk.Via == "api" {
		tk.ExternalID = ptr(fmt.Sprintf("crm-%d", 700000+r.IntN(300000)))
	}
	return tk
}

func weightedCombo(r *rand.Rand) int {
	total := 0
	for _, c := range channelCombos {
		total += c.weight
	}
	x := r.IntN(total)
	for i, c := range channelCombos {
		if x < c.weight {
			return i
		}
		x -= c.weight
	}
	return 0
}

func drawPriority(r *rand.Rand) string {
	switch x := r.Float64(); {
	case x < 0.05:
		return "critical"
	case x < 0.2:
		return "high"
	case x < 0.3:
		return "low"
	default:
		return "normal"
	}
}

func (g *ticketGen) drawAssignees(r *rand.Rand, tk *ticket) {
	if r.Float64() < 0.75 {
		g.assign(tk, r.IntN(len(g.s.users)))
	}
	if r.Float64() < 0.6 {
		g.assignTeam(tk, r.IntN(len(g.s.teams)))
	}
}

// drawTags gives the ticket its topic's tag and up to two more.
func (g *ticketGen) drawTags(r *rand.Rand, tk *ticket) {
	tk.Tags = []tagRef{g.s.tags[topics[tk.topic].tag]}
	for range r.IntN(3) {
		t := pick(r, g.s.tags)
		if !slices.ContainsFunc(tk.Tags, func(x tagRef) bool { return x.ID == t.ID }) {
			tk.Tags = append(tk.Tags, t)
		}
	}
}

// integrationsOf is the integration a ticket of the channel came through.
func (g *ticketGen) integrationsOf(ch string) []ticketIntegration {
	switch ch {
	case "email", "contact_form":
		return []ticketIntegration{{Name: "Support email", Address: g.s.supportAddress(), Type: "email"}}
	case "chat":
		return []ticketIntegration{{Name: "Website chat", Address: "", Type: "gorgias_chat"}}
	case "sms", "phone":
		return []ticketIntegration{{Name: "Support line", Address: "+1 555 0100 2000", Type: ch}}
	}
	return []ticketIntegration{}
}

// drawMeta sets the chat page of chat tickets, or sometimes a rule suggestion.
func (g *ticketGen) drawMeta(r *rand.Rand, tk *ticket) {
	switch {
	case tk.Channel == "chat":
		page := strings.ReplaceAll(strings.ToLower(products[tk.order%int64(len(products))]), " ", "-")
		tk.Meta = map[string]any{"chat": map[string]any{"campaign_id": nil, "page_url": g.s.shopURL() + "/products/" + page}}
	case r.Float64() < 0.2:
		tk.Meta = map[string]any{"rule_suggestion": map[string]any{"slug": topics[tk.topic].intent, "actions": []string{"applyMacro"}}}
	}
}

// drawTicketFields sets the contact reason (often predicted) and sometimes
// the sentiment.
func drawTicketFields(r *rand.Rand, tk *ticket) {
	if r.Float64() >= 0.7 {
		return
	}
	var pred map[string]any
	if r.Float64() < 0.6 {
		pred = map[string]any{"predicted": topics[tk.topic].reason, "confidence": float64(60+r.IntN(40)) / 100, "display": true}
	}
	tk.CustomFields = map[string]customFieldValue{
		strconv.Itoa(fieldContactReason): {ID: fieldContactReason, Value: topics[tk.topic].reason, Prediction: pred},
	}
	if r.Float64() < 0.4 {
		tk.CustomFields[strconv.Itoa(fieldSentiment)] = customFieldValue{ID: fieldSentiment, Value: pick(r, []string{"Positive", "Neutral", "Negative"})}
	}
}

// expand fills the placeholders of a text template for the ticket.
func (g *ticketGen) expand(tpl string, tk *ticket, agent string) string {
	if !strings.Contains(tpl, "{") {
		return tpl
	}
	var b strings.Builder
	b.Grow(len(tpl) + 32)
	for {
		i := strings.IndexByte(tpl, '{')
		j := strings.IndexByte(tpl[max(i, 0):], '}')
		if i < 0 || j < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		b.WriteString(tpl[:i])
		b.WriteString(placeholder(tpl[i:i+j+1], tk, agent))
		tpl = tpl[i+j+1:]
	}
}

// placeholder is the text of one {name} of a template.
func placeholder(ph string, tk *ticket, agent string) string {
	switch ph {
	case "{order}":
		return strconv.FormatInt(tk.order, 10)
	case "{product}":
		return products[tk.order%int64(len(products))]
	case "{first}":
		if tk.Customer.Firstname == "" {
			return "there"
		}
		return tk.Customer.Firstname
	case "{agent}":
		return agent
	}
	return ph
}
