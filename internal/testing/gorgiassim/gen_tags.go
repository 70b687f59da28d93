package gorgiassim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Tags is the resource of ticket tags (for Objects, IDs and Deny).
const Tags = "tags"

func init() {
	register(genSpec{
		entity: "tags", model: tagObj{},
		firstID: 310000, idGap: 17, salt: 0x1f7c3e9a2b64,
		needs: []string{Tickets},
		make:  func(s *Sim, t *table) generator { return &tagGen{s: s, t: t} },
	})
}

type tagDecoration struct {
	Color string `json:"color"`
}

type tagObj struct {
	ID              int64          `json:"id"`
	Name            string         `json:"name"`
	Description     *string        `json:"description"`
	Decoration      *tagDecoration `json:"decoration"`
	Usage           int            `json:"usage"`
	URI             string         `json:"uri"`
	CreatedDatetime stamp          `json:"created_datetime"`
	DeletedDatetime stamp          `json:"deleted_datetime"`
	extras

	form tsForm
}

var tagDescriptions = map[string]string{
	"refund": "Customer asks for money back", "vip": "Customers with 5+ orders or a VIP tier",
	"urgent": "Needs an answer today", "auto-close": "Closed by a rule without an agent reply",
	"damaged": "Item arrived broken or torn",
}

// newTagNames are the tags agents create later (unused by tickets): a few
// seeded, the rest by Advance, then numbered.
var newTagNames = []struct{ name, color string }{
	{"gift-card", "#f2c94c"}, {"wholesale", "#27ae60"}, {"influencer", "#bb6bd9"}, {"warranty", "#2f80ed"},
	{"back-order", "#f2994a"}, {"preorder", "#56ccf2"}, {"press", "#828282"}, {"loyalty", "#9b51e0"},
	{"b2b", "#219653"}, {"marketplace", "#eb5757"},
}

// seededNewTags is how many of newTagNames exist at seed time.
const seededNewTags = 4

// tagGen makes the account's tags: the pool tags that tickets carry and a
// few more; usage is the number of tickets carrying the tag, recounted at
// the end of every Advance. The size is fixed (len(tagPool)+4 tags) plus
// about one new tag per 8 Advance calls.
type tagGen struct {
	s     *Sim
	t     *table
	added int // newTagNames handed out
}

func (g *tagGen) tickets() *table { return g.s.table(Tickets) }

// seed creates the pool tags over the first 20% of the history and the
// extra tags over the rest, then counts usage.
func (g *tagGen) seed(r *rand.Rand) {
	at := func(f float64) time.Time { return g.s.historyAt(r, f) }
	for i, p := range g.s.tags {
		tg := g.newTag(p.ID, p.Name, p.Decoration["color"], mk(at(0.02+0.18*float64(i)/float64(len(g.s.tags))), g.t.form(p.ID)))
		if d, ok := tagDescriptions[p.Name]; ok {
			tg.Description = ptr(d)
		}
		g.t.add(tg)
	}
	g.t.lastID = max(g.t.lastID, g.s.tags[len(g.s.tags)-1].ID)
	for i := range seededNewTags {
		id := g.t.newID(r)
		g.t.add(g.nextTag(id, mk(at(0.3+0.6*float64(i)/seededNewTags), g.t.form(id))))
	}
	g.recount()
}

func (g *tagGen) newTag(id int64, name, color string, created stamp) *tagObj {
	return &tagObj{
		ID: id, Name: name, Decoration: &tagDecoration{Color: color},
		URI: fmt.Sprintf("/api/tags/%d/", id), CreatedDatetime: created,
		extras: newExtras(g.s.cfg.ExtraFields), form: created.f,
	}
}

// nextTag makes the next tag of newTagNames (numbered once they are used up).
func (g *tagGen) nextTag(id int64, created stamp) *tagObj {
	n := newTagNames[g.added%len(newTagNames)]
	name := n.name
	if round := g.added / len(newTagNames); round > 0 {
		name += "-" + strconv.Itoa(round+1)
	}
	g.added++
	return g.newTag(id, name, n.color, created)
}

// plan recounts usage at the end of the batch, after the ticket edits, and
// creates a tag in about 1 of 8 batches, or whenever no usage moved, so
// every Advance changes the tags.
func (g *tagGen) plan(b *batch) {
	create := b.r.IntN(8) == 0
	if create {
		b.at(b.when(), g.create)
	}
	b.at(b.to, func(at time.Time) {
		if g.recount() == 0 && !create {
			g.create(at)
		}
	})
}

// create adds the next new tag at time at.
func (g *tagGen) create(at time.Time) {
	id := g.t.newID(g.s.rng)
	g.t.add(g.nextTag(id, g.s.stampAt(at, g.t.form(id))))
}

// recount sets every tag's usage to the number of tickets carrying it and
// returns how many tags changed.
func (g *tagGen) recount() int {
	counts := map[int64]int{}
	for _, tk := range objectsOf[*ticket](g.tickets()) {
		for _, tr := range tk.Tags {
			counts[tr.ID]++
		}
	}
	moved := 0
	for _, tg := range objectsOf[*tagObj](g.t) {
		if n := counts[tg.ID]; n != tg.Usage {
			tg.Usage = n
			g.t.changed(tg)
			moved++
		}
	}
	return moved
}
