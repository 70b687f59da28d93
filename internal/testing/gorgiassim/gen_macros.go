package gorgiassim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Macros is the resource of macros, the canned replies (for Objects, IDs
// and Deny).
const Macros = "macros"

// macroFirstID: agent replies refer to macro macroFirstID + topic*10 + 0..2
// (drawAgentExtras), the three macros of their topic.
const macroFirstID = 90000

func init() {
	register(genSpec{
		entity: "macros", model: macroObj{},
		firstID: macroFirstID - 10, idGap: 10, salt: 0x48e1b7d09c35,
		needs: []string{Messages, Tags},
		flags: []flagFilter{{param: "archived", stamp: "archived_datetime"}},
		make:  func(s *Sim, t *table) generator { return &macroGen{s: s, t: t} },
	})
}

type macroAction struct {
	Name      string         `json:"name"`
	Title     string         `json:"title"`
	Type      string         `json:"type"`
	Arguments map[string]any `json:"arguments"`
}

type macroObj struct {
	ID               int64         `json:"id"`
	ExternalID       *string       `json:"external_id"`
	Name             string        `json:"name"`
	Intent           *string       `json:"intent"`
	Language         *string       `json:"language"`
	Usage            int           `json:"usage"`
	Actions          []macroAction `json:"actions"`
	Tags             []tagRef      `json:"tags"`
	ArchivedDatetime stamp         `json:"archived_datetime"`
	CreatedDatetime  stamp         `json:"created_datetime"`
	UpdatedDatetime  stamp         `json:"updated_datetime"`
	URI              string        `json:"uri"`
	extras

	form tsForm
	spec macroSpec
	sign int // index into macroSignOffs
	base int // applications before the seeded history
}

// macroSpec is what a macro does; its actions are rendered from it.
type macroSpec struct {
	name, intent, lang string
	body               string   // reply text, "" for none
	note               string   // internal note, "" for none
	tags               []tagRef // tags added
	status, priority   string   // set when not ""
}

// macroIntents maps topic intents to the macro intents Gorgias accepts.
var macroIntents = map[string]string{
	"order/status": "shipping/status", "order/refund": "refund/request", "order/edit": "shipping/change",
}

var macroSignOffs = []string{"Best,\n{{current_user.firstname}}", "Have a great day!\n{{current_user.firstname}}"}

// generalMacros are the macros not tied to a topic (never referenced by
// messages).
var generalMacros = []macroSpec{
	{name: "Thanks & close", intent: "other/thanks", lang: "en", status: "closed",
		body: "You're welcome! I'm closing this ticket, just reply to this email if you need anything else."},
	{name: "Ask for the order number", intent: "other/question", lang: "en",
		body: "Could you send me your order number (it starts with #) so I can look into it?"},
	{name: "Holiday hours", intent: "other/question", lang: "en",
		body: "Our team is off for the holidays and back on Monday. We will answer you as soon as we are back."},
	{name: "Spam: close", lang: "en", status: "closed", note: "Closed as spam."},
	{name: "Suivi de commande", intent: "shipping/status", lang: "fr",
		body: "Votre commande {{ticket.customer.integrations.shopify.orders[0].name}} est en route, vous recevrez le suivi par e-mail."},
	{name: "Bestellstatus", intent: "shipping/status", lang: "de",
		body: "Ihre Bestellung {{ticket.customer.integrations.shopify.orders[0].name}} ist unterwegs, die Sendungsverfolgung kommt per E-Mail."},
}

// macroGen makes the account's macros: three per ticket topic (first reply,
// resolution, escalation; the ones agent replies cite) and the general
// ones. The size is fixed (3*len(topics) + len(generalMacros)); usage is
// recounted from the messages at the end of every Advance.
type macroGen struct {
	s *Sim
	t *table
}

// seed creates the topic macros over 5%..30% of the history and the
// general ones over 35%..90%, last updated between creation and the end.
func (g *macroGen) seed(r *rand.Rand) {
	_, end := g.s.seedSpan()
	at := func(f float64) time.Time { return g.s.historyAt(r, f) }
	n := 3 * len(topics)
	for k := range topics {
		for j := range 3 {
			id := int64(macroFirstID + k*10 + j)
			g.t.lastID = id
			g.t.add(g.newMacro(r, id, g.topicSpec(k, j), at(0.05+0.25*float64(3*k+j)/float64(n)), end))
		}
	}
	for i, sp := range generalMacros {
		g.t.add(g.newMacro(r, g.t.newID(r), sp, at(0.35+0.55*float64(i)/float64(len(generalMacros))), end))
	}
	// The holiday macro was archived after the holidays (the list shows it only with
	// archived=true).
	for _, m := range objectsOf[*macroObj](g.t) {
		if m.spec.name == "Holiday hours" {
			archived := m.CreatedDatetime.t.Add(end.Sub(m.CreatedDatetime.t) / 2)
			m.ArchivedDatetime, m.UpdatedDatetime = mk(archived, m.form), mk(archived, m.form)
			g.t.changed(m)
		}
	}
	g.recount()
}

// topicSpec is macro j of topic k: 0 first reply, 1 resolution (closes),
// 2 escalation (internal note, high priority).
func (g *macroGen) topicSpec(k, j int) macroSpec {
	tp := topics[k]
	title := strings.ToUpper(tp.intent[:1]) + strings.ReplaceAll(tp.intent[1:], "/", " ")
	intent, ok := macroIntents[tp.intent]
	if !ok {
		intent = tp.intent
	}
	sp := macroSpec{intent: intent, lang: "en", tags: []tagRef{g.s.tags[tp.tag]}}
	switch j {
	case 0:
		sp.name, sp.body = title+": first reply", macroText(tp.agent[0])
	case 1:
		sp.name, sp.body, sp.status = title+": resolved", macroText(tp.agent[len(tp.agent)-1]), "closed"
	default:
		sp.name, sp.priority = title+": escalate", "high"
		sp.note = "Escalated to tier 2: " + strings.ToLower(title) + " needs a lead's decision."
	}
	return sp
}

// macroText turns an agent reply into a macro body with Gorgias variables.
func macroText(s string) string {
	s = strings.NewReplacer("#{order}", "{{ticket.customer.integrations.shopify.orders[0].name}}",
		"{order}", "{{ticket.customer.integrations.shopify.orders[0].order_number}}",
		"the {product}", "your item", "{product}", "item").Replace(s)
	return "Hi {{ticket.customer.firstname}},\n\n" + s
}

func (g *macroGen) newMacro(r *rand.Rand, id int64, sp macroSpec, created, end time.Time) *macroObj {
	f := g.t.form(id)
	m := &macroObj{
		ID: id, Name: sp.name, Language: ptr(sp.lang),
		CreatedDatetime: mk(created, f),
		UpdatedDatetime: mk(created.Add(time.Duration(r.Float64()*float64(end.Sub(created)))), f),
		URI:             fmt.Sprintf("/api/macros/%d/", id),
		extras:          newExtras(g.s.cfg.ExtraFields), form: f,
		spec: sp, sign: r.IntN(len(macroSignOffs)), base: r.IntN(400),
	}
	if sp.intent != "" {
		m.Intent = ptr(sp.intent)
	}
	m.render()
	return m
}

// render sets the actions and tags from the spec.
func (m *macroObj) render() {
	sp := m.spec
	m.Actions = []macroAction{}
	if sp.body != "" {
		text := sp.body + "\n\n" + macroSignOffs[m.sign]
		m.Actions = append(m.Actions, macroAction{Name: "setResponseText", Title: "Add response text", Type: "user",
			Arguments: map[string]any{"body_text": text, "body_html": htmlOf(text)}})
	}
	if sp.note != "" {
		m.Actions = append(m.Actions, macroAction{Name: "addInternalNote", Title: "Add internal note", Type: "user",
			Arguments: map[string]any{"body_text": sp.note, "body_html": htmlOf(sp.note)}})
	}
	m.Tags = slices.Clone(sp.tags)
	if len(sp.tags) > 0 {
		names := make([]string, len(sp.tags))
		for i, t := range sp.tags {
			names[i] = t.Name
		}
		m.Actions = append(m.Actions, macroAction{Name: "addTags", Title: "Add tags", Type: "user",
			Arguments: map[string]any{"tags": strings.Join(names, ", ")}})
	}
	if sp.priority != "" {
		m.Actions = append(m.Actions, macroAction{Name: "setPriority", Title: "Set priority", Type: "user",
			Arguments: map[string]any{"priority": sp.priority}})
	}
	if sp.status != "" {
		m.Actions = append(m.Actions, macroAction{Name: "setStatus", Title: "Set status", Type: "user",
			Arguments: map[string]any{"status": sp.status}})
	}
}

// plan edits about 5% of the macros (at least one) at drawn times and
// recounts usage at the end of the batch, after the new messages.
func (g *macroGen) plan(b *batch) {
	all := objectsOf[*macroObj](g.t)
	b.sample(len(all), 0.05, len(all), func(j int) func(time.Time) {
		return func(at time.Time) { g.edit(all[j], at) }
	})
	b.at(b.to, func(time.Time) { g.recount() })
	if len(all) > 0 && b.r.IntN(3) == 0 { // now and then an agent archives a macro, or restores one
		m := all[b.r.IntN(len(all))]
		b.at(b.when(), func(at time.Time) { g.archive(m, at) })
	}
}

// archive archives m (the list hides it unless asked with archived=true), or
// restores it when it was archived; updated_datetime moves either way.
func (g *macroGen) archive(m *macroObj, at time.Time) {
	if m.ArchivedDatetime.isSet() {
		m.ArchivedDatetime = stamp{}
	} else {
		m.ArchivedDatetime = g.s.stampAt(at, m.form)
	}
	m.UpdatedDatetime = g.s.stampAt(at, m.form)
	g.t.changed(m)
}

// edit changes the sign-off, the urgent tag or the external id, and bumps
// updated_datetime.
func (g *macroGen) edit(m *macroObj, at time.Time) {
	r := g.s.rng
	switch r.IntN(3) {
	case 0:
		m.sign = (m.sign + 1) % len(macroSignOffs)
	case 1:
		g.toggleUrgent(m)
	default:
		if m.ExternalID == nil {
			m.ExternalID = ptr(fmt.Sprintf("zendesk-macro-%d", 360000000+m.ID))
		} else {
			m.ExternalID = nil
		}
	}
	m.render()
	m.UpdatedDatetime = g.s.stampAt(at, m.form)
	g.t.changed(m)
}

// toggleUrgent adds the pool's "urgent" tag to the macro, or removes it.
func (g *macroGen) toggleUrgent(m *macroObj) {
	i := slices.IndexFunc(g.s.tags, func(t tagRef) bool { return t.Name == "urgent" })
	if i < 0 {
		return
	}
	urgent := g.s.tags[i]
	tags := slices.Clone(m.spec.tags)
	if j := slices.IndexFunc(tags, func(t tagRef) bool { return t.ID == urgent.ID }); j >= 0 {
		tags = slices.Delete(tags, j, j+1)
	} else {
		tags = append(tags, urgent)
	}
	m.spec.tags = tags
}

// recount sets usage to the applications before the history plus the
// messages citing the macro.
func (g *macroGen) recount() {
	counts := map[int64]int{}
	for _, msg := range objectsOf[*message](g.s.table(Messages)) {
		for _, ref := range msg.Macros {
			counts[ref.ID]++
		}
	}
	for _, m := range objectsOf[*macroObj](g.t) {
		if n := m.base + counts[m.ID]; n != m.Usage {
			m.Usage = n
			g.t.changed(m)
		}
	}
}
