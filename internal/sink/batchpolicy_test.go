package sink

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestBatchPolicy: steady state closes on records, bytes or time; catching up (lag
// beyond CatchUpLag) closes on CatchUpBytes or time only, and polls without a record
// limit; CatchUpLag 0 never catches up.
func TestBatchPolicy(t *testing.T) {
	p := batchPolicy{MaxRecords: 10, MaxBytes: 1000, MaxWait: time.Second, CatchUpLag: 500, CatchUpBytes: 5000}
	began := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	batch := func(records, bytesEach int) *batcher {
		b := newBatcher(&Runner{pos: map[TopicPartition]int64{}})
		for i := range records {
			b.add(&kgo.Record{Topic: "t", Offset: int64(i), Value: make([]byte, bytesEach)})
		}
		b.began = began
		return b
	}
	for _, c := range []struct {
		name      string
		p         batchPolicy
		b         *batcher
		after     time.Duration
		lag       int64
		full      bool
		pollLimit int
	}{
		{"steady, room left", p, batch(5, 10), 0, 0, false, 5},
		{"steady, records reached", p, batch(10, 10), 0, 500, true, 1},
		{"steady, bytes reached", p, batch(3, 400), 0, 0, true, 7},
		{"steady, time reached", p, batch(1, 1), time.Second, 0, true, 9},
		{"catching up, past the record limit", p, batch(40, 100), 0, 501, false, 10}, // 1,000 bytes left at 100 each
		{"catching up, byte budget reached", p, batch(50, 100), 0, 10_000, true, 1},
		{"catching up, time reached", p, batch(1, 1), time.Second, 10_000, true, 4999},
		{"catching up off", batchPolicy{MaxRecords: 10, MaxBytes: 1000, MaxWait: time.Second}, batch(10, 10), 0, 1 << 40, true, 1},
		{"empty", p, batch(0, 0), time.Hour, 10_000, false, 0},
	} {
		if got := c.p.full(c.b, began.Add(c.after), c.lag); got != c.full {
			t.Errorf("%s: full = %v, want %v", c.name, got, c.full)
		}
		if got := c.p.pollLimit(c.b, c.lag); got != c.pollLimit && !c.b.empty() {
			t.Errorf("%s: pollLimit = %d, want %d", c.name, got, c.pollLimit)
		}
	}
}
