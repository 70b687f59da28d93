package gorgiassim

import (
	"math/rand/v2"
)

// VoiceCallEvents is the resource of phone call events (for Objects, IDs
// and Deny).
const VoiceCallEvents = "phone/voice-call-events"

func init() {
	register(genSpec{
		entity: "voice_call_events", model: voiceCallEvent{},
		firstID: 88000000, idGap: 4, salt: 0x7a11e7e4a5b2,
		filters: []string{"call_id"},
		aliases: []string{"call_events"},
		needs:   []string{"voice_calls"},
		make:    func(s *Sim, t *table) generator { return &callEventGen{s: s, t: t} },
	})
}

type voiceCallEvent struct {
	ID              int64          `json:"id"`
	Type            string         `json:"type"`
	AccountID       int64          `json:"account_id"`
	CallID          int64          `json:"call_id"`
	UserID          *int64         `json:"user_id"`
	CustomerID      *int64         `json:"customer_id"`
	CreatedDatetime stamp          `json:"created_datetime"`
	Meta            map[string]any `json:"meta"`
	extras
}

// callEventGen holds the events of phone calls: 3 to 5 per call, one per
// step, written by the calls generator as the call goes on. Events never
// change.
type callEventGen struct {
	s *Sim
	t *table
}

// seed adds nothing itself: the calls generator, seeded just before, wrote
// the seeded calls' events.
func (g *callEventGen) seed(*rand.Rand) {}

// plan adds nothing itself: every Advance places a new call, whose first
// step is an event.
func (g *callEventGen) plan(*batch) {}

// callEventTypes name the event of each step, by direction for the first.
var callEventTypes = map[string]string{
	"ringing": "call-ringing", "answered": "call-answered", "transferred": "call-transferred",
	"missed": "call-missed", "voicemail": "voicemail-left", "ended": "call-ended",
}

// add writes the event of a call's step at stamp st (seeding: a seeded
// stamp, ids drawn from r).
func (g *callEventGen) add(r *rand.Rand, c *voiceCall, s callStep, st stamp, seeding bool) {
	typ := callEventTypes[s.kind]
	if s.kind == "created" {
		typ = map[bool]string{true: "incoming-call", false: "outgoing-call"}[c.Direction == "inbound"]
	}
	id := g.t.newID(r)
	at := mk(st.t, g.t.form(id))
	if !seeding {
		at = g.s.stampAt(st.t, g.t.form(id))
	}
	ev := &voiceCallEvent{
		ID: id, Type: typ, AccountID: accountID, CallID: c.ID, UserID: s.agent, CustomerID: ptr(c.CustomerID),
		CreatedDatetime: at, extras: newExtras(g.s.cfg.ExtraFields),
	}
	switch s.kind {
	case "created":
		ev.Meta = map[string]any{"phone_number_id": c.PhoneNumberID, "direction": c.Direction}
	case "missed", "ended":
		ev.Meta = map[string]any{"status": c.Status, "duration": c.Duration}
	case "transferred":
		ev.Meta = map[string]any{"reason": "transfer", "to_user_id": s.agent}
	}
	g.t.add(ev)
}
