package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrIncomplete means a run that must finish (Config.Once, Replay) stopped while some
// partitions were still behind the end offsets seen at its start: it was interrupted,
// or no partition advanced for Config.OnceStallTimeout. Everything it wrote is stored
// with its offsets, so the next run continues from there. The error's text names the
// partitions behind.
var ErrIncomplete = errors.New("stopped before every partition reached its end offset")

// goal is what a run that must finish has to reach: the end offset (last stable offset,
// as read_committed consumers see it) of every partition of every subscribed topic, as
// listed at the start of the run.
type goal map[TopicPartition]PartitionStatus

// loadGoal lists, for every partition of the subscribed topics, the offset stored in the
// destination and the partition's start and end offsets. Partitions that are not in
// Kafka (stored offsets of deleted topics) are left out.
func (r *Runner) loadGoal(ctx context.Context) (goal, error) {
	st, err := Status(ctx, r.sink, r.kopts, r.cfg.TopicPrefix, r.cfg.Entities)
	if err != nil {
		return nil, err
	}
	g := goal{}
	for _, p := range st {
		if p.End >= 0 {
			g[p.TopicPartition] = p
		}
	}
	return g, nil
}

// reached reports whether a partition whose next offset to store is pos (NoOffset: none
// stored) has reached its end. A partition with nothing stored has reached it when it
// holds nothing readable (empty, or every record removed by retention).
func (g goal) reached(tp TopicPartition, pos int64) bool {
	p, ok := g[tp]
	if !ok {
		return true
	}
	if pos == NoOffset {
		return p.Start >= p.End
	}
	return pos >= p.End
}

// assignments are the partitions still to read, each from its stored offset or, with
// nothing stored, from the start of the partition.
func (g goal) assignments() map[string]map[int32]kgo.Offset {
	out := map[string]map[int32]kgo.Offset{}
	for tp, p := range g {
		if g.reached(tp, p.Stored) {
			continue
		}
		if out[tp.Topic] == nil {
			out[tp.Topic] = map[int32]kgo.Offset{}
		}
		if p.Stored == NoOffset {
			out[tp.Topic][tp.Partition] = kgo.NewOffset().AtStart()
		} else {
			out[tp.Topic][tp.Partition] = kgo.NewOffset().At(p.Stored)
		}
	}
	return out
}

// behind lists the partitions whose position (counting the pending batch b, if
// not nil) has not reached the goal.
func (r *Runner) behind(g goal, b *batcher) []PartitionStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []PartitionStatus
	for tp, p := range g {
		pos, ok := r.pos[tp]
		if !ok {
			pos = p.Stored
		}
		if b != nil {
			if rg, ok := b.ranges[tp]; ok {
				pos = rg.Next
			}
		}
		if !g.reached(tp, pos) {
			p.Stored = pos
			out = append(out, p)
		}
	}
	return out
}

// incomplete is the one-line ErrIncomplete of a run that stopped for why with the
// partitions in lag still behind.
func incomplete(why string, lag []PartitionStatus) error {
	const show = 8
	sortPartitions(lag)
	parts := make([]string, 0, min(len(lag), show))
	for _, p := range lag[:min(len(lag), show)] {
		at := "nothing stored"
		if p.Stored != NoOffset {
			at = fmt.Sprintf("at %d", p.Stored)
		}
		parts = append(parts, fmt.Sprintf("%s[%d] %s of %d", p.Topic, p.Partition, at, p.End))
	}
	more := ""
	if len(lag) > show {
		more = fmt.Sprintf(" and %d more", len(lag)-show)
	}
	return fmt.Errorf("%w (%s): %d partitions behind: %s%s", ErrIncomplete, why, len(lag), strings.Join(parts, ", "), more)
}

// stallWatch tracks when a run last stored progress, for Config.OnceStallTimeout.
type stallWatch struct {
	limit time.Duration
	last  time.Time
}

func (s *stallWatch) progressed(now time.Time) { s.last = now }

// stalled reports whether nothing was stored for longer than the limit.
func (s *stallWatch) stalled(now time.Time) bool { return now.Sub(s.last) > s.limit }

// lag is how many records the runner is behind the end offsets of the partitions it
// has fetched, counting the pending batch b as read. A partition without a stored
// offset counts from offset 0 (a new sink reads from the start of the topic; where
// retention removed the oldest records, this overestimates).
func (r *Runner) lag(b *batcher) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for tp, end := range r.ends {
		pos := max(r.pos[tp], 0)
		if rg, inBatch := b.ranges[tp]; inBatch {
			pos = rg.Next
		}
		n += max(end-pos, 0)
	}
	return n
}
