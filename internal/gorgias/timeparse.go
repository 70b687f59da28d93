package gorgias

import (
	"fmt"
	"time"
)

// naiveLayouts are tried, in UTC, for timestamps without a zone. A fractional
// second after the seconds field is accepted by time.Parse even though the
// layout does not mention it.
var naiveLayouts = [...]string{"2006-01-02T15:04:05", "2006-01-02 15:04:05"}

// zonedLayouts are fallbacks for zoned forms RFC 3339 parsing rejects.
var zonedLayouts = [...]string{"2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05Z0700"}

// ParseTime parses every timestamp form Gorgias emits and returns it in UTC:
//
//	2024-06-20T07:39:36.514848+00:00   (fraction and offset)
//	2024-11-01T10:59:29+00:00          (offset, no fraction)
//	2019-11-16T15:59:41.966927         (naive: taken as UTC)
//	2019-11-16T15:59:41                (naive, no fraction)
//	2024-11-01T10:59:29Z, ...29.5Z     ("Z" suffix)
//
// A space instead of "T" and offsets without a colon (+0000) are accepted
// too. Anything else gives an error wrapping ErrInvalidTime. The common forms
// are parsed without allocating.
func ParseTime(s string) (time.Time, error) {
	if isNaive(s) {
		for _, layout := range naiveLayouts {
			if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
				return t.UTC(), nil
			}
		}
	} else {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), nil
		}
		for _, layout := range zonedLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
	}
	q := s
	if len(q) > 64 {
		q = q[:64] + "..."
	}
	return time.Time{}, fmt.Errorf("%w: %q (want ISO 8601 like 2024-06-20T07:39:36.514848+00:00)", ErrInvalidTime, q)
}

// isNaive reports whether s looks like "YYYY-MM-DDTHH:MM:SS[.fff...]" with
// nothing after the seconds or fraction.
func isNaive(s string) bool {
	if len(s) < 19 {
		return false
	}
	i := 19
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}
