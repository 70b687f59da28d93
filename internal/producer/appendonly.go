package producer

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
)

// An append-only sweep walks a list of objects that never change, oldest first, and
// publishes each object once. The state is the newest creation time published
// (EntityState.Mark) and the ids published in the lookback window below it
// (EntityState.Tail): an object counts as published when it is in Tail or was created
// before the window. Each page commits its records with Mark and Tail advanced over it,
// in one transaction. Where the endpoint filters on the creation time (SinceParam) the
// walk starts at the window; otherwise it reads the whole list.

// appendRun is one sweep of an append-only entity.
type appendRun struct {
	topic string
	// lookback is the window below Mark in µs (Config.AppendLookback).
	lookback int64
	tally
}

// appendOnly walks e's list from the window below its Mark to the end.
func (p *Producer) appendOnly(ctx context.Context, e catalog.Entity) error {
	s := &appendRun{topic: e.Topic(p.cfg.TopicPrefix),
		lookback: p.cfg.AppendLookback.Microseconds(), tally: p.newTally(e)}
	params := gorgias.ListParams{OrderBy: e.OrderBy(), Limit: p.cfg.PageSize}
	if mark := p.state(e.Name).Mark; e.SinceParam != "" && mark != 0 {
		since := time.UnixMicro(mark - s.lookback).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		params.Query = map[string][]string{e.SinceParam: {since}}
	}
	var guard gorgias.CursorGuard
	for {
		pg, err := p.fetchPage(ctx, e, params, s.pages+1)
		if err != nil {
			return err
		}
		s.pages++
		if err := s.publish(ctx, pg); err != nil || pg.next == "" {
			return err
		}
		if err := guard.Check(pg.next); err != nil {
			return &EntityError{Entity: e, Err: fmt.Errorf("%s page %d: %w", e.Name, s.pages, err)}
		}
		params.Cursor = pg.next
	}
}

// published reports whether the object created at v (µs) with id counts as published
// in st.
func (s *appendRun) published(st *EntityState, v, id int64) bool {
	if _, ok := st.Tail[id]; ok {
		return true
	}
	return st.Mark != 0 && v < st.Mark-s.lookback
}

// publish commits one page: its objects not published yet, with Mark and Tail
// advanced over it.
func (s *appendRun) publish(ctx context.Context, pg *fetchedPage) error {
	next := s.p.state(s.e.Name).clone()
	out := make([]*kgo.Record, 0, len(pg.recs)+1) // +1: commit adds the state record
	var fresh []json.RawMessage
	for i, r := range pg.recs {
		v := micros(r.Version)
		if s.published(next, v, r.ID) {
			continue
		}
		out = append(out, &kgo.Record{Topic: s.topic, Key: []byte(strconv.FormatInt(r.ID, 10)), Value: r.Value})
		fresh = append(fresh, pg.raws[i])
		s.remember(next, r)
	}
	s.trim(next)
	next.Published += int64(len(out))
	if s.e.Feed {
		// The lookups of merges wait for the budget as the page's next request would.
		tombs, err := s.p.feedTombstones(gorgias.WithPriority(ctx, s.pages+1), s.e, fresh, next)
		if err != nil {
			return err
		}
		out = append(out, tombs...)
		next.forgetGone()
	}
	end := pg.next == ""
	if end {
		next.Backfilled = true
		next.Watermark = next.Mark
		next.LastSweepEnd = time.Now().UnixMicro()
	}
	if err := s.p.commit(ctx, s.e, out, next, pg.received); err != nil {
		return err
	}
	s.page(len(out), fmtMicros(next.Mark))
	if end {
		s.done(next, fmtMicros(next.Mark))
	}
	return nil
}

// remember adds a published object to st: Mark moves up to its creation time, and Tail
// holds its id (until trim).
func (s *appendRun) remember(st *EntityState, r avrocodec.Record) {
	if st.Tail == nil {
		st.Tail = map[int64]int64{}
	}
	v := micros(r.Version)
	st.Tail[r.ID] = v
	st.Mark = max(st.Mark, v)
}

// trim drops from Tail the ids created before the window below Mark: they count as
// published by their creation time alone.
func (s *appendRun) trim(st *EntityState) {
	for id, v := range st.Tail {
		if v < st.Mark-s.lookback {
			delete(st.Tail, id)
		}
	}
}
