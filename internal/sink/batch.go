package sink

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// batchPolicy says when a pending batch closes: at MaxRecords records, MaxBytes bytes
// of keys and values, or MaxWait after its first record, whichever comes first. While
// the runner is catching up (more than CatchUpLag records behind the end offsets), the
// record and byte limits give way to CatchUpBytes: the history is read in large
// batches, and steady state stays fresh.
type batchPolicy struct {
	MaxRecords int
	MaxBytes   int
	MaxWait    time.Duration
	// CatchUpLag is the lag (records) beyond which the runner catches up; 0: never.
	CatchUpLag int64
	// CatchUpBytes closes a batch while catching up.
	CatchUpBytes int
}

// catchingUp reports whether a lag of lag records makes batches grow.
func (p batchPolicy) catchingUp(lag int64) bool { return p.CatchUpLag > 0 && lag > p.CatchUpLag }

// full reports whether b must be written now, with the runner lag records behind.
func (p batchPolicy) full(b *batcher, now time.Time, lag int64) bool {
	switch {
	case b.empty():
		return false
	case now.Sub(b.began) >= p.MaxWait:
		return true
	case p.catchingUp(lag):
		return b.bytes >= p.CatchUpBytes
	}
	return b.count() >= p.MaxRecords || b.bytes >= p.MaxBytes
}

// pollLimit is how many records the next poll may add to b: what is left of the
// record limit, or while catching up what is left of the byte budget at the batch's
// average record size (1 KiB before the first record), so that a poll does not
// overshoot the budget by much.
func (p batchPolicy) pollLimit(b *batcher, lag int64) int {
	if !p.catchingUp(lag) {
		return max(p.MaxRecords-b.count(), 1)
	}
	avg := 1024
	if b.count() > 0 {
		avg = max(b.bytes/b.count(), 1)
	}
	return max((p.CatchUpBytes-b.bytes)/avg, 1)
}

// deadline is when the pending batch closes on time.
func (p batchPolicy) deadline(b *batcher) time.Time { return b.began.Add(p.MaxWait) }

// batcher accumulates fetched records until a batch closes.
type batcher struct {
	r      *Runner
	recs   []*kgo.Record
	ranges map[TopicPartition]*Range
	// fetched is the offset of the first record fetched per partition: where to read
	// again when the batch is dropped and the partition has no stored offset.
	fetched map[TopicPartition]int64
	order   []TopicPartition
	bytes   int
	began   time.Time
}

func newBatcher(r *Runner) *batcher {
	return &batcher{r: r, ranges: map[TopicPartition]*Range{}, fetched: map[TopicPartition]int64{}}
}

func (b *batcher) empty() bool { return len(b.ranges) == 0 }
func (b *batcher) count() int  { return len(b.recs) }

func (b *batcher) add(rec *kgo.Record) {
	tp := TopicPartition{rec.Topic, rec.Partition}
	rg, ok := b.ranges[tp]
	if !ok {
		first, known := b.r.position(tp)
		if !known {
			first = NoOffset
		}
		rg = &Range{TopicPartition: tp, First: first}
		b.ranges[tp] = rg
		b.fetched[tp] = rec.Offset
		b.order = append(b.order, tp)
		if len(b.ranges) == 1 {
			b.began = time.Now()
		}
	}
	rg.Next = rec.Offset + 1
	if rec.Attrs.IsControl() {
		return // a transaction marker: it only moves the position
	}
	b.recs = append(b.recs, rec)
	b.bytes += len(rec.Value) + len(rec.Key)
}

func (b *batcher) reset() {
	b.recs = b.recs[:0]
	clear(b.ranges)
	clear(b.fetched)
	b.order = b.order[:0]
	b.bytes = 0
}

// build decodes the records: the decodable ones and the tombstones (deletions) become
// the batch, the others dead letters. It fails only on a runner bug (a Confluent record whose schema was not
// resolved), never on a record's content.
func (b *batcher) build() (Batch, []*kgo.Record, error) {
	var out Batch
	var dead []*kgo.Record
	out.Records = make([]Record, 0, len(b.recs))
	for _, rec := range b.recs {
		e, ok := b.r.topics[rec.Topic]
		if !ok {
			dead = append(dead, b.r.deadLetter(rec, "record from an unexpected topic"))
			continue
		}
		if tombstone.Is(rec) {
			d, err := tombstone.Parse(rec)
			if err != nil {
				dead = append(dead, b.r.deadLetter(rec, err.Error()))
				continue
			}
			out.Records = append(out.Records, Record{Entity: e, ID: d.ID, Version: d.At, Delete: &d,
				Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp})
			continue
		}
		s, vals, err := b.r.decodeValue(e, rec.Value)
		if errors.Is(err, errUnresolved) {
			return Batch{}, nil, err
		}
		if err == nil && s.Entity != e.Name {
			err = fmt.Errorf("schema %016x belongs to entity %s, not %s", s.Fingerprint, s.Entity, e.Name)
		}
		if err != nil {
			dead = append(dead, b.r.deadLetter(rec, err.Error()))
			continue
		}
		out.Records = append(out.Records, Record{
			Entity: e, Schema: s, Values: vals,
			ID: vals[s.Root.FieldIndex(catalog.Key)].(int64), Version: vals[s.Root.FieldIndex(e.VersionField)].(time.Time),
			Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp,
		})
	}
	for _, tp := range b.order {
		out.Ranges = append(out.Ranges, *b.ranges[tp])
	}
	return out, dead, nil
}
