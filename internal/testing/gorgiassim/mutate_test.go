package gorgiassim

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// truth indexes the current objects of a resource by id.
func truth(t *testing.T, s *Sim, res string) map[int64]map[string]any {
	t.Helper()
	out := map[int64]map[string]any{}
	for _, raw := range s.Objects(res) {
		m := obj(t, raw)
		out[int64(m["id"].(float64))] = m
	}
	return out
}

func rawByID(t *testing.T, s *Sim, res string) map[int64]json.RawMessage {
	t.Helper()
	out := map[int64]json.RawMessage{}
	for _, raw := range s.Objects(res) {
		out[idOf(t, raw)] = raw
	}
	return out
}

// version is the latest *_datetime of an object (the derived version of
// messages and surveys; updated_datetime for customers and tickets).
func version(t *testing.T, m map[string]any) time.Time {
	t.Helper()
	var v time.Time
	for _, k := range tsKeys(m) {
		if k == "snooze_datetime" || k == "should_send_datetime" { // schedules, not changes
			continue
		}
		if ts := tsField(t, m, k); ts.After(v) {
			v = ts
		}
	}
	return v
}

func TestAdvance(t *testing.T) {
	t.Parallel()
	cfg := Config{}.withDefaults()
	s, _ := newTestSim(t, Config{})
	before := map[string]map[int64]json.RawMessage{}
	for _, res := range allResources {
		before[res] = rawByID(t, s, res)
	}
	ch := s.Advance(time.Hour)
	if !ch.From.Equal(cfg.Start) || !ch.To.Equal(cfg.Start.Add(time.Hour)) || !s.Now().Equal(ch.To) {
		t.Fatalf("Changes From %v To %v, Now %v", ch.From, ch.To, s.Now())
	}
	if n := len(ch.Customers); n < 6 {
		t.Errorf("%d customers touched, want at least 2%%", n)
	}
	if n := len(ch.Tickets); n < 30 {
		t.Errorf("%d tickets touched, want at least 5%%", n)
	}
	newMsgs := 0
	for _, id := range ch.Messages {
		if before[Messages][id] == nil {
			newMsgs++
		}
	}
	if newMsgs < 10 {
		t.Errorf("%d new messages", newMsgs)
	}
	newTickets := 0
	for _, id := range ch.Tickets {
		if before[Tickets][id] == nil {
			newTickets++
		}
	}
	if newTickets < 1 {
		t.Error("no new tickets")
	}
	for _, res := range allResources {
		touched := ch.IDs(res)
		after := truth(t, s, res)
		afterRaw := rawByID(t, s, res)
		if !slices.IsSorted(touched) {
			t.Fatalf("%s: Changes ids not sorted", res)
		}
		for id, m := range after {
			old := before[res][id]
			if !slices.Contains(touched, id) {
				if old == nil {
					t.Fatalf("%s %d created but not reported", res, id)
				}
				if !bytes.Equal(old, afterRaw[id]) {
					t.Fatalf("%s %d changed but not reported", res, id)
				}
				continue
			}
			// Every touched object's version moved into (From, To+1s].
			v := version(t, m)
			if !v.After(ch.From) || v.After(ch.To.Add(time.Second)) {
				t.Fatalf("%s %d: version %v outside (%v, %v]", res, id, v, ch.From, ch.To)
			}
			if res == Customers || res == Tickets {
				if u := tsField(t, m, "updated_datetime"); !u.After(ch.From) {
					t.Fatalf("%s %d: updated_datetime %v did not move", res, id, u)
				}
			}
		}
	}
	// messages_count and last_message_datetime follow the new messages.
	msgs := truth(t, s, Messages)
	count := map[int64]int{}
	lastMsg := map[int64]time.Time{}
	for _, m := range msgs {
		tid := int64(m["ticket_id"].(float64))
		count[tid]++
		if c := tsField(t, m, "created_datetime"); c.After(lastMsg[tid]) {
			lastMsg[tid] = c
		}
	}
	for id, tk := range truth(t, s, Tickets) {
		if int(tk["messages_count"].(float64)) != count[id] {
			t.Fatalf("ticket %d: messages_count %v, %d messages", id, tk["messages_count"], count[id])
		}
		if lm := tsField(t, tk, "last_message_datetime"); lastMsg[id].Sub(lm) >= time.Second || lm.Before(lastMsg[id].Truncate(time.Second)) {
			t.Fatalf("ticket %d: last_message_datetime %v, newest message %v", id, lm, lastMsg[id])
		}
		if u := tsField(t, tk, "updated_datetime"); u.Before(lastMsg[id].Truncate(time.Second)) {
			t.Fatalf("ticket %d: updated_datetime %v before its newest message %v", id, u, lastMsg[id])
		}
	}
}

func TestAdvanceSurveysLifecycle(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	future := 0
	var created []int64
	for range 3 {
		ch := s.Advance(time.Hour)
		all := truth(t, s, SatisfactionSurveys)
		for _, id := range ch.SatisfactionSurveys {
			m := all[id]
			if ss := tsField(t, m, "should_send_datetime"); m["sent_datetime"] == nil && ss.After(s.Now()) {
				future++
				created = append(created, id)
			}
		}
	}
	if future == 0 {
		t.Fatal("closing tickets created no survey with a future should_send_datetime")
	}
	ch := s.Advance(25 * time.Hour)
	all := truth(t, s, SatisfactionSurveys)
	for _, id := range created {
		m := all[id]
		if m["sent_datetime"] == nil {
			t.Fatalf("survey %d due at %v not sent by %v", id, m["should_send_datetime"], s.Now())
		}
		if !slices.Contains(ch.SatisfactionSurveys, id) {
			t.Fatalf("sent survey %d not reported", id)
		}
		if sent, ss := tsField(t, m, "sent_datetime"), tsField(t, m, "should_send_datetime"); sent.Before(ss) {
			t.Fatalf("survey %d sent before should_send_datetime", id)
		}
	}
	scored := 0
	for range 5 {
		ch := s.Advance(6 * time.Hour)
		all := truth(t, s, SatisfactionSurveys)
		for _, id := range ch.SatisfactionSurveys {
			m := all[id]
			if m["score"] != nil && tsField(t, m, "scored_datetime").After(ch.From) {
				scored++
			}
		}
	}
	if scored == 0 {
		t.Fatal("Advance scored no survey")
	}
}

func TestMutators(t *testing.T) {
	t.Parallel()
	s, clk := newTestSim(t, Config{})
	start := s.Now()
	cid := s.IDs(Customers)[10]
	var stamps []time.Time
	for range 3 {
		if err := s.EditCustomer(cid); err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, tsField(t, truth(t, s, Customers)[cid], "updated_datetime"))
	}
	tid := s.IDs(Tickets)[20]
	if err := s.EditTicket(tid); err != nil {
		t.Fatal(err)
	}
	stamps = append(stamps, tsField(t, truth(t, s, Tickets)[tid], "updated_datetime"))
	for i, st := range stamps {
		if !st.After(start) || st.After(start.Add(2*time.Second)) {
			t.Fatalf("stamp %d = %v, sim time %v", i, st, start)
		}
		if i > 0 && !st.After(stamps[i-1]) {
			t.Fatalf("stamps not strictly increasing: %v", stamps)
		}
	}

	clk.Add(time.Minute) // real time moves the sim clock too
	tk := truth(t, s, Tickets)[tid]
	maxMsg := slices.Max(s.IDs(Messages))
	mid, err := s.AddMessage(tid)
	if err != nil || mid <= maxMsg {
		t.Fatalf("AddMessage: %d %v", mid, err)
	}
	m := truth(t, s, Messages)[mid]
	tk2 := truth(t, s, Tickets)[tid]
	if int64(m["ticket_id"].(float64)) != tid || tk2["messages_count"].(float64) != tk["messages_count"].(float64)+1 {
		t.Fatal("AddMessage did not update the ticket")
	}
	if c := tsField(t, m, "created_datetime"); c.Before(start.Add(time.Minute)) {
		t.Fatalf("message created %v before the sim clock %v", c, start.Add(time.Minute))
	}
	if !tsField(t, tk2, "updated_datetime").After(tsField(t, tk, "updated_datetime")) {
		t.Fatal("ticket updated_datetime did not move")
	}

	for _, err := range []error{s.EditCustomer(1), s.EditTicket(1), s.SendSurvey(1), s.ScoreSurvey(1, 3)} {
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
	}
	if _, err := s.AddMessage(1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AddMessage unknown ticket: %v", err)
	}

	// Surveys: find one due but unsent, one not due, one sent.
	var due, notDue int64
	now := s.Now()
	for id, sv := range truth(t, s, SatisfactionSurveys) {
		if sv["sent_datetime"] != nil {
			continue
		}
		if sv["should_send_datetime"] != nil && !tsField(t, sv, "should_send_datetime").After(now) {
			due = id
		}
	}
	if due == 0 {
		t.Fatal("seed has no due-but-unsent survey")
	}
	if err := s.ScoreSurvey(due, 4); !errors.Is(err, ErrState) {
		t.Fatalf("scoring an unsent survey: %v", err)
	}
	if err := s.SendSurvey(due); err != nil {
		t.Fatal(err)
	}
	if err := s.SendSurvey(due); !errors.Is(err, ErrState) {
		t.Fatalf("sending twice: %v", err)
	}
	if err := s.ScoreSurvey(due, 6); !errors.Is(err, ErrInvalid) {
		t.Fatalf("score 6: %v", err)
	}
	if err := s.ScoreSurvey(due, 2); err != nil {
		t.Fatal(err)
	}
	sv := truth(t, s, SatisfactionSurveys)[due]
	if sv["score"].(float64) != 2 || sv["body_text"] == nil || !tsField(t, sv, "scored_datetime").After(tsField(t, sv, "sent_datetime")) {
		t.Fatalf("scored survey: %v", sv)
	}
	// A survey scheduled in the future cannot be sent yet.
	s.Advance(time.Hour) // closes tickets, creating surveys due in a day
	for id, sv := range truth(t, s, SatisfactionSurveys) {
		if sv["sent_datetime"] == nil && sv["should_send_datetime"] != nil && tsField(t, sv, "should_send_datetime").After(s.Now()) {
			notDue = id
		}
	}
	if notDue == 0 {
		t.Fatal("no survey scheduled in the future")
	}
	if err := s.SendSurvey(notDue); !errors.Is(err, ErrNotDue) {
		t.Fatalf("sending early: %v", err)
	}
}

// TestSameCallsSameState: the same sequence of calls on equal sims gives
// byte-identical truth.
func TestSameCallsSameState(t *testing.T) {
	t.Parallel()
	run := func() *Sim {
		s, clk := newTestSim(t, Config{Seed: 3, ExtraFields: true})
		s.Advance(2 * time.Hour)
		clk.Add(3 * time.Second)
		_ = s.EditTicket(s.IDs(Tickets)[3])
		_, _ = s.AddMessage(s.IDs(Tickets)[4])
		s.Advance(30 * time.Hour)
		return s
	}
	a, b := run(), run()
	for _, res := range catalog.Names() {
		oa, ob := a.Objects(res), b.Objects(res)
		if !slices.EqualFunc(oa, ob, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) }) {
			t.Fatalf("%s differs after the same calls", res)
		}
	}
}

func TestSecondsFormStampsRoundUp(t *testing.T) {
	t.Parallel()
	s, _ := newTestSim(t, Config{})
	// Find a ticket rendered with whole seconds and one with microseconds.
	var whole, micro int64
	for _, id := range s.IDs(Tickets) {
		switch s.table(Tickets).form(id) {
		case formSeconds:
			whole = id
		case formMicro:
			micro = id
		}
	}
	for range 3 {
		if err := s.EditTicket(micro); err != nil {
			t.Fatal(err)
		}
		if err := s.EditTicket(whole); err != nil {
			t.Fatal(err)
		}
		w := truth(t, s, Tickets)[whole]["updated_datetime"].(string)
		if !reSeconds.MatchString(w) {
			t.Fatalf("whole-second ticket rendered %q", w)
		}
		mt := tsField(t, truth(t, s, Tickets)[micro], "updated_datetime")
		if wt := parseTS(t, w); !wt.After(mt) {
			t.Fatalf("stamps must keep increasing: %v then %v", mt, wt)
		}
	}
}
