package producer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// Deletions reach the entity topics as tombstones (package tombstone) in two ways.
//
// The events feed (catalog Entity.Feed) reports hard deletes and merges of tickets and
// customers (Entity.DeleteEvent, MergeEvent). Each page of the feed publishes, with its
// new events and in the same transaction, the tombstones they report: a delete event's
// object at the event's time; for a merge, the ids the event names (its object and the
// ids in its data) are looked up on their detail endpoint, and the ones that answer 404
// are deleted with reason merged, into the one that still answers. The feed's state
// remembers the deletions of the last goneWindow (EntityState.Gone), so that a second
// event reporting the same deletion publishes nothing.
//
// A snapshot that reaches its end publishes a tombstone, reason disappeared, for every
// id the previous snapshots saw and this one did not (see snapshotRun.finish).
//
// Order per key: a tombstone is committed after every version the sweeps committed
// before it. A page of versions read before a tombstone of one of its objects was
// committed, but committed after it, drops that object's record (Producer.dropDeleted):
// the version it holds is older than the deletion.

// goneWindow is how long the feed's state remembers a deletion it published.
const goneWindow = 24 * time.Hour

// feedEvent is what the deletion logic reads of one event of the feed.
type feedEvent struct {
	ID         int64           `json:"id"`
	Type       string          `json:"type"`
	ObjectType string          `json:"object_type"`
	ObjectID   int64           `json:"object_id"`
	Data       json.RawMessage `json:"data"`
	Created    string          `json:"created_datetime"`
}

// deletionKind is what an event type does to an entity's objects.
type deletionKind int

const (
	notDeletion deletionKind = iota
	deletes
	merges
)

// kindOf returns the selected entity whose objects events of type typ remove, and how.
func (p *Producer) kindOf(typ string) (catalog.Entity, deletionKind) {
	for _, e := range p.cfg.Entities {
		switch {
		case e.DeleteEvent != "" && e.DeleteEvent == typ:
			return e, deletes
		case e.MergeEvent != "" && e.MergeEvent == typ:
			return e, merges
		}
	}
	return catalog.Entity{}, notDeletion
}

// feedTombstones returns the tombstones reported by the events raws (the feed's new
// events of one page), and records them in st.Gone. Errors of the lookups are the
// feed's own (*EntityError): the page is not committed and is read again.
func (p *Producer) feedTombstones(ctx context.Context, feed catalog.Entity, raws []json.RawMessage, st *EntityState) ([]*kgo.Record, error) {
	var out []*kgo.Record
	for _, raw := range raws {
		ev, e, kind, err := p.parseFeedEvent(feed, raw)
		if err != nil {
			return nil, err
		}
		if kind == notDeletion {
			continue
		}
		dels, err := p.resolve(ctx, feed, e, kind, ev)
		if err != nil {
			return nil, err
		}
		for _, d := range dels {
			if st.gone(e.Name, d.ID) {
				continue // another event reported it already
			}
			st.remember(e.Name, d.ID, micros(d.At))
			out = append(out, d.Record(e.Topic(p.cfg.TopicPrefix)))
		}
	}
	return out, nil
}

// parseFeedEvent decodes the fields of an event the deletions need, and says which
// entity and kind of removal it reports (notDeletion for most events).
func (p *Producer) parseFeedEvent(feed catalog.Entity, raw json.RawMessage) (feedEvent, catalog.Entity, deletionKind, error) {
	var ev feedEvent
	if !bytes.Contains(raw, []byte("-deleted")) && !bytes.Contains(raw, []byte("-merged")) {
		return ev, catalog.Entity{}, notDeletion, nil // the common case, without decoding
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ev, catalog.Entity{}, notDeletion, &EntityError{Entity: feed, Err: fmt.Errorf("decode %s event: %w", feed.Name, err)}
	}
	e, kind := p.kindOf(ev.Type)
	return ev, e, kind, nil
}

// resolve turns one delete or merge event of entity e into deletions.
func (p *Producer) resolve(ctx context.Context, feed, e catalog.Entity, kind deletionKind, ev feedEvent) ([]tombstone.Deletion, error) {
	at, err := gorgias.ParseTime(ev.Created)
	if err != nil {
		return nil, &EntityError{Entity: feed, Err: fmt.Errorf("%s event %d: created_datetime: %w", feed.Name, ev.ID, err)}
	}
	at = at.UTC().Truncate(time.Microsecond)
	if kind == deletes {
		return []tombstone.Deletion{{ID: ev.ObjectID, At: at, Reason: tombstone.Deleted, EventID: ev.ID}}, nil
	}
	gone, alive, err := p.lookUp(ctx, feed, e, mergeCandidates(ev))
	if err != nil {
		return nil, err
	}
	var out []tombstone.Deletion
	for _, id := range gone {
		d := tombstone.Deletion{ID: id, At: at, Reason: tombstone.Deleted, EventID: ev.ID}
		if len(alive) == 1 {
			d.Reason, d.MergedInto = tombstone.Merged, alive[0]
		}
		out = append(out, d)
	}
	if len(gone) == 0 {
		p.cfg.Logger.Debug("merge event removed nothing that is gone now", "event", ev.ID, "entity", e.Name)
	}
	return out, nil
}

// mergeCandidates are the ids a merge event names: its object, and the integers of its
// data whose key ends in "id" (at the top level or in a nested object's "id").
func mergeCandidates(ev feedEvent) []int64 {
	ids := []int64{ev.ObjectID}
	var data map[string]json.RawMessage
	if json.Unmarshal(ev.Data, &data) != nil {
		return ids
	}
	add := func(raw json.RawMessage) {
		if id, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64); err == nil && id > 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for k, v := range data {
		var nested map[string]json.RawMessage
		switch {
		case strings.HasSuffix(k, "id"):
			add(v)
		case json.Unmarshal(v, &nested) == nil:
			add(nested["id"])
		}
	}
	return ids
}

// lookUp asks the detail endpoint of each id of e: gone are those that answer 404,
// alive those that answer.
func (p *Producer) lookUp(ctx context.Context, feed, e catalog.Entity, ids []int64) (gone, alive []int64, err error) {
	for _, id := range ids {
		_, err := p.api.Get(ctx, e.Resource+"/"+strconv.FormatInt(id, 10), nil)
		switch {
		case err == nil:
			alive = append(alive, id)
		case gorgias.IsNotFound(err):
			gone = append(gone, id)
		case cancelled(ctx, err):
			return nil, nil, err
		default:
			return nil, nil, &EntityError{Entity: feed, Err: fmt.Errorf("look up merged %s %d: %w", e.Name, id, err)}
		}
	}
	return gone, alive, nil
}

// gone reports whether the deletion of entity's id was published within goneWindow.
func (st *EntityState) gone(entity string, id int64) bool {
	_, ok := st.Gone[entity][id]
	return ok
}

// remember records the published deletion of entity's id at (µs).
func (st *EntityState) remember(entity string, id, at int64) {
	if st.Gone == nil {
		st.Gone = map[string]map[int64]int64{}
	}
	if st.Gone[entity] == nil {
		st.Gone[entity] = map[int64]int64{}
	}
	st.Gone[entity][id] = at
}

// forgetGone drops the deletions older than goneWindow below the feed's Mark.
func (st *EntityState) forgetGone() {
	for entity, ids := range st.Gone {
		for id, at := range ids {
			if at < st.Mark-goneWindow.Microseconds() {
				delete(ids, id)
			}
		}
		if len(ids) == 0 {
			delete(st.Gone, entity)
		}
	}
}

// deletedAt is the in-memory record of the tombstones this run committed: topic → key
// → when its transaction committed.
type deletedAt map[string]map[string]time.Time

// note records the tombstones among recs, committed now, and forgets those committed
// more than an hour ago (no page is held that long between its fetch and its commit).
func (g deletedAt) note(recs []*kgo.Record, now time.Time) {
	for _, r := range recs {
		if !tombstone.Is(r) {
			continue
		}
		if g[r.Topic] == nil {
			g[r.Topic] = map[string]time.Time{}
		}
		g[r.Topic][string(r.Key)] = now
	}
	for topic, keys := range g {
		for k, at := range keys {
			if now.Sub(at) > time.Hour {
				delete(keys, k)
			}
		}
		if len(keys) == 0 {
			delete(g, topic)
		}
	}
}

// dropDeleted removes from recs the versions of objects whose tombstone was committed
// after the page holding them was fetched: such a version is older than the deletion,
// and publishing it after the tombstone would bring the object back.
func (g deletedAt) dropDeleted(recs []*kgo.Record, fetched time.Time) []*kgo.Record {
	if len(g) == 0 {
		return recs
	}
	out := recs[:0]
	for _, r := range recs {
		if at, ok := g[r.Topic][string(r.Key)]; ok && !tombstone.Is(r) && fetched.Before(at) {
			continue
		}
		out = append(out, r)
	}
	return out
}
