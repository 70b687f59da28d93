package producer

import (
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// What one page of a sweep publishes and covers, and when the sweep stops. Segment
// describes the coverage these steps maintain.

// inScope reports whether the sweep examines r: r is inside the lookback window (sort
// value at or above the floor) and inside the interval (version in [start, end]).
func (s *sweepRun) inScope(r avrocodec.Record) bool {
	sv, v := micros(r.Sort), micros(r.Version)
	return sv >= s.floor && v >= s.start && v <= s.end
}

// selectNew returns the Kafka records of the page's object versions that the sweep
// examines and the committed state cur does not cover yet.
func (s *sweepRun) selectNew(cur *EntityState, recs []avrocodec.Record) []*kgo.Record {
	out := make([]*kgo.Record, 0, len(recs)+1) // +1: commit adds the state record
	for _, r := range recs {
		if s.inScope(r) && !cur.Covered(micros(r.Sort), micros(r.Version), r.ID) {
			out = append(out, &kgo.Record{Topic: s.topic, Key: []byte(strconv.FormatInt(r.ID, 10)), Value: r.Value})
		}
	}
	return out
}

// lowestSort is the oldest sort value on a page (maxTime for an empty page).
func lowestSort(recs []avrocodec.Record) int64 {
	low := int64(maxTime)
	for _, r := range recs {
		low = min(low, micros(r.Sort))
	}
	return low
}

// cover advances the sweep's segment in next over the page: it remembers the examined
// objects whose version is above the sweep's AsOf (Recent), lowers the segment to the
// page's oldest sort value, and, when the list ended with no window floor, extends it to
// the bottom of the list.
func (s *sweepRun) cover(next *EntityState, pg *fetchedPage, pageMin int64) {
	seg := &next.Segments[s.segIdx]
	for _, r := range pg.recs {
		if v := micros(r.Version); v > s.asOf && s.inScope(r) {
			if seg.Recent == nil {
				seg.Recent = map[int64]int64{}
			}
			seg.Recent[r.ID] = v
		}
	}
	s.lower(seg, pg.recs, pageMin)
	if pg.next == "" && s.floor == minTime {
		seg.Lo, seg.LoIDs = minTime, nil
		if s.start == minTime {
			next.Backfilled = true
		}
	}
}

// lower moves the segment's lower bound down to this page's oldest sort value, but never
// below the window floor: objects under it were not examined. Ids at the bound are kept
// (ties across pages).
func (s *sweepRun) lower(seg *Segment, recs []avrocodec.Record, pageMin int64) {
	low := max(pageMin, s.floor)
	if len(recs) == 0 || low > seg.Lo {
		return
	}
	var ids []int64
	for _, r := range recs {
		if micros(r.Sort) == low {
			ids = append(ids, r.ID)
		}
	}
	slices.Sort(ids)
	if low == seg.Lo {
		seg.LoIDs = unionIDs(seg.LoIDs, ids)
	} else {
		seg.Lo, seg.LoIDs = low, ids
	}
}

// stopAfter reports whether the sweep ends with this page: at the end of the list, below
// the window floor, or, for entities sorted on their version, where earlier sweeps'
// coverage takes over. next is the state advanced over the page.
func (s *sweepRun) stopAfter(next *EntityState, pg *fetchedPage, pageMin int64) bool {
	switch {
	case pg.next == "":
		return true
	case len(pg.recs) == 0:
		return false // an empty page with a next cursor: keep walking
	case pageMin < s.floor:
		return true
	case s.e.SortIsVersion() && next.coveredBelow(s.start, pageMin+1, s.segIdx):
		// Unvisited objects below have versions <= pageMin; earlier sweeps published
		// them all (or they are older than interval_start).
		return true
	}
	return false
}

// sweepAsOf is the version up to which a sweep starting with the first page recs
// guarantees publication. For entities sorted on their version it is the newest version
// on the first page; for derived versions it is the server time minus the clock-skew
// allowance (every change after it is stamped later).
func (p *Producer) sweepAsOf(e catalog.Entity, recs []avrocodec.Record, serverNow time.Time) int64 {
	if e.SortIsVersion() {
		top := int64(minTime)
		for _, r := range recs {
			top = max(top, micros(r.Version))
		}
		return top
	}
	return micros(serverNow.Add(-p.cfg.ClockSkew))
}

// windowFloor is the lowest sort value a sweep examines. Entities sorted on their version
// have none: the sweep stops where earlier sweeps' coverage begins. Messages and surveys
// re-read a lookback window below the sweep's AsOf, but never start above the last
// finished sweep's watermark, so objects created while the producer was down are read
// however long it was down. Until the history was read to the end once there is no
// floor.
func (p *Producer) windowFloor(st *EntityState, e catalog.Entity, start, asOf int64) int64 {
	if e.SortIsVersion() {
		return minTime
	}
	lookback := p.cfg.Lookback.Microseconds()
	switch {
	case start != minTime:
		return start - lookback
	case st.Backfilled && st.Watermark != 0:
		return min(asOf-lookback, st.Watermark)
	default:
		return minTime
	}
}
