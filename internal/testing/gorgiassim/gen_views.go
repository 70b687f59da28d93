package gorgiassim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Views is the resource of views: saved ticket lists (for Objects, IDs and
// Deny). Their items (GET /api/views/{id}/items) are not served.
const Views = "views"

func init() {
	register(genSpec{
		entity: "views", model: ticketView{}, firstID: 1520000, idGap: 40, salt: 0x3a9e51c07b24,
		make: func(s *Sim, t *table) generator { return &viewGen{s: s, t: t} },
	})
}

// ticketView is a view as GET /api/views renders it. The API sends no
// updated_datetime for views: an edit changes the content only.
type ticketView struct {
	ID                  int64          `json:"id"`
	URI                 string         `json:"uri"`
	Name                string         `json:"name"`
	Slug                string         `json:"slug"`
	Type                string         `json:"type"`
	Category            string         `json:"category"`
	Visibility          string         `json:"visibility"`
	Decoration          map[string]any `json:"decoration"`
	Fields              []string       `json:"fields"`
	Filters             string         `json:"filters"`
	FiltersAST          map[string]any `json:"filters_ast"`
	OrderBy             string         `json:"order_by"`
	OrderDir            string         `json:"order_dir"`
	Search              *string        `json:"search"`
	SharedWithUsers     []viewUser     `json:"shared_with_users"`
	SharedWithTeams     []viewTeam     `json:"shared_with_teams"`
	CreatedDatetime     stamp          `json:"created_datetime"`
	DeactivatedDatetime stamp          `json:"deactivated_datetime"`
	extras

	conds []cond // the filter, rendered into Filters and FiltersAST
	form  tsForm
}

// viewUser is a user a view is shared with.
type viewUser struct {
	ID   int64          `json:"id"`
	Name *string        `json:"name"`
	Meta map[string]any `json:"meta"`
}

// viewTeam is a team a view is shared with.
type viewTeam struct {
	ID         int64          `json:"id"`
	Name       string         `json:"name"`
	Decoration map[string]any `json:"decoration"`
}

// viewSeed describes one seeded view.
type viewSeed struct {
	name, category, emoji string
	conds                 []cond
	owner                 int // private view of this agent (index + 1), named after them; 0 for none
	team                  int // shared with this team (index + 1); 0 for none
}

// Placeholders in a view seed's filter, replaced by real ids.
const (
	currentUser = -1 // the listing user: the API key's owner, the first agent
	firstTeam   = -2 // the first team
)

// viewSeeds are the account's views: the built-in ones, then views on
// channels, tags and teams, then agents' private views. Their number does
// not depend on Config: an account has a few dozen views whatever its size.
var viewSeeds = []viewSeed{
	{name: "Inbox", category: "system", emoji: "📥", conds: []cond{{"eq", "ticket.status", "open"}}},
	{name: "Unassigned", category: "system", emoji: "🙋", conds: []cond{{"eq", "ticket.status", "open"}, {"isEmpty", "ticket.assignee_user.id", nil}}},
	{name: "My tickets", category: "system", emoji: "👤", conds: []cond{{"eq", "ticket.assignee_user.id", int64(currentUser)}, {"eq", "ticket.status", "open"}}},
	{name: "Snoozed", category: "system", emoji: "💤", conds: []cond{{"notEmpty", "ticket.snooze_datetime", nil}}},
	{name: "Closed", category: "system", emoji: "✅", conds: []cond{{"eq", "ticket.status", "closed"}}},
	{name: "Spam", category: "system", conds: []cond{{"eq", "ticket.spam", true}}},
	{name: "Trash", category: "system", conds: []cond{{"notEmpty", "ticket.trashed_datetime", nil}}},
	{name: "Chat", category: "user", emoji: "💬", conds: []cond{{"eq", "ticket.channel", "chat"}, {"eq", "ticket.status", "open"}}},
	{name: "Email", category: "user", emoji: "✉️", conds: []cond{{"eq", "ticket.channel", "email"}, {"eq", "ticket.status", "open"}}},
	{name: "Social", category: "user", conds: []cond{{"containsAny", "ticket.channel", []string{"facebook-messenger", "instagram-comment"}}}},
	{name: "Phone & SMS", category: "user", emoji: "📞", conds: []cond{{"containsAny", "ticket.channel", []string{"phone", "sms"}}}},
	{name: "Refunds", category: "user", emoji: "💸", conds: []cond{{"containsAll", "ticket.tags.name", []string{"refund"}}, {"eq", "ticket.status", "open"}}},
	{name: "Shipping delays", category: "user", emoji: "🚚", conds: []cond{{"containsAll", "ticket.tags.name", []string{"shipping-delay"}}}},
	{name: "VIP customers", category: "user", emoji: "⭐", conds: []cond{{"containsAny", "ticket.tags.name", []string{"vip"}}}, team: 3},
	{name: "Urgent", category: "user", emoji: "🔥", conds: []cond{{"eq", "ticket.priority", "critical"}, {"eq", "ticket.status", "open"}}},
	{name: "Tier 1 queue", category: "user", conds: []cond{{"eq", "ticket.assignee_team.id", int64(firstTeam)}, {"eq", "ticket.status", "open"}}, team: 1},
	{name: "Returns team", category: "user", emoji: "📦", conds: []cond{{"containsAny", "ticket.tags.name", []string{"exchange", "damaged"}}}, team: 2},
	{name: "Subscriptions", category: "user", conds: []cond{{"containsAll", "ticket.tags.name", []string{"subscription"}}}},
	{name: "follow-ups", category: "user", conds: []cond{{"eq", "ticket.assignee_user.id", int64(currentUser)}, {"eq", "ticket.status", "closed"}}, owner: 1},
	{name: "waiting on carrier", category: "user", conds: []cond{{"containsAll", "ticket.tags.name", []string{"order-status"}}}, owner: 2},
	{name: "wholesale", category: "user", emoji: "🏷️", conds: []cond{{"eq", "ticket.customer.email", "orders@wholesale-partner.com"}}, owner: 3},
	{name: "sizing", category: "user", conds: []cond{{"containsAny", "ticket.tags.name", []string{"sizing"}}}, owner: 4},
}

// viewColumns are the columns a view may show.
var viewColumns = []string{"id", "details", "tags", "customer", "last_message", "created", "updated",
	"assignee", "assignee_team", "channel", "closed", "language", "last_received_message", "integrations",
	"snooze", "status", "subject", "priority"}

var viewEmojis = []string{"📌", "🧾", "🛒", "🎯", "🧪", "⏰", "🌍"}

// viewGen makes the seeded views and edits one or two on every Advance
// (name, columns, order, filter, decoration, search, deactivation);
// sometimes an agent adds a private view.
type viewGen struct {
	s *Sim
	t *table
}

// seed creates viewSeeds over the first two weeks of the history.
func (g *viewGen) seed(r *rand.Rand) {
	begin, _ := g.s.seedSpan()
	for i, vs := range viewSeeds {
		id := g.t.newID(r)
		at := begin.Add(time.Duration(i)*14*time.Hour + randDur(r, 10*time.Hour))
		v := g.newView(r, id, g.seedName(vs), vs.category, mk(at, g.t.form(id)))
		v.conds = g.resolve(vs.conds)
		v.share(g.s, vs.owner, vs.team)
		if vs.emoji != "" {
			v.Decoration = map[string]any{"emoji": vs.emoji}
		}
		v.render()
		g.t.add(v)
	}
}

// seedName is the seeded view's name, prefixed with its owner's first name
// for a private view.
func (g *viewGen) seedName(vs viewSeed) string {
	if vs.owner == 0 {
		return vs.name
	}
	return g.s.users[(vs.owner-1)%len(g.s.users)].Firstname + " - " + vs.name
}

// newView makes a public ticket view with the default columns and order.
func (g *viewGen) newView(r *rand.Rand, id int64, name, category string, created stamp) *ticketView {
	v := &ticketView{
		ID: id, URI: fmt.Sprintf("/api/views/%d/", id), Name: name, Slug: slug(name), Type: "ticket-list",
		Category: category, Visibility: "public", Fields: drawColumns(r),
		OrderBy: "updated_datetime", OrderDir: "desc",
		SharedWithUsers: []viewUser{}, SharedWithTeams: []viewTeam{},
		CreatedDatetime: created, extras: newExtras(g.s.cfg.ExtraFields), form: created.f,
	}
	if r.IntN(4) == 0 {
		v.OrderBy = pick(r, []string{"created_datetime", "last_message_datetime", "last_received_message_datetime"})
	}
	return v
}

// resolve replaces the id placeholders of a filter by real ids.
func (g *viewGen) resolve(cs []cond) []cond {
	out := slices.Clone(cs)
	for i, c := range out {
		switch c.arg {
		case int64(currentUser):
			out[i].arg = g.s.users[0].ID
		case int64(firstTeam):
			out[i].arg = g.s.teams[0].ID
		}
	}
	return out
}

// share makes the view private to agent owner, or shared with team, both
// numbered from 1; 0 leaves that side unchanged.
func (v *ticketView) share(s *Sim, owner, team int) {
	switch {
	case owner > 0:
		u := s.users[(owner-1)%len(s.users)]
		v.Visibility = "private"
		v.SharedWithUsers = []viewUser{{ID: u.ID, Name: u.Name, Meta: map[string]any{"profile_picture_url": u.Meta["profile_picture_url"], "sso": nil}}}
	case team > 0:
		t := s.teams[(team-1)%len(s.teams)]
		v.Visibility = "shared"
		v.SharedWithTeams = append(v.SharedWithTeams, viewTeam{ID: t.ID, Name: t.Name, Decoration: t.Decoration})
	}
}

// render writes the filter's text and syntax tree.
func (v *ticketView) render() {
	v.Filters, v.FiltersAST = filterText(v.conds), filterAST(v.conds)
}

func drawColumns(r *rand.Rand) []string {
	cols := []string{"details", "tags", "customer", "last_message"}
	for _, c := range viewColumns {
		if !slices.Contains(cols, c) && r.IntN(5) == 0 {
			cols = append(cols, c)
		}
	}
	return cols
}

// slug is the URL form of a view name.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(fold(strings.ReplaceAll(name, " ", "-"))) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// plan edits one or two views and, one time in six, adds an agent's
// private view.
func (g *viewGen) plan(b *batch) {
	all := objectsOf[*ticketView](g.t)
	b.sample(len(all), 0.02+0.03*b.r.Float64(), 40, func(j int) func(time.Time) {
		return func(at time.Time) { g.edit(all[j], at) }
	})
	if b.r.IntN(6) == 0 {
		b.at(b.when(), g.addPrivate)
	}
}

// addPrivate creates a private view of a drawn agent at time at.
func (g *viewGen) addPrivate(at time.Time) {
	r := g.s.rng
	id := g.t.newID(r)
	owner := 1 + r.IntN(len(g.s.users))
	tag := pick(r, tagPool).name
	name := g.s.users[owner-1].Firstname + " - " + tag + " " + strconv.Itoa(r.IntN(100))
	v := g.newView(r, id, name, "user", g.s.stampAt(at, g.t.form(id)))
	v.conds = []cond{{"containsAll", "ticket.tags.name", []string{tag}}, {"eq", "ticket.status", "open"}}
	v.share(g.s, owner, 0)
	v.render()
	g.t.add(v)
}

// edit changes one drawn setting of the view; every choice changes the
// rendered view.
func (g *viewGen) edit(v *ticketView, at time.Time) {
	r := g.s.rng
	switch r.IntN(7) {
	case 0:
		v.rename(r)
	case 1:
		v.Fields = toggle(v.Fields, pick(r, viewColumns))
	case 2:
		v.OrderDir = map[string]string{"asc": "desc", "desc": "asc"}[v.OrderDir]
	case 3:
		v.editFilter(r)
	case 4:
		v.Decoration = map[string]any{"emoji": otherThan(r, viewEmojis, v.Decoration["emoji"])}
	case 5:
		v.Search = drawSearch(r, v.Search)
	default:
		g.toggleActive(r, v, at)
	}
	g.t.changed(v)
}

// rename appends a drawn suffix to the view's seeded name, or removes it.
func (v *ticketView) rename(r *rand.Rand) {
	base, _, renamed := strings.Cut(v.Name, " · ")
	if renamed {
		v.Name = base
		return
	}
	v.Name = base + " · " + pick(r, []string{"EU", "old", "priority", "weekend", "Q3"})
}

// editFilter removes the filter's priority condition, or adds one (with
// another value when it is the only condition).
func (v *ticketView) editFilter(r *rand.Rand) {
	cs := slices.Clone(v.conds)
	i := slices.IndexFunc(cs, func(c cond) bool { return c.path == "ticket.priority" })
	switch {
	case i < 0:
		cs = append(cs, cond{"eq", "ticket.priority", pick(r, []string{"critical", "high", "low"})})
	case len(cs) > 1:
		cs = slices.Delete(cs, i, i+1)
	default:
		cs[i].arg = otherThan(r, []string{"critical", "high", "low"}, cs[i].arg)
	}
	v.conds = cs
	v.render()
}

// drawSearch clears the search text, or sets one.
func drawSearch(r *rand.Rand, old *string) *string {
	if old != nil {
		return nil
	}
	return ptr(pick(r, []string{"where is my order", "refund", "damaged", "wrong size", "cancel"}))
}

// toggleActive deactivates a user view at time at, or reactivates it; the
// account's built-in views are never deactivated (a column changes
// instead).
func (g *viewGen) toggleActive(r *rand.Rand, v *ticketView, at time.Time) {
	switch {
	case v.Category == "system":
		v.Fields = toggle(v.Fields, pick(r, viewColumns))
	case v.DeactivatedDatetime.isSet():
		v.DeactivatedDatetime = stamp{}
	default:
		v.DeactivatedDatetime = g.s.stampAt(at, v.form)
	}
}

// otherThan draws an element of xs that differs from old.
func otherThan[T comparable](r *rand.Rand, xs []T, old any) T {
	for {
		if x := pick(r, xs); any(x) != old {
			return x
		}
	}
}

// toggle removes x from xs, or appends it.
func toggle(xs []string, x string) []string {
	if i := slices.Index(xs, x); i >= 0 {
		return slices.Delete(slices.Clone(xs), i, i+1)
	}
	return append(slices.Clone(xs), x)
}

// cond is one call of a view filter, e.g. eq(ticket.status, 'open'); arg
// is a string, int64, bool, []string or nil (no second argument).
type cond struct {
	fn, path string
	arg      any
}

// filterText renders the filter as the API does: calls joined by &&.
func filterText(cs []cond) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.fn + "(" + c.path
		if c.arg != nil {
			parts[i] += ", " + literalText(c.arg)
		}
		parts[i] += ")"
	}
	return strings.Join(parts, " && ")
}

func literalText(v any) string {
	switch x := v.(type) {
	case string:
		return "'" + x + "'"
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case []string:
		items := make([]string, len(x))
		for i, s := range x {
			items[i] = literalText(s)
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	panic(fmt.Sprintf("gorgiassim: view filter argument %T", v))
}

// filterAST is the filter parsed into an ESTree Program, as filters_ast.
func filterAST(cs []cond) map[string]any {
	var expr map[string]any
	for _, c := range cs {
		call := callAST(c)
		if expr == nil {
			expr = call
			continue
		}
		expr = map[string]any{"type": "LogicalExpression", "operator": "&&", "left": expr, "right": call}
	}
	return map[string]any{"type": "Program", "sourceType": "script",
		"body": []any{map[string]any{"type": "ExpressionStatement", "expression": expr}}}
}

func callAST(c cond) map[string]any {
	args := []any{memberAST(c.path)}
	if c.arg != nil {
		args = append(args, literalAST(c.arg))
	}
	return map[string]any{"type": "CallExpression", "callee": identAST(c.fn), "arguments": args}
}

// memberAST is a dotted path such as ticket.assignee_user.id.
func memberAST(path string) map[string]any {
	parts := strings.Split(path, ".")
	expr := identAST(parts[0])
	for _, p := range parts[1:] {
		expr = map[string]any{"type": "MemberExpression", "computed": false, "object": expr, "property": identAST(p)}
	}
	return expr
}

func identAST(name string) map[string]any { return map[string]any{"type": "Identifier", "name": name} }

func literalAST(v any) map[string]any {
	if xs, ok := v.([]string); ok {
		els := make([]any, len(xs))
		for i, s := range xs {
			els[i] = literalAST(s)
		}
		return map[string]any{"type": "ArrayExpression", "elements": els}
	}
	return map[string]any{"type": "Literal", "value": v, "raw": literalText(v)}
}
