package gorgiassim

import (
	"math/rand/v2"
	"slices"
	"time"
)

// VoiceCallRecordings is the resource of call recordings and voicemails
// (for Objects, IDs and Deny).
const VoiceCallRecordings = "phone/voice-call-recordings"

func init() {
	register(genSpec{
		entity: "voice_call_recordings", model: voiceCallRecording{},
		firstID: 2300000, idGap: 5, salt: 0x7a11ec0d1e93,
		filters: []string{"call_id"},
		aliases: []string{"recordings"},
		needs:   []string{"voice_calls"},
		make:    func(s *Sim, t *table) generator { return &recordingGen{s: s, t: t} },
	})
}

type voiceCallRecording struct {
	ID              int64   `json:"id"`
	CallID          int64   `json:"call_id"`
	ExternalID      *string `json:"external_id"`
	URL             *string `json:"url"`
	Duration        *int64  `json:"duration"`
	Type            string  `json:"type"`
	CreatedDatetime stamp   `json:"created_datetime"`
	DeletedDatetime stamp   `json:"deleted_datetime"`
	DeletedByUserID *int64  `json:"deleted_by_user_id"`
	ErrorCode       *string `json:"error_code"`
	extras

	form tsForm
}

// recordingGen holds the recordings of about 60% of the answered calls
// and the voicemails of about half the missed inbound ones, written by the
// calls generator when the call ends. Agents delete some later: the
// recording stays listed, with deleted_datetime and no url.
type recordingGen struct {
	s *Sim
	t *table
}

func (g *recordingGen) calls() *callGen { return g.s.gen(VoiceCalls).(*callGen) }

// seed deletes about 5% of the recordings the calls generator wrote while
// seeding, some time after they were made.
func (g *recordingGen) seed(r *rand.Rand) {
	_, end := g.s.seedSpan()
	for _, rec := range objectsOf[*voiceCallRecording](g.t) {
		if r.Float64() < 0.05 {
			if at := rec.CreatedDatetime.t.Add(expDur(r, 5*24*time.Hour)); at.Before(end) {
				g.markDeleted(r, rec, mk(at, rec.form))
			}
		}
	}
}

// add writes the recording (or voicemail) of call c at stamp st, which
// lasts the call's talk (or the message's) duration.
func (g *recordingGen) add(r *rand.Rand, c *voiceCall, typ string, st stamp, seeding bool) {
	id := g.t.newID(r)
	f := g.t.form(id)
	at := mk(st.t, f)
	if !seeding {
		at = g.s.stampAt(st.t, f)
	}
	ext := "RE" + hexID(r, 32)
	dur := int64(10 + r.IntN(50))
	if typ == "call-recording" && c.Duration != nil {
		dur = max(1, *c.Duration-int64(5+r.IntN(20)))
	}
	g.t.add(&voiceCallRecording{
		ID: id, CallID: c.ID, ExternalID: ptr(ext), Duration: ptr(dur), Type: typ, CreatedDatetime: at,
		URL:    ptr("https://voice.gorgias.help/" + g.s.cfg.Domain + "/recordings/" + ext + ".mp3"),
		extras: newExtras(g.s.cfg.ExtraFields), form: f,
	})
}

// markDeleted deletes a recording at stamp at, by a drawn agent.
func (g *recordingGen) markDeleted(r *rand.Rand, rec *voiceCallRecording, at stamp) {
	rec.DeletedDatetime = at
	rec.DeletedByUserID = ptr(pick(r, g.s.users).ID)
	rec.URL = nil
	g.t.changed(rec)
}

// plan makes sure every Advance changes a recording: when no call of the
// batch ends with a recording, an agent deletes one, or, with none left,
// the latest recorded-but-missing call gets its recording late.
func (g *recordingGen) plan(b *batch) {
	if g.calls().recordingsDue > 0 {
		return
	}
	var kept []*voiceCallRecording
	for _, rec := range objectsOf[*voiceCallRecording](g.t) {
		if !rec.DeletedDatetime.isSet() {
			kept = append(kept, rec)
		}
	}
	if len(kept) > 0 {
		rec := pick(b.r, kept)
		b.at(b.when(), func(at time.Time) { g.markDeleted(g.s.rng, rec, g.s.stampAt(at, rec.form)) })
		return
	}
	g.late(b)
}

// late adds the recording of the newest ended call that has none.
func (g *recordingGen) late(b *batch) {
	calls := g.calls().lastCalls()
	i := slices.IndexFunc(calls, func(c *voiceCall) bool { return c.Status == "completed" && !c.HasCallRecording })
	if i < 0 {
		return
	}
	c := calls[i]
	b.at(b.when(), func(at time.Time) {
		if !c.HasCallRecording {
			c.HasCallRecording = true
			c.UpdatedDatetime = g.s.stampAt(at, c.form)
			g.calls().t.changed(c)
			g.add(g.s.rng, c, "call-recording", c.UpdatedDatetime, false)
		}
	})
}
