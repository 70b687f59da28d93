package gorgiassim

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"
)

// Teams is the resource of teams of users (for Objects, IDs and Deny).
const Teams = "teams"

func init() {
	register(genSpec{
		entity: "teams", model: teamObj{},
		firstID: 8800, idGap: 7, salt: 0x6d2b18f4a903,
		needs: []string{Users},
		make:  func(s *Sim, t *table) generator { return &teamGen{s: s, t: t} },
	})
}

type teamMember struct {
	ID    int64          `json:"id"`
	Email *string        `json:"email"`
	Name  *string        `json:"name"`
	Meta  map[string]any `json:"meta"`
}

type teamObj struct {
	ID              int64          `json:"id"`
	Name            string         `json:"name"`
	Description     *string        `json:"description"`
	Decoration      map[string]any `json:"decoration"`
	Members         []teamMember   `json:"members"`
	URI             string         `json:"uri"`
	CreatedDatetime stamp          `json:"created_datetime"`
	extras

	form tsForm
}

// laterTeams are created after the pool teams; tickets are never assigned
// to them.
var laterTeams = []struct {
	name, description, emojiID, emojiName, native, unified string
	at                                                     float64 // fraction of the history
}{
	{"Night Shift", "Covers chat and email between 10pm and 6am.", "crescent_moon", "Crescent Moon", "🌙", "1f319", 0.4},
	{"Wholesale", "", "department_store", "Department Store", "🏬", "1f3ec", 0.7},
}

var poolTeamDescriptions = []string{"First line: every new conversation.", "Returns, refunds and exchanges.", ""}

// teamGen makes the account's teams: the pool teams that tickets are
// assigned to and two later ones, with members drawn from the users. The
// size is fixed (len(teamPool)+2 teams) like the support team itself.
type teamGen struct {
	s *Sim
	t *table
}

func (g *teamGen) users() *table { return g.s.table(Users) }

// seed creates the pool teams once the agents exist (20% into the
// history), then the later teams.
func (g *teamGen) seed(r *rand.Rand) {
	at := func(f float64) time.Time { return g.s.historyAt(r, f) }
	for i, p := range g.s.teams {
		tm := g.newTeam(p.ID, p.Name, maps.Clone(p.Decoration), at(0.16+0.01*float64(i)))
		if i < len(poolTeamDescriptions) && poolTeamDescriptions[i] != "" {
			tm.Description = ptr(poolTeamDescriptions[i])
		}
		tm.Members = g.drawMembers(r, 2+r.IntN(3))
		g.t.add(tm)
	}
	g.t.lastID = max(g.t.lastID, g.s.teams[len(g.s.teams)-1].ID)
	for _, lt := range laterTeams {
		deco := map[string]any{"emoji": map[string]any{
			"id": lt.emojiID, "name": lt.emojiName, "skin": nil, "colons": ":" + lt.emojiID + ":",
			"native": lt.native, "unified": lt.unified, "emoticons": []string{},
		}}
		tm := g.newTeam(g.t.newID(r), lt.name, deco, at(lt.at))
		if lt.description != "" {
			tm.Description = ptr(lt.description)
		}
		tm.Members = g.drawMembers(r, 1+r.IntN(3))
		g.t.add(tm)
	}
}

func (g *teamGen) newTeam(id int64, name string, deco map[string]any, created time.Time) *teamObj {
	f := g.t.form(id)
	return &teamObj{
		ID: id, Name: name, Decoration: deco, Members: []teamMember{},
		URI: fmt.Sprintf("/api/teams/%d/", id), CreatedDatetime: mk(created, f),
		extras: newExtras(g.s.cfg.ExtraFields), form: f,
	}
}

// candidates are the users a team can take in: active, not observers.
func (g *teamGen) candidates() []*userObj {
	return slices.DeleteFunc(objectsOf[*userObj](g.users()), func(u *userObj) bool {
		return !u.Active || u.Role.Name == "observer-agent"
	})
}

// drawMembers draws n distinct candidates, in id order.
func (g *teamGen) drawMembers(r *rand.Rand, n int) []teamMember {
	cands := g.candidates()
	n = min(n, len(cands))
	picked := r.Perm(len(cands))[:n]
	slices.Sort(picked)
	out := make([]teamMember, 0, n)
	for _, j := range picked {
		out = append(out, cands[j].member())
	}
	return out
}

// plan changes the members of about 20% of the teams (at least one) per
// Advance.
func (g *teamGen) plan(b *batch) {
	all := objectsOf[*teamObj](g.t)
	b.sample(len(all), 0.2, len(all), func(j int) func(time.Time) {
		return func(time.Time) { g.reshuffle(all[j]) }
	})
}

// reshuffle adds a candidate who is not a member, or removes a member (a
// team keeps at least one); teams have no updated_datetime.
func (g *teamGen) reshuffle(tm *teamObj) {
	r := g.s.rng
	var outside []*userObj
	for _, u := range g.candidates() {
		if !slices.ContainsFunc(tm.Members, func(m teamMember) bool { return m.ID == u.ID }) {
			outside = append(outside, u)
		}
	}
	members := slices.Clone(tm.Members)
	if len(outside) > 0 && (len(members) <= 1 || r.IntN(2) == 0) {
		members = append(members, pick(r, outside).member())
		slices.SortFunc(members, func(a, b teamMember) int { return cmp.Compare(a.ID, b.ID) })
	} else if len(members) > 1 {
		i := r.IntN(len(members))
		members = slices.Delete(members, i, i+1)
	}
	tm.Members = members
	g.t.changed(tm)
}
