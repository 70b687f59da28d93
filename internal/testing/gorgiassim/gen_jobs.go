package gorgiassim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Jobs is the resource of jobs: bulk ticket updates, exports and macro
// imports (for Objects, IDs and Deny).
const Jobs = "jobs"

func init() {
	register(genSpec{
		entity: "jobs", model: job{}, firstID: 5900000, idGap: 25, salt: 0x1c84b6e3d975,
		needs: []string{Tickets, Views},
		make:  func(s *Sim, t *table) generator { return &jobGen{s: s, t: t} },
	})
}

// job is a job as GET /api/jobs renders it. Its life is drawn when it is
// created: it waits in the queue (or until scheduled_datetime), runs, and
// ends done, errored or fatal_errored, or is canceled while running. Every
// step stamps one *_datetime field, so the job's derived version moves on
// every change.
type job struct {
	ID                      int64          `json:"id"`
	URI                     string         `json:"uri"`
	Type                    string         `json:"type"`
	Status                  string         `json:"status"`
	UserID                  int64          `json:"user_id"`
	Params                  jobParams      `json:"params"`
	Meta                    map[string]any `json:"meta"`
	Info                    map[string]any `json:"info"`
	CreatedDatetime         stamp          `json:"created_datetime"`
	ScheduledDatetime       stamp          `json:"scheduled_datetime"`
	LockedDatetime          stamp          `json:"locked_datetime"`
	StartedDatetime         stamp          `json:"started_datetime"`
	EndedDatetime           stamp          `json:"ended_datetime"`
	FailedDatetime          stamp          `json:"failed_datetime"`
	CancelRequestedDatetime stamp          `json:"cancel_requested_datetime"`
	CancelledDatetime       stamp          `json:"cancelled_datetime"`
	extras

	life jobLife
	form tsForm
}

// jobParams are the parameters of a job; only those of its type are sent.
type jobParams struct {
	TicketIDs     []int64        `json:"ticket_ids,omitempty"`
	ViewID        *int64         `json:"view_id,omitempty"`
	Updates       map[string]any `json:"updates,omitempty"`
	MacroID       *int64         `json:"macro_id,omitempty"`
	ApplyAndClose *bool          `json:"apply_and_close,omitempty"`
	StartDatetime *stamp         `json:"start_datetime,omitempty"`
	EndDatetime   *stamp         `json:"end_datetime,omitempty"`
	URL           *string        `json:"url,omitempty"`
}

// jobLife is the drawn course of a job.
type jobLife struct {
	outcome string          // done, errored, fatal_errored or canceled
	delay   time.Duration   // scheduled_datetime - created_datetime; 0 for none
	waits   []time.Duration // before each step, from the previous one (the first from the due start)
	total   int             // items the job processes
	partial int             // items processed when it fails or is canceled
	steps   int             // steps applied
	last    time.Time       // time of the latest step
}

// jobTypes are the job types the simulator draws, with weights. deleteTicket
// and the drilldown exports are left out: jobs do not change the tickets
// they name, and the drilldown parameters are not documented.
var jobTypes = []struct {
	name   string
	weight int
}{{"updateTicket", 35}, {"applyMacro", 20}, {"exportTicket", 30}, {"exportMacro", 8}, {"importMacro", 7}}

// jobGen seeds about one job per ten configured tickets (at least 12, at
// most 400: a busy account runs a few bulk tasks a week) over the history,
// the last two within 20 minutes of Start (so some are often unfinished),
// and on every Advance creates one to three jobs and moves every unfinished
// job through the steps that fall due.
type jobGen struct {
	s *Sim
	t *table
}

// seed creates the jobs in creation order, each with the steps that fell
// due before Start.
func (g *jobGen) seed(r *rand.Rand) {
	begin, end := g.s.seedSpan()
	n := min(max(g.s.cfg.Tickets/10, 12), 400)
	ctimes := make([]time.Time, n)
	for i := range ctimes {
		ctimes[i] = begin.Add(randDur(r, g.s.cfg.History))
	}
	ctimes[n-1], ctimes[n-2] = end.Add(-time.Minute-randDur(r, 20*time.Minute)), end.Add(-time.Minute-randDur(r, 20*time.Minute))
	slices.SortFunc(ctimes, func(a, b time.Time) int { return a.Compare(b) })
	for _, c := range ctimes {
		j := g.draw(r)
		g.create(j, g.t.newID(r), func(id int64) stamp { return mk(c, g.t.form(id)) })
		for !j.finished() && !g.nextDue(j).After(end) {
			j.apply(mk(g.nextDue(j), j.form))
		}
		g.t.add(j)
	}
}

// plan moves the unfinished jobs and creates one to three new ones, each
// with the steps that fall due within the batch.
func (g *jobGen) plan(b *batch) {
	for _, j := range objectsOf[*job](g.t) {
		if !j.finished() {
			g.schedule(b, j, g.nextDue(j))
		}
	}
	for range 1 + b.r.IntN(3) {
		at := b.when()
		j := g.draw(b.r)
		b.at(at, func(at time.Time) {
			id := g.t.newID(g.s.rng)
			g.create(j, id, func(id int64) stamp { return g.s.stampAt(at, g.t.form(id)) })
			g.t.add(j)
		})
		g.schedule(b, j, at.Add(j.life.delay).Add(j.life.waits[0]))
	}
}

// schedule runs the job's remaining steps whose time falls within the
// batch; the first is due at due (moved into the batch if it is late).
func (g *jobGen) schedule(b *batch, j *job, due time.Time) {
	for i, t := j.life.steps, due; i < len(j.life.waits); i++ {
		if i > j.life.steps {
			t = t.Add(j.life.waits[i])
		}
		t = later(t, b.from.Add(time.Microsecond))
		if t.After(b.to) {
			return
		}
		b.at(t, func(at time.Time) {
			j.apply(g.s.stampAt(at, j.form))
			g.t.changed(j)
		})
	}
}

// nextDue is when the job's next step falls due.
func (g *jobGen) nextDue(j *job) time.Time {
	if j.life.steps == 0 {
		return later(j.CreatedDatetime.t, j.ScheduledDatetime.t).Add(j.life.waits[0])
	}
	return j.life.last.Add(j.life.waits[j.life.steps])
}

// draw makes a job of a drawn type, params and life, not yet created.
func (g *jobGen) draw(r *rand.Rand) *job {
	j := &job{Type: drawJobType(r), UserID: g.s.users[r.IntN(min(4, len(g.s.users)))].ID}
	g.drawParams(r, j)
	if r.Float64() < 0.3 {
		j.Meta = map[string]any{"description": jobDescription(j)}
	}
	j.life = drawLife(r, j)
	return j
}

// create gives the drafted job its id and creation stamp (made by at).
func (g *jobGen) create(j *job, id int64, at func(id int64) stamp) {
	created := at(id)
	j.ID, j.URI, j.form = id, fmt.Sprintf("/api/jobs/%d/", id), created.f
	j.CreatedDatetime, j.Status = created, "pending"
	j.extras = newExtras(g.s.cfg.ExtraFields)
	if j.life.delay > 0 {
		j.ScheduledDatetime = mk(created.t.Add(j.life.delay), created.f)
		j.Status = "scheduled"
	}
}

func drawJobType(r *rand.Rand) string {
	x := r.IntN(100)
	for _, t := range jobTypes {
		if x -= t.weight; x < 0 {
			return t.name
		}
	}
	return jobTypes[0].name
}

// jobDescription is a description its creator might give the job.
func jobDescription(j *job) string {
	switch j.Type {
	case "updateTicket":
		switch {
		case j.Params.Updates["status"] == "closed":
			return "Close stale tickets"
		case j.Params.Updates["status"] == "open":
			return "Reopen tickets closed by mistake"
		case j.Params.Updates["priority"] != nil:
			return "Lower priority of answered tickets"
		}
		return "Reassign the weekend backlog"
	case "applyMacro":
		return "Answer the carrier delay wave"
	case "exportTicket":
		return "Monthly export for finance"
	case "exportMacro":
		return "Backup of the macros"
	}
	return "Import the new holiday macros"
}

// drawParams sets the parameters of the job's type; tickets and views
// are real ones.
func (g *jobGen) drawParams(r *rand.Rand, j *job) {
	p := &j.Params
	switch j.Type {
	case "updateTicket":
		g.selectTickets(r, p, 40)
		p.Updates = pick(r, []map[string]any{{"status": "closed"}, {"priority": "low"}, {"status": "open"},
			{"assignee_team": map[string]any{"id": pick(r, g.s.teams).ID}}})
	case "applyMacro":
		g.selectTickets(r, p, 30)
		p.MacroID = ptr(int64(90000 + r.IntN(len(topics))*10 + r.IntN(3)))
		p.ApplyAndClose = ptr(r.IntN(2) == 0)
	case "exportTicket":
		p.ViewID = ptr(g.drawView(r))
		end := g.s.cfg.Start.Add(-time.Duration(r.IntN(60)) * 24 * time.Hour).Truncate(24 * time.Hour)
		p.StartDatetime, p.EndDatetime = ptr(mk(end.Add(-30*24*time.Hour), formMicro)), ptr(mk(end, formMicro))
	case "importMacro":
		p.URL = ptr(fmt.Sprintf("https://uploads.gorgias.io/%s/macros-%s.csv", g.s.cfg.Domain, hexID(r, 12)))
	}
}

// selectTickets names up to most real tickets, or (one time in three, or
// when there are no tickets) a view.
func (g *jobGen) selectTickets(r *rand.Rand, p *jobParams, most int) {
	tickets := g.s.table(Tickets)
	if tickets.len() == 0 || r.IntN(3) == 0 {
		p.ViewID = ptr(g.drawView(r))
		return
	}
	seen := map[int64]bool{}
	for range 1 + r.IntN(most) {
		seen[tickets.all[r.IntN(tickets.len())].id] = true
	}
	for id := range seen {
		p.TicketIDs = append(p.TicketIDs, id)
	}
	slices.Sort(p.TicketIDs)
}

func (g *jobGen) drawView(r *rand.Rand) int64 {
	views := g.s.table(Views)
	return views.all[r.IntN(views.len())].id
}

// drawLife draws the job's outcome, schedule, size and step durations.
func drawLife(r *rand.Rand, j *job) jobLife {
	l := jobLife{outcome: "done", total: jobSize(r, j)}
	switch x := r.Float64(); {
	case x < 0.06:
		l.outcome = "errored"
	case x < 0.08:
		l.outcome = "fatal_errored"
	case x < 0.15:
		l.outcome = "canceled"
	}
	if r.Float64() < 0.15 {
		l.delay = 5*time.Minute + randDur(r, 55*time.Minute)
	}
	l.partial = int(float64(l.total) * (0.05 + 0.85*r.Float64()))
	perItem := 200*time.Millisecond + randDur(r, 1300*time.Millisecond)
	if j.Type == "exportTicket" {
		perItem /= 10
	}
	run := min(15*time.Second+time.Duration(l.total)*perItem, 3*time.Hour)
	l.waits = []time.Duration{2*time.Second + expDur(r, 40*time.Second), run}
	if l.outcome == "canceled" {
		cut := time.Duration(float64(run) * (0.1 + 0.7*r.Float64()))
		l.waits = []time.Duration{l.waits[0], cut, 2*time.Second + expDur(r, 20*time.Second)}
	}
	return l
}

// jobSize is the number of items (tickets, macros) the job processes.
func jobSize(r *rand.Rand, j *job) int {
	switch {
	case len(j.Params.TicketIDs) > 0:
		return len(j.Params.TicketIDs)
	case j.Type == "exportTicket":
		return 50 + r.IntN(3000)
	case j.Type == "exportMacro":
		return 20 + r.IntN(80)
	case j.Type == "importMacro":
		return 5 + r.IntN(60)
	}
	return 20 + r.IntN(600)
}

func (j *job) finished() bool { return j.life.steps == len(j.life.waits) }

// apply makes the job's next step at stamp at: start, then finish; or
// start, cancel request, cancel.
func (j *job) apply(at stamp) {
	switch i := j.life.steps; {
	case i == 0:
		j.Status, j.StartedDatetime, j.LockedDatetime = "running", at, at
		j.Info = map[string]any{"progress_count": 0}
	case j.life.outcome == "canceled" && i == 1:
		j.Status, j.CancelRequestedDatetime = "cancel_requested", at
	case j.life.outcome == "canceled":
		j.Status, j.CancelledDatetime = "canceled", at
		j.end(at, j.life.partial)
	case j.life.outcome == "done":
		j.Status = "done"
		j.end(at, j.life.total)
	default:
		j.Status, j.FailedDatetime = j.life.outcome, at
		j.end(at, j.life.partial)
	}
	j.life.steps++
	j.life.last = at.t
}

// end unlocks the job, ended at at after processing n items.
func (j *job) end(at stamp, n int) {
	j.EndedDatetime, j.LockedDatetime = at, stamp{}
	j.Info = map[string]any{"progress_count": n}
}
