package producer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
)

// Steps at which tests may simulate a crash through Producer.hook.
const (
	stepRegister      = "register"       // before an entity's schema is registered (with a registry)
	stepTopics        = "topics"         // before missing topics are created (entity "")
	stepInit          = "init"           // before the transactional producer id is initialised (entity "")
	stepReadState     = "read-state"     // before the state topic is read (entity "")
	stepFetch         = "fetch"          // before a page is requested
	stepBeforeProduce = "before-produce" // page fetched and encoded, transaction not begun
	stepAfterProduce  = "after-produce"  // records and state produced, transaction open
	stepAfterCommit   = "after-commit"   // transaction committed
)

// withTombstones is added to the entity a hook is called with at the commit steps of a
// transaction that carries tombstones ("events" + withTombstones), so that tests can
// crash around a deletion.
const withTombstones = "+tombstones"

func (p *Producer) step(name, entity string) error {
	if p.hook == nil {
		return nil
	}
	return p.hook(name, entity)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

// incremental walks one entity's list newest first and publishes every wanted object version
// that the state does not cover, one Kafka transaction per page. Each page goes through
// the same steps: fetch and encode it (fetch), select the records to publish
// (selectNew), advance this sweep's segment over it (cover), decide whether the sweep
// stops after it (stopAfter), then commit records and state together (commit) and log.
func (p *Producer) incremental(ctx context.Context, e catalog.Entity) error {
	s := p.newSweepRun(e)
	for {
		pg, err := s.fetch(ctx)
		if err != nil {
			return err
		}
		done, err := s.publish(ctx, pg)
		if err != nil || done {
			return err
		}
		if err := s.guard.Check(pg.next); err != nil {
			return &EntityError{Entity: e, Err: fmt.Errorf("%s page %d: %w", e.Name, s.pages, err)}
		}
		s.cursor = pg.next
	}
}

// sweepRun is the state of one sweep of one entity, from its first page to its last.
type sweepRun struct {
	topic string
	// start and end bound the versions the sweep publishes (interval_start/_end),
	// minTime and maxTime when unbounded.
	start, end int64
	// segIdx is this sweep's segment in the entity state, -1 before the first page.
	segIdx int
	// asOf and floor are fixed by the first page: the version up to which the sweep
	// guarantees publication (see sweepAsOf) and the lowest sort value it examines
	// (see windowFloor).
	asOf, floor int64

	cursor string
	guard  gorgias.CursorGuard
	tally
}

func (p *Producer) newSweepRun(e catalog.Entity) *sweepRun {
	s := &sweepRun{
		topic:  e.Topic(p.cfg.TopicPrefix),
		start:  minTime,
		end:    maxTime,
		segIdx: -1,
		floor:  minTime,
		tally:  p.newTally(e),
	}
	if !p.cfg.IntervalStart.IsZero() {
		s.start = micros(p.cfg.IntervalStart)
	}
	if !p.cfg.IntervalEnd.IsZero() {
		s.end = micros(p.cfg.IntervalEnd)
	}
	return s
}

// fetchedPage is one page of the list, encoded.
type fetchedPage struct {
	recs []avrocodec.Record
	// raws are the objects as the API sent them, aligned with recs.
	raws []json.RawMessage
	// received is the local time the answer arrived.
	received time.Time
	// serverNow is the Gorgias server's time of the answer (the local time of receipt
	// when the server sent none).
	serverNow time.Time
	// next is the cursor of the next page, "" after the last one.
	next string
}

// fetch requests the page at the sweep's cursor and encodes its objects.
func (s *sweepRun) fetch(ctx context.Context) (*fetchedPage, error) {
	params := gorgias.ListParams{OrderBy: s.e.OrderBy(), Limit: s.p.cfg.PageSize, Cursor: s.cursor}
	pg, err := s.p.fetchPage(ctx, s.e, params, s.pages+1)
	if err == nil {
		s.pages++
	}
	return pg, err
}

// fetchPage requests page number n of e's list with params (or, for a Single entity,
// the object, as a page of one) and encodes its objects. Failures of the API or of an
// object are the entity's own: they are returned as *EntityError.
func (p *Producer) fetchPage(ctx context.Context, e catalog.Entity, params gorgias.ListParams, n int) (*fetchedPage, error) {
	if err := p.step(stepFetch, e.Name); err != nil {
		return nil, err
	}
	// The longest walks so far go first when sweeps wait for the account's budget:
	// one cursor walk cannot go faster than a request at a time, so it must not be
	// the one left waiting at the end.
	pg, err := p.get(gorgias.WithPriority(ctx, n), e, params)
	if err != nil {
		if cancelled(ctx, err) || errors.Is(err, gorgias.ErrUnauthorized) {
			return nil, err // not the entity's own: rejected credentials stop every sweep
		}
		return nil, &EntityError{Entity: e, Err: fmt.Errorf("fetch %s page %d: %w", e.Name, n, err)}
	}
	out := &fetchedPage{serverNow: pg.ServerTime, next: pg.NextCursor, recs: make([]avrocodec.Record, 0, len(pg.Data)),
		raws: pg.Data, received: pg.Received}
	if out.received.IsZero() {
		out.received = time.Now()
	}
	if out.serverNow.IsZero() {
		out.serverNow = pg.Received
	}
	// The Date header has whole seconds: the server's clock read anywhere in
	// [Date, Date+1s) when it answered, so nothing up to Date+1s is in the future.
	meta := avrocodec.Meta{Domain: p.cfg.Domain, ExtractedAt: pg.Received, AsOf: out.serverNow.Add(time.Second - time.Microsecond)}
	enc := p.encoders[e.Name]
	id, confluent := p.schemaIDs[e.Name]
	for i, raw := range pg.Data {
		r, err := enc.Encode(raw, meta, nil)
		if err == nil && confluent {
			// In place: the Confluent header overwrites the tail of the single-object one.
			r.Value, err = avrocodec.ReframeConfluent(r.Value, id)
		}
		if err != nil {
			return nil, &EntityError{Entity: e, Err: fmt.Errorf("%s page %d object %d: %w", e.Name, n, i+1, err)}
		}
		out.recs = append(out.recs, r)
	}
	return out, nil
}

// get requests one list page, or a Single entity's object as a page of one.
func (p *Producer) get(ctx context.Context, e catalog.Entity, params gorgias.ListParams) (*gorgias.Page, error) {
	if !e.Single {
		return p.api.List(ctx, e.Resource, params)
	}
	obj, err := p.api.Get(ctx, e.Resource, nil)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &gorgias.Page{Data: []json.RawMessage{obj}, Received: now}, nil
}

// publish commits one page: the records the state does not cover yet, and the state
// advanced over the page, in one transaction. It reports whether the sweep is done.
func (s *sweepRun) publish(ctx context.Context, pg *fetchedPage) (done bool, err error) {
	cur := s.p.state(s.e.Name)
	next := cur.clone()
	if s.segIdx < 0 {
		s.asOf = min(s.p.sweepAsOf(s.e, pg.recs, pg.serverNow), s.end)
		s.floor = s.p.windowFloor(cur, s.e, s.start, s.asOf)
		next.Segments = append(next.Segments, Segment{Lo: maxTime, From: s.start, AsOf: s.asOf})
		s.segIdx = len(next.Segments) - 1
	}
	pageMin := lowestSort(pg.recs)
	out := s.selectNew(cur, pg.recs)
	s.cover(next, pg, pageMin)
	done = s.stopAfter(next, pg, pageMin)
	next.Published += int64(len(out))
	if done {
		s.finish(next)
	}
	if err := s.p.commit(ctx, s.e, out, next, pg.received); err != nil {
		return false, err
	}
	s.committed(len(out), pageMin, done, next)
	return done, nil
}

// finish marks the sweep's segment done in next, the state committed with its last page.
func (s *sweepRun) finish(next *EntityState) {
	next.Segments[s.segIdx].Done = true
	if s.start == minTime && s.end == maxTime {
		next.Watermark = s.asOf
	}
	next.LastSweepEnd = time.Now().UnixMicro()
	next.prune(s.e.SortIsVersion(), s.p.cfg.MaxSegments)
}

// committed logs and counts a committed page of n records; next is the state committed
// with it.
func (s *sweepRun) committed(n int, pageMin int64, done bool, next *EntityState) {
	s.page(n, fmtMicros(pageMin))
	if done {
		s.done(next, fmtMicros(s.asOf))
	}
}
