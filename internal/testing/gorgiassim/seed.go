package gorgiassim

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Salts for the per-object timestamp form.
const (
	saltCustomer = 0x7c3a1f00d5e1
	saltTicket   = 0x2b9e44c1a7f3
	saltMessage  = 0x51d0e6b2c98a
	saltSurvey   = 0x0e6f3d2a4b17
)

// Ids of fixed integrations of the account.
const (
	integrationEmail    = 61234
	integrationChat     = 61240
	integrationSMS      = 61255
	integrationFacebook = 61260
	integrationPhone    = 61270
	integrationShopify  = 41235
	fieldContactReason  = 1201
	fieldSentiment      = 1202
	fieldCustomerTier   = 5101
)

func randDur(r *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(r.Int64N(int64(d)))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// expDur is an exponentially distributed duration with the given mean.
func expDur(r *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(mean))
}

func minDur(a, b time.Duration) time.Duration { return min(a, b) }

// fold lowercases and strips the accents used in the name pools (for e-mails).
var folder = strings.NewReplacer("é", "e", "è", "e", "ê", "e", "á", "a", "à", "a", "ü", "u", "ö", "o", "í", "i", "ñ", "n", "ç", "c", "'", "", " ", "")

func fold(s string) string { return folder.Replace(strings.ToLower(s)) }

func (s *Sim) supportAddress() string { return "support@" + s.cfg.Domain + ".com" }
func (s *Sim) shopURL() string        { return "https://" + s.cfg.Domain + ".com" }

// initPools creates the account's agents, teams and tags.
func (s *Sim) initPools() {
	for i, n := range agentNames {
		email := strings.ToLower(n[0]) + "@" + s.cfg.Domain + ".com"
		var pic any
		if i%3 != 2 {
			pic = fmt.Sprintf("https://config.gorgias.help/static/avatars/%d.png", 5100+i)
		}
		s.users = append(s.users, personRef{
			ID:    int64(420017 + i*131),
			Email: ptr(email), Name: ptr(n[0] + " " + n[1]), Firstname: n[0], Lastname: n[1],
			Meta: map[string]any{"name_set_via": "agent", "profile_picture_url": pic, "sso": nil},
		})
	}
	for i, t := range teamPool {
		s.teams = append(s.teams, teamRef{
			ID: int64(8801 + i*7), Name: t.name,
			Decoration: map[string]any{"emoji": map[string]any{
				"id": t.emojiID, "name": t.emojiName, "skin": nil, "colons": ":" + t.emojiID + ":",
				"native": t.native, "unified": t.unified, "emoticons": []string{},
			}},
		})
	}
	for i, t := range tagPool {
		id := int64(310021 + i*17)
		s.tags = append(s.tags, tagRef{
			ID: id, Name: t.name, URI: fmt.Sprintf("/api/tags/%d/", id),
			Decoration: map[string]string{"color": t.color},
		})
	}
}

func (s *Sim) newID(kind int, r *rand.Rand) int64 {
	gaps := [4]int64{60, 25, 40, 12}
	s.nextID[kind] += 1 + r.Int64N(gaps[kind])
	return s.nextID[kind]
}

// seed creates the initial data set. Everything is drawn from one
// generator in a fixed order, so the same Config gives the same bytes.
func (s *Sim) seed() {
	cfg := s.cfg
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0xa4093822299f31d0))
	end := cfg.Start
	begin := end.Add(-cfg.History)
	s.initPools()
	s.account = marshal(map[string]any{
		"domain":               cfg.Domain,
		"created_datetime":     mk(begin.Add(-400*24*time.Hour), formMicro),
		"deactivated_datetime": nil,
		"status":               map[string]any{"status": "active", "notification": nil},
		"current_subscription": map[string]any{"plan": "pro-monthly-usd-4", "status": "active"},
		"meta":                 map[string]any{"hrs_per_ticket": 0.2},
	})

	// Customers, created over the first 95% of the history.
	ctimes := make([]time.Time, cfg.Customers)
	for i := range ctimes {
		ctimes[i] = begin.Add(randDur(r, cfg.History*95/100))
	}
	slices.SortFunc(ctimes, func(a, b time.Time) int { return a.Compare(b) })
	custs := make([]*customer, 0, len(ctimes))
	for _, t := range ctimes {
		upd := t.Add(time.Duration(math.Pow(r.Float64(), 3) * float64(end.Sub(t))))
		c := s.genCustomer(r, s.newID(kCustomer, r), t, upd)
		custs = append(custs, c)
		s.customers.add(c)
		s.custByID[c.ID] = c
	}

	// Tickets: a customer, then a creation time after the customer's.
	type tplan struct {
		cust    *customer
		created time.Time
		ord     int
	}
	plans := make([]tplan, cfg.Tickets)
	for i := range plans {
		c := pick(r, custs)
		lo := c.CreatedDatetime.t
		if r.Float64() < 0.08 { // recent activity
			lo = later(lo, end.Add(-72*time.Hour))
		}
		plans[i] = tplan{cust: c, created: lo.Add(randDur(r, end.Sub(lo))), ord: i}
	}
	slices.SortFunc(plans, func(a, b tplan) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return cmp.Compare(a.ord, b.ord)
	})

	// Message plans for every ticket.
	type mplan struct {
		tk                  *ticket
		t                   time.Time
		fromAgent, note     bool
		seq                 int
		sent, failed, open  time.Time
		deleted             time.Time
		failedErr           bool
		unsentCustomerEmail bool
	}
	type tstate struct {
		tk                          *ticket
		msgs                        []*mplan
		closed, opened, snooze, trs time.Time
		updated                     time.Time
	}
	states := make([]*tstate, 0, len(plans))
	var allMsgs []*mplan
	for _, p := range plans {
		tk := s.newTicketCore(r, s.newID(kTicket, r), p.cust)
		st := &tstate{tk: tk}
		k := messageCount(r, cfg.MessagesPerTicket)
		first := p.created.Add(randDur(r, 3*time.Second))
		if first.After(end) {
			first = end
		}
		mean := 10 * time.Hour
		if tk.Channel != "email" && tk.Channel != "contact_form" {
			mean = 2 * time.Hour
		}
		gaps := make([]float64, k)
		total := 0.0
		for i := 1; i < k; i++ {
			gaps[i] = float64(expDur(r, mean))
			total += gaps[i]
		}
		avail := float64(end.Sub(first)) * 0.97
		scale := 1.0
		if total > avail {
			scale = avail / total
		}
		t := first
		agentSide := tk.FromAgent
		for i := 0; i < k; i++ {
			if i > 0 {
				t = t.Add(time.Duration(gaps[i] * scale))
				if r.Float64() < 0.8 {
					agentSide = !agentSide
				}
			}
			m := &mplan{tk: tk, t: t, fromAgent: agentSide, seq: i}
			m.note = agentSide && i > 0 && r.Float64() < 0.06
			st.msgs = append(st.msgs, m)
			allMsgs = append(allMsgs, m)
		}
		last := st.msgs[k-1].t
		recent := p.created.After(end.Add(-48 * time.Hour))
		pClosed := 0.78
		if recent {
			pClosed = 0.35
		}
		if r.Float64() < pClosed {
			st.closed = last.Add(randDur(r, minDur(2*time.Hour, end.Sub(last))))
			if recent && r.Float64() < 0.2 {
				st.snooze = end.Add(12*time.Hour + randDur(r, 60*time.Hour))
			}
		}
		firstAgent := time.Time{}
		for _, m := range st.msgs {
			if m.fromAgent {
				firstAgent = m.t
				break
			}
		}
		switch {
		case !firstAgent.IsZero():
			st.opened = later(first, firstAgent.Add(-randDur(r, 30*time.Minute)))
		case r.Float64() < 0.5:
			st.opened = first.Add(randDur(r, minDur(6*time.Hour, end.Sub(first))))
		}
		if r.Float64() < 0.01 {
			tk.Spam = true
		}
		activity := latest(last, st.closed, st.opened)
		if tk.Spam || r.Float64() < 0.02 {
			st.trs = activity.Add(randDur(r, minDur(24*time.Hour, end.Sub(activity))))
			activity = st.trs
		}
		st.updated = activity.Add(randDur(r, minDur(90*time.Second, end.Sub(activity))))
		states = append(states, st)
	}

	// Messages get ids in creation order; their content is drawn in that order.
	slices.SortStableFunc(allMsgs, func(a, b *mplan) int {
		if c := a.t.Compare(b.t); c != 0 {
			return c
		}
		if c := cmp.Compare(a.tk.ID, b.tk.ID); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	prevOf := map[int64]*message{}
	for _, p := range allMsgs {
		id := s.newID(kMessage, r)
		m := s.buildMessage(r, id, p.tk, p.fromAgent, p.note, prevOf[p.tk.ID], p.t)
		f := m.form
		m.CreatedDatetime = mk(p.t, f)
		switch {
		case p.note:
			m.SentDatetime = m.CreatedDatetime
		case p.fromAgent:
			if r.Float64() < 0.02 {
				m.FailedDatetime = mk(earlier(p.t.Add(2*time.Second), end), f)
				m.LastSendingError = ptr("550 5.1.1 The email account that you tried to reach does not exist.")
				m.IsRetriable = true
			} else {
				sent := earlier(p.t.Add(randDur(r, 5*time.Second)), end)
				m.SentDatetime = mk(sent, f)
				if (m.Channel == "email" || m.Channel == "chat") && r.Float64() < 0.5 {
					m.OpenedDatetime = mk(sent.Add(randDur(r, minDur(48*time.Hour, end.Sub(sent)))), f)
				}
			}
		default:
			if r.Float64() < 0.85 {
				m.SentDatetime = m.CreatedDatetime
			}
		}
		if r.Float64() < 0.01 {
			m.DeletedDatetime = mk(p.t.Add(randDur(r, minDur(72*time.Hour, end.Sub(p.t)))), f)
		}
		prevOf[p.tk.ID] = m
		s.messages.add(m)
		s.msgByID[m.ID] = m
		s.msgsByTicket[m.TicketID] = append(s.msgsByTicket[m.TicketID], m)
	}

	// Finish the tickets now that their messages exist.
	for _, st := range states {
		tk := st.tk
		f := tk.form
		msgs := s.msgsByTicket[tk.ID]
		tk.MessagesCount = len(msgs)
		tk.CreatedDatetime = mk(st.msgs[0].t.Add(-randDur(r, time.Second)), f)
		if tk.CreatedDatetime.t.Before(begin) {
			tk.CreatedDatetime = mk(begin, f)
		}
		lastM := msgs[len(msgs)-1]
		tk.LastMessageDatetime = mk(lastM.CreatedDatetime.t, f)
		for i := len(msgs) - 1; i >= 0; i-- {
			if !msgs[i].FromAgent {
				tk.LastReceivedMessageDatetime = mk(msgs[i].CreatedDatetime.t, f)
				break
			}
		}
		tk.setExcerpt(lastM)
		if st.closed.IsZero() {
			tk.Status = "open"
			tk.IsUnread = !lastM.FromAgent
		} else {
			tk.Status = "closed"
			tk.ClosedDatetime = mk(st.closed, f)
		}
		if !st.opened.IsZero() {
			tk.OpenedDatetime = mk(st.opened, f)
		} else {
			tk.IsUnread = true
		}
		if !st.snooze.IsZero() {
			tk.SnoozeDatetime = mk(st.snooze, f)
		}
		if !st.trs.IsZero() {
			tk.TrashedDatetime = mk(st.trs, f)
		}
		tk.UpdatedDatetime = mk(st.updated, f)
		s.tickets.add(tk)
		s.ticketByID[tk.ID] = tk
	}

	// Surveys on a share of the closed tickets, created when the ticket closed.
	var cands []*ticket
	for _, st := range states {
		if st.tk.Status == "closed" && !st.tk.Spam && !st.tk.TrashedDatetime.isSet() {
			cands = append(cands, st.tk)
		}
	}
	n := min(len(cands), int(math.Round(cfg.SurveyShare*float64(cfg.Tickets))))
	perm := r.Perm(len(cands))[:n]
	chosen := make([]*ticket, n)
	for i, j := range perm {
		chosen[i] = cands[j]
	}
	slices.SortFunc(chosen, func(a, b *ticket) int {
		if c := a.ClosedDatetime.t.Compare(b.ClosedDatetime.t); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for _, tk := range chosen {
		sv := s.newSurvey(r, s.newID(kSurvey, r), tk, tk.ClosedDatetime.t, false)
		f := sv.form
		if r.Float64() < 0.06 {
			sv.ShouldSendDatetime = stamp{}
		}
		if ss := sv.ShouldSendDatetime; ss.isSet() && !ss.t.After(end) && r.Float64() < 0.92 {
			if sent := ss.t.Add(randDur(r, 10*time.Minute)); !sent.After(end) {
				sv.SentDatetime = mk(sent, f)
				if r.Float64() < 0.55 {
					if sc := sent.Add(expDur(r, 10*time.Hour)); !sc.After(end) {
						s.applyScore(r, sv, surveyScore(r), mk(sc, f), false)
					}
				}
			}
		}
		s.addSurvey(sv)
	}
}

func (s *Sim) addSurvey(sv *survey) {
	s.surveys.add(sv)
	s.surveyByID[sv.ID] = sv
	s.surveyByTicket[sv.TicketID] = sv
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		m = later(m, t)
	}
	return m
}

// messageCount draws 1 + Binomial(n, p) with mean m: 1..10 for m = 4.
func messageCount(r *rand.Rand, m float64) int {
	if m <= 1 {
		return 1
	}
	n := max(9, int(math.Ceil(2*(m-1))))
	p := (m - 1) / float64(n)
	k := 1
	for range n {
		if r.Float64() < p {
			k++
		}
	}
	return k
}

func surveyScore(r *rand.Rand) int {
	switch x := r.Float64(); {
	case x < 0.55:
		return 5
	case x < 0.75:
		return 4
	case x < 0.85:
		return 3
	case x < 0.90:
		return 2
	default:
		return 1
	}
}

// genCustomer makes a customer created at created and last updated at updated.
func (s *Sim) genCustomer(r *rand.Rand, id int64, created, updated time.Time) *customer {
	f := formFor(saltCustomer, id)
	return s.genCustomerStamped(r, id, mk(created, f), mk(updated, f))
}

func (s *Sim) genCustomerStamped(r *rand.Rand, id int64, created, updated stamp) *customer {
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
		extras:       newExtras(s.cfg.ExtraFields),
		form:         created.f,
	}
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
	s.nextChannelID += 1 + r.Int64N(5)
	c.Channels = []channel{{ID: s.nextChannelID, Type: "email", Address: email, Preferred: true, CreatedDatetime: created, UpdatedDatetime: created}}
	if r.Float64() < 0.25 {
		s.nextChannelID += 1 + r.Int64N(5)
		phone := fmt.Sprintf("+1 555 01%02d %04d", r.IntN(100), r.IntN(10000))
		c.Channels = append(c.Channels, channel{ID: s.nextChannelID, Type: "phone", Address: phone, CreatedDatetime: created, UpdatedDatetime: created})
	}
	if r.Float64() < 0.45 {
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
	if r.Float64() < 0.25 {
		c.CustomFields = map[string]any{strconv.Itoa(fieldCustomerTier): map[string]any{
			"id": fieldCustomerTier, "value": pick(r, []string{"VIP", "Wholesale", "Press", "Standard"}),
		}}
	}
	return c
}

// customerRef is the embedded copy of a customer (no timestamps, so it
// never goes stale: customer edits do not touch the copied fields).
func customerRef(c *customer, ex extras) personRef {
	return personRef{ID: c.ID, Email: c.Email, Name: c.Name, Firstname: c.Firstname, Lastname: c.Lastname,
		Meta: map[string]any{"name_set_via": c.Meta["name_set_via"]}, extras: ex}
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

// newTicketCore makes a ticket without timestamps or message-derived fields.
func (s *Sim) newTicketCore(r *rand.Rand, id int64, c *customer) *ticket {
	combo := channelCombos[weightedCombo(r)]
	tk := &ticket{
		ID: id, URI: fmt.Sprintf("/api/tickets/%d/", id),
		Status: "open", Channel: combo.channel, Via: combo.via,
		FromAgent: combo.via == "helpdesk" || combo.via == "api",
		Customer:  customerRef(c, newExtras(s.cfg.ExtraFields)),
		extras:    newExtras(s.cfg.ExtraFields),
		form:      formFor(saltTicket, id),
		topic:     r.IntN(len(topics)),
		order:     10000 + r.Int64N(90000),
	}
	tk.Subject = ptr(s.expand(topics[tk.topic].subject, tk, ""))
	if r.Float64() < 0.95 {
		lang := "en"
		if c.Language != nil {
			lang = *c.Language
		}
		tk.Language = ptr(lang)
	}
	switch x := r.Float64(); {
	case x < 0.05:
		tk.Priority = "critical"
	case x < 0.2:
		tk.Priority = "high"
	case x < 0.3:
		tk.Priority = "low"
	default:
		tk.Priority = "normal"
	}
	if r.Float64() < 0.75 {
		s.assign(tk, r.IntN(len(s.users)))
	}
	if r.Float64() < 0.6 {
		s.assignTeam(tk, r.IntN(len(s.teams)))
	}
	tk.Tags = []tagRef{s.tags[topics[tk.topic].tag]}
	for range r.IntN(3) {
		t := pick(r, s.tags)
		if !slices.ContainsFunc(tk.Tags, func(x tagRef) bool { return x.ID == t.ID }) {
			tk.Tags = append(tk.Tags, t)
		}
	}
	switch tk.Channel {
	case "email", "contact_form":
		tk.Integrations = []ticketIntegration{{Name: "Support email", Address: s.supportAddress(), Type: "email"}}
	case "chat":
		tk.Integrations = []ticketIntegration{{Name: "Website chat", Address: "", Type: "gorgias_chat"}}
	case "sms", "phone":
		tk.Integrations = []ticketIntegration{{Name: "Support line", Address: "+1 555 0100 2000", Type: tk.Channel}}
	default:
		tk.Integrations = []ticketIntegration{}
	}
	switch {
	case tk.Channel == "chat":
		tk.Meta = map[string]any{"chat": map[string]any{"campaign_id": nil, "page_url": s.shopURL() + "/products/" + strings.ReplaceAll(strings.ToLower(products[tk.order%int64(len(products))]), " ", "-")}}
	case r.Float64() < 0.2:
		tk.Meta = map[string]any{"rule_suggestion": map[string]any{"slug": topics[tk.topic].intent, "actions": []string{"applyMacro"}}}
	}
	if r.Float64() < 0.7 {
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
	if tk.Via == "api" {
		tk.ExternalID = ptr(fmt.Sprintf("crm-%d", 700000+r.IntN(300000)))
	}
	return tk
}

func (s *Sim) assign(tk *ticket, user int) {
	if user < 0 {
		tk.AssigneeUser, tk.AssigneeUserID = nil, nil
		return
	}
	u := s.users[user]
	tk.AssigneeUser = &u
	tk.AssigneeUserID = ptr(u.ID)
}

func (s *Sim) assignTeam(tk *ticket, team int) {
	if team < 0 {
		tk.AssigneeTeam, tk.AssigneeTeamID = nil, nil
		return
	}
	t := s.teams[team]
	tk.AssigneeTeam = &t
	tk.AssigneeTeamID = ptr(t.ID)
}

func (s *Sim) expand(tpl string, tk *ticket, agent string) string {
	if !strings.Contains(tpl, "{") {
		return tpl
	}
	var b strings.Builder
	b.Grow(len(tpl) + 32)
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		b.WriteString(tpl[:i])
		tpl = tpl[i:]
		j := strings.IndexByte(tpl, '}')
		if j < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		switch tpl[:j+1] {
		case "{order}":
			b.WriteString(strconv.FormatInt(tk.order, 10))
		case "{product}":
			b.WriteString(products[tk.order%int64(len(products))])
		case "{first}":
			if tk.Customer.Firstname == "" {
				b.WriteString("there")
			} else {
				b.WriteString(tk.Customer.Firstname)
			}
		case "{agent}":
			b.WriteString(agent)
		default:
			b.WriteString(tpl[:j+1])
		}
		tpl = tpl[j+1:]
	}
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

func hexID(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

func emailLike(ch string) bool {
	return ch == "email" || ch == "contact_form" || ch == "help-center" || ch == "api"
}

// buildMessage makes the content of a message (everything but its
// timestamps other than created_datetime, which the caller sets).
func (s *Sim) buildMessage(r *rand.Rand, id int64, tk *ticket, fromAgent, note bool, prev *message, at time.Time) *message {
	tp := topics[tk.topic]
	agent := pick(r, s.users)
	if tk.AssigneeUser != nil {
		agent = *tk.AssigneeUser
	}
	cust := tk.Customer
	cust.extras = extras{}
	custName := "Customer"
	if cust.Name != nil {
		custName = *cust.Name
	}
	m := &message{
		ID: id, URI: fmt.Sprintf("/api/tickets/%d/messages/%d/", tk.ID, id), TicketID: tk.ID,
		Public: !note, Channel: tk.Channel, Via: tk.Via, FromAgent: fromAgent,
		Headers: map[string]string{}, Attachments: []attachment{}, Macros: []macroRef{},
		extras: newExtras(s.cfg.ExtraFields), form: formFor(saltMessage, id),
	}
	if prev != nil && fromAgent {
		m.Via = "helpdesk"
	}
	var text string
	switch {
	case note:
		text = pick(r, internalNotes)
	case fromAgent:
		text = pick(r, tp.agent)
	case prev == nil || r.Float64() < 0.5:
		text = pick(r, tp.customer)
	default:
		text = pick(r, shortCustomer)
	}
	text = s.expand(text, tk, *agent.Name)
	body, stripped := text, text
	var sig *string
	email := emailLike(tk.Channel) && !note
	if email {
		if fromAgent {
			stripped = s.expand("Hi {first},\n\n", tk, "") + text
			sig = ptr("Best,\n" + agent.Firstname + "\n" + titleDomain(s.cfg.Domain) + " Support")
			body = stripped + "\n\n" + *sig
		} else {
			stripped = "Hi,\n\n" + text + "\n\nThanks,\n" + cust.Firstname
			body = stripped
		}
		if prev != nil && prev.StrippedText != nil && prev.Public {
			who := titleDomain(s.cfg.Domain) + " Support <" + s.supportAddress() + ">"
			if !prev.FromAgent {
				who = custName + " <" + deref(cust.Email) + ">"
			}
			quoted := strings.Split(*prev.StrippedText, "\n")
			body += "\n\nOn " + prev.CreatedDatetime.t.Format("Mon, Jan 2, 2006 at 3:04 PM") + " " + who + " wrote:\n> " + strings.Join(quoted, "\n> ")
		}
	}
	m.BodyText, m.BodyHTML = ptr(body), ptr(htmlOf(body))
	m.StrippedText, m.StrippedHTML = ptr(stripped), ptr(htmlOf(stripped))
	m.StrippedSignature = sig

	custAddr := address{Name: custName, Address: deref(cust.Email)}
	support := address{Name: titleDomain(s.cfg.Domain) + " Support", Address: s.supportAddress()}
	agentAddr := address{Name: agent.Firstname + " from " + titleDomain(s.cfg.Domain), Address: s.supportAddress()}
	src := &msgSource{Type: tk.Channel, To: []address{}, Cc: []address{}, Bcc: []address{}, Extra: map[string]any{}}
	if emailLike(tk.Channel) {
		src.Type = "email"
	}
	switch {
	case note:
		m.Channel, m.Via = "internal-note", "helpdesk"
		src.Type = "internal-note"
		src.From = address{Name: *agent.Name, Address: deref(agent.Email)}
	case fromAgent:
		src.From, src.To = agentAddr, []address{custAddr}
		if email {
			src.Extra["include_thread"] = prev != nil
		}
	default:
		src.From, src.To = custAddr, []address{support}
		if email && r.Float64() < 0.05 {
			src.Cc = []address{{Name: "", Address: fold(cust.Firstname) + ".partner@" + pick(r, mailDomains)}}
		}
	}
	if tk.Channel == "facebook-messenger" || tk.Channel == "instagram-comment" {
		src.Extra["page_id"] = "102938475610293"
		if tk.Channel == "instagram-comment" {
			src.Extra["post_id"] = fmt.Sprintf("1789%011d", tk.order*7919%100000000000)
		}
	}
	m.Source = src

	if fromAgent {
		m.Sender = agent
		if !note {
			m.Receiver = &cust
		}
	} else {
		m.Sender = cust
	}
	switch {
	case note:
	case emailLike(tk.Channel):
		m.IntegrationID = ptr(int64(integrationEmail))
	case tk.Channel == "chat":
		m.IntegrationID = ptr(int64(integrationChat))
	case tk.Channel == "sms":
		m.IntegrationID = ptr(int64(integrationSMS))
	case tk.Channel == "facebook-messenger" || tk.Channel == "instagram-comment":
		m.IntegrationID = ptr(int64(integrationFacebook))
	case tk.Channel == "phone":
		m.IntegrationID = ptr(int64(integrationPhone))
	}

	if email {
		if fromAgent {
			m.MessageID = ptr("<" + hexID(r, 24) + "@" + s.cfg.Domain + ".gorgias.email>")
		} else {
			m.MessageID = ptr("<CA+" + hexID(r, 28) + "@mail.gmail.com>")
		}
		subj := deref(tk.Subject)
		if prev != nil {
			subj = "Re: " + subj
		}
		m.Subject = ptr(subj)
		m.Headers["Message-Id"] = *m.MessageID
		m.Headers["Subject"] = subj
		m.Headers["Date"] = at.UTC().Format(time.RFC1123Z)
		m.Headers["From"] = src.From.Name + " <" + src.From.Address + ">"
		m.Headers["To"] = src.To[0].Name + " <" + src.To[0].Address + ">"
		m.Headers["Mime-Version"] = "1.0"
		m.Headers["Content-Type"] = "multipart/alternative; boundary=\"000000000000" + hexID(r, 12) + "\""
		if prev != nil && prev.MessageID != nil {
			m.Headers["In-Reply-To"] = *prev.MessageID
		}
	}
	if tk.Channel == "api" {
		m.ExternalID = ptr(fmt.Sprintf("ext-msg-%d", id%1000000))
	}

	if !fromAgent {
		if !note && prev == nil || r.Float64() < 0.3 {
			m.Intents = []intent{{Name: tp.intent}}
			if r.Float64() < 0.15 {
				m.Intents = append(m.Intents, intent{Name: "other/thanks", IsUserFeedback: r.Float64() < 0.3})
			}
		}
		if r.Float64() < 0.08 || (tp.intent == "order/damaged" && prev == nil) {
			a := attachmentPool[r.IntN(len(attachmentPool))]
			m.Attachments = []attachment{{
				URL:  "https://uploads.gorgias.io/" + s.cfg.Domain + "/" + hexID(r, 16) + "/" + a.name,
				Name: a.name, ContentType: a.ctype, Size: 20000 + r.IntN(2000000), Public: true, Extra: map[string]any{},
			}}
		}
		if tk.Channel == "chat" {
			m.Meta = map[string]any{"current_page": s.shopURL() + "/pages/track-order"}
		}
	} else if !note {
		if r.Float64() < 0.35 {
			m.Macros = []macroRef{{ID: int64(90000 + tk.topic*10 + r.IntN(3))}}
		}
		if r.Float64() < 0.05 && prev != nil {
			m.Via = "rule"
			m.RuleID = ptr(int64(880100 + r.IntN(20)))
			m.Meta = map[string]any{"rule_id": *m.RuleID, "is_auto_reply": true}
		}
		if r.Float64() < 0.06 {
			name, title := "shopifyRefundOrder", "Refund order"
			switch tp.intent {
			case "order/cancel":
				name, title = "shopifyCancelOrder", "Cancel order"
			case "order/edit":
				name, title = "shopifyEditShippingAddressOfOrder", "Edit shipping address"
			}
			m.Actions = []action{{Name: name, Title: title, Type: "user", Status: "success",
				Arguments: map[string]any{"order_id": 5100000000000 + tk.order, "reason": "customer"}}}
		}
	}
	return m
}

// newSurvey makes a survey for tk, created at createdAt (rounded to the
// survey's form unless exact, which means createdAt is already a stamp).
func (s *Sim) newSurvey(r *rand.Rand, id int64, tk *ticket, createdAt time.Time, exact bool) *survey {
	f := formFor(saltSurvey, id)
	created := mk(createdAt, f)
	if exact {
		created = stamp{t: createdAt, f: f}
	}
	sv := &survey{
		ID: id, CreatedDatetime: created, CustomerID: tk.Customer.ID, TicketID: tk.ID,
		ShouldSendDatetime: stamp{t: created.t.Add(24 * time.Hour), f: f},
		URI:                fmt.Sprintf("/api/satisfaction-surveys/%d/", id),
		extras:             newExtras(s.cfg.ExtraFields), form: f,
	}
	if r.Float64() < 0.15 {
		sv.Meta = map[string]any{"externalData": map[string]any{"id": "sv_" + hexID(r, 10)}}
	}
	return sv
}

// applyScore sets score, scored_datetime and (usually) a comment.
func (s *Sim) applyScore(r *rand.Rand, sv *survey, score int, at stamp, alwaysComment bool) {
	sv.Score = ptr(score)
	sv.ScoredDatetime = at
	sv.BodyText = nil
	if alwaysComment || r.Float64() < 0.7 {
		agent := "The agent"
		if tk := s.ticketByID[sv.TicketID]; tk != nil && tk.AssigneeUser != nil {
			agent = tk.AssigneeUser.Firstname
		}
		sv.BodyText = ptr(strings.ReplaceAll(pick(r, surveyComments[score]), "{agent}", agent))
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func titleDomain(d string) string {
	if d == "" {
		return d
	}
	return strings.ToUpper(d[:1]) + d[1:]
}
