package gorgiassim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Widgets is the resource of sidebar widgets (for Objects, IDs and Deny).
const Widgets = "widgets"

func init() {
	register(genSpec{
		entity: "widgets", model: widget{}, firstID: 227000, idGap: 9, salt: 0x51f7a3c80e96,
		needs: []string{Integrations},
		make:  func(s *Sim, t *table) generator { return &widgetGen{s: s, t: t} },
	})
}

// widget is a sidebar widget as GET /api/widgets renders it.
type widget struct {
	ID                  int64          `json:"id"`
	URI                 string         `json:"uri"`
	Type                string         `json:"type"`
	Context             string         `json:"context"`
	Order               int64          `json:"order"`
	IntegrationID       *int64         `json:"integration_id"`
	AppID               *string        `json:"app_id"`
	Template            map[string]any `json:"template"`
	CreatedDatetime     stamp          `json:"created_datetime"`
	UpdatedDatetime     stamp          `json:"updated_datetime"`
	DeactivatedDatetime stamp          `json:"deactivated_datetime"`
	extras

	form tsForm
}

// card is one component of a widget template: a card, list or text.
type card struct {
	Path    string `json:"path"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	Widgets []card `json:"widgets,omitempty"`
}

// widgetGen gives the Shopify, Recharge and Yotpo integrations a widget per
// context, every HTTP integration and the returns app one widget (so the
// number follows the fixed integration list, not Config), and edits one or
// two widgets on every Advance, bumping updated_datetime.
type widgetGen struct {
	s *Sim
	t *table
}

// widgetDraft is a widget before its id is known.
type widgetDraft struct {
	w       *widget
	created time.Time
}

// seed creates the widgets a day or two after their integrations, in
// creation order.
func (g *widgetGen) seed(r *rand.Rand) {
	_, end := g.s.seedSpan()
	var drafts []widgetDraft
	for _, in := range objectsOf[*integration](g.s.table(Integrations)) {
		for _, w := range g.widgetsOf(in) {
			drafts = append(drafts, widgetDraft{w: w, created: in.CreatedDatetime.t.Add(2*time.Hour + randDur(r, 40*time.Hour))})
		}
	}
	slices.SortStableFunc(drafts, func(a, b widgetDraft) int { return a.created.Compare(b.created) })
	order := map[string]int64{}
	for _, d := range drafts {
		id := g.t.newID(r)
		f := g.t.form(id)
		w := d.w
		w.ID, w.URI, w.form = id, fmt.Sprintf("/api/widgets/%d/", id), f
		w.Order, order[w.Context] = order[w.Context], order[w.Context]+1
		w.CreatedDatetime = mk(d.created, f)
		w.UpdatedDatetime = mk(d.created.Add(time.Duration(r.Float64()*r.Float64()*float64(end.Sub(d.created)))), f)
		w.extras = newExtras(g.s.cfg.ExtraFields)
		g.t.add(w)
	}
}

// widgetsOf are the widgets showing the data of integration in.
func (g *widgetGen) widgetsOf(in *integration) []*widget {
	switch in.Type {
	case "shopify":
		return []*widget{shopifyWidget("ticket"), shopifyWidget("customer")}
	case "recharge":
		return []*widget{newWidget("recharge", "ticket", card{Path: "subscriptions", Type: "list", Title: "Subscriptions", Widgets: []card{
			{Path: "status", Type: "text", Title: "Status"}, {Path: "next_charge_scheduled_at", Type: "date", Title: "Next charge"},
			{Path: "product_title", Type: "text", Title: "Product"}}})}
	case "yotpo":
		return []*widget{newWidget("yotpo", "customer", card{Path: "reviews", Type: "list", Title: "Reviews", Widgets: []card{
			{Path: "score", Type: "text", Title: "Score"}, {Path: "title", Type: "text", Title: "Title"}}})}
	case "app":
		w := newWidget("customer_external_data", "customer", card{Path: "returns", Type: "list", Title: in.Name, Widgets: []card{
			{Path: "state", Type: "text", Title: "State"}, {Path: "refund_amount", Type: "text", Title: "Refund"}}})
		w.AppID = in.ApplicationID
		return []*widget{w}
	case "http":
		w := newWidget("http", "ticket", card{Path: "", Type: "card", Title: in.Name, Widgets: []card{
			{Path: "id", Type: "text", Title: "ID"}, {Path: "status", Type: "text", Title: "Status"}}})
		w.IntegrationID = ptr(in.ID)
		return []*widget{w}
	}
	return nil
}

func shopifyWidget(context string) *widget {
	return newWidget("shopify", context,
		card{Path: "customer", Type: "card", Title: "Customer", Widgets: []card{
			{Path: "orders_count", Type: "text", Title: "Orders"}, {Path: "total_spent", Type: "text", Title: "Total spent"},
			{Path: "tags", Type: "text", Title: "Tags"}}},
		card{Path: "orders", Type: "list", Title: "Orders", Widgets: []card{
			{Path: "name", Type: "text", Title: "Order"}, {Path: "financial_status", Type: "text", Title: "Payment"},
			{Path: "fulfillment_status", Type: "text", Title: "Fulfillment"}}})
}

// newWidget makes a widget whose template wraps cards.
func newWidget(typ, context string, cards ...card) *widget {
	return &widget{Type: typ, Context: context, Template: map[string]any{"type": "wrapper", "widgets": cards}}
}

// plan edits one or two widgets.
func (g *widgetGen) plan(b *batch) {
	all := objectsOf[*widget](g.t)
	b.sample(len(all), 0.05+0.1*b.r.Float64(), 12, func(j int) func(time.Time) {
		return func(at time.Time) { g.edit(all[j], at) }
	})
}

// widgetExtras are the fields an edit adds to, or removes from, a
// template's first card.
var widgetExtras = []card{
	{Path: "note", Type: "text", Title: "Note"}, {Path: "created_at", Type: "date", Title: "Since"},
	{Path: "email", Type: "email", Title: "E-mail"}, {Path: "url", Type: "url", Title: "Link"},
}

// edit changes the widget at time at: its order, a field of its template,
// or (one time in five) its activation.
func (g *widgetGen) edit(w *widget, at time.Time) {
	r := g.s.rng
	switch r.IntN(5) {
	case 0:
		w.DeactivatedDatetime = g.toggleDeactivated(w, at)
	case 1:
		w.Order = (w.Order + 1 + r.Int64N(3)) % 8
	default:
		w.Template = toggleField(w.Template, pick(r, widgetExtras))
	}
	w.UpdatedDatetime = g.s.stampAt(at, w.form)
	g.t.changed(w)
}

func (g *widgetGen) toggleDeactivated(w *widget, at time.Time) stamp {
	if w.DeactivatedDatetime.isSet() {
		return stamp{}
	}
	return g.s.stampAt(at, w.form)
}

// toggleField is a copy of the template whose first card has field c
// removed, or added.
func toggleField(tpl map[string]any, c card) map[string]any {
	cards := slices.Clone(tpl["widgets"].([]card))
	first := cards[0]
	fields := slices.Clone(first.Widgets)
	if i := slices.IndexFunc(fields, func(x card) bool { return x.Path == c.Path }); i >= 0 {
		fields = slices.Delete(fields, i, i+1)
	} else {
		fields = append(fields, c)
	}
	first.Widgets = fields
	cards[0] = first
	return map[string]any{"type": tpl["type"], "widgets": cards}
}
