package gorgiassim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Rules is the resource of rules, the automations (for Objects, IDs and
// Deny).
const Rules = "rules"

// ruleFirstID: replies sent by rules cite rule ruleFirstID + 0..19
// (drawAgentExtras), which are the 20 seeded rules.
const ruleFirstID = 880100

func init() {
	register(genSpec{
		entity: "rules", model: ruleObj{},
		firstID: ruleFirstID - 1, idGap: 1, salt: 0x5b0d3f8e17a6,
		needs: []string{Tags, Macros, Teams},
		make:  func(s *Sim, t *table) generator { return &ruleGen{s: s, t: t} },
	})
}

type ruleSettings struct {
	Slug      string   `json:"slug"`
	AllowList []string `json:"allow_list"`
	BlockList []string `json:"block_list"`
}

type ruleObj struct {
	ID                  int64           `json:"id"`
	Name                string          `json:"name"`
	Description         *string         `json:"description"`
	Code                string          `json:"code"`
	CodeAST             json.RawMessage `json:"code_ast"`
	EventTypes          string          `json:"event_types"`
	Priority            int             `json:"priority"`
	Settings            *ruleSettings   `json:"settings"`
	DeactivatedDatetime stamp           `json:"deactivated_datetime"`
	CreatedDatetime     stamp           `json:"created_datetime"`
	UpdatedDatetime     stamp           `json:"updated_datetime"`
	URI                 string          `json:"uri"`
	extras

	form  tsForm
	logic ruleLogic
}

// ruleLogic is a rule's code: if (cond && cond ...) { Action(...); ... }.
type ruleLogic struct {
	conds []ruleCond
	acts  []ruleAct
}

// ruleCond is fn(path, value), e.g. containsAny(message.intents.name, ['order/status']).
type ruleCond struct {
	fn, path string
	value    any // string, int, bool or []string
}

// ruleAct is Action(name, {key: value, ...}).
type ruleAct struct {
	name string
	args []ruleArg
}

type ruleArg struct {
	key   string
	value any
}

// ruleDef is a seeded rule before it is rendered.
type ruleDef struct {
	name, description, events, slug string
	logic                           ruleLogic
	deactivatedAt                   float64 // fraction of the history, 0 if active
}

func isFrom(agent bool) ruleCond {
	return ruleCond{fn: "eq", path: "message.from_agent", value: agent}
}

func hasIntent(intents ...string) ruleCond {
	return ruleCond{fn: "containsAny", path: "message.intents.name", value: intents}
}

func hasTag(tags ...string) ruleCond {
	return ruleCond{fn: "containsAny", path: "ticket.tags.name", value: tags}
}

func onChannel(ch string) ruleCond { return ruleCond{fn: "eq", path: "ticket.channel", value: ch} }

func addTags(tags string) ruleAct { return ruleAct{name: "addTags", args: []ruleArg{{"tags", tags}}} }

func setStatus(s string) ruleAct { return ruleAct{name: "setStatus", args: []ruleArg{{"status", s}}} }

func applyMacro(id int64) ruleAct {
	return ruleAct{name: "applyMacro", args: []ruleArg{{"macro_id", id}}}
}

func setTeam(id int64) ruleAct {
	return ruleAct{name: "setTeamAssignee", args: []ruleArg{{"team_id", id}}}
}

// ruleGen makes the account's 20 rules (the number messages refer to): one
// per ticket topic that tags it, routing, priority and closing rules. Rules
// are only edited by Advance (code, priority, activation).
type ruleGen struct {
	s *Sim
	t *table
}

// seed creates the rules over 10%..50% of the history, in priority order.
func (g *ruleGen) seed(r *rand.Rand) {
	_, end := g.s.seedSpan()
	at := func(f float64) time.Time { return g.s.historyAt(r, f) }
	defs := g.defs()
	for i, d := range defs {
		id := g.t.newID(r)
		f := g.t.form(id)
		created := at(0.1 + 0.4*float64(i)/float64(len(defs)))
		ru := &ruleObj{
			ID: id, Name: d.name, EventTypes: d.events, Priority: 10 * (len(defs) - i),
			CreatedDatetime: mk(created, f),
			UpdatedDatetime: mk(created.Add(time.Duration(r.Float64()*float64(end.Sub(created)))), f),
			URI:             fmt.Sprintf("/api/rules/%d/", id), extras: newExtras(g.s.cfg.ExtraFields),
			form: f, logic: d.logic,
		}
		if d.description != "" {
			ru.Description = ptr(d.description)
		}
		if d.slug != "" {
			ru.Settings = &ruleSettings{Slug: d.slug, AllowList: []string{}, BlockList: []string{}}
		}
		if d.deactivatedAt > 0 {
			ru.DeactivatedDatetime = mk(at(d.deactivatedAt), f)
			ru.UpdatedDatetime = ru.DeactivatedDatetime
		}
		ru.render()
		g.t.add(ru)
	}
}

// defs are the seeded rules: auto-close, one per topic, then routing and
// housekeeping, 20 in all.
func (g *ruleGen) defs() []ruleDef {
	defs := []ruleDef{{
		name: "Auto-close: no reply needed", events: "ticket-message-created", slug: "auto-close",
		description: "Closes conversations that need no answer (thanks, auto-replies).",
		logic: ruleLogic{
			conds: []ruleCond{isFrom(false), hasIntent("other/no_reply", "other/thanks")},
			acts:  []ruleAct{addTags("auto-close"), setStatus("closed")},
		},
	}}
	for k, tp := range topics {
		acts := []ruleAct{addTags(g.s.tags[tp.tag].Name)}
		if k == 0 {
			acts = append(acts, applyMacro(macroFirstID))
		}
		defs = append(defs, ruleDef{
			name: "Tag: " + tp.intent, events: "ticket-message-created",
			logic: ruleLogic{conds: []ruleCond{isFrom(false), hasIntent(tp.intent)}, acts: acts},
		})
	}
	return append(defs, g.routingDefs()...)
}

// routingDefs are the rules that route, prioritise and close tickets.
func (g *ruleGen) routingDefs() []ruleDef {
	team := func(i int) int64 { return g.s.teams[min(i, len(g.s.teams)-1)].ID }
	return []ruleDef{
		{name: "Route VIP customers", events: "ticket-created,ticket-updated",
			logic: ruleLogic{conds: []ruleCond{hasTag("vip")}, acts: []ruleAct{setTeam(team(2))}}},
		{name: "Urgent keywords", events: "ticket-message-created", description: "Raises the priority of urgent requests.",
			logic: ruleLogic{
				conds: []ruleCond{isFrom(false), {fn: "containsAny", path: "message.body_text", value: []string{"urgent", "asap", "immediately"}}},
				acts:  []ruleAct{addTags("urgent"), {name: "setPriority", args: []ruleArg{{"priority", "high"}}}},
			}},
		{name: "Chat goes to Tier 1", events: "ticket-created",
			logic: ruleLogic{conds: []ruleCond{onChannel("chat")}, acts: []ruleAct{setTeam(team(0))}}},
		{name: "Returns team", events: "ticket-created,ticket-updated",
			logic: ruleLogic{conds: []ruleCond{hasTag("refund", "exchange")}, acts: []ruleAct{setTeam(team(1))}}},
		{name: "Bad survey follow-up", events: "satisfaction-survey-responded",
			description: "Reopens tickets whose customer gave a score of 1 or 2.",
			logic: ruleLogic{
				conds: []ruleCond{{fn: "lte", path: "ticket.satisfaction_survey.score", value: 2}},
				acts:  []ruleAct{addTags("urgent"), setStatus("open")},
			}},
		{name: "Damaged items: ask for a photo", events: "ticket-created",
			logic: ruleLogic{conds: []ruleCond{hasIntent("order/damaged")}, acts: []ruleAct{applyMacro(macroFirstID + 20)}}},
		{name: "Auto-close spam", events: "ticket-created", slug: "auto-close-spam",
			logic: ruleLogic{conds: []ruleCond{{fn: "eq", path: "ticket.spam", value: true}}, acts: []ruleAct{setStatus("closed")}}},
		{name: "Snooze shipping delays", events: "ticket-updated",
			logic: ruleLogic{
				conds: []ruleCond{hasTag("shipping-delay")},
				acts:  []ruleAct{{name: "snoozeTicket", args: []ruleArg{{"snooze_timedelta", "2d"}}}},
			}},
		{name: "Instagram comments", events: "ticket-created",
			logic: ruleLogic{conds: []ruleCond{onChannel("instagram-comment")}, acts: []ruleAct{addTags("product-question")}}},
		{name: "Holiday auto-reply", events: "ticket-created", deactivatedAt: 0.8,
			description: "Seasonal: answers new emails while the team is away.",
			logic:       ruleLogic{conds: []ruleCond{onChannel("email")}, acts: []ruleAct{applyMacro(g.macroNamed("Holiday hours"))}}},
	}
}

// macroNamed is the id of the macro called name (the first macro if none).
func (g *ruleGen) macroNamed(name string) int64 {
	for _, m := range objectsOf[*macroObj](g.s.table(Macros)) {
		if m.Name == name {
			return m.ID
		}
	}
	return macroFirstID
}

// render writes code and code_ast from the logic.
func (ru *ruleObj) render() {
	code, ast := ru.logic.compile()
	ru.Code, ru.CodeAST = code, marshal(ast)
}

// plan edits about 5% of the rules (at least one) per Advance.
func (g *ruleGen) plan(b *batch) {
	all := objectsOf[*ruleObj](g.t)
	b.sample(len(all), 0.05, len(all), func(j int) func(time.Time) {
		return func(at time.Time) { g.edit(all[j], at) }
	})
}

// apiGuard is the condition edits add to or remove from a rule's code.
var apiGuard = ruleCond{fn: "neq", path: "ticket.via", value: "api"}

// edit deactivates or reactivates the rule, moves its priority, or adds or
// removes a condition (new code and code_ast), and bumps updated_datetime.
func (g *ruleGen) edit(ru *ruleObj, at time.Time) {
	r := g.s.rng
	st := g.s.stampAt(at, ru.form)
	switch r.IntN(3) {
	case 0:
		if ru.DeactivatedDatetime.isSet() {
			ru.DeactivatedDatetime = stamp{}
		} else {
			ru.DeactivatedDatetime = st
		}
	case 1:
		ru.Priority += 1 + r.IntN(5)
	default:
		conds := slices.Clone(ru.logic.conds)
		if i := slices.IndexFunc(conds, func(c ruleCond) bool { return c.path == apiGuard.path }); i >= 0 {
			conds = slices.Delete(conds, i, i+1)
		} else {
			conds = append(conds, apiGuard)
		}
		ru.logic.conds = conds
		ru.render()
	}
	ru.UpdatedDatetime = st
	g.t.changed(ru)
}

// compile prints the logic as JavaScript and builds its ESTree AST (as
// esprima parses it, with line/column locations).
func (l ruleLogic) compile() (string, map[string]any) {
	p := &jsPrinter{line: 1}
	p.write("\n")
	start := p.pos()
	stmt := p.ifStatement(l)
	prog := p.node("Program", start, map[string]any{"body": []any{stmt}, "sourceType": "script"})
	p.write("\n")
	return p.b.String(), prog
}

// jsPrinter writes code and tracks the position of what it writes.
type jsPrinter struct {
	b         strings.Builder
	line, col int
}

func (p *jsPrinter) write(s string) {
	p.b.WriteString(s)
	for _, c := range s {
		if c == '\n' {
			p.line, p.col = p.line+1, 0
		} else {
			p.col++
		}
	}
}

func (p *jsPrinter) pos() map[string]any { return map[string]any{"line": p.line, "column": p.col} }

// node finishes an AST node that started at start and ends here.
func (p *jsPrinter) node(typ string, start map[string]any, fields map[string]any) map[string]any {
	fields["type"] = typ
	fields["loc"] = map[string]any{"start": start, "end": p.pos()}
	return fields
}

func (p *jsPrinter) ifStatement(l ruleLogic) map[string]any {
	start := p.pos()
	p.write("if (")
	test := p.test(l.conds)
	p.write(") ")
	bstart := p.pos()
	p.write("{\n")
	body := make([]any, 0, len(l.acts))
	for _, a := range l.acts {
		p.write("  ")
		body = append(body, p.action(a))
		p.write("\n")
	}
	p.write("}")
	block := p.node("BlockStatement", bstart, map[string]any{"body": body})
	return p.node("IfStatement", start, map[string]any{"test": test, "consequent": block, "alternate": nil})
}

// test is the conditions joined with &&, left-associative.
func (p *jsPrinter) test(conds []ruleCond) map[string]any {
	start := p.pos()
	left := p.cond(conds[0])
	for _, c := range conds[1:] {
		p.write(" && ")
		right := p.cond(c)
		left = p.node("LogicalExpression", start, map[string]any{"operator": "&&", "left": left, "right": right})
	}
	return left
}

func (p *jsPrinter) cond(c ruleCond) map[string]any {
	return p.call(c.fn, func() []any {
		path := p.member(c.path)
		p.write(", ")
		return []any{path, p.value(c.value)}
	})
}

// action is the statement Action('name', {args});
func (p *jsPrinter) action(a ruleAct) map[string]any {
	start := p.pos()
	call := p.call("Action", func() []any {
		name := p.value(a.name)
		p.write(", ")
		return []any{name, p.object(a.args)}
	})
	p.write(";")
	return p.node("ExpressionStatement", start, map[string]any{"expression": call})
}

// call prints fn(args); args prints the arguments and their separators.
func (p *jsPrinter) call(fn string, args func() []any) map[string]any {
	start := p.pos()
	callee := p.ident(fn)
	p.write("(")
	list := args()
	p.write(")")
	return p.node("CallExpression", start, map[string]any{"callee": callee, "arguments": list})
}

func (p *jsPrinter) ident(name string) map[string]any {
	start := p.pos()
	p.write(name)
	return p.node("Identifier", start, map[string]any{"name": name})
}

// member prints a dotted path as nested MemberExpressions.
func (p *jsPrinter) member(path string) map[string]any {
	start := p.pos()
	parts := strings.Split(path, ".")
	obj := p.ident(parts[0])
	for _, part := range parts[1:] {
		p.write(".")
		prop := p.ident(part)
		obj = p.node("MemberExpression", start, map[string]any{"computed": false, "object": obj, "property": prop})
	}
	return obj
}

// value prints a literal or an array of string literals.
func (p *jsPrinter) value(v any) map[string]any {
	start := p.pos()
	switch x := v.(type) {
	case []string:
		p.write("[")
		elems := make([]any, len(x))
		for i, s := range x {
			if i > 0 {
				p.write(", ")
			}
			elems[i] = p.value(s)
		}
		p.write("]")
		return p.node("ArrayExpression", start, map[string]any{"elements": elems})
	case string:
		raw := "'" + strings.ReplaceAll(x, "'", `\'`) + "'"
		p.write(raw)
		return p.node("Literal", start, map[string]any{"value": x, "raw": raw})
	case int:
		raw := strconv.Itoa(x)
		p.write(raw)
		return p.node("Literal", start, map[string]any{"value": x, "raw": raw})
	case int64:
		raw := strconv.FormatInt(x, 10)
		p.write(raw)
		return p.node("Literal", start, map[string]any{"value": x, "raw": raw})
	case bool:
		raw := strconv.FormatBool(x)
		p.write(raw)
		return p.node("Literal", start, map[string]any{"value": x, "raw": raw})
	}
	panic(fmt.Sprintf("gorgiassim: rule value %T", v))
}

// object prints { key: value, ... }.
func (p *jsPrinter) object(args []ruleArg) map[string]any {
	start := p.pos()
	p.write("{ ")
	props := make([]any, len(args))
	for i, a := range args {
		if i > 0 {
			p.write(", ")
		}
		pstart := p.pos()
		key := p.ident(a.key)
		p.write(": ")
		val := p.value(a.value)
		props[i] = p.node("Property", pstart, map[string]any{
			"key": key, "value": val, "kind": "init", "computed": false, "method": false, "shorthand": false,
		})
	}
	p.write(" }")
	return p.node("ObjectExpression", start, map[string]any{"properties": props})
}
