package gorgiassim

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// feedEntities are the entities whose generators this file checks.
var feedEntities = []string{"custom_fields", "events", "voice_calls", "voice_call_events", "voice_call_recordings", "account"}

// TestFeedsAdvance: every Advance, short or long, changes every one
// of these entities; snapshot entities change content, append-only ones
// only grow, with creation times never behind what was already listed
// (so a created_datetime[gte] watermark misses nothing).
func TestFeedsAdvance(t *testing.T) {
	t.Parallel()
	s, clk := newTestSim(t, Config{Customers: 40, Tickets: 80})
	for i, d := range []time.Duration{time.Minute, 0, time.Hour, time.Second, 26 * time.Hour, 10 * time.Minute} {
		before := map[string]map[int64]json.RawMessage{}
		for _, name := range feedEntities {
			before[name] = rawByID(t, s, name)
		}
		clk.Add(time.Second)
		ch := s.Advance(d)
		for _, name := range feedEntities {
			e, _ := catalog.Lookup(name)
			after := rawByID(t, s, name)
			changed := 0
			for id, raw := range after {
				if old, ok := before[name][id]; !ok || !bytes.Equal(old, raw) {
					changed++
					if !slices.Contains(ch.IDs(name), id) {
						t.Fatalf("advance %d: %s %d changed but not reported", i, name, id)
					}
					if ok && e.Mode == catalog.AppendOnly {
						t.Fatalf("advance %d: append-only %s %d changed", i, name, id)
					}
				}
			}
			if changed == 0 {
				t.Fatalf("advance %d (%v): %s did not change", i, d, name)
			}
			if e.Mode == catalog.AppendOnly {
				checkGrowsForward(t, before[name], after)
			}
		}
	}
}

// checkGrowsForward: every new object is created no earlier than every
// old one.
func checkGrowsForward(t *testing.T, before, after map[int64]json.RawMessage) {
	t.Helper()
	var newest time.Time
	for _, raw := range before {
		newest = later(newest, tsField(t, obj(t, raw), createdField))
	}
	for id, raw := range after {
		if before[id] == nil {
			if c := tsField(t, obj(t, raw), createdField); c.Before(newest) {
				t.Fatalf("new object %d created %v, before the newest old one %v", id, c, newest)
			}
		}
	}
}

// TestEventsFeed: about two events per seeded ticket, each about an
// object that exists, caused by nobody or by an agent; later events have
// larger ids; Advance writes one event per change of an audited object.
func TestEventsFeed(t *testing.T) {
	t.Parallel()
	s, _ := newTestSim(t, Config{})
	check := func() map[string]int {
		types := map[string]int{}
		agents := agentIDs(s)
		known := map[string]map[int64]map[string]any{}
		for entity, kind := range auditedKinds {
			known[kind] = truth(t, s, entity)
		}
		var last time.Time
		for _, raw := range s.Objects(Events) {
			m := obj(t, raw)
			types[m["type"].(string)]++
			if _, ok := known[m["object_type"].(string)][int64(m["object_id"].(float64))]; !ok {
				t.Fatalf("event %v about a missing %v %v", m["id"], m["object_type"], m["object_id"])
			}
			if u := m["user_id"]; u != nil && !agents[int64(u.(float64))] {
				t.Fatalf("event %v: user_id %v is no agent", m["id"], u)
			}
			c := tsField(t, m, createdField)
			if c.Before(last.Add(-time.Second)) {
				t.Fatalf("event %v created %v, well before the previous id's %v", m["id"], c, last)
			}
			last = later(last, c)
		}
		return types
	}
	n := len(s.IDs(Events))
	if per := float64(n) / 600; per < 1.6 || per > 3 {
		t.Fatalf("%d seeded events for 600 tickets", n)
	}
	types := check()
	for _, typ := range []string{"ticket-created", "ticket-updated", "ticket-message-created", "customer-created",
		"customer-updated", "satisfaction-survey-sent", "satisfaction-survey-responded"} {
		if types[typ] == 0 {
			t.Errorf("no seeded %s event", typ)
		}
	}
	ch := s.Advance(time.Hour)
	want := len(ch.Tickets) + len(ch.Customers)
	if got := len(ch.IDs(Events)); got < want {
		t.Fatalf("Advance wrote %d events for %d changed tickets and customers", got, want)
	}
	check()
	// Filtered by object: a ticket's events, oldest first.
	tid := s.IDs(Tickets)[7]
	q := map[string]string{"object_type": "Ticket", "object_id": ftoa(float64(tid)), "order_by": "created_datetime:asc"}
	got := walk(t, s, Events, q, nil)
	wantIDs := wantIDs(t, s, Events, "created_datetime:asc", func(m map[string]any) bool {
		return m["object_type"] == "Ticket" && int64(m["object_id"].(float64)) == tid
	})
	if len(got) == 0 || !slices.Equal(got, wantIDs) {
		t.Fatalf("events of ticket %d: %v, want %v", tid, got, wantIDs)
	}
}

// TestVoiceCalls: calls on 8% of the tickets, about their tickets'
// customers; 3 to 6 events per call, the first its creation; recordings
// and voicemails match the calls' flags; deleted recordings lose their url.
func TestVoiceCalls(t *testing.T) {
	t.Parallel()
	s, _ := newTestSim(t, Config{})
	s.Advance(2 * time.Hour)
	tickets := truth(t, s, Tickets)
	calls := truth(t, s, VoiceCalls)
	if n := len(calls); n < 48 || n > 80 {
		t.Fatalf("%d calls for 600 tickets", n)
	}
	events := map[int64][]map[string]any{}
	for _, raw := range s.Objects(VoiceCallEvents) {
		m := obj(t, raw)
		events[int64(m["call_id"].(float64))] = append(events[int64(m["call_id"].(float64))], m)
	}
	recs := map[int64][]map[string]any{}
	agents := agentIDs(s)
	for _, raw := range s.Objects(VoiceCallRecordings) {
		m := obj(t, raw)
		recs[int64(m["call_id"].(float64))] = append(recs[int64(m["call_id"].(float64))], m)
		if m["deleted_datetime"] != nil && (m["url"] != nil || !agents[int64(m["deleted_by_user_id"].(float64))]) {
			t.Fatalf("deleted recording %v: url %v, deleted by %v", m["id"], m["url"], m["deleted_by_user_id"])
		}
	}
	answered, recorded := 0, 0
	for id, c := range calls {
		tk, ok := tickets[int64(c["ticket_id"].(float64))]
		if !ok || tk["customer"].(map[string]any)["id"] != c["customer_id"] {
			t.Fatalf("call %d: ticket %v (customer %v)", id, c["ticket_id"], c["customer_id"])
		}
		evs := events[id]
		done := c["status"] == "completed" || c["status"] == "missed" || c["status"] == "no-answer"
		if len(evs) == 0 || len(evs) > 6 || (done && len(evs) < 3) || !strings.HasSuffix(evs[0]["type"].(string), "-call") {
			t.Fatalf("call %d (%v): %d events, first %v", id, c["status"], len(evs), evs[0]["type"])
		}
		kinds := map[string]bool{}
		for _, r := range recs[id] {
			kinds[r["type"].(string)] = true
		}
		if kinds["call-recording"] != c["has_call_recording"] || kinds["voicemail"] != c["has_voicemail"] {
			t.Fatalf("call %d: recordings %v, flags %v %v", id, kinds, c["has_call_recording"], c["has_voicemail"])
		}
		if c["status"] == "completed" {
			answered++
			if kinds["call-recording"] {
				recorded++
			}
		}
	}
	if share := float64(recorded) / float64(answered); share < 0.35 || share > 0.85 {
		t.Fatalf("%d of %d answered calls recorded", recorded, answered)
	}
}

// TestCustomFieldsEndpoint: eight ticket and four customer fields, read
// per object_type in priority order; the ids the tickets and customers
// carry values of are defined for their object type.
func TestCustomFieldsEndpoint(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	defs := map[string][]int64{}
	for _, typ := range []string{"Ticket", "Customer"} {
		q := map[string]string{"object_type": typ, "order_by": "priority:asc"}
		defs[typ] = walk(t, s, CustomFields, q, nil)
	}
	if len(defs["Ticket"]) != 8 || len(defs["Customer"]) != 4 {
		t.Fatalf("fields per object type: %v", defs)
	}
	for _, id := range []int64{fieldContactReason, fieldSentiment} {
		if !slices.Contains(defs["Ticket"], id) {
			t.Errorf("ticket field %d is not defined", id)
		}
	}
	if !slices.Contains(defs["Customer"], fieldCustomerTier) {
		t.Errorf("customer field %d is not defined", fieldCustomerTier)
	}
	if r := get(t, s, "/api/custom-fields?object_type=Ticket&order_by=created_datetime:desc", true); r.status != 400 {
		t.Fatalf("order_by created_datetime: %d", r.status)
	}
}

// TestAccountEndpoint: /api/account is the account generator's object,
// Deny("account") forbids it (and Deny of a multi-segment resource its
// list and objects), and every Advance changes a setting.
func TestAccountEndpoint(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	r := get(t, s, "/api/account", true)
	if r.status != 200 || !bytes.Equal(r.body, s.Objects(Account)[0]) {
		t.Fatalf("GET /api/account: %d", r.status)
	}
	s.Deny(Account)
	if r := get(t, s, "/api/account", true); r.status != 403 {
		t.Fatalf("denied account: %d", r.status)
	}
	s.Allow(Account)
	s.Deny("voice_calls")
	call := ftoa(float64(s.IDs(VoiceCalls)[0]))
	for _, p := range []string{"/api/phone/voice-calls", "/api/phone/voice-calls/" + call} {
		if r := get(t, s, p, true); r.status != 403 {
			t.Fatalf("denied %s: %d", p, r.status)
		}
	}
	if r := get(t, s, "/api/phone/voice-call-events?limit=1", true); r.status != 200 {
		t.Fatalf("call events must stay readable: %d", r.status)
	}
	s.Advance(time.Minute)
	if r2 := get(t, s, "/api/account", true); r2.status != 200 || bytes.Equal(r2.body, r.body) {
		t.Fatalf("the account did not change: %d", r2.status)
	}
}

// TestParseQueryTime: the time forms a date filter accepts.
func TestParseQueryTime(t *testing.T) {
	utc := time.Date(2026, 5, 1, 10, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-05-01T10:30:00Z", utc, true},
		{"2026-05-01T10:30:00.250000Z", utc.Add(250 * time.Millisecond), true},
		{"2026-05-01T12:30:00+02:00", utc, true},
		{"2026-05-01T10:30:00+00:00", utc, true},
		{"2026-05-01T10:30:00 00:00", utc, true}, // '+' sent unescaped
		{"2026-05-01T10:30:00", utc, true},
		{"2026-05-01T10:30:00.5", utc.Add(500 * time.Millisecond), true},
		{"2026-05-01 10:30:00", utc, true},
		{"2026-05-01", utc.Truncate(24 * time.Hour), true},
		{"", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"2026-13-01T00:00:00", time.Time{}, false},
		{"1777631400", time.Time{}, false},
	} {
		got, ok := parseQueryTime(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseQueryTime(%q) = %v %v, want %v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	lo, hi, bad := parseRange(map[string][]string{"created_datetime[gt]": {"2026-05-01T10:30:00.0000005Z"}}, createdField)
	if bad != nil || lo != utc.UnixMicro()+1 || hi != math.MaxInt64 {
		t.Fatalf("gt with nanoseconds: %d %d %v", lo, hi, bad)
	}
}
