package gorgiassim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Integrations is the resource of integrations (for Objects, IDs and Deny).
const Integrations = "integrations"

// Ids of the account's integrations that other objects name: the Shopify
// store (customers' integrations), the channels messages come through.
var fixedIntegrations = []int64{integrationShopify, integrationEmail, integrationChat,
	integrationSMS, integrationFacebook, integrationPhone}

func init() {
	register(genSpec{
		entity: "integrations", model: integration{}, firstID: 41000, idGap: 30, salt: 0x6d0c2e9f4a81,
		make: func(s *Sim, t *table) generator { return &integrationGen{s: s, t: t} },
	})
}

// integration is an integration as GET /api/integrations renders it.
type integration struct {
	ID                  int64          `json:"id"`
	URI                 string         `json:"uri"`
	Type                string         `json:"type"`
	Name                string         `json:"name"`
	Description         *string        `json:"description"`
	ApplicationID       *string        `json:"application_id"`
	BusinessHoursID     *int64         `json:"business_hours_id"`
	Managed             bool           `json:"managed"`
	Decoration          map[string]any `json:"decoration"`
	Meta                map[string]any `json:"meta"`
	HTTP                *httpConfig    `json:"http"`
	User                idRef          `json:"user"`
	CreatedDatetime     stamp          `json:"created_datetime"`
	UpdatedDatetime     stamp          `json:"updated_datetime"`
	DeactivatedDatetime stamp          `json:"deactivated_datetime"`
	extras

	form tsForm
}

// httpConfig is the configuration of an HTTP integration.
type httpConfig struct {
	ID                  int64             `json:"id"`
	URL                 string            `json:"url"`
	Method              string            `json:"method"`
	Form                map[string]string `json:"form"`
	Headers             map[string]string `json:"headers"`
	RequestContentType  string            `json:"request_content_type"`
	ResponseContentType string            `json:"response_content_type"`
	Triggers            map[string]bool   `json:"triggers"`
}

// idRef is an embedded object known by its id only.
type idRef struct {
	ID int64 `json:"id"`
}

// httpTriggers are the events an HTTP integration can be called on.
var httpTriggers = []string{"ticket-created", "ticket-updated", "ticket-message-created", "ticket-self-unsnoozed",
	"ticket-message-failed", "ticket-assignment-updated", "ticket-status-updated", "ticket-handed-over"}

// integrationGen makes the account's integrations (a fixed list: the
// Shopify store, the messaging channels, a few apps and HTTP integrations;
// its size does not depend on Config) and edits one or two on every
// Advance, bumping updated_datetime.
type integrationGen struct {
	s *Sim
	t *table
}

// integrationSeed makes one seeded integration with the given id.
type integrationSeed func(g *integrationGen, r *rand.Rand, id int64) *integration

func (g *integrationGen) seeds() []integrationSeed {
	return []integrationSeed{
		(*integrationGen).shopify, (*integrationGen).email, (*integrationGen).chat, (*integrationGen).sms,
		(*integrationGen).facebook, (*integrationGen).phone,
		(*integrationGen).gmail, (*integrationGen).recharge, (*integrationGen).yotpo, (*integrationGen).loopApp,
		httpSeed("Order lookup (OMS)", "GET", "https://oms.{domain}.com/api/orders?email={{ticket.customer.email}}", "ticket-created", "ticket-updated"),
		httpSeed("Slack escalations", "POST", "https://hooks.slack.com/services/T04ACME/B07SIM/{secret}", "ticket-created"),
		httpSeed("Loyalty points", "GET", "https://loyalty.example.com/api/v1/customers?email={{ticket.customer.email}}", "ticket-created", "ticket-message-created"),
		httpSeed("Warehouse returns", "POST", "https://wms.{domain}.com/hooks/gorgias", "ticket-status-updated"),
	}
}

// seed creates the integrations over the first month of the history, the
// ones other entities name first, with their fixed ids.
func (g *integrationGen) seed(r *rand.Rand) {
	begin, end := g.s.seedSpan()
	for i, mkIntegration := range g.seeds() {
		id := g.nextID(r, i)
		f := g.t.form(id)
		created := begin.Add(time.Duration(i)*50*time.Hour + randDur(r, 40*time.Hour))
		in := mkIntegration(g, r, id)
		in.URI = fmt.Sprintf("/api/integrations/%d/", id)
		in.CreatedDatetime = mk(created, f)
		in.UpdatedDatetime = mk(created.Add(time.Duration(r.Float64()*r.Float64()*float64(end.Sub(created)))), f)
		in.User = idRef{ID: g.s.users[r.IntN(2)].ID}
		in.extras, in.form = newExtras(g.s.cfg.ExtraFields), f
		g.t.add(in)
	}
}

// nextID is the fixed id of the i-th seeded integration, or a new one.
func (g *integrationGen) nextID(r *rand.Rand, i int) int64 {
	if i < len(fixedIntegrations) {
		g.t.lastID = fixedIntegrations[i]
		return g.t.lastID
	}
	return g.t.newID(r)
}

func (g *integrationGen) shopify(_ *rand.Rand, id int64) *integration {
	d := g.s.cfg.Domain
	return &integration{ID: id, Type: "shopify", Name: d, Managed: true, Meta: map[string]any{
		"shop_name": d, "shop_domain": d + ".myshopify.com", "shop_display_name": titleDomain(d),
		"currency": "USD", "need_scope_update": false, "sync_customer_notes": true,
	}}
}

func (g *integrationGen) email(_ *rand.Rand, id int64) *integration {
	return &integration{ID: id, Type: "email", Name: "Support email", Meta: map[string]any{
		"address": g.s.supportAddress(), "provider": "sendgrid", "preferred": true, "verified": true,
		"email_forwarding_activated":   true,
		"outbound_verification_status": map[string]any{"domain": "success", "single_sender": "success"},
	}}
}

func (g *integrationGen) chat(_ *rand.Rand, id int64) *integration {
	return &integration{ID: id, Type: "gorgias_chat", Name: "Website chat",
		Decoration: map[string]any{"main_color": "#2f80ed", "conversation_color": "#2f80ed", "position": map[string]any{"alignment": "bottom-right", "offsetX": 0, "offsetY": 0}},
		Meta:       map[string]any{"language": "en-US", "shop_name": g.s.cfg.Domain, "shop_type": "shopify", "wizard": map[string]any{"status": "published"}}}
}

func (g *integrationGen) sms(_ *rand.Rand, id int64) *integration {
	return &integration{ID: id, Type: "sms", Name: "Support line", Meta: map[string]any{"phone_number_id": 7001, "emoji": "💬"}}
}

func (g *integrationGen) facebook(_ *rand.Rand, id int64) *integration {
	return &integration{ID: id, Type: "facebook", Name: titleDomain(g.s.cfg.Domain) + " Facebook page", Meta: map[string]any{
		"page_id": "102938475610293", "name": titleDomain(g.s.cfg.Domain),
		"settings": map[string]any{"messenger_enabled": true, "posts_enabled": true, "instagram_comments_enabled": true},
	}}
}

func (g *integrationGen) phone(_ *rand.Rand, id int64) *integration {
	return &integration{ID: id, Type: "phone", Name: "Support line", Meta: map[string]any{
		"phone_number_id": 7001, "emoji": "📞",
		"preferences": map[string]any{"record_inbound_calls": true, "voicemail_outside_business_hours": true, "ring_time": 30},
	}}
}

func (g *integrationGen) gmail(_ *rand.Rand, id int64) *integration {
	addr := "returns@" + g.s.cfg.Domain + ".com"
	return &integration{ID: id, Type: "gmail", Name: addr, Meta: map[string]any{
		"address": addr, "preferred": false, "verified": true, "sync_sent_folder": true,
	}}
}

func (g *integrationGen) recharge(_ *rand.Rand, id int64) *integration {
	return &integration{ID: id, Type: "recharge", Name: g.s.cfg.Domain + " subscriptions", Managed: true,
		Meta: map[string]any{"store_name": g.s.cfg.Domain, "oauth": map[string]any{"status": "success"}}}
}

func (g *integrationGen) yotpo(_ *rand.Rand, id int64) *integration {
	return &integration{ID: id, Type: "yotpo", Name: "Yotpo reviews", Meta: map[string]any{"app_key": "yq7" + strconv.FormatInt(id, 36), "import_reviews": true}}
}

func (g *integrationGen) loopApp(r *rand.Rand, id int64) *integration {
	return &integration{ID: id, Type: "app", Name: "Loop Returns", ApplicationID: ptr(hexID(r, 24)),
		Description: ptr("Returns and exchanges portal"), Meta: map[string]any{"app_url": "https://apps.example.com/loop"}}
}

// httpSeed makes an HTTP integration calling url ({domain} and {secret}
// are filled in) on the given triggers.
func httpSeed(name, method, url string, triggers ...string) integrationSeed {
	return func(g *integrationGen, r *rand.Rand, id int64) *integration {
		h := &httpConfig{ID: 900000 + id%100000, Method: method, URL: g.fillURL(r, url),
			Form: map[string]string{}, Headers: map[string]string{},
			RequestContentType: "application/json", ResponseContentType: "application/json",
			Triggers: map[string]bool{},
		}
		for _, tr := range triggers {
			h.Triggers[tr] = true
		}
		if method == "POST" {
			h.Form = map[string]string{"ticket_id": "{{ticket.id}}", "subject": "{{ticket.subject}}", "customer": "{{ticket.customer.email}}"}
		} else {
			h.Headers = map[string]string{"X-Api-Key": hexID(r, 32)}
		}
		return &integration{ID: id, Type: "http", Name: name, Description: ptr(name + " for agents"), HTTP: h}
	}
}

func (g *integrationGen) fillURL(r *rand.Rand, url string) string {
	return strings.NewReplacer("{domain}", g.s.cfg.Domain, "{secret}", hexID(r, 24)).Replace(url)
}

// plan edits one or two integrations.
func (g *integrationGen) plan(b *batch) {
	all := objectsOf[*integration](g.t)
	b.sample(len(all), 0.05+0.1*b.r.Float64(), 14, func(j int) func(time.Time) {
		return func(at time.Time) { g.edit(all[j], at) }
	})
}

// edit changes the integration at time at: the HTTP configuration of an
// HTTP integration, the settings of the others, and sometimes (HTTP and
// app integrations only) the activation. Names and addresses, which
// tickets and messages copy, never change.
func (g *integrationGen) edit(in *integration, at time.Time) {
	r := g.s.rng
	switch {
	case (in.Type == "http" || in.Type == "app") && r.IntN(5) == 0:
		in.DeactivatedDatetime = g.toggleDeactivated(in, at)
	case in.HTTP != nil:
		g.editHTTP(r, in.HTTP)
	default:
		in.Meta = withSetting(in.Meta, "sync_revision", r.IntN(1000))
		in.Description = ptr(pick(r, []string{"Main store", "Managed by the support lead", "Do not change without IT", "Migrated"}))
	}
	in.UpdatedDatetime = g.s.stampAt(at, in.form)
	g.t.changed(in)
}

func (g *integrationGen) toggleDeactivated(in *integration, at time.Time) stamp {
	if in.DeactivatedDatetime.isSet() {
		return stamp{}
	}
	return g.s.stampAt(at, in.form)
}

// editHTTP toggles a trigger or rotates the API key header.
func (g *integrationGen) editHTTP(r *rand.Rand, h *httpConfig) {
	if _, keyed := h.Headers["X-Api-Key"]; keyed && r.IntN(2) == 0 {
		h.Headers = map[string]string{"X-Api-Key": hexID(r, 32)}
		return
	}
	tr := pick(r, httpTriggers)
	triggers := make(map[string]bool, len(h.Triggers)+1)
	for k, v := range h.Triggers {
		triggers[k] = v
	}
	if triggers[tr] {
		delete(triggers, tr)
	} else {
		triggers[tr] = true
	}
	h.Triggers = triggers
}

// withSetting is a copy of m with key set to v.
func withSetting(m map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out[key] = v
	return out
}

// httpIntegrations are the HTTP integrations, in id order.
func (g *integrationGen) httpIntegrations() []*integration {
	var out []*integration
	for _, in := range objectsOf[*integration](g.t) {
		if in.Type == "http" {
			out = append(out, in)
		}
	}
	return out
}
