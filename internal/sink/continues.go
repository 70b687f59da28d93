package sink

import "fmt"

// CheckContinues is the offset fence every sink applies inside its write transaction:
// it returns an error wrapping ErrStaleOffset, naming the partition, unless every range
// continues the stored next offsets (stored holds the offsets of the ranges'
// partitions; a missing entry means none is stored): First equals the stored next
// offset, or First is NoOffset and none is stored.
func CheckContinues(stored map[TopicPartition]int64, ranges []Range) error {
	for _, r := range ranges {
		have, ok := stored[r.TopicPartition]
		switch {
		case r.First == NoOffset && ok:
			return fmt.Errorf("%w: %s/%d: batch starts at the beginning but next offset %d is stored",
				ErrStaleOffset, r.Topic, r.Partition, have)
		case r.First != NoOffset && !ok:
			return fmt.Errorf("%w: %s/%d: batch starts at %d but no offset is stored",
				ErrStaleOffset, r.Topic, r.Partition, r.First)
		case r.First != NoOffset && have != r.First:
			return fmt.Errorf("%w: %s/%d: batch starts at %d but the stored next offset is %d",
				ErrStaleOffset, r.Topic, r.Partition, r.First, have)
		}
	}
	return nil
}
