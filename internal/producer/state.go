package producer

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
)

// Times in the state are microseconds since the Unix epoch (UTC).
const (
	minTime = math.MinInt64
	maxTime = math.MaxInt64
)

// Segment records a region of (sort value, version) space whose object versions have all
// been published (or superseded before they could be read). It is what makes sweeps
// exactly-once without remembering every object: an object with sort value s, version
// v and id is covered by the segment when
//
//	(s > Lo, or s == Lo and id ∈ LoIDs) and v >= From and (v <= AsOf or Recent[id] == v).
//
// A sweep walks the list from the top down; its segment grows downwards page by page
// (Lo falls) and is committed with each page's records in one Kafka transaction, so a
// crash at any point leaves a segment that describes exactly what was published.
type Segment struct {
	// Lo is the lowest sort value reached; minTime means the end of the list was reached.
	Lo int64 `json:"lo"`
	// LoIDs are the ids with sort value == Lo that were visited (ties across pages).
	LoIDs []int64 `json:"lo_ids,omitempty"`
	// From is the lowest version the sweep published (interval_start), or minTime.
	From int64 `json:"from"`
	// AsOf is the highest version the sweep guarantees: every visited object whose version
	// was <= AsOf had that version published.
	AsOf int64 `json:"as_of"`
	// Recent holds visited objects whose version was > AsOf (changed while the sweep ran):
	// id → the version that was published.
	Recent map[int64]int64 `json:"recent,omitempty"`
	// Done is true when the sweep that built the segment finished.
	Done bool `json:"done"`
}

// covers reports whether the object version (sort, version, id) is covered by s.
func (s *Segment) covers(sortVal, version, id int64) bool {
	if sortVal < s.Lo || (sortVal == s.Lo && s.Lo != minTime && !slices.Contains(s.LoIDs, id)) {
		return false
	}
	if version < s.From {
		return false
	}
	if version <= s.AsOf {
		return true
	}
	v, ok := s.Recent[id]
	return ok && v == version
}

// EntityState is the producer's progress for one entity, stored as JSON under the entity's
// key in the compacted <prefix>_producer_state topic.
type EntityState struct {
	// Format is the state format version.
	Format int `json:"format"`
	// Entity is the entity name (also the Kafka key).
	Entity string `json:"entity"`
	// Backfilled is true once an unbounded sweep (no interval_start) reached the end of the
	// list: the whole history has been published at least once.
	Backfilled bool `json:"backfilled"`
	// Segments are the covered regions, see Segment.
	Segments []Segment `json:"segments"`
	// Published counts records published for the entity, over all runs.
	Published int64 `json:"published"`
	// LastSweepEnd is the time (µs) the last finished sweep ended, 0 if none did.
	LastSweepEnd int64 `json:"last_sweep_end,omitempty"`
	// Watermark is the AsOf of the last finished sweep, for status and monitoring.
	Watermark int64 `json:"watermark,omitempty"`

	// Seen (snapshot entities) is the content last published per object id, for every
	// object the snapshots know: an object is published when its content differs.
	Seen contentSet `json:"seen,omitempty"`
	// Round (snapshot entities) holds the ids the running snapshot has seen so far; nil
	// between snapshots. A finished snapshot drops from Seen the ids it did not see:
	// the objects that disappeared.
	Round contentSet `json:"round,omitempty"`

	// Mark (append-only entities) is the newest creation time published (µs). Objects
	// created before Mark minus the append lookback count as published.
	Mark int64 `json:"mark,omitempty"`
	// Tail (append-only entities) holds the objects published with a creation time in
	// the lookback window below Mark: id → creation time (µs).
	Tail map[int64]int64 `json:"tail,omitempty"`
	// Gone (the events feed) holds the deletions the feed published in the last
	// goneWindow below Mark: entity → id → deletion time (µs). A second event reporting
	// one of them publishes nothing.
	Gone map[string]map[int64]int64 `json:"gone,omitempty"`
}

const stateFormat = 1

// Covered reports whether the object version has been published already.
func (st *EntityState) Covered(sortVal, version, id int64) bool {
	for i := range st.Segments {
		if st.Segments[i].covers(sortVal, version, id) {
			return true
		}
	}
	return false
}

// clone returns a deep copy, so a page's new state can be built without touching the
// committed one until the Kafka transaction commits.
func (st *EntityState) clone() *EntityState {
	c := *st
	c.Segments = make([]Segment, len(st.Segments))
	for i, s := range st.Segments {
		s.LoIDs = slices.Clone(s.LoIDs)
		if s.Recent != nil {
			r := make(map[int64]int64, len(s.Recent))
			for k, v := range s.Recent {
				r[k] = v
			}
			s.Recent = r
		}
		c.Segments[i] = s
	}
	c.Seen, c.Round = cloneMap(st.Seen), cloneMap(st.Round)
	c.Tail = cloneMap(st.Tail)
	if st.Gone != nil {
		c.Gone = make(map[string]map[int64]int64, len(st.Gone))
		for e, ids := range st.Gone {
			c.Gone[e] = maps.Clone(ids)
		}
	}
	return &c
}

// cloneMap copies m, keeping nil as nil.
func cloneMap[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}

func (st *EntityState) marshal() ([]byte, error) {
	st.Format = stateFormat
	return json.Marshal(st)
}

func unmarshalState(entity string, b []byte) (*EntityState, error) {
	var st EntityState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode producer state of %s: %w", entity, err)
	}
	if st.Format != stateFormat {
		return nil, fmt.Errorf("producer state of %s has format %d, this binary reads %d", entity, st.Format, stateFormat)
	}
	return &st, nil
}

// coveredBelow reports, for an entity whose sort value is its version, whether every
// version in [from, p) is covered by a segment other than skip. Tie ids at segment
// boundaries are ignored, so the answer errs towards "not covered" (one more page read,
// never a lost record).
func (st *EntityState) coveredBelow(from, p int64, skip int) bool {
	if p <= from {
		return true
	}
	type iv struct{ lo, hi int64 } // covers [lo, hi]
	var ivs []iv
	for i, s := range st.Segments {
		if i == skip {
			continue
		}
		lo := s.From
		if s.Lo != minTime && s.Lo+1 > lo {
			lo = s.Lo + 1
		}
		if lo <= s.AsOf {
			ivs = append(ivs, iv{lo, s.AsOf})
		}
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].lo < ivs[j].lo })
	need := from // the lowest version not yet known to be covered
	for _, x := range ivs {
		if x.lo > need {
			break
		}
		if x.hi >= need {
			if x.hi == maxTime {
				return true
			}
			need = x.hi + 1
		}
		if need >= p {
			return true
		}
	}
	return need >= p
}

// prune simplifies the segment list after a page or a sweep: it drops redundant Recent
// entries and dominated segments, merges overlapping segments of entities whose sort
// value is the version (where a segment is an interval of versions), and keeps at most
// maxSegments segments. Merging and dropping dominated segments never changes what is
// covered; only the cap can forget coverage, and only of the oldest regions (see
// Config.MaxSegments).
func (st *EntityState) prune(sortIsVersion bool, maxSegments int) {
	for i := range st.Segments {
		s := &st.Segments[i]
		for id, v := range s.Recent {
			if v <= s.AsOf || v < s.From {
				delete(s.Recent, id)
			}
		}
		if len(s.Recent) == 0 {
			s.Recent = nil
		}
	}
	if sortIsVersion {
		st.mergeVersionIntervals()
	}
	st.dropDominated()
	for maxSegments > 0 && len(st.Segments) > maxSegments {
		drop := -1
		for i, s := range st.Segments {
			if s.Lo == minTime && s.Done {
				continue
			}
			if drop < 0 || s.AsOf < st.Segments[drop].AsOf {
				drop = i
			}
		}
		if drop < 0 {
			drop = 0
		}
		st.Segments = slices.Delete(st.Segments, drop, drop+1)
	}
}

// mergeVersionIntervals merges segments of a sort-is-version entity whose version
// intervals overlap or touch.
func (st *EntityState) mergeVersionIntervals() {
	type iv struct {
		a      int64 // exclusive lower bound (minTime: none)
		ids    []int64
		b      int64 // inclusive upper bound
		recent map[int64]int64
		done   bool
	}
	var ivs []iv
	for _, s := range st.Segments {
		x := iv{b: s.AsOf, recent: s.Recent, done: s.Done}
		switch {
		case s.From == minTime:
			x.a, x.ids = s.Lo, s.LoIDs
		case s.Lo != minTime && s.Lo >= s.From-1:
			x.a, x.ids = s.Lo, s.LoIDs
		default:
			x.a = s.From - 1
		}
		if x.a != minTime && x.a >= x.b && len(x.recent) == 0 {
			continue // covers nothing
		}
		ivs = append(ivs, x)
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].a < ivs[j].a })
	var out []iv
	for _, x := range ivs {
		if n := len(out); n > 0 && x.a <= out[n-1].b {
			last := &out[n-1]
			if x.a == last.a {
				last.ids = unionIDs(last.ids, x.ids)
			}
			if x.b > last.b {
				last.b = x.b
			}
			last.done = last.done && x.done
			if len(x.recent) > 0 {
				if last.recent == nil {
					last.recent = map[int64]int64{}
				}
				for k, v := range x.recent {
					last.recent[k] = v
				}
			}
			for k, v := range last.recent {
				if v <= last.b {
					delete(last.recent, k)
				}
			}
			continue
		}
		out = append(out, x)
	}
	st.Segments = st.Segments[:0]
	for _, x := range out {
		seg := Segment{Lo: x.a, LoIDs: x.ids, From: minTime, AsOf: x.b, Recent: x.recent, Done: x.done}
		if len(seg.Recent) == 0 {
			seg.Recent = nil
		}
		if seg.Lo == minTime {
			seg.LoIDs = nil
		}
		st.Segments = append(st.Segments, seg)
	}
}

func unionIDs(a, b []int64) []int64 {
	out := slices.Clone(a)
	for _, id := range b {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// dominates reports whether y covers everything x covers.
func dominates(y, x *Segment) bool {
	if y.Lo > x.Lo || y.From > x.From || y.AsOf < x.AsOf {
		return false
	}
	if y.Lo == x.Lo && y.Lo != minTime {
		for _, id := range x.LoIDs {
			if !slices.Contains(y.LoIDs, id) {
				return false
			}
		}
	}
	for id, v := range x.Recent {
		if v <= y.AsOf {
			continue
		}
		if yv, ok := y.Recent[id]; !ok || yv != v {
			return false
		}
	}
	return true
}

func (st *EntityState) dropDominated() {
	var keep []Segment
	for i := range st.Segments {
		dominated := false
		for j := range st.Segments {
			if i == j {
				continue
			}
			if dominates(&st.Segments[j], &st.Segments[i]) {
				// of two equal segments keep the later one
				if !dominates(&st.Segments[i], &st.Segments[j]) || j > i {
					dominated = true
					break
				}
			}
		}
		if !dominated {
			keep = append(keep, st.Segments[i])
		}
	}
	st.Segments = keep
}
