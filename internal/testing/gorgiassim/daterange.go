package gorgiassim

import (
	"math"
	"net/url"
	"strings"
	"time"
)

// rangeOps are the comparisons of a date-range filter, sent as
// <field>[<op>]=<time> (e.g. created_datetime[gte]=2026-05-01T00:00:00Z).
var rangeOps = []string{"gt", "gte", "lt", "lte"}

// parseRange reads the date-range parameters of field as inclusive bounds
// in microseconds (math.MinInt64 and math.MaxInt64 when absent). A value
// that is not a time answers 400.
func parseRange(q url.Values, field string) (lo, hi int64, bad *answer) {
	lo, hi = math.MinInt64, math.MaxInt64
	for _, op := range rangeOps {
		param := field + "[" + op + "]"
		vs, ok := q[param]
		if !ok {
			continue
		}
		t, ok := parseQueryTime(vs[0])
		if !ok {
			a := badRequest(invalidParams, param, "Not a valid datetime.")
			return 0, 0, &a
		}
		floor := t.Truncate(time.Microsecond).UnixMicro()
		ceil := floor
		if t.Nanosecond()%1000 != 0 {
			ceil++
		}
		switch op {
		case "gt":
			lo = max(lo, floor+1)
		case "gte":
			lo = max(lo, ceil)
		case "lt":
			hi = min(hi, ceil-1)
		case "lte":
			hi = min(hi, floor)
		}
	}
	return lo, hi, nil
}

// queryTimeLayouts are the time forms a filter accepts: RFC 3339 with or
// without a fraction, the same without an offset (naive, taken as UTC),
// and a bare date (midnight UTC).
var queryTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"}

// parseQueryTime parses a filter's time. A space may stand for the 'T'
// and, after it, for a '+' sent unescaped in the query string.
func parseQueryTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	if len(s) > 11 {
		s = s[:11] + strings.ReplaceAll(s[11:], " ", "+")
	}
	for _, l := range queryTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
