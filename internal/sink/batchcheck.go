package sink

import (
	"fmt"
	"strings"
)

// CheckBatch verifies that b is well formed, before a sink stores anything of it. Every
// sink calls it first thing in Write, so that one malformed batch gets the same error
// (wrapping ErrBadBatch) from every destination. The runner never builds a batch it
// refuses: a refusal is a bug in the caller, not a condition to retry.
//
// When it returns nil, a sink may rely on this:
//
//   - Ranges: each has a topic and a partition >= 0, no topic partition appears twice,
//     Next >= 0, and First is NoOffset or 0 <= First <= Next (an empty range is fine:
//     it only moves the offset, e.g. over transaction markers).
//   - Every record has an entity and a schema of that entity (Schema.Entity ==
//     Entity.Name), and one value per field of that schema (len(Values) ==
//     len(Schema.Root.Fields)), so indexing Values by the schema's fields is safe;
//     except a deletion (Delete set), which has neither schema nor values, and whose
//     ID and Version are its Delete's ID and At.
//   - Every record has a range: one of its partition whose topic is <prefix><entity>.
//     Record carries no topic, so a range matches when its topic ends with the entity's
//     name; where one entity's name ends another's (events, voice_call_events), a
//     record passes when it fits one of the ranges that match it.
//   - Every record's offset is >= 0 and below its range's Next, so the offsets the
//     batch stores cover every row it writes.
//   - Within one partition of one entity, record offsets strictly increase (Kafka
//     order, no record twice).
//
// It does not refuse a record whose offset is below its range's First: whether First
// is right is only known against the stored offsets, and a batch whose First is wrong
// is stale, which Write must report as ErrStaleOffset (the conformance suite holds
// sinks to that). It does not look at the destination (stored offsets, table columns),
// nor at whether a schema can be stored (CheckSchema), nor at values beyond their
// count.
func CheckBatch(b Batch) error {
	if err := checkRanges(b.Ranges); err != nil {
		return err
	}
	if len(b.Records) == 0 {
		return nil
	}
	type entityPartition struct {
		entity    string
		partition int32
	}
	// next is the upper bound of the records of an entity partition (-1: no range
	// matches); last the offset of its previous record.
	next := map[entityPartition]int64{}
	last := map[entityPartition]int64{}
	for i := range b.Records {
		r := &b.Records[i]
		name := r.Entity.Name
		switch {
		case name == "":
			return fmt.Errorf("%w: record %d (partition %d, offset %d) has no entity", ErrBadBatch, i, r.Partition, r.Offset)
		case r.Delete != nil:
			if r.Schema != nil || r.Values != nil || r.ID != r.Delete.ID || !r.Version.Equal(r.Delete.At) {
				return fmt.Errorf("%w: %s deletion at %d/%d carries a version's schema or values, or another id or time", ErrBadBatch, name, r.Partition, r.Offset)
			}
		case r.Schema == nil || r.Schema.Root == nil:
			return fmt.Errorf("%w: %s record at %d/%d has no schema", ErrBadBatch, name, r.Partition, r.Offset)
		case r.Schema.Entity != name:
			return fmt.Errorf("%w: %s record at %d/%d has schema %016x of entity %s",
				ErrBadBatch, name, r.Partition, r.Offset, r.Schema.Fingerprint, r.Schema.Entity)
		case len(r.Values) != len(r.Schema.Root.Fields):
			return fmt.Errorf("%w: %s record at %d/%d has %d values for the %d fields of schema %016x",
				ErrBadBatch, name, r.Partition, r.Offset, len(r.Values), len(r.Schema.Root.Fields), r.Schema.Fingerprint)
		case r.Offset < 0:
			return fmt.Errorf("%w: %s record at %d/%d has a negative offset", ErrBadBatch, name, r.Partition, r.Offset)
		}
		ep := entityPartition{name, r.Partition}
		bound, ok := next[ep]
		if !ok {
			bound = -1
			for _, rg := range b.Ranges {
				if rg.Partition == r.Partition && strings.HasSuffix(rg.Topic, name) {
					bound = max(bound, rg.Next)
				}
			}
			next[ep] = bound
		}
		if bound < 0 {
			return fmt.Errorf("%w: %s record at %d/%d has no range of its topic partition", ErrBadBatch, name, r.Partition, r.Offset)
		}
		if r.Offset >= bound {
			return fmt.Errorf("%w: %s record at %d/%d is not below its range's next offset %d", ErrBadBatch, name, r.Partition, r.Offset, bound)
		}
		if prev, ok := last[ep]; ok && r.Offset <= prev {
			return fmt.Errorf("%w: %s record at %d/%d follows offset %d of the same partition (records must be in Kafka order, each once)",
				ErrBadBatch, name, r.Partition, r.Offset, prev)
		}
		last[ep] = r.Offset
	}
	return nil
}

// checkRanges is CheckBatch's part for b.Ranges.
func checkRanges(ranges []Range) error {
	seen := make(map[TopicPartition]bool, len(ranges))
	for _, r := range ranges {
		if r.Topic == "" || r.Partition < 0 {
			return fmt.Errorf("%w: range of topic %q partition %d names no topic partition", ErrBadBatch, r.Topic, r.Partition)
		}
		if seen[r.TopicPartition] {
			return fmt.Errorf("%w: partition %s/%d appears twice in the ranges", ErrBadBatch, r.Topic, r.Partition)
		}
		seen[r.TopicPartition] = true
		if r.Next < 0 || (r.First != NoOffset && (r.First < 0 || r.Next < r.First)) {
			return fmt.Errorf("%w: partition %s/%d range [%d, %d) is invalid", ErrBadBatch, r.Topic, r.Partition, r.First, r.Next)
		}
	}
	return nil
}

// CheckReset verifies the offsets given to Sink.Reset: every topic partition has a
// topic and a partition >= 0, and every next offset is >= 0 (NoOffset is not a stored
// offset). Its errors wrap ErrBadBatch. Every sink calls it first thing in Reset.
func CheckReset(next map[TopicPartition]int64) error {
	for tp, off := range next {
		if tp.Topic == "" || tp.Partition < 0 {
			return fmt.Errorf("%w: reset of topic %q partition %d names no topic partition", ErrBadBatch, tp.Topic, tp.Partition)
		}
		if off < 0 {
			return fmt.Errorf("%w: reset to negative offset %d for %s/%d", ErrBadBatch, off, tp.Topic, tp.Partition)
		}
	}
	return nil
}
