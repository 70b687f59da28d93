package gorgiassim

import (
	"math/rand/v2"
	"strings"
	"time"
)

// CustomFields is the resource of custom field definitions (for Objects,
// IDs and Deny). Its list needs object_type=Ticket or Customer.
const CustomFields = "custom-fields"

// Ids of the remaining custom fields; fieldContactReason, fieldSentiment
// (tickets) and fieldCustomerTier (customers) are the ones the tickets and
// customers carry values of.
const (
	fieldProduct        = 1203
	fieldResolution     = 1204
	fieldOrderNumber    = 1205
	fieldRefundAmount   = 1206
	fieldEscalated      = 1207
	fieldCallStatus     = 1208
	fieldBirthday       = 5102
	fieldLifetimeOrders = 5103
	fieldNewsletter     = 5104
)

func init() {
	register(genSpec{
		entity: "custom_fields", model: customField{},
		firstID: 1200, idGap: 1, salt: 0x3c5f1e1d0a77,
		enums:   []enumFilter{{param: "object_type", values: []string{"Ticket", "Customer"}, required: true}},
		orderBy: []string{"priority"},
		aliases: []string{"fields"},
		make:    func(s *Sim, t *table) generator { return &customFieldGen{s: s, t: t} },
	})
}

type customField struct {
	ID                  int64                 `json:"id"`
	ExternalID          *string               `json:"external_id"`
	ObjectType          string                `json:"object_type"`
	Label               string                `json:"label"`
	Description         *string               `json:"description"`
	Priority            int64                 `json:"priority"`
	Required            bool                  `json:"required"`
	RequirementType     string                `json:"requirement_type"`
	ManagedType         *string               `json:"managed_type"`
	Definition          customFieldDefinition `json:"definition"`
	CreatedDatetime     stamp                 `json:"created_datetime"`
	UpdatedDatetime     stamp                 `json:"updated_datetime"`
	DeactivatedDatetime stamp                 `json:"deactivated_datetime"`
	extras

	form tsForm
}

type customFieldDefinition struct {
	DataType      string         `json:"data_type"`
	InputSettings map[string]any `json:"input_settings"`
}

// fieldSpec is one definition of the account's fixed set.
type fieldSpec struct {
	id                  int64
	object, label, desc string
	managed             string
	def                 customFieldDefinition
}

// dropdown is a text field chosen from a list.
func dropdown(choices ...any) customFieldDefinition {
	return customFieldDefinition{DataType: "text", InputSettings: map[string]any{"input_type": "dropdown", "choices": choices}}
}

// fieldSpecs are the account's custom fields: eight of tickets and four of
// customers (a fixed set, as an account configures a handful), in id order.
func fieldSpecs() []fieldSpec {
	reasons := make([]any, 0, len(topics))
	for _, t := range topics {
		reasons = append(reasons, t.reason)
	}
	prods := make([]any, 0, len(products))
	for _, p := range products {
		prods = append(prods, p)
	}
	return []fieldSpec{
		{fieldContactReason, "Ticket", "Contact reason", "Why the customer contacted us", "contact_reason", dropdown(reasons...)},
		{fieldSentiment, "Ticket", "Sentiment", "", "managed_sentiment", dropdown("Positive", "Neutral", "Negative")},
		{fieldProduct, "Ticket", "Product", "The product the ticket is about", "product", dropdown(prods...)},
		{fieldResolution, "Ticket", "Resolution", "", "resolution", dropdown("Resolved::Refund issued", "Resolved::Replacement sent", "Resolved::Information given", "Unresolved")},
		{fieldOrderNumber, "Ticket", "Order number", "Shopify order name, e.g. #10234", "", customFieldDefinition{DataType: "text", InputSettings: map[string]any{"input_type": "input", "placeholder": "#10000"}}},
		{fieldRefundAmount, "Ticket", "Refund amount", "In USD", "", customFieldDefinition{DataType: "number", InputSettings: map[string]any{"input_type": "input_number", "min": 0, "max": 5000}}},
		{fieldEscalated, "Ticket", "Escalated", "", "", customFieldDefinition{DataType: "boolean", InputSettings: map[string]any{"input_type": "dropdown", "choices": []any{true, false}, "default": false}}},
		{fieldCallStatus, "Ticket", "Call status", "", "call_status", dropdown("Answered", "Missed", "Voicemail")},
		{fieldCustomerTier, "Customer", "Customer tier", "", "customer_type", dropdown("VIP", "Wholesale", "Press", "Standard")},
		{fieldBirthday, "Customer", "Birthday", "MM-DD", "", customFieldDefinition{DataType: "text", InputSettings: map[string]any{"input_type": "input", "placeholder": "MM-DD"}}},
		{fieldLifetimeOrders, "Customer", "Lifetime orders", "", "", customFieldDefinition{DataType: "number", InputSettings: map[string]any{"input_type": "input_number", "min": 0}}},
		{fieldNewsletter, "Customer", "Newsletter opt-in", "", "", customFieldDefinition{DataType: "boolean", InputSettings: map[string]any{"input_type": "dropdown", "choices": []any{true, false}}}},
	}
}

// customFieldGen makes the account's custom field definitions; every
// Advance edits one (label, description, priority or requirement).
type customFieldGen struct {
	s *Sim
	t *table
}

// seed creates the fixed set over the first tenth of the history, each
// object type's fields prioritised 0, 1, 2...; some were edited later.
func (g *customFieldGen) seed(r *rand.Rand) {
	begin, end := g.s.seedSpan()
	prio := map[string]int64{}
	for i, fs := range fieldSpecs() {
		created := begin.Add(time.Duration(i)*time.Hour + randDur(r, g.s.cfg.History/10))
		updated := created
		if r.IntN(3) == 0 {
			updated = created.Add(randDur(r, end.Sub(created)))
		}
		f := g.t.form(fs.id)
		cf := &customField{
			ID: fs.id, ObjectType: fs.object, Label: fs.label, Priority: prio[fs.object],
			RequirementType: "visible", Definition: fs.def,
			CreatedDatetime: mk(created, f), UpdatedDatetime: mk(updated, f),
			extras: newExtras(g.s.cfg.ExtraFields), form: f,
		}
		prio[fs.object]++
		if fs.desc != "" {
			cf.Description = ptr(fs.desc)
		}
		if fs.managed != "" {
			cf.ManagedType = ptr(fs.managed)
		}
		if fs.id == fieldContactReason {
			cf.Required, cf.RequirementType = true, "required"
		}
		g.t.add(cf)
	}
}

// plan edits one drawn definition.
func (g *customFieldGen) plan(b *batch) {
	all := objectsOf[*customField](g.t)
	b.sample(len(all), 0, 1, func(j int) func(time.Time) {
		return func(at time.Time) { g.edit(g.s.rng, all[j], at) }
	})
}

// edit changes the label, the description, the priority or the
// requirement, and stamps updated_datetime.
func (g *customFieldGen) edit(r *rand.Rand, cf *customField, at time.Time) {
	switch r.IntN(4) {
	case 0:
		base, _, _ := strings.Cut(cf.Label, " (")
		cf.Label = base + pick(r, []string{"", " (internal)", " (new)", " (v2)"})
	case 1:
		cf.Description = ptr(pick(r, []string{"Filled in by the agent", "Set by automation", "Used in reports"}))
	case 2:
		cf.Priority = int64(r.IntN(20))
	case 3:
		cf.Required = !cf.Required
		cf.RequirementType = map[bool]string{true: "required", false: "visible"}[cf.Required]
	}
	cf.UpdatedDatetime = g.s.stampAt(at, cf.form)
	g.t.changed(cf)
}
