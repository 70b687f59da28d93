package gorgiassim

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// workspaceEntities are the catalog entities whose generators are gen_views.go,
// gen_integrations.go, gen_jobs.go and gen_widgets.go.
var workspaceEntities = []string{"views", "integrations", "jobs", "widgets"}

// union unwraps goavro's {branch: value} form of a nullable value.
func union(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, x := range m {
			return x
		}
	}
	return v
}

// TestWorkspaceAdvance: every Advance, even of zero length, edits or
// adds objects of each of the four entities; untouched objects are byte
// for byte unchanged; touched integrations and widgets carry a new
// updated_datetime, and touched jobs a derived version (as the encoder
// computes it) inside the batch and later than the one before.
func TestWorkspaceAdvance(t *testing.T) {
	s, _ := newTestSim(t, Config{Customers: 60, Tickets: 150})
	jobs := mustEntity(t, "jobs")
	enc, err := avrocodec.NewEncoder(jobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, time.Minute, 20 * time.Minute, time.Hour, 6 * time.Hour, 48 * time.Hour} {
		before := map[string]map[int64]json.RawMessage{}
		for _, name := range workspaceEntities {
			before[name] = rawByID(t, s, name)
		}
		oldVersions := jobVersions(t, enc, before["jobs"], s.Now())
		ch := s.Advance(d)
		// Whole-second stamps round up, and in a short batch they can push
		// later stamps past To by a few seconds: the bound is the latest stamp.
		asOf := later(ch.To.Add(time.Second), s.last)
		for _, name := range workspaceEntities {
			touched := ch.IDs(name)
			if len(touched) == 0 {
				t.Fatalf("Advance(%v) changed no %s", d, name)
			}
			checkTouched(t, name, before[name], rawByID(t, s, name), touched)
		}
		for id, v := range jobVersions(t, enc, rawByID(t, s, "jobs"), asOf) {
			if !slices.Contains(ch.IDs("jobs"), id) {
				continue
			}
			if !v.After(ch.From) || v.After(asOf) || !v.After(oldVersions[id]) {
				t.Fatalf("Advance(%v): job %d version %v, was %v, batch (%v, %v]", d, id, v, oldVersions[id], ch.From, ch.To)
			}
		}
		for _, name := range []string{"integrations", "widgets"} {
			for _, id := range ch.IDs(name) {
				u := tsField(t, obj(t, rawByID(t, s, name)[id]), "updated_datetime")
				if !u.After(ch.From) || u.After(asOf) {
					t.Fatalf("%s %d: updated_datetime %v outside (%v, %v]", name, id, u, ch.From, asOf)
				}
			}
		}
	}
}

func mustEntity(t *testing.T, name string) catalog.Entity {
	t.Helper()
	e, err := catalog.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// checkTouched: objects reported by Advance were created or changed, the
// others are unchanged, and none disappeared.
func checkTouched(t *testing.T, name string, before, after map[int64]json.RawMessage, touched []int64) {
	t.Helper()
	for id, raw := range before {
		if after[id] == nil {
			t.Fatalf("%s %d disappeared", name, id)
		}
		if changed := !bytes.Equal(raw, after[id]); changed != slices.Contains(touched, id) {
			t.Fatalf("%s %d: changed %v, reported %v", name, id, changed, !changed)
		}
	}
	for id := range after {
		if before[id] == nil && !slices.Contains(touched, id) {
			t.Fatalf("%s %d created but not reported", name, id)
		}
	}
}

// jobVersions are the derived versions of the jobs as the encoder computes
// them for a server clock at asOf.
func jobVersions(t *testing.T, enc *avrocodec.Encoder, objs map[int64]json.RawMessage, asOf time.Time) map[int64]time.Time {
	t.Helper()
	out := map[int64]time.Time{}
	for id, raw := range objs {
		rec, err := enc.Encode(raw, avrocodec.Meta{Domain: "acme", ExtractedAt: asOf, AsOf: asOf}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = rec.Version
	}
	return out
}

// TestWorkspaceJobLifecycle: after Advance calls of varied lengths,
// every job's status agrees with its timestamps, every job older than a
// day has ended, and the statuses seen cover the whole lifecycle.
func TestWorkspaceJobLifecycle(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	seen := map[string]bool{}
	steps := []time.Duration{time.Minute, 10 * time.Minute, time.Hour, 30 * time.Hour}
	for range 6 { // short steps catch jobs while they run
		steps = append(steps, 2*time.Minute, 30*time.Second)
	}
	for _, d := range steps {
		s.Advance(d)
		for _, raw := range s.Objects(Jobs) {
			m := obj(t, raw)
			seen[m["status"].(string)] = true
			checkJob(t, m)
			if tsField(t, m, "created_datetime").Before(s.Now().Add(-24*time.Hour)) && m["ended_datetime"] == nil {
				t.Fatalf("job %v created a day ago has not ended: %s", m["id"], raw)
			}
		}
	}
	for _, st := range []string{"scheduled", "pending", "running", "done", "errored", "canceled"} {
		if !seen[st] {
			t.Errorf("no job was ever %s (seen %v)", st, slices.Sorted(maps.Keys(seen)))
		}
	}
}

// checkJob: the job's timestamps are those of its status, in order.
func checkJob(t *testing.T, m map[string]any) {
	t.Helper()
	ts := func(k string) time.Time { return tsField(t, m, k) }
	set := func(k string) bool { return m[k] != nil }
	status := m["status"].(string)
	started, ended := ts("started_datetime"), ts("ended_datetime")
	ok := true
	switch status {
	case "pending", "scheduled":
		ok = !set("started_datetime") && set("scheduled_datetime") == (status == "scheduled")
	case "running", "cancel_requested":
		ok = set("locked_datetime") && !set("ended_datetime") && set("cancel_requested_datetime") == (status == "cancel_requested")
	case "done":
		ok = set("ended_datetime") && !set("failed_datetime") && !set("locked_datetime")
	case "errored", "fatal_errored":
		ok = set("failed_datetime") && ts("failed_datetime").Equal(ended)
	case "canceled":
		ok = set("cancelled_datetime") && ts("cancelled_datetime").Equal(ended) && !ts("cancel_requested_datetime").After(ended)
	default:
		ok = false
	}
	if set("started_datetime") {
		ok = ok && !started.Before(ts("created_datetime")) && !started.Before(ts("scheduled_datetime"))
	}
	if set("ended_datetime") {
		ok = ok && !ended.Before(started) && !set("locked_datetime")
	}
	if !ok {
		t.Fatalf("job %v: status %s does not match its timestamps: %v", m["id"], status, m)
	}
}

// TestWorkspaceRelations: the ids the four entities hold name real
// objects, and the integrations other entities name exist with the right
// type.
func TestWorkspaceRelations(t *testing.T) {
	s, _ := newTestSim(t, Config{Customers: 60, Tickets: 150})
	s.Advance(time.Hour)
	ints := truth(t, s, Integrations)
	checkWidgetRelations(t, s, ints)
	checkJobRelations(t, s)
	checkViewRelations(t, s)
	want := map[int64]string{integrationShopify: "shopify", integrationEmail: "email", integrationChat: "gorgias_chat",
		integrationSMS: "sms", integrationFacebook: "facebook", integrationPhone: "phone"}
	for id, typ := range want {
		if ints[id] == nil || ints[id]["type"] != typ {
			t.Errorf("integration %d: %v, want type %s", id, ints[id], typ)
		}
	}
	for _, m := range truth(t, s, Messages) {
		if id, ok := m["integration_id"].(float64); ok && ints[int64(id)] == nil {
			t.Fatalf("message %v: integration %v does not exist", m["id"], id)
		}
	}
	for _, tk := range truth(t, s, Tickets) {
		for _, ti := range tk["integrations"].([]any) {
			if !hasIntegration(ints, ti.(map[string]any)) {
				t.Fatalf("ticket %v: integration %v does not exist", tk["id"], ti)
			}
		}
	}
}

func hasIntegration(ints map[int64]map[string]any, ref map[string]any) bool {
	for _, in := range ints {
		if in["name"] == ref["name"] && in["type"] == ref["type"] {
			return true
		}
	}
	return false
}

func checkWidgetRelations(t *testing.T, s *Sim, ints map[int64]map[string]any) {
	t.Helper()
	apps := map[any]bool{}
	for _, in := range ints {
		apps[in["application_id"]] = in["application_id"] != nil
	}
	for _, w := range truth(t, s, Widgets) {
		if id, ok := w["integration_id"].(float64); ok && ints[int64(id)]["type"] != "http" {
			t.Fatalf("widget %v: integration %v is not an HTTP integration", w["id"], id)
		}
		if w["type"] == "http" && w["integration_id"] == nil {
			t.Fatalf("http widget %v has no integration", w["id"])
		}
		if app := w["app_id"]; app != nil && !apps[app] {
			t.Fatalf("widget %v: app %v has no integration", w["id"], app)
		}
	}
}

func checkJobRelations(t *testing.T, s *Sim) {
	t.Helper()
	tickets, views, users := truth(t, s, Tickets), truth(t, s, Views), agentIDs(s)
	for _, j := range truth(t, s, Jobs) {
		p := j["params"].(map[string]any)
		for _, id := range asSlice(p["ticket_ids"]) {
			if tickets[int64(id.(float64))] == nil {
				t.Fatalf("job %v: ticket %v does not exist", j["id"], id)
			}
		}
		if id, ok := p["view_id"].(float64); ok && views[int64(id)] == nil {
			t.Fatalf("job %v: view %v does not exist", j["id"], id)
		}
		if !users[int64(j["user_id"].(float64))] {
			t.Fatalf("job %v: user %v is not an agent", j["id"], j["user_id"])
		}
	}
}

func checkViewRelations(t *testing.T, s *Sim) {
	t.Helper()
	users, teams := agentIDs(s), map[int64]bool{}
	for _, tm := range s.teams {
		teams[tm.ID] = true
	}
	for _, v := range truth(t, s, Views) {
		for _, u := range asSlice(v["shared_with_users"]) {
			if !users[int64(u.(map[string]any)["id"].(float64))] {
				t.Fatalf("view %v shared with unknown user %v", v["id"], u)
			}
		}
		for _, tm := range asSlice(v["shared_with_teams"]) {
			if !teams[int64(tm.(map[string]any)["id"].(float64))] {
				t.Fatalf("view %v shared with unknown team %v", v["id"], tm)
			}
		}
	}
}

func agentIDs(s *Sim) map[int64]bool {
	out := map[int64]bool{}
	for _, u := range s.users {
		out[u.ID] = true
	}
	return out
}

func asSlice(v any) []any {
	xs, _ := v.([]any)
	return xs
}

// TestWorkspaceDeterminism: the same seed gives the same objects, and
// another seed other ones (sizes: views, integrations and widgets are
// fixed lists, jobs follow Config.Tickets).
func TestWorkspaceDeterminism(t *testing.T) {
	a, b, c := New(Config{Seed: 3}), New(Config{Seed: 3}), New(Config{Seed: 4})
	for _, name := range workspaceEntities {
		oa, ob, oc := a.Objects(name), b.Objects(name), c.Objects(name)
		if !slices.EqualFunc(oa, ob, sameJSON) {
			t.Errorf("%s differs between equal seeds", name)
		}
		if slices.EqualFunc(oa, oc, sameJSON) {
			t.Errorf("%s: seeds 3 and 4 gave the same data", name)
		}
	}
	for _, tc := range []struct {
		cfg  Config
		jobs int
	}{{Config{}, 60}, {Config{Tickets: 30}, 12}, {Config{Customers: -1}, 12}, {Config{Tickets: 9000}, 400}} {
		s := New(tc.cfg)
		if n := len(s.IDs(Jobs)); n != tc.jobs {
			t.Errorf("%+v: %d jobs, want %d", tc.cfg, n, tc.jobs)
		}
		if len(s.IDs(Views)) != len(viewSeeds) || len(s.IDs(Widgets)) < 8 || len(s.IDs(Integrations)) < 10 {
			t.Errorf("%d views, %d widgets, %d integrations", len(s.IDs(Views)), len(s.IDs(Widgets)), len(s.IDs(Integrations)))
		}
	}
}

// TestWorkspaceTimestamps: the seeded objects' timestamps lie in the
// history (scheduled_datetime may lie ahead), ids grow with
// created_datetime, and an object never mixes naive and zoned forms.
func TestWorkspaceTimestamps(t *testing.T) {
	cfg := Config{}.withDefaults()
	s := New(cfg)
	begin := cfg.Start.Add(-cfg.History)
	for _, name := range workspaceEntities {
		var prev time.Time
		for _, raw := range s.Objects(name) {
			m := obj(t, raw)
			naive := map[bool]bool{}
			for _, k := range tsKeys(m) {
				v, _ := m[k].(string)
				if v == "" {
					continue
				}
				naive[reNaive.MatchString(v)] = true
				if ts := parseTS(t, v); k != "scheduled_datetime" && (ts.Before(begin) || ts.After(cfg.Start)) {
					t.Fatalf("%s %v: %s %s outside the history", name, m["id"], k, v)
				}
			}
			if len(naive) > 1 {
				t.Fatalf("%s %v mixes naive and zoned timestamps: %s", name, m["id"], raw)
			}
			created := tsField(t, m, "created_datetime")
			if created.Before(prev) {
				t.Fatalf("%s %v: ids do not grow with created_datetime", name, m["id"])
			}
			prev = created
		}
	}
}
