package sink

import (
	"errors"
	"testing"
)

func TestCheckContinues(t *testing.T) {
	tp := TopicPartition{Topic: "g.tickets", Partition: 1}
	stored := map[TopicPartition]int64{tp: 10}
	for _, c := range []struct {
		name   string
		stored map[TopicPartition]int64
		r      Range
		stale  bool
	}{
		{"continues", stored, Range{tp, 10, 12}, false},
		{"from the beginning, none stored", nil, Range{tp, NoOffset, 3}, false},
		{"from the beginning, one stored", stored, Range{tp, NoOffset, 3}, true},
		{"none stored", nil, Range{tp, 10, 12}, true},
		{"behind the stored offset", stored, Range{tp, 8, 12}, true},
		{"ahead of the stored offset", stored, Range{tp, 11, 12}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckContinues(c.stored, []Range{c.r})
			if got := errors.Is(err, ErrStaleOffset); got != c.stale || (err != nil && !got) {
				t.Fatalf("CheckContinues = %v, want stale %v", err, c.stale)
			}
		})
	}
}
