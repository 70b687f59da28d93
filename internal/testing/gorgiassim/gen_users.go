package gorgiassim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"time"
)

// Users is the resource of users, the helpdesk's agents (for Objects, IDs
// and Deny).
const Users = "users"

// Ids around the fixed agents of the pools (pools.agents).
const (
	userFirstID = 420000
	userOwnerID = 420004 // the account owner, created before the agents
)

func init() {
	register(genSpec{
		entity: "users", model: userObj{},
		firstID: userFirstID, idGap: 131, salt: 0x3a91c07e55d2,
		make: func(s *Sim, t *table) generator { return &userGen{s: s, t: t} },
	})
}

type userRole struct {
	Name string `json:"name"`
}

type userObj struct {
	ID                  int64          `json:"id"`
	Email               *string        `json:"email"`
	Name                *string        `json:"name"`
	Firstname           string         `json:"firstname"`
	Lastname            string         `json:"lastname"`
	ExternalID          *string        `json:"external_id"`
	Active              bool           `json:"active"`
	Bio                 *string        `json:"bio"`
	Country             *string        `json:"country"`
	Language            *string        `json:"language"`
	Timezone            *string        `json:"timezone"`
	Has2FAEnabled       bool           `json:"has_2fa_enabled"`
	HasPassword         bool           `json:"has_password"`
	Role                userRole       `json:"role"`
	Meta                map[string]any `json:"meta"`
	URI                 string         `json:"uri"`
	CreatedDatetime     stamp          `json:"created_datetime"`
	UpdatedDatetime     stamp          `json:"updated_datetime"`
	DeactivatedDatetime stamp          `json:"deactivated_datetime"`
	extras

	form  tsForm
	agent bool // one of the pool agents, copied into tickets and messages
}

// staffMember is a user of the account who is not one of the pool agents.
type staffMember struct {
	first, last, role string
	at                float64 // creation time as a fraction of the history
	leftAt            float64 // deactivation time as a fraction of the history, 0 if active
}

// laterStaff joined after the agents; one of them has left.
var laterStaff = []staffMember{
	{first: "Noah", last: "Fischer", role: "lead-agent", at: 0.35},
	{first: "Lea", last: "Dubois", role: "observer-agent", at: 0.55},
	{first: "Omar", last: "Haddad", role: "basic-agent", at: 0.62, leftAt: 0.9},
}

var agentRoles = []string{"agent", "agent", "lead-agent", "basic-agent"}

var userBios = []string{
	"Ships happiness since 2019.", "Returns and refunds specialist.", "Ask me about sizing!",
	"Night owl, chat queue regular.", "VIP care and wholesale accounts.",
}

var userCountries = []string{"US", "FR", "DE", "ES", "GB", "CA", "PT"}

// userGen makes the account's users: the owner (the API user, an admin),
// the pool agents that tickets and messages refer to, and a few later staff.
// The size is fixed (12 users: 1 owner, len(agentNames) agents, 3 later
// staff): a support team does not grow with the ticket volume.
type userGen struct {
	s *Sim
	t *table
}

// seed creates the owner at the start of the history, the agents over its
// first 15%, and the later staff at fixed fractions of it.
func (g *userGen) seed(r *rand.Rand) {
	_, end := g.s.seedSpan()
	at := func(f float64) time.Time { return g.s.historyAt(r, f) }
	owner := g.newUser(r, userOwnerID, personRef{
		Email: ptr(g.s.cfg.Email), Name: ptr("Jordan Price"), Firstname: "Jordan", Lastname: "Price",
		Meta: map[string]any{"name_set_via": "agent", "profile_picture_url": nil, "sso": nil},
	}, "admin", at(0.001), end)
	owner.HasPassword, owner.Has2FAEnabled = true, true
	g.t.add(owner)
	for i, p := range g.s.users {
		created := at(0.01 + 0.14*float64(i)/float64(len(g.s.users)))
		u := g.newUser(r, p.ID, p, pick(r, agentRoles), created, end)
		u.agent = true
		g.t.add(u)
	}
	g.t.lastID = max(g.t.lastID, g.s.users[len(g.s.users)-1].ID)
	for _, m := range laterStaff {
		g.t.add(g.newStaff(r, m, at, end))
	}
}

// newStaff makes one later staff member, deactivated when they left.
func (g *userGen) newStaff(r *rand.Rand, m staffMember, at func(float64) time.Time, end time.Time) *userObj {
	id := g.t.newID(r)
	email := strings.ToLower(m.first) + "." + strings.ToLower(m.last) + "@" + g.s.cfg.Domain + ".com"
	p := personRef{Email: ptr(email), Name: ptr(m.first + " " + m.last), Firstname: m.first, Lastname: m.last,
		Meta: map[string]any{"name_set_via": "agent", "profile_picture_url": nil, "sso": nil}}
	u := g.newUser(r, id, p, m.role, at(m.at), end)
	if m.leftAt > 0 {
		u.Active = false
		u.DeactivatedDatetime = mk(at(m.leftAt), u.form)
		u.UpdatedDatetime = u.DeactivatedDatetime
	}
	return u
}

// newUser makes the user with id and the person fields of p, created at
// created and last updated between then and end.
func (g *userGen) newUser(r *rand.Rand, id int64, p personRef, role string, created, end time.Time) *userObj {
	f := g.t.form(id)
	u := &userObj{
		ID: id, Email: p.Email, Name: p.Name, Firstname: p.Firstname, Lastname: p.Lastname,
		Active: true, Language: ptr("en"), Timezone: ptr(pick(r, timezones)),
		Has2FAEnabled: r.IntN(3) == 0, HasPassword: r.IntN(5) != 0, Role: userRole{Name: role},
		Meta: maps.Clone(p.Meta), URI: fmt.Sprintf("/api/users/%d/", id),
		CreatedDatetime: mk(created, f),
		UpdatedDatetime: mk(created.Add(time.Duration(r.Float64()*float64(end.Sub(created)))), f),
		extras:          newExtras(g.s.cfg.ExtraFields), form: f,
	}
	if r.IntN(2) == 0 {
		u.Bio = ptr(pick(r, userBios))
	}
	if r.IntN(4) != 0 {
		u.Country = ptr(pick(r, userCountries))
	}
	return u
}

// plan edits about 10% of the users (at least one) per Advance.
func (g *userGen) plan(b *batch) {
	all := objectsOf[*userObj](g.t)
	b.sample(len(all), 0.1, len(all), func(j int) func(time.Time) {
		return func(at time.Time) { g.edit(all[j], at) }
	})
}

// edit changes one drawn field and bumps updated_datetime. The fields
// embedded in tickets, messages and teams (name, email, meta) never change,
// so those copies stay true; only later staff are deactivated or back.
func (g *userGen) edit(u *userObj, at time.Time) {
	r := g.s.rng
	st := g.s.stampAt(at, u.form)
	switch r.IntN(5) {
	case 0:
		if u.ID != userOwnerID {
			u.Role.Name = pick(r, agentRoles)
		}
	case 1:
		u.Timezone = ptr(pick(r, timezones))
	case 2:
		u.Bio = ptr(pick(r, userBios))
	case 3:
		u.Has2FAEnabled = !u.Has2FAEnabled
	default:
		g.toggleActive(u, st)
	}
	u.UpdatedDatetime = st
	g.t.changed(u)
}

// toggleActive deactivates or reactivates a later staff member; for the
// owner and the agents it changes the language instead.
func (g *userGen) toggleActive(u *userObj, st stamp) {
	switch {
	case u.agent || u.ID == userOwnerID:
		u.Language = ptr(pick(g.s.rng, languages))
	case u.Active:
		u.Active, u.DeactivatedDatetime = false, st
	default:
		u.Active, u.DeactivatedDatetime = true, stamp{}
	}
}

// historyAt is the time a fraction f into the seeded history, plus a drawn
// jitter of up to 0.5% of the history (so that seeded times are not round).
func (s *Sim) historyAt(r *rand.Rand, f float64) time.Time {
	begin, _ := s.seedSpan()
	h := float64(s.cfg.History)
	return begin.Add(time.Duration(f*h) + randDur(r, time.Duration(0.005*h)))
}

// member is the team member copy of the user.
func (u *userObj) member() teamMember {
	return teamMember{ID: u.ID, Email: u.Email, Name: u.Name, Meta: maps.Clone(u.Meta)}
}
