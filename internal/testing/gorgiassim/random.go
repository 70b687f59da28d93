package gorgiassim

import (
	"math/rand/v2"
	"strings"
	"time"
)

// Drawing helpers shared by the generators.

func randDur(r *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(r.Int64N(int64(d)))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// expDur is an exponentially distributed duration with the given mean.
func expDur(r *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(mean))
}

func hexID(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		m = later(m, t)
	}
	return m
}

// folder lowercases and strips the accents used in the name pools (for e-mails).
var folder = strings.NewReplacer("é", "e", "è", "e", "ê", "e", "á", "a", "à", "a", "ü", "u", "ö", "o", "í", "i", "ñ", "n", "ç", "c", "'", "", " ", "")

func fold(s string) string { return folder.Replace(strings.ToLower(s)) }

func titleDomain(d string) string {
	if d == "" {
		return d
	}
	return strings.ToUpper(d[:1]) + d[1:]
}
