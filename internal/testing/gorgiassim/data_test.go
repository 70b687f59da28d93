package gorgiassim

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

var wantKeys = map[string][]string{
	Customers: {"id", "external_id", "active", "email", "name", "firstname", "lastname", "language", "timezone",
		"created_datetime", "updated_datetime", "meta", "data", "note", "channels", "integrations", "custom_fields"},
	Tickets: {"id", "uri", "external_id", "language", "status", "priority", "channel", "via", "from_agent", "spam",
		"customer", "assignee_user", "assignee_user_id", "assignee_team", "assignee_team_id", "subject", "excerpt",
		"integrations", "meta", "tags", "custom_fields", "messages_count", "is_unread", "created_datetime",
		"opened_datetime", "last_received_message_datetime", "last_message_datetime", "updated_datetime",
		"closed_datetime", "snooze_datetime", "trashed_datetime"},
	Messages: {"id", "uri", "message_id", "ticket_id", "external_id", "public", "channel", "via", "source", "sender",
		"receiver", "integration_id", "intents", "rule_id", "from_agent", "subject", "body_text", "body_html",
		"stripped_text", "stripped_html", "stripped_signature", "headers", "attachments", "actions", "macros", "meta",
		"created_datetime", "sent_datetime", "failed_datetime", "deleted_datetime", "opened_datetime",
		"last_sending_error", "is_retriable"},
	SatisfactionSurveys: {"id", "body_text", "created_datetime", "customer_id", "meta", "score", "scored_datetime",
		"sent_datetime", "should_send_datetime", "ticket_id", "uri"},
}

// notNull lists fields that must never be null.
var notNull = map[string][]string{
	Customers:           {"id", "active", "firstname", "lastname", "created_datetime", "updated_datetime", "channels", "integrations"},
	Tickets:             {"id", "uri", "status", "priority", "channel", "via", "customer", "integrations", "tags", "messages_count", "is_unread", "created_datetime", "updated_datetime"},
	Messages:            {"id", "uri", "ticket_id", "public", "channel", "via", "sender", "from_agent", "created_datetime", "headers", "attachments", "macros"},
	SatisfactionSurveys: {"id", "created_datetime", "customer_id", "ticket_id", "uri"},
}

func keysOf(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sortedCopy(xs []string) []string {
	out := slices.Clone(xs)
	sort.Strings(out)
	return out
}

func TestDeterminism(t *testing.T) {
	t.Parallel()
	for _, extra := range []bool{false, true} {
		a := New(Config{Seed: 7, ExtraFields: extra})
		b := New(Config{Seed: 7, ExtraFields: extra})
		c := New(Config{Seed: 8, ExtraFields: extra})
		for _, res := range catalog.Names() {
			oa, ob, oc := a.Objects(res), b.Objects(res), c.Objects(res)
			if len(oa) == 0 || len(oa) != len(ob) {
				t.Fatalf("%s: %d vs %d objects", res, len(oa), len(ob))
			}
			for i := range oa {
				if !bytes.Equal(oa[i], ob[i]) {
					t.Fatalf("%s[%d] differs between equal seeds:\n%s\n%s", res, i, oa[i], ob[i])
				}
			}
			// The account draws nothing: it is the same for every Seed.
			if res != Account && slices.EqualFunc(oa, oc, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) }) {
				t.Errorf("%s: seeds 7 and 8 gave the same data", res)
			}
		}
	}
}

func TestShapes(t *testing.T) {
	t.Parallel()
	for _, extra := range []bool{false, true} {
		s := New(Config{ExtraFields: extra})
		for _, res := range allResources {
			want := sortedCopy(wantKeys[res])
			if extra {
				want = sortedCopy(append(want, "x_sim_flag", "x_sim_info"))
			}
			for _, raw := range s.Objects(res) {
				m := obj(t, raw)
				if got := keysOf(m); !slices.Equal(got, want) {
					t.Fatalf("%s keys (extra=%v):\n got %v\nwant %v", res, extra, got, want)
				}
				for _, k := range notNull[res] {
					if m[k] == nil {
						t.Fatalf("%s %v: %s is null", res, m["id"], k)
					}
				}
				if extra && (m["x_sim_flag"] != true || m["x_sim_info"].(map[string]any)["a"] != 1.0) {
					t.Fatalf("%s: extra fields wrong: %v %v", res, m["x_sim_flag"], m["x_sim_info"])
				}
				if res == Tickets {
					cust := m["customer"].(map[string]any)
					ck := keysOf(cust)
					wantC := []string{"email", "firstname", "id", "lastname", "meta", "name"}
					if extra {
						wantC = sortedCopy(append(wantC, "x_sim_flag", "x_sim_info"))
					}
					if !slices.Equal(ck, wantC) {
						t.Fatalf("ticket customer keys %v, want %v", ck, wantC)
					}
				}
			}
		}
	}
}

func TestConsistency(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	custs := map[float64]map[string]any{}
	for _, raw := range s.Objects(Customers) {
		m := obj(t, raw)
		custs[m["id"].(float64)] = m
	}
	msgCount := map[float64]int{}
	for _, raw := range s.Objects(Messages) {
		m := obj(t, raw)
		msgCount[m["ticket_id"].(float64)]++
		want := "/api/tickets/" + ftoa(m["ticket_id"]) + "/messages/" + ftoa(m["id"]) + "/"
		if m["uri"] != want {
			t.Fatalf("message uri %v, want %s", m["uri"], want)
		}
		if _, ok := m["updated_datetime"]; ok {
			t.Fatal("messages must not have updated_datetime")
		}
	}
	tickets := map[float64]map[string]any{}
	counts := map[int]bool{}
	trashed := 0
	for _, raw := range s.Objects(Tickets) {
		m := obj(t, raw)
		id := m["id"].(float64)
		tickets[id] = m
		if m["uri"] != "/api/tickets/"+ftoa(id)+"/" {
			t.Fatalf("ticket uri %v", m["uri"])
		}
		if !slices.Contains([]string{"open", "closed"}, m["status"].(string)) {
			t.Fatalf("status %v", m["status"])
		}
		if !slices.Contains([]string{"critical", "high", "normal", "low"}, m["priority"].(string)) {
			t.Fatalf("priority %v", m["priority"])
		}
		n := int(m["messages_count"].(float64))
		if n != msgCount[id] {
			t.Fatalf("ticket %v: messages_count %d, %d messages", id, n, msgCount[id])
		}
		counts[n] = true
		cust := m["customer"].(map[string]any)
		c, ok := custs[cust["id"].(float64)]
		if !ok {
			t.Fatalf("ticket %v: unknown customer %v", id, cust["id"])
		}
		for _, k := range []string{"email", "name", "firstname", "lastname"} {
			if c[k] != cust[k] {
				t.Fatalf("ticket %v: customer.%s %v, customer has %v", id, k, cust[k], c[k])
			}
		}
		if (m["status"] == "closed") != (m["closed_datetime"] != nil) {
			t.Fatalf("ticket %v: status %v closed_datetime %v", id, m["status"], m["closed_datetime"])
		}
		if m["trashed_datetime"] != nil {
			trashed++
		}
		if _, ok := m["requester"]; ok {
			t.Fatal("tickets must not have requester")
		}
	}
	if len(counts) < 6 {
		t.Errorf("messages per ticket vary too little: %v", counts)
	}
	if trashed == 0 || trashed > len(tickets)/10 {
		t.Errorf("%d trashed tickets, want a few", trashed)
	}
	perTicket := map[float64]int{}
	scheduled := 0
	for _, raw := range s.Objects(SatisfactionSurveys) {
		m := obj(t, raw)
		if m["sent_datetime"] == nil && m["should_send_datetime"] != nil {
			ss, created := tsField(t, m, "should_send_datetime"), tsField(t, m, "created_datetime")
			if ss.Sub(created) != 24*time.Hour {
				t.Fatalf("survey %v: should_send_datetime %v, created %v", m["id"], ss, created)
			}
			if ss.After(s.Now()) {
				scheduled++
			}
		}
		tid := m["ticket_id"].(float64)
		perTicket[tid]++
		tk, ok := tickets[tid]
		if !ok {
			t.Fatalf("survey %v: unknown ticket", m["id"])
		}
		if tk["customer"].(map[string]any)["id"] != m["customer_id"] {
			t.Fatalf("survey %v: customer_id differs from the ticket's", m["id"])
		}
		if sc := m["score"]; sc != nil && (sc.(float64) < 1 || sc.(float64) > 5) {
			t.Fatalf("score %v", sc)
		}
		if m["score"] != nil && (m["scored_datetime"] == nil || m["sent_datetime"] == nil) {
			t.Fatalf("survey %v scored without being sent", m["id"])
		}
		if m["uri"] != "/api/satisfaction-surveys/"+ftoa(m["id"])+"/" {
			t.Fatalf("survey uri %v", m["uri"])
		}
	}
	if scheduled == 0 {
		t.Error("no unsent survey with should_send_datetime in the future")
	}
	for tid, n := range perTicket {
		if n > 1 {
			t.Fatalf("ticket %v has %d surveys", tid, n)
		}
	}
}

func ftoa(v any) string { return strconv.FormatInt(int64(v.(float64)), 10) }

func TestCountsAndRatios(t *testing.T) {
	for _, cfg := range []Config{{}, {Seed: 99, Customers: 50, Tickets: 200}, {Seed: 5, Tickets: 1000, SurveyShare: 0.3}} {
		s := New(cfg)
		nc, nt, nm, ns := len(s.IDs(Customers)), len(s.IDs(Tickets)), len(s.IDs(Messages)), len(s.IDs(SatisfactionSurveys))
		cfg = cfg.withDefaults()
		if nc != cfg.Customers || nt != cfg.Tickets {
			t.Errorf("%d customers %d tickets, want %d %d", nc, nt, cfg.Customers, cfg.Tickets)
		}
		if nm < 3*nt {
			t.Errorf("%d messages for %d tickets, want at least 3x", nm, nt)
		}
		if avg := float64(nm) / float64(nt); avg < cfg.MessagesPerTicket-0.4 || avg > cfg.MessagesPerTicket+0.4 {
			t.Errorf("average %.2f messages per ticket, want about %v", avg, cfg.MessagesPerTicket)
		}
		share := float64(ns) / float64(nt)
		if share < cfg.SurveyShare-0.05 || share > cfg.SurveyShare+0.05 {
			t.Errorf("survey share %.3f, want %v ± 0.05", share, cfg.SurveyShare)
		}
	}
}

var (
	reMicro   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`)
	reSeconds = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`)
	reNaive   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$`)
)

func tsKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		if strings.HasSuffix(k, "_datetime") {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

func TestTimestampForms(t *testing.T) {
	t.Parallel()
	cfg := Config{}.withDefaults()
	s := New(cfg)
	begin := cfg.Start.Add(-cfg.History)
	for _, res := range allResources {
		forms := map[string]int{}
		var prevCreated time.Time
		for _, raw := range s.Objects(res) {
			m := obj(t, raw)
			objForm := ""
			for _, k := range tsKeys(m) {
				v, _ := m[k].(string)
				if v == "" {
					continue
				}
				var f string
				switch {
				case reMicro.MatchString(v):
					f = "micro"
				case reSeconds.MatchString(v):
					f = "seconds"
				case reNaive.MatchString(v):
					f = "naive"
				default:
					t.Fatalf("%s %v: %s = %q has no known form", res, m["id"], k, v)
				}
				// A micro-form value whose fraction is zero prints like
				// the seconds form (as Python's isoformat does); only
				// naive and zoned values must never mix in one object.
				if objForm != "" && (objForm == "naive") != (f == "naive") {
					t.Fatalf("%s %v mixes forms: %s %q after %s", res, m["id"], k, v, objForm)
				}
				if objForm == "" || objForm == "seconds" && f == "micro" {
					objForm = f
				}
				ts := parseTS(t, v)
				if k != "should_send_datetime" && k != "snooze_datetime" && (ts.Before(begin) || ts.After(cfg.Start)) {
					t.Fatalf("%s %v: %s %s outside the seeded history", res, m["id"], k, v)
				}
			}
			forms[objForm]++
			created := tsField(t, m, "created_datetime")
			if created.Before(prevCreated.Add(-time.Second)) {
				t.Fatalf("%s %v: ids do not grow with created_datetime", res, m["id"])
			}
			prevCreated = created
		}
		n := len(s.IDs(res))
		for _, f := range []string{"micro", "seconds", "naive"} {
			if forms[f] == 0 {
				t.Errorf("%s: no object with %s timestamps (%v)", res, f, forms)
			}
		}
		if sec := float64(forms["seconds"]) / float64(n); sec < 0.07 || sec > 0.25 {
			t.Errorf("%s: %.2f of objects have whole seconds, want about 1/7", res, sec)
		}
	}
}

func TestIDRanges(t *testing.T) {
	s := New(Config{})
	base := map[string]int64{Customers: 350000000, Tickets: 47000000, Messages: 123000000, SatisfactionSurveys: 3400000}
	for res, lo := range base {
		ids := s.IDs(res)
		if ids[0] <= lo || ids[len(ids)-1] > lo*2 || !slices.IsSorted(ids) {
			t.Errorf("%s ids %d..%d, want just above %d, ascending", res, ids[0], ids[len(ids)-1], lo)
		}
	}
	if s.Objects("nope") != nil || s.IDs("nope") != nil {
		t.Error("unknown resource must give nil")
	}
	if len(s.IDs("ticket_messages")) != len(s.IDs(Messages)) || len(s.IDs("satisfaction_surveys")) == 0 {
		t.Error("entity-name aliases not accepted")
	}
}
