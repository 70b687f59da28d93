package gorgiassim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// SatisfactionSurveys is the resource of satisfaction surveys (for Objects,
// IDs and Deny).
const SatisfactionSurveys = "satisfaction-surveys"

// SurveyResponseWindow is how long after its creation a survey can still be sent
// or scored by Advance: customers answer within days, as on the real service. It
// is shorter than the producer's default 7-day lookback.
const SurveyResponseWindow = 4 * 24 * time.Hour

func init() {
	register(genSpec{
		entity: "satisfaction_surveys", model: survey{},
		firstID: 3400000, idGap: 12, salt: 0x0e6f3d2a4b17,
		filters: []string{"ticket_id"},
		aliases: []string{"surveys"},
		needs:   []string{Tickets},
		make: func(s *Sim, t *table) generator {
			return &surveyGen{s: s, t: t, byTicket: make(map[int64]*survey)}
		},
	})
}

type survey struct {
	ID                 int64          `json:"id"`
	BodyText           *string        `json:"body_text"`
	CreatedDatetime    stamp          `json:"created_datetime"`
	CustomerID         int64          `json:"customer_id"`
	Meta               map[string]any `json:"meta"`
	Score              *int           `json:"score"`
	ScoredDatetime     stamp          `json:"scored_datetime"`
	SentDatetime       stamp          `json:"sent_datetime"`
	ShouldSendDatetime stamp          `json:"should_send_datetime"`
	TicketID           int64          `json:"ticket_id"`
	URI                string         `json:"uri"`
	extras

	form tsForm
}

// surveyGen makes at most one survey per closed ticket, created when the
// ticket closed, due one day later, then sent and sometimes scored.
type surveyGen struct {
	s        *Sim
	t        *table
	byTicket map[int64]*survey
}

func (g *surveyGen) tickets() *table { return g.s.table(Tickets) }

// seed puts surveys on a SurveyShare of the tickets, drawn among the closed
// ones (not spam, not trashed), in closing order.
func (g *surveyGen) seed(r *rand.Rand) {
	_, end := g.s.seedSpan()
	for _, tk := range g.drawTickets(r) {
		id := g.t.newID(r)
		sv := g.newSurvey(r, id, tk, mk(tk.ClosedDatetime.t, g.t.form(id)))
		if r.Float64() < 0.06 {
			sv.ShouldSendDatetime = stamp{}
		}
		g.drawAnswer(r, sv, end)
		g.store(sv)
	}
}

// drawTickets draws the closed tickets that get a seeded survey.
func (g *surveyGen) drawTickets(r *rand.Rand) []*ticket {
	var cands []*ticket
	for _, tk := range objectsOf[*ticket](g.tickets()) {
		if tk.Status == "closed" && !tk.Spam && !tk.TrashedDatetime.isSet() {
			cands = append(cands, tk)
		}
	}
	n := min(len(cands), int(math.Round(g.s.cfg.SurveyShare*float64(g.s.cfg.Tickets))))
	chosen := make([]*ticket, 0, n)
	for _, j := range r.Perm(len(cands))[:n] {
		chosen = append(chosen, cands[j])
	}
	slices.SortFunc(chosen, func(a, b *ticket) int {
		return cmp.Or(a.ClosedDatetime.t.Compare(b.ClosedDatetime.t), cmp.Compare(a.ID, b.ID))
	})
	return chosen
}

// drawAnswer sends most due surveys before end and has about half of them
// scored.
func (g *surveyGen) drawAnswer(r *rand.Rand, sv *survey, end time.Time) {
	ss := sv.ShouldSendDatetime
	if !ss.isSet() || ss.t.After(end) || r.Float64() >= 0.92 {
		return
	}
	sent := ss.t.Add(randDur(r, 10*time.Minute))
	if sent.After(end) {
		return
	}
	sv.SentDatetime = mk(sent, sv.form)
	if r.Float64() < 0.55 {
		if sc := sent.Add(expDur(r, 10*time.Hour)); !sc.After(end) {
			g.applyScore(r, sv, surveyScore(r), mk(sc, sv.form), false)
		}
	}
}

// newSurvey makes a survey for tk created at created, due a day later.
func (g *surveyGen) newSurvey(r *rand.Rand, id int64, tk *ticket, created stamp) *survey {
	sv := &survey{
		ID: id, CreatedDatetime: created, CustomerID: tk.Customer.ID, TicketID: tk.ID,
		ShouldSendDatetime: stamp{t: created.t.Add(24 * time.Hour), f: created.f},
		URI:                fmt.Sprintf("/api/satisfaction-surveys/%d/", id),
		extras:             newExtras(g.s.cfg.ExtraFields), form: created.f,
	}
	if r.Float64() < 0.15 {
		sv.Meta = map[string]any{"externalData": map[string]any{"id": "sv_" + hexID(r, 10)}}
	}
	return sv
}

func (g *surveyGen) store(sv *survey) {
	g.t.add(sv)
	g.byTicket[sv.TicketID] = sv
}

// onClosed creates a survey for a ticket just closed (by an edit at time
// at) with probability SurveyShare/0.7, unless it has one.
func (g *surveyGen) onClosed(tk *ticket, at time.Time) {
	r := g.s.rng
	if g.byTicket[tk.ID] != nil || !(r.Float64() < math.Min(1, g.s.cfg.SurveyShare/0.7)) {
		return
	}
	id := g.t.newID(r)
	g.store(g.newSurvey(r, id, tk, g.s.stampAt(at, g.t.form(id))))
}

// applyScore sets score, scored_datetime and (usually) a comment.
func (g *surveyGen) applyScore(r *rand.Rand, sv *survey, score int, at stamp, alwaysComment bool) {
	sv.Score = ptr(score)
	sv.ScoredDatetime = at
	sv.BodyText = nil
	if alwaysComment || r.Float64() < 0.7 {
		agent := "The agent"
		if tk, ok := objectOf[*ticket](g.tickets(), sv.TicketID); ok && tk.AssigneeUser != nil {
			agent = tk.AssigneeUser.Firstname
		}
		sv.BodyText = ptr(strings.ReplaceAll(pick(r, surveyComments[score]), "{agent}", agent))
	}
}

// surveyScore draws a score, mostly good.
func surveyScore(r *rand.Rand) int {
	switch x := r.Float64(); {
	case x < 0.55:
		return 5
	case x < 0.75:
		return 4
	case x < 0.85:
		return 3
	case x < 0.90:
		return 2
	default:
		return 1
	}
}

// plan sends the surveys that fall due before the batch ends and scores
// about 10% of the sent ones, within SurveyResponseWindow.
func (g *surveyGen) plan(b *batch) {
	all := objectsOf[*survey](g.t)
	for _, sv := range all {
		if due, ok := sendDue(sv, b.to); ok {
			b.at(later(due, b.from.Add(time.Microsecond)), func(at time.Time) {
				if !sv.SentDatetime.isSet() {
					g.send(sv, at)
				}
			})
		}
	}
	var sent []*survey
	for _, sv := range all {
		if sv.SentDatetime.isSet() && !sv.SentDatetime.t.After(b.from) && sv.Score == nil &&
			!sv.CreatedDatetime.t.Before(b.from.Add(-SurveyResponseWindow)) {
			sent = append(sent, sv)
		}
	}
	b.sample(len(sent), 0.1, len(sent), func(j int) func(time.Time) {
		return func(at time.Time) { g.score(sent[j], at) }
	})
}

// sendDue is when an unsent survey created within the response window is
// sent: its should_send_datetime plus a lag of up to 10 minutes, if not
// after to.
func sendDue(sv *survey, to time.Time) (time.Time, bool) {
	if sv.SentDatetime.isSet() || !sv.ShouldSendDatetime.isSet() || sv.CreatedDatetime.t.Before(to.Add(-SurveyResponseWindow)) {
		return time.Time{}, false
	}
	due := sv.ShouldSendDatetime.t.Add(time.Duration(mix64(uint64(sv.ID))%600) * time.Second)
	return due, !due.After(to)
}

func (g *surveyGen) send(sv *survey, at time.Time) {
	sv.SentDatetime = g.s.stampAt(at, sv.form)
	g.t.changed(sv)
}

// score records a drawn answer at time at.
func (g *surveyGen) score(sv *survey, at time.Time) {
	g.applyScore(g.s.rng, sv, surveyScore(g.s.rng), g.s.stampAt(at, sv.form), false)
	g.t.changed(sv)
}

// survey returns the survey with id, or ErrNotFound. Must hold s.mu.
func (s *Sim) survey(id int64) (*surveyGen, *survey, error) {
	g := s.gen(SatisfactionSurveys).(*surveyGen)
	sv, ok := objectOf[*survey](g.t, id)
	if !ok {
		return nil, nil, fmt.Errorf("survey %d: %w", id, ErrNotFound)
	}
	return g, sv, nil
}

// SendSurvey sets sent_datetime of an unsent survey to a fresh stamp. It
// fails with ErrNotDue when should_send_datetime is null or after the sim
// clock (so the survey's derived version, the latest of its *_datetime
// fields, always moves forward), and with ErrState when already sent.
func (s *Sim) SendSurvey(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, sv, err := s.survey(id)
	if err != nil {
		return err
	}
	if sv.SentDatetime.isSet() {
		return fmt.Errorf("survey %d already sent: %w", id, ErrState)
	}
	now := s.now()
	if !sv.ShouldSendDatetime.isSet() || sv.ShouldSendDatetime.t.After(now) {
		return fmt.Errorf("survey %d (should_send_datetime %s, sim time %s): %w", id,
			sv.ShouldSendDatetime.text(), now.Format(time.RFC3339), ErrNotDue)
	}
	g.send(sv, now)
	return nil
}

// ScoreSurvey records the customer's answer to a sent survey: score (1..5),
// scored_datetime (a fresh stamp) and body_text (a comment matching the
// score). Scoring again replaces the answer. Errors: ErrInvalid for a score
// outside 1..5, ErrState when the survey was not sent.
func (s *Sim) ScoreSurvey(id int64, score int) error {
	if score < 1 || score > 5 {
		return fmt.Errorf("survey %d: score %d not in 1..5: %w", id, score, ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, sv, err := s.survey(id)
	if err != nil {
		return err
	}
	if !sv.SentDatetime.isSet() {
		return fmt.Errorf("survey %d not sent yet: %w", id, ErrState)
	}
	g.applyScore(s.rng, sv, score, s.stampAt(s.now(), sv.form), true)
	g.t.changed(sv)
	return nil
}
