package gorgiassim

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// teamSetupEntities are the catalog names of the users, teams, tags, macros and
// rules generators.
var teamSetupEntities = []string{"users", "teams", "tags", "macros", "rules"}

// TestTeamSetupAdvanceChangesEveryEntity: every Advance, however short, creates
// or changes objects of each of the five entities, and reports exactly the
// objects whose JSON changed or that are new.
func TestTeamSetupAdvanceChangesEveryEntity(t *testing.T) {
	for _, cfg := range []Config{{}, {Customers: 30, Tickets: 40}, {Customers: -1}} {
		s, _ := newTestSim(t, cfg)
		for i, d := range []time.Duration{time.Hour, 0, time.Minute, 24 * time.Hour, time.Microsecond} {
			before := map[string]map[int64]json.RawMessage{}
			for _, name := range teamSetupEntities {
				before[name] = rawByID(t, s, name)
			}
			ch := s.Advance(d)
			for _, name := range teamSetupEntities {
				var changed []int64
				for id, raw := range rawByID(t, s, name) {
					if old, ok := before[name][id]; !ok || !bytes.Equal(old, raw) {
						changed = append(changed, id)
					}
				}
				slices.Sort(changed)
				if len(changed) == 0 {
					t.Fatalf("config %+v, Advance #%d (%v): no %s changed", cfg, i, d, name)
				}
				if got := ch.IDs(name); !slices.Equal(got, changed) {
					t.Fatalf("Advance #%d: %s reported %v, changed %v", i, name, got, changed)
				}
			}
		}
	}
}

// TestTeamSetupRelations: the five entities agree with each other and with the
// tickets and messages: agents, teams, tags, macros and rules cited
// anywhere exist, with the same names; usage counts match.
func TestTeamSetupRelations(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	teamSetupCheckRelations(t, s)
	for range 4 {
		s.Advance(6 * time.Hour)
		teamSetupCheckRelations(t, s)
	}
}

func teamSetupCheckRelations(t *testing.T, s *Sim) {
	t.Helper()
	users, teams, tags := truth(t, s, Users), truth(t, s, Teams), truth(t, s, Tags)
	macros, rules := truth(t, s, Macros), truth(t, s, Rules)
	tagUse, macroUse := map[int64]int{}, map[int64]int{}
	for _, tk := range truth(t, s, Tickets) {
		if a, ok := tk["assignee_user"].(map[string]any); ok {
			teamSetupSameAs(t, users, a, "email", "name", "firstname", "lastname", "meta")
		}
		if a, ok := tk["assignee_team"].(map[string]any); ok {
			teamSetupSameAs(t, teams, a, "name", "decoration")
		}
		for _, x := range tk["tags"].([]any) {
			tg := x.(map[string]any)
			tagUse[teamSetupID(tg)]++
			teamSetupSameAs(t, tags, tg, "name", "uri", "decoration")
		}
	}
	for _, m := range truth(t, s, Messages) {
		for _, x := range m["macros"].([]any) {
			macroUse[teamSetupID(x.(map[string]any))]++
		}
		if id, ok := m["rule_id"].(float64); ok && rules[int64(id)] == nil {
			t.Fatalf("message %v: unknown rule %v", m["id"], id)
		}
		if m["from_agent"] == true {
			teamSetupSameAs(t, users, m["sender"].(map[string]any), "email", "name")
		}
	}
	for id, tg := range tags {
		if n := int(tg["usage"].(float64)); n != tagUse[id] {
			t.Fatalf("tag %d: usage %d, %d tickets", id, n, tagUse[id])
		}
	}
	for id := range macroUse {
		if macros[id] == nil || int(macros[id]["usage"].(float64)) < macroUse[id] {
			t.Fatalf("macro %d: cited %d times, object %v", id, macroUse[id], macros[id])
		}
	}
	for _, tm := range teams {
		for _, x := range tm["members"].([]any) {
			teamSetupSameAs(t, users, x.(map[string]any), "email", "name", "meta")
		}
	}
	for _, ru := range rules {
		teamSetupCheckRuleRefs(t, ru, macros, teams)
	}
}

func teamSetupID(m map[string]any) int64 { return int64(m["id"].(float64)) }

// teamSetupSameAs: the embedded copy has the same keys as the object with its id.
func teamSetupSameAs(t *testing.T, objs map[int64]map[string]any, copy map[string]any, keys ...string) {
	t.Helper()
	o, ok := objs[teamSetupID(copy)]
	if !ok {
		t.Fatalf("embedded object %v does not exist", copy)
	}
	for _, k := range keys {
		a, _ := json.Marshal(o[k])
		b, _ := json.Marshal(copy[k])
		if !bytes.Equal(a, b) {
			t.Fatalf("object %v: %s %s, embedded copy has %s", o["id"], k, a, b)
		}
	}
}

// teamSetupCheckRuleRefs: macros and teams a rule's code uses exist.
func teamSetupCheckRuleRefs(t *testing.T, ru map[string]any, macros, teams map[int64]map[string]any) {
	t.Helper()
	code := ru["code"].(string)
	for key, objs := range map[string]map[int64]map[string]any{"macro_id: ": macros, "team_id: ": teams} {
		for _, part := range strings.Split(code, key)[1:] {
			var id int64
			for _, c := range part {
				if c < '0' || c > '9' {
					break
				}
				id = id*10 + int64(c-'0')
			}
			if objs[id] == nil {
				t.Fatalf("rule %v: %s%d does not exist", ru["id"], key, id)
			}
		}
	}
}

// TestTeamSetupRuleASTMatchesCode: every node of code_ast spans the code it
// stands for: literals their raw text, identifiers their name.
func TestTeamSetupRuleASTMatchesCode(t *testing.T) {
	s, _ := newTestSim(t, Config{})
	s.Advance(24 * time.Hour)
	for _, ru := range truth(t, s, Rules) {
		lines := strings.Split(ru["code"].(string), "\n")
		n := teamSetupWalkAST(t, ru["code_ast"], lines)
		if n < 8 {
			t.Fatalf("rule %v: only %d leaf nodes in code_ast", ru["id"], n)
		}
	}
}

// teamSetupWalkAST checks the leaves under node against the code lines and
// returns how many it checked.
func teamSetupWalkAST(t *testing.T, node any, lines []string) int {
	t.Helper()
	switch x := node.(type) {
	case []any:
		n := 0
		for _, v := range x {
			n += teamSetupWalkAST(t, v, lines)
		}
		return n
	case map[string]any:
		n := 0
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if k != "loc" {
				n += teamSetupWalkAST(t, x[k], lines)
			}
		}
		want, ok := x["raw"].(string)
		if x["type"] == "Identifier" {
			want, ok = x["name"].(string), true
		}
		if !ok {
			return n
		}
		loc := x["loc"].(map[string]any)
		start, end := loc["start"].(map[string]any), loc["end"].(map[string]any)
		line := lines[int(start["line"].(float64))-1]
		if got := line[int(start["column"].(float64)):int(end["column"].(float64))]; got != want {
			t.Fatalf("%v node at %v: code has %q, node %q", x["type"], loc, got, want)
		}
		return n + 1
	}
	return 0
}

// TestTeamSetupSeededTimes: seeded timestamps lie in the history, ids grow with
// created_datetime, and the sizes are the documented fixed ones.
func TestTeamSetupSeededTimes(t *testing.T) {
	cfg := Config{History: 3 * time.Hour}.withDefaults()
	s, _ := newTestSim(t, cfg)
	begin := cfg.Start.Add(-cfg.History)
	sizes := map[string]int{
		"users": 1 + len(agentNames) + len(laterStaff), "teams": len(teamPool) + len(laterTeams),
		"tags": len(tagPool) + seededNewTags, "macros": 3*len(topics) + len(generalMacros), "rules": 20,
	}
	for _, name := range teamSetupEntities {
		objs := s.Objects(name)
		if len(objs) != sizes[name] {
			t.Errorf("%s: %d objects, want %d", name, len(objs), sizes[name])
		}
		var prev time.Time
		for _, raw := range objs {
			m := obj(t, raw)
			for _, k := range tsKeys(m) {
				if ts := tsField(t, m, k); !ts.IsZero() && (ts.Before(begin) || ts.After(cfg.Start)) {
					t.Fatalf("%s %v: %s %v outside the history", name, m["id"], k, ts)
				}
			}
			created := tsField(t, m, "created_datetime")
			if created.Before(prev) {
				t.Fatalf("%s %v: ids do not grow with created_datetime", name, m["id"])
			}
			prev = created
		}
	}
}
