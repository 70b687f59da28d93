package gorgiassim

import (
	"math/rand/v2"
	"slices"
	"time"
)

// accountID is the account's numeric id, which the API shows only inside
// other objects (voice call events' account_id): /api/account has no id.
const accountID = 18342

func init() {
	register(genSpec{
		entity: "account", model: account{},
		firstID: 0, idGap: 1, salt: 0x4acc0d7e51a1,
		needs: []string{Tickets},
		make:  func(s *Sim, t *table) generator { return &accountGen{s: s, t: t} },
	})
}

type account struct {
	CreatedDatetime     stamp               `json:"created_datetime"`
	CurrentSubscription accountSubscription `json:"current_subscription"`
	DeactivatedDatetime stamp               `json:"deactivated_datetime"`
	Domain              string              `json:"domain"`
	Meta                map[string]any      `json:"meta"`
	Settings            []accountSetting    `json:"settings"`
	Status              accountStatus       `json:"status"`
	extras
}

type accountSubscription struct {
	Plan          string `json:"plan"`
	StartDatetime stamp  `json:"start_datetime"`
	Status        string `json:"status"`
}

type accountSetting struct {
	ID   int64          `json:"id"`
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

type accountStatus struct {
	Status string  `json:"status"`
	Reason *string `json:"reason"`
}

// accountGen makes the one account object, created before the seeded
// history begins, with a few settings; every Advance edits one setting.
type accountGen struct {
	s *Sim
	t *table
}

func (g *accountGen) account() *account { return objectAt[*account](g.t, 0) }

// seed makes the account (no random draws: the same for every Seed).
func (g *accountGen) seed(*rand.Rand) {
	begin, _ := g.s.seedSpan()
	created := begin.Add(-400 * 24 * time.Hour)
	g.t.add(&account{
		CreatedDatetime: mk(created, formMicro),
		CurrentSubscription: accountSubscription{
			Plan: "pro-monthly-usd-4", StartDatetime: mk(created.Add(14*24*time.Hour), formMicro), Status: "active",
		},
		Domain:   g.s.cfg.Domain,
		Meta:     map[string]any{"hrs_per_ticket": 0.2, "company_domain": g.s.cfg.Domain + ".com"},
		Settings: accountSettings(g.s.cfg.Domain),
		Status:   accountStatus{Status: "active"},
		extras:   newExtras(g.s.cfg.ExtraFields),
	})
}

// accountSettings are the account-wide settings at seeding.
func accountSettings(domain string) []accountSetting {
	return []accountSetting{
		{ID: 2101, Type: "business-hours", Data: map[string]any{
			"timezone":       "America/New_York",
			"business_hours": []any{map[string]any{"days": "1,2,3,4,5", "from_time": "09:00", "to_time": "18:00"}},
		}},
		{ID: 2102, Type: "satisfaction-surveys", Data: map[string]any{
			"send_survey_for_email": true, "send_survey_for_chat": true, "survey_interval": 24,
			"survey_email_text": "How did we do? Rate your conversation with " + domain + ".",
		}},
		{ID: 2103, Type: "ticket-assignment", Data: map[string]any{
			"auto_assign_to_teams": true, "unassign_on_reply": false,
			"max_user_chat_ticket": 5, "max_user_non_chat_ticket": 20,
			"assignment_channels": []any{"email", "chat", "phone"},
		}},
		{ID: 2104, Type: "auto-merge", Data: map[string]any{
			"tickets": map[string]any{"enabled": true, "merging_window_days": 3},
		}},
		{ID: 2105, Type: "access", Data: map[string]any{
			"signup_mode": "invite", "allowed_domains": []any{domain + ".com"},
			"google_sso_enabled": true, "office365_sso_enabled": false,
		}},
	}
}

// plan edits one setting at a drawn time.
func (g *accountGen) plan(b *batch) {
	b.at(b.when(), func(time.Time) { g.edit(g.s.rng) })
}

// edit changes one drawn setting; the settings always end up different
// (the last resort toggles unassign_on_reply).
func (g *accountGen) edit(r *rand.Rand) {
	a := g.account()
	before := string(marshal(a.Settings))
	for range 8 {
		g.editSetting(r, a)
		if string(marshal(a.Settings)) != before {
			g.t.changed(a)
			return
		}
	}
	a.Settings = slices.Clone(a.Settings)
	s := &a.Settings[2]
	s.Data = cloneMap(s.Data)
	s.Data["unassign_on_reply"] = s.Data["unassign_on_reply"] != true
	g.t.changed(a)
}

// editSetting changes one drawn setting: business hours, survey delay,
// assignment limits or the merging window (possibly to the same values).
func (g *accountGen) editSetting(r *rand.Rand, a *account) {
	a.Settings = slices.Clone(a.Settings)
	i := r.IntN(4)
	s := a.Settings[i]
	data := cloneMap(s.Data)
	switch s.Type {
	case "business-hours":
		from, to := pick(r, []string{"08:00", "08:30", "09:00", "10:00"}), pick(r, []string{"17:00", "18:00", "19:00", "20:00"})
		data["business_hours"] = []any{map[string]any{"days": pick(r, []string{"1,2,3,4,5", "1,2,3,4,5,6"}), "from_time": from, "to_time": to}}
	case "satisfaction-surveys":
		data["survey_interval"] = pick(r, []int{4, 12, 24, 48})
		data["send_survey_for_chat"] = r.IntN(4) != 0
	case "ticket-assignment":
		data["max_user_chat_ticket"] = 2 + r.IntN(8)
		data["max_user_non_chat_ticket"] = 10 + r.IntN(30)
	case "auto-merge":
		data["tickets"] = map[string]any{"enabled": r.IntN(5) != 0, "merging_window_days": 1 + r.IntN(7)}
	}
	s.Data = data
	a.Settings[i] = s
}

// cloneMap is a shallow copy of m.
func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
