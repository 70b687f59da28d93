package producer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
)

// Steps at which tests may simulate a crash through Producer.hook.
const (
	stepTopics        = "topics"         // before missing topics are created (entity "")
	stepInit          = "init"           // before the transactional producer id is initialised (entity "")
	stepReadState     = "read-state"     // before the state topic is read (entity "")
	stepFetch         = "fetch"          // before a page is requested
	stepBeforeProduce = "before-produce" // page fetched and encoded, transaction not begun
	stepAfterProduce  = "after-produce"  // records and state produced, transaction open
	stepAfterCommit   = "after-commit"   // transaction committed
)

func (p *Producer) step(name, entity string) error {
	if p.hook == nil {
		return nil
	}
	return p.hook(name, entity)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

// sweep walks one entity's list newest first and publishes every wanted object version
// that the state does not cover, one Kafka transaction per page.
func (p *Producer) sweep(ctx context.Context, e catalog.Entity) error {
	log := p.cfg.Logger.With("entity", e.Name)
	enc := p.encoders[e.Name]
	topic := e.Topic(p.cfg.TopicPrefix)
	start, end := int64(minTime), int64(maxTime)
	if !p.cfg.IntervalStart.IsZero() {
		start = micros(p.cfg.IntervalStart)
	}
	if !p.cfg.IntervalEnd.IsZero() {
		end = micros(p.cfg.IntervalEnd)
	}
	var (
		guard     gorgias.CursorGuard
		cursor    string
		segIdx    = -1
		asOf      int64
		floor     = int64(minTime)
		pages     int
		published int
		began     = time.Now()
		lastLog   = began
	)
	for {
		if err := p.step(stepFetch, e.Name); err != nil {
			return err
		}
		pg, err := p.api.List(ctx, e.Resource, gorgias.ListParams{OrderBy: e.OrderBy(), Limit: p.cfg.PageSize, Cursor: cursor})
		if err != nil {
			return fmt.Errorf("fetch %s page %d: %w", e.Name, pages+1, err)
		}
		pages++
		serverNow := pg.ServerTime
		if serverNow.IsZero() {
			serverNow = pg.Received
		}
		// The Date header has whole seconds: the server's clock read anywhere in
		// [Date, Date+1s) when it answered, so nothing up to Date+1s is in the future.
		meta := avrocodec.Meta{Domain: p.cfg.Domain, ExtractedAt: pg.Received, AsOf: serverNow.Add(time.Second - time.Microsecond)}
		recs := make([]avrocodec.Record, 0, len(pg.Data))
		for i, raw := range pg.Data {
			r, err := enc.Encode(raw, meta, nil)
			if err != nil {
				return fmt.Errorf("%s page %d object %d: %w", e.Name, pages, i+1, err)
			}
			recs = append(recs, r)
		}
		if segIdx < 0 {
			asOf = p.sweepAsOf(e, recs, serverNow)
			if end < asOf {
				asOf = end
			}
			floor = p.windowFloor(p.states[e.Name], e, start, asOf)
		}

		cur := p.states[e.Name]
		next := cur.clone()
		if segIdx < 0 {
			next.Segments = append(next.Segments, Segment{Lo: maxTime, From: start, AsOf: asOf})
			segIdx = len(next.Segments) - 1
		}
		seg := &next.Segments[segIdx]
		out := make([]*kgo.Record, 0, len(recs)+1)
		pageMin := int64(maxTime)
		for _, r := range recs {
			s, v := micros(r.Sort), micros(r.Version)
			pageMin = min(pageMin, s)
			if s < floor || v < start || v > end {
				continue // outside the lookback window or the interval
			}
			if !cur.Covered(s, v, r.ID) {
				out = append(out, &kgo.Record{Topic: topic, Key: []byte(strconv.FormatInt(r.ID, 10)), Value: r.Value})
			}
			if v > asOf {
				if seg.Recent == nil {
					seg.Recent = map[int64]int64{}
				}
				seg.Recent[r.ID] = v
			}
		}
		// The segment reaches down to this page's oldest sort value, but never below the
		// window floor: objects under it were not examined.
		if low := max(pageMin, floor); len(recs) > 0 && low <= seg.Lo {
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

		done := false
		switch {
		case pg.NextCursor == "" && floor == minTime:
			seg.Lo, seg.LoIDs = minTime, nil
			done = true
			if start == minTime {
				next.Backfilled = true
			}
		case pg.NextCursor == "":
			done = true
		case len(recs) == 0:
			// An empty page with a next cursor: keep walking.
		case pageMin < floor:
			done = true
		case e.SortIsVersion() && next.coveredBelow(start, pageMin+1, segIdx):
			// Unvisited objects below have versions <= pageMin; earlier sweeps
			// published them all (or they are older than interval_start).
			done = true
		}
		next.Published += int64(len(out))
		if done {
			seg.Done = true
			if start == minTime && end == maxTime {
				next.Watermark = asOf
			}
			next.LastSweepEnd = time.Now().UnixMicro()
			next.prune(e.SortIsVersion(), p.cfg.MaxSegments)
		}
		if err := p.commit(ctx, e, out, next); err != nil {
			return err
		}
		p.states[e.Name] = next
		published += len(out)
		log.Debug("page committed", "page", pages, "records", len(out), "done", done)
		if p.cfg.Metrics != nil {
			p.cfg.Metrics.PageCommitted(e.Name, len(out))
		}
		if now := time.Now(); now.Sub(lastLog) >= p.cfg.ProgressEvery {
			lastLog = now
			log.Info("sweep progress", "pages", pages, "records", published,
				"rate_per_s", fmt.Sprintf("%.1f", float64(published)/now.Sub(began).Seconds()),
				"position", fmtMicros(pageMin))
		}
		if done {
			log.Info("sweep done", "pages", pages, "records", published,
				"duration", time.Since(began).Round(time.Millisecond), "watermark", fmtMicros(asOf))
			if p.cfg.Metrics != nil {
				p.cfg.Metrics.SweepDone(e.Name, watermarkTime(next.Watermark))
			}
			return nil
		}
		if err := guard.Check(pg.NextCursor); err != nil {
			return fmt.Errorf("%s page %d: %w", e.Name, pages, err)
		}
		cursor = pg.NextCursor
	}
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

// commit publishes one page's records and the entity's new state in one transaction.
// Kafka work runs under a context that ignores cancellation (bounded by a timeout), so a
// stop request never leaves a page half-committed.
func (p *Producer) commit(ctx context.Context, e catalog.Entity, recs []*kgo.Record, st *EntityState) error {
	if err := p.step(stepBeforeProduce, e.Name); err != nil {
		return err
	}
	val, err := st.marshal()
	if err != nil {
		return fmt.Errorf("encode %s state: %w", e.Name, err)
	}
	recs = append(recs, &kgo.Record{Topic: StateTopic(p.cfg.TopicPrefix), Key: []byte(e.Name), Value: val})
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if err := p.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction for %s: %w", e.Name, err)
	}
	if err := p.cl.ProduceSync(kctx, recs...).FirstErr(); err != nil {
		if aerr := p.cl.EndTransaction(kctx, kgo.TryAbort); aerr != nil {
			return fmt.Errorf("produce %s page: %w (abort also failed: %v)", e.Name, err, aerr)
		}
		return fmt.Errorf("produce %s page: %w", e.Name, err)
	}
	if err := p.step(stepAfterProduce, e.Name); err != nil {
		return err
	}
	if err := p.cl.EndTransaction(kctx, kgo.TryCommit); err != nil {
		if errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
			errors.Is(err, kerr.OperationNotAttempted) || errors.Is(err, kerr.TransactionalIDAuthorizationFailed) {
			return fmt.Errorf("commit %s page: %w: %v", e.Name, ErrFenced, err)
		}
		return fmt.Errorf("commit %s page: %w", e.Name, err)
	}
	return p.step(stepAfterCommit, e.Name)
}
