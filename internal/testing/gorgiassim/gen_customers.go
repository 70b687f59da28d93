package gorgiassim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Customers is the resource of customers (for Objects, IDs and Deny).
const Customers = "customers"

// Ids of fixed integrations and custom fields of the account.
const (
	integrationShopify = 41235
	fieldCustomerTier  = 5101
)

func init() {
	register(genSpec{
		entity: "customers", model: customer{},
		firstID: 350000000, idGap: 60, salt: 0x7c3a1f00d5e1,
		make: func(s *Sim, t *table) generator {
			return &customerGen{s: s, t: t, nextChannelID: 720000000}
		},
	})
}

type channel struct {
	ID              int64  `json:"id"`
	Type            string `json:"type"`
	Address         string `json:"address"`
	Preferred       bool   `json:"preferred"`
	CreatedDatetime stamp  `json:"created_datetime"`
	UpdatedDatetime stamp  `json:"updated_datetime"`
}

type customer struct {
	ID              int64          `json:"id"`
	ExternalID      *string        `json:"external_id"`
	Active          bool           `json:"active"`
	Email           *string        `json:"email"`
	Name            *string        `json:"name"`
	Firstname       string         `json:"firstname"`
	Lastname        string         `json:"lastname"`
	Language        *string        `json:"language"`
	Timezone        *string        `json:"timezone"`
	CreatedDatetime stamp          `json:"created_datetime"`
	UpdatedDatetime stamp          `json:"updated_datetime"`
	Meta            map[string]any `json:"meta"`
	Data            map[string]any `json:"data"`
	Note            *string        `json:"note"`
	Channels        []channel      `json:"channels"`
	Integrations    map[string]any `json:"integrations"`
	CustomFields    map[string]any `json:"custom_fields"`
	extras

	form tsForm
}

// customerGen makes customers: created over the first 95% of the history,
// edited by Advance (note, data, timezone, language, custom fields).
type customerGen struct {
	s             *Sim
	t             *table
	nextChannelID int64
}

func (g *customerGen) seed(r *rand.Rand) {
	begin, end := g.s.seedSpan()
	ctimes := make([]time.Time, g.s.cfg.Customers)
	for i := range ctimes {
		ctimes[i] = begin.Add(randDur(r, g.s.cfg.History*95/100))
	}
	slices.SortFunc(ctimes, func(a, b time.Time) int { return a.Compare(b) })
	for _, t := range ctimes {
		upd := t.Add(time.Duration(math.Pow(r.Float64(), 3) * float64(end.Sub(t))))
		id := g.t.newID(r)
		f := g.t.form(id)
		g.t.add(g.generate(r, id, mk(t, f), mk(upd, f)))
	}
}

func (g *customerGen) plan(b *batch) {
	all := objectsOf[*customer](g.t)
	b.sample(len(all), 0.02, g.s.cfg.Customers, func(j int) func(time.Time) {
		return func(at time.Time) { g.edit(all[j], at) }
	})
}

// createAt adds a customer created at sim time at (a new ticket's author).
func (g *customerGen) createAt(r *rand.Rand, at time.Time) *customer {
	id := g.t.newID(r)
	st := g.s.stampAt(at, g.t.form(id))
	c := g.generate(r, id, st, st)
	g.t.add(c)
	return c
}

// EditCustomer changes a few fields of the customer (note, data,
// timezone, language, custom_fields) and sets updated_datetime to a fresh
// stamp. Fields copied into tickets and messages (name, email, meta) are
// never edited, so embedded copies stay true.
//
// Every mutator stamps the current sim time; stamps are distinct and
// strictly increasing across all calls (1µs apart at least; objects
// rendered with whole seconds round up to the next second).
func (s *Sim) EditCustomer(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gen(Customers).(*customerGen)
	c, ok := objectOf[*customer](g.t, id)
	if !ok {
		return fmt.Errorf("customer %d: %w", id, ErrNotFound)
	}
	g.edit(c, s.now())
	return nil
}

func (g *customerGen) edit(c *customer, at time.Time) {
	r := g.s.rng
	for range 1 + r.IntN(2) {
		g.editOne(r, c)
	}
	c.UpdatedDatetime = g.s.stampAt(at, c.form)
	g.t.changed(c)
}

// editOne changes one field, drawn.
func (g *customerGen) editOne(r *rand.Rand, c *customer) {
	switch r.IntN(5) {
	case 0:
		c.Note = ptr(pick(r, customerNotes) + " (" + strconv.Itoa(r.IntN(1000)) + ")")
	case 1:
		c.Data = map[string]any{"loyalty_tier": pick(r, []string{"bronze", "silver", "gold", "platinum"}), "points": r.IntN(8000)}
	case 2:
		c.Timezone = ptr(pick(r, timezones))
	case 3:
		c.Language = ptr(pick(r, languages))
	case 4:
		c.CustomFields = tierField(r)
	}
}

func tierField(r *rand.Rand) map[string]any {
	return map[string]any{strconv.Itoa(fieldCustomerTier): map[string]any{
		"id": fieldCustomerTier, "value": pick(r, []string{"VIP", "Wholesale", "Press", "Standard"}),
	}}
}

// customerRef is the embedded copy of a customer (no timestamps, so it
// never goes stale: customer edits do not touch the copied fields).
func customerRef(c *customer, ex extras) personRef {
	return personRef{ID: c.ID, Email: c.Email, Name: c.Name, Firstname: c.Firstname, Lastname: c.Lastname,
		Meta: map[string]any{"name_set_via": c.Meta["name_set_via"]}, extras: ex}
}

// generate draws a customer with the given timestamps.
func (g *customerGen) generate(r *rand.Rand, id int64, created, updated stamp) *customer {
	first, last := pick(r, firstNames), pick(r, lastNames)
	local := fold(first) + "." + fold(last)
	if r.IntN(3) == 0 {
		local += strconv.Itoa(1 + r.IntN(99))
	}
	email := local + "@" + pick(r, mailDomains)
	c := &customer{
		ID: id, Active: r.Float64() > 0.03, Email: ptr(email),
		Name: ptr(first + " " + last), Firstname: first, Lastname: last,
		CreatedDatetime: created, UpdatedDatetime: updated,
		Integrations: map[string]any{},
		extras:       newExtras(g.s.cfg.ExtraFields),
		form:         created.f,
	}
	drawProfile(r, c)
	g.drawChannels(r, c, email, created)
	drawShopify(r, c, first, last, email, created)
	if r.Float64() < 0.25 {
		c.CustomFields = tierField(r)
	}
	return c
}

// drawProfile draws how the name was set (sometimes none), language,
// timezone, data and note.
func drawProfile(r *rand.Rand, c *customer) {
	via := "shopify"
	switch x := r.Float64(); {
	case x < 0.06:
		c.Name, c.Firstname, c.Lastname = nil, "", ""
		via = "email"
	case x < 0.35:
		via = "email"
	case x < 0.5:
		via = "agent"
	}
	c.Meta = map[string]any{"name_set_via": via}
	if r.Float64() < 0.85 {
		c.Language = ptr(pick(r, languages))
	}
	if r.Float64() < 0.8 {
		c.Timezone = ptr(pick(r, timezones))
	}
	if r.Float64() < 0.3 {
		c.Data = map[string]any{"loyalty_tier": pick(r, []string{"bronze", "silver", "gold"}), "points": r.IntN(5000)}
	}
	if r.Float64() < 0.15 {
		c.Note = ptr(pick(r, customerNotes))
	}
}

// drawChannels gives the customer its e-mail channel and sometimes a phone.
func (g *customerGen) drawChannels(r *rand.Rand, c *customer, email string, created stamp) {
	g.nextChannelID += 1 + r.Int64N(5)
	c.Channels = []channel{{ID: g.nextChannelID, Type: "email", Address: email, Preferred: true, CreatedDatetime: created, UpdatedDatetime: created}}
	if r.Float64() < 0.25 {
		g.nextChannelID += 1 + r.Int64N(5)
		phone := fmt.Sprintf("+1 555 01%02d %04d", r.IntN(100), r.IntN(10000))
		c.Channels = append(c.Channels, channel{ID: g.nextChannelID, Type: "phone", Address: phone, CreatedDatetime: created, UpdatedDatetime: created})
	}
}

// drawShopify links about 45% of the customers to a Shopify customer.
func drawShopify(r *rand.Rand, c *customer, first, last, email string, created stamp) {
	if r.Float64() >= 0.45 {
		return
	}
	shopID := 6500000000000 + r.Int64N(1e9)
	c.ExternalID = ptr(strconv.FormatInt(shopID, 10))
	orders := 1 + r.IntN(12)
	sc := map[string]any{
		"id": shopID, "email": email, "first_name": first, "last_name": last,
		"orders_count": orders, "total_spent": fmt.Sprintf("%d.%02d", orders*(20+r.IntN(120)), r.IntN(100)),
		"currency": "USD", "state": "enabled", "tags": pick(r, []string{"", "vip", "newsletter", "wholesale"}),
		"created_at": created.t.Add(-randDur(r, 400*24*time.Hour)).Format("2006-01-02T15:04:05-07:00"),
	}
	c.Integrations[strconv.Itoa(integrationShopify)] = map[string]any{"__integration_type__": "shopify", "customer": sc}
}
