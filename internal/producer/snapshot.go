package producer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// A snapshot reads a whole list (every pass of it, or the single object) and
// publishes each object whose content differs from the content last published for its
// id (EntityState.Seen). Each page commits its records with Seen and Round advanced
// over it, in one transaction, so a crash leaves a state that says exactly what was
// published; the next snapshot starts over from the first page and publishes only what
// is still different. When a snapshot reaches the end of its last pass, the ids of Seen
// that it did not see have disappeared from Gorgias.

// snapshotRun is one snapshot of one entity.
type snapshotRun struct {
	topic string
	// asOf is the extraction time of the first page: every object that existed then
	// unchanged until it was read is published as it was at asOf or later.
	asOf int64
	tally
}

// snapshot reads every pass of e's list, page by page, and commits each page.
func (p *Producer) snapshot(ctx context.Context, e catalog.Entity) error {
	s := &snapshotRun{topic: e.Topic(p.cfg.TopicPrefix), tally: p.newTally(e)}
	passes := e.Passes()
	for i, pass := range passes {
		if err := s.walk(ctx, pass, i == len(passes)-1); err != nil {
			return err
		}
	}
	return nil
}

// walk reads one pass from its first page to its last; last says the pass ends the
// snapshot.
func (s *snapshotRun) walk(ctx context.Context, pass catalog.Pass, last bool) error {
	params := gorgias.ListParams{OrderBy: s.e.OrderBy(), Limit: s.p.cfg.PageSize}
	if pass.Param != "" {
		params.Query = map[string][]string{pass.Param: {pass.Value}}
	}
	var guard gorgias.CursorGuard
	for {
		pg, err := s.p.fetchPage(ctx, s.e, params, s.pages+1)
		if err != nil {
			return err
		}
		s.pages++
		if err := s.publish(ctx, pg, last && pg.next == ""); err != nil || pg.next == "" {
			return err
		}
		if err := guard.Check(pg.next); err != nil {
			return &EntityError{Entity: s.e, Err: fmt.Errorf("%s page %d: %w", s.e.Name, s.pages, err)}
		}
		params.Cursor = pg.next
	}
}

// publish commits one page: the objects whose content changed, with the state advanced
// over the page; end says the page ends the snapshot.
func (s *snapshotRun) publish(ctx context.Context, pg *fetchedPage, end bool) error {
	next := s.p.state(s.e.Name).clone()
	if s.pages == 1 {
		next.Round = contentSet{} // a new snapshot
		s.asOf = time.Now().UnixMicro()
		if len(pg.recs) > 0 {
			s.asOf = pg.recs[0].Version.UnixMicro()
		}
	}
	if next.Seen == nil {
		next.Seen = contentSet{}
	}
	out := make([]*kgo.Record, 0, len(pg.recs)+1) // +1: commit adds the state record
	for _, r := range pg.recs {
		next.Round[r.ID] = r.Content
		if old, ok := next.Seen[r.ID]; ok && old == r.Content {
			continue
		}
		next.Seen[r.ID] = r.Content
		out = append(out, &kgo.Record{Topic: s.topic, Key: []byte(strconv.FormatInt(r.ID, 10)), Value: r.Value})
	}
	next.Published += int64(len(out))
	if end {
		out = append(out, s.finish(next, pg.received)...)
	}
	if err := s.p.commit(ctx, s.e, out, next, pg.received); err != nil {
		return err
	}
	s.page(len(out), "page "+strconv.Itoa(s.pages))
	if end {
		s.done(next, fmtMicros(s.asOf))
	}
	return nil
}

// finish closes the snapshot in next and returns the tombstones of the ids it did not
// see: they disappeared from Gorgias, seen gone at now (the last page's arrival), and
// are forgotten. The snapshot's start becomes the watermark.
func (s *snapshotRun) finish(next *EntityState, now time.Time) []*kgo.Record {
	var out []*kgo.Record
	for _, id := range slices.Sorted(maps.Keys(next.Seen)) {
		if _, ok := next.Round[id]; !ok {
			delete(next.Seen, id)
			d := tombstone.Deletion{ID: id, At: now.UTC().Truncate(time.Microsecond), Reason: tombstone.Disappeared}
			out = append(out, d.Record(s.topic))
		}
	}
	next.Round = nil
	next.Backfilled = true
	next.Watermark = s.asOf
	next.LastSweepEnd = time.Now().UnixMicro()
	return out
}
