package gorgiassim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// VoiceCalls is the resource of phone calls (for Objects, IDs and Deny).
const VoiceCalls = "phone/voice-calls"

// The account's phone numbers (voice integration integrationPhone).
var phoneNumbers = []struct {
	id              int64
	number, country string
}{
	{3101, "+15550102000", "US"},
	{3102, "+442071838750", "GB"},
}

func init() {
	register(genSpec{
		entity: "voice_calls", model: voiceCall{},
		firstID: 5600000, idGap: 9, salt: 0x7a11ca11ed01,
		filters: []string{"ticket_id", "customer_id"},
		aliases: []string{"calls"},
		needs:   []string{Tickets, Customers, "voice_call_events", "voice_call_recordings"},
		make:    func(s *Sim, t *table) generator { return &callGen{s: s, t: t} },
	})
}

type voiceCall struct {
	ID                     int64   `json:"id"`
	IntegrationID          int64   `json:"integration_id"`
	TicketID               int64   `json:"ticket_id"`
	PhoneNumberID          int64   `json:"phone_number_id"`
	ExternalID             *string `json:"external_id"`
	Provider               string  `json:"provider"`
	Status                 string  `json:"status"`
	Direction              string  `json:"direction"`
	PhoneNumberSource      string  `json:"phone_number_source"`
	CountrySource          *string `json:"country_source"`
	PhoneNumberDestination string  `json:"phone_number_destination"`
	CountryDestination     *string `json:"country_destination"`
	Duration               *int64  `json:"duration"`
	StartedDatetime        stamp   `json:"started_datetime"`
	CreatedDatetime        stamp   `json:"created_datetime"`
	UpdatedDatetime        stamp   `json:"updated_datetime"`
	InitiatedByAgentID     *int64  `json:"initiated_by_agent_id"`
	LastAnsweredByAgentID  *int64  `json:"last_answered_by_agent_id"`
	CustomerID             int64   `json:"customer_id"`
	HasVoicemail           bool    `json:"has_voicemail"`
	HasCallRecording       bool    `json:"has_call_recording"`
	extras

	form   tsForm
	steps  []callStep // still to come, in time order
	record bool       // an answered call is recorded
}

// callStep is one thing that happens to a call, at a time.
type callStep struct {
	at    time.Time
	kind  string // created, ringing, answered, transferred, missed, voicemail, ended
	agent *int64
}

// callGen makes phone calls on about 8% of the tickets (every phone ticket
// starts with the customer's call; agents call back on others). A call
// changes after it is created (ringing, in-progress, then completed or
// missed, with its duration); each step is a voice call event, and
// recordings and voicemails are added as calls end.
type callGen struct {
	s    *Sim
	t    *table
	live []*voiceCall // calls with steps still to come
	// recordingsDue counts the recordings the current Advance will add.
	recordingsDue int
}

func (g *callGen) events() *callEventGen     { return g.s.gen("voice_call_events").(*callEventGen) }
func (g *callGen) recordings() *recordingGen { return g.s.gen("voice_call_recordings").(*recordingGen) }

// seedCount is how many calls are seeded: 8% of the tickets, at least ten
// (when there are that many tickets) so that small accounts have some.
func (g *callGen) seedCount(tickets int) int {
	return min(tickets, max(int(math.Round(0.08*float64(g.s.cfg.Tickets))), 10))
}

// seed draws the calls of the chosen tickets, then plays every step that
// happened before the seeded history ends, in time order, so that calls,
// their events and recordings get ids in time order.
func (g *callGen) seed(r *rand.Rand) {
	begin, end := g.s.seedSpan()
	var calls []*voiceCall
	for _, tk := range g.drawTickets(r) {
		calls = append(calls, g.drawCall(r, tk, g.seedTime(r, tk, begin)))
	}
	slices.SortStableFunc(calls, func(a, b *voiceCall) int { return a.steps[0].at.Compare(b.steps[0].at) })
	type due struct {
		c *voiceCall
		s callStep
	}
	var steps []due
	for _, c := range calls {
		c.ID = g.t.newID(r)
		c.form = g.t.form(c.ID)
		g.t.add(c)
		for len(c.steps) > 0 && !c.steps[0].at.After(end) {
			steps = append(steps, due{c, c.steps[0]})
			c.steps = c.steps[1:]
		}
		if len(c.steps) > 0 {
			g.live = append(g.live, c)
		}
	}
	slices.SortStableFunc(steps, func(a, b due) int { return a.s.at.Compare(b.s.at) })
	for _, d := range steps {
		g.play(r, d.c, d.s, mk(d.s.at, d.c.form), true)
	}
}

// drawTickets picks the tickets with a call: the phone tickets first, then
// others, in a drawn order.
func (g *callGen) drawTickets(r *rand.Rand) []*ticket {
	all := objectsOf[*ticket](g.s.table(Tickets))
	var phone, other []*ticket
	for _, j := range r.Perm(len(all)) {
		if all[j].Channel == "phone" {
			phone = append(phone, all[j])
		} else {
			other = append(other, all[j])
		}
	}
	picked := append(phone, other...)
	return picked[:g.seedCount(len(picked))]
}

// seedTime is when a seeded ticket's call started: just before a phone
// ticket was created, or, for a call back, while the ticket was worked on.
func (g *callGen) seedTime(r *rand.Rand, tk *ticket, begin time.Time) time.Time {
	if tk.Channel == "phone" {
		return later(tk.CreatedDatetime.t.Add(-2*time.Second-randDur(r, 20*time.Second)), begin)
	}
	return tk.CreatedDatetime.t.Add(randDur(r, tk.UpdatedDatetime.t.Sub(tk.CreatedDatetime.t)))
}

// drawCall draws a call about tk starting at start, with all its steps:
// phone tickets get the customer's call, others an agent's call back.
func (g *callGen) drawCall(r *rand.Rand, tk *ticket, start time.Time) *voiceCall {
	inbound := tk.Channel == "phone" || r.Float64() < 0.3
	num := phoneNumbers[0]
	if r.Float64() < 0.3 {
		num = phoneNumbers[1]
	}
	cust, country := g.customerPhone(r, tk.Customer.ID)
	c := &voiceCall{
		IntegrationID: integrationPhone, TicketID: tk.ID, PhoneNumberID: num.id,
		ExternalID: ptr("CA" + hexID(r, 32)), Provider: "twilio", Status: "ringing", Direction: "inbound",
		PhoneNumberSource: cust, CountrySource: ptr(country), PhoneNumberDestination: num.number, CountryDestination: ptr(num.country),
		CustomerID: tk.Customer.ID, extras: newExtras(g.s.cfg.ExtraFields),
	}
	agent := ptr(pick(r, g.s.users).ID)
	if tk.AssigneeUserID != nil {
		agent = ptr(*tk.AssigneeUserID)
	}
	if !inbound {
		c.Direction, c.InitiatedByAgentID = "outbound", agent
		c.PhoneNumberSource, c.CountrySource, c.PhoneNumberDestination, c.CountryDestination = num.number, ptr(num.country), cust, ptr(country)
	}
	c.steps = g.drawSteps(r, c, start, agent)
	return c
}

// drawSteps draws the call's life: created and ringing, then answered
// (75% inbound, 65% outbound; sometimes transferred; recorded 60% of the
// time) and ended, or missed (an inbound call may leave a voicemail).
func (g *callGen) drawSteps(r *rand.Rand, c *voiceCall, start time.Time, agent *int64) []callStep {
	at := start
	next := func(d time.Duration) time.Time { at = at.Add(d); return at }
	steps := []callStep{{at: at, kind: "created", agent: c.InitiatedByAgentID}}
	steps = append(steps, callStep{at: next(time.Second + randDur(r, 2*time.Second)), kind: "ringing", agent: agent})
	answered := r.Float64() < map[bool]float64{true: 0.75, false: 0.65}[c.Direction == "inbound"]
	if !answered {
		steps = append(steps, callStep{at: next(20*time.Second + randDur(r, 25*time.Second)), kind: "missed"})
		if c.Direction == "inbound" && r.Float64() < 0.5 {
			steps = append(steps, callStep{at: next(15*time.Second + randDur(r, 60*time.Second)), kind: "voicemail"})
		}
		return steps
	}
	steps = append(steps, callStep{at: next(3*time.Second + randDur(r, 30*time.Second)), kind: "answered", agent: agent})
	if r.Float64() < 0.15 {
		steps = append(steps, callStep{at: next(30*time.Second + randDur(r, 3*time.Minute)), kind: "transferred", agent: ptr(pick(r, g.s.users).ID)})
	}
	c.record = r.Float64() < 0.6
	return append(steps, callStep{at: next(30*time.Second + expDur(r, 4*time.Minute)), kind: "ended"})
}

// customerPhone is the customer's phone number (from its phone channel, or
// drawn) and its country.
func (g *callGen) customerPhone(r *rand.Rand, customerID int64) (string, string) {
	if c, ok := objectOf[*customer](g.s.table(Customers), customerID); ok {
		for _, ch := range c.Channels {
			if ch.Type == "phone" {
				return strings.ReplaceAll(ch.Address, " ", ""), "US"
			}
		}
	}
	if r.Float64() < 0.2 {
		return fmt.Sprintf("+447%09d", r.IntN(1e9)), "GB"
	}
	return fmt.Sprintf("+1%03d555%04d", 201+r.IntN(700), r.IntN(10000)), "US"
}

// play applies one step to the call at stamp st and writes its event (and
// recording); seeding says whether it happens while seeding (mk stamps)
// or in an Advance (fresh stamps).
func (g *callGen) play(r *rand.Rand, c *voiceCall, s callStep, st stamp, seeding bool) {
	secs := func() *int64 { return ptr(int64(st.t.Sub(c.StartedDatetime.t).Seconds())) }
	switch s.kind {
	case "created":
		c.StartedDatetime = stamp{t: st.t.Add(-time.Second).Truncate(time.Second), f: st.f}
		c.CreatedDatetime = st
	case "answered":
		c.Status = "in-progress"
		if c.Direction == "inbound" {
			c.LastAnsweredByAgentID = s.agent
		}
	case "transferred":
		c.LastAnsweredByAgentID = s.agent
	case "missed":
		c.Status = map[bool]string{true: "missed", false: "no-answer"}[c.Direction == "inbound"]
		c.Duration = secs()
	case "voicemail":
		c.HasVoicemail = true
		g.recordings().add(r, c, "voicemail", st, seeding)
	case "ended":
		c.Status, c.Duration = "completed", secs()
		if c.record {
			c.HasCallRecording = true
			g.recordings().add(r, c, "call-recording", st, seeding)
		}
	}
	c.UpdatedDatetime = st
	g.t.changed(c)
	g.events().add(r, c, s, st, seeding)
}

// plan plays the live calls' steps that fall due and places new calls
// (0.4% of the configured tickets, at least one) on drawn tickets.
func (g *callGen) plan(b *batch) {
	g.recordingsDue = 0
	g.live = slices.DeleteFunc(g.live, func(c *voiceCall) bool {
		g.scheduleDue(b, c, b.from.Add(time.Microsecond))
		return len(c.steps) == 0
	})
	tickets := g.s.table(Tickets)
	if tickets.len() == 0 {
		return
	}
	times(0.004, g.s.cfg.Tickets, func() {
		c := g.drawCall(b.r, objectAt[*ticket](tickets, b.r.IntN(tickets.len())), b.when())
		created := c.steps[0]
		c.steps = c.steps[1:]
		b.at(created.at, func(at time.Time) { g.open(c, created, at) })
		g.scheduleDue(b, c, created.at)
		if len(c.steps) > 0 {
			g.live = append(g.live, c)
		}
	})
}

// scheduleDue schedules the call's steps due by the batch's end, none
// before floor, and drops them from its steps.
func (g *callGen) scheduleDue(b *batch, c *voiceCall, floor time.Time) {
	for len(c.steps) > 0 && !c.steps[0].at.After(b.to) {
		s := c.steps[0]
		c.steps = c.steps[1:]
		if (s.kind == "ended" && c.record) || s.kind == "voicemail" {
			g.recordingsDue++
		}
		b.at(later(s.at, floor), func(at time.Time) { g.play(g.s.rng, c, s, g.s.stampAt(at, c.form), false) })
	}
}

// open stores a call placed during an Advance and plays its first step.
func (g *callGen) open(c *voiceCall, s callStep, at time.Time) {
	c.ID = g.t.newID(g.s.rng)
	c.form = g.t.form(c.ID)
	st := g.s.stampAt(at, c.form)
	c.CreatedDatetime, c.UpdatedDatetime = st, st
	g.t.add(c)
	g.play(g.s.rng, c, s, st, false)
}

// lastCalls are the calls in id order, newest first (for recordings).
func (g *callGen) lastCalls() []*voiceCall {
	out := objectsOf[*voiceCall](g.t)
	slices.SortFunc(out, func(a, b *voiceCall) int { return cmp.Compare(b.ID, a.ID) })
	return out
}
