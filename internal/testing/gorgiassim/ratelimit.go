package gorgiassim

import (
	"math"
	"time"
)

// bucket is the account's leaky bucket, drained continuously by real time.
type bucket struct {
	limit  float64 // capacity; <= 0 disables limiting
	perSec float64 // drain rate
	level  float64
	at     time.Time
	max    float64
}

// newBucket holds limit requests and drains them in window.
func newBucket(limit int, window time.Duration) bucket {
	return bucket{limit: float64(limit), perSec: float64(limit) / window.Seconds()}
}

const eps = 1e-9

// take admits one request at real time now. used is ceil(level) after the
// decision; retry (seconds, >= 1) is set when the request is refused.
func (b *bucket) take(now time.Time) (ok bool, used, retry int) {
	if b.limit <= 0 {
		return true, 0, 0
	}
	b.drain(now)
	if b.level+1 <= b.limit+eps {
		b.level++
		b.max = math.Max(b.max, b.level)
		return true, int(math.Ceil(b.level - eps)), 0
	}
	wait := (b.level + 1 - b.limit) / b.perSec
	return false, int(math.Ceil(b.level - eps)), max(1, int(math.Ceil(wait-eps)))
}

// drain empties the bucket by the real time elapsed since the last request.
func (b *bucket) drain(now time.Time) {
	if !b.at.IsZero() {
		if el := now.Sub(b.at).Seconds(); el > 0 {
			b.level = math.Max(0, b.level-el*b.perSec)
		}
	}
	if b.at.IsZero() || now.After(b.at) {
		b.at = now
	}
}
