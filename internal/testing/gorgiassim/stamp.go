package gorgiassim

import "time"

// tsForm is how one object's timestamps are rendered. Each object has one
// form for all of its timestamps, chosen deterministically from its id.
type tsForm uint8

const (
	formMicro   tsForm = iota // 2024-06-20T07:39:36.514848+00:00
	formSeconds               // 2024-11-01T10:59:29+00:00 (stored times are whole seconds)
	formNaive                 // 2019-11-16T15:59:41.966927 (UTC without an offset)
)

// formFor picks the rendering form of an object: about 1 in 7 objects have
// whole seconds, about 1 in 11 are naive, the rest carry microseconds.
func formFor(salt uint64, id int64) tsForm {
	switch h := mix64(uint64(id)^salt) % 77; {
	case h < 11:
		return formSeconds
	case h < 18:
		return formNaive
	default:
		return formMicro
	}
}

// mix64 is the splitmix64 finalizer: a cheap, well-distributed hash.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// stamp is a timestamp field: the zero time renders as JSON null. The
// shared list code orders objects on their stamp fields.
type stamp struct {
	t time.Time
	f tsForm
}

// mk makes a seeded timestamp of form f (whole seconds are truncated).
func mk(t time.Time, f tsForm) stamp {
	t = t.UTC().Truncate(time.Microsecond)
	if f == formSeconds {
		t = t.Truncate(time.Second)
	}
	return stamp{t: t, f: f}
}

func (s stamp) isSet() bool { return !s.t.IsZero() }

// micros is the sort value of a stamp (0 when null).
func (s stamp) micros() int64 {
	if s.t.IsZero() {
		return 0
	}
	return s.t.UnixMicro()
}

// MarshalJSON renders the stamp in its object's form, or null.
func (s stamp) MarshalJSON() ([]byte, error) {
	if s.t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 36)
	b = append(b, '"')
	b = s.appendText(b)
	return append(b, '"'), nil
}

// appendText appends the timestamp like Python's isoformat does: the
// fraction is left out when it is zero.
func (s stamp) appendText(b []byte) []byte {
	t := s.t.UTC()
	if t.Nanosecond()/1000 == 0 || s.f == formSeconds {
		b = t.AppendFormat(b, "2006-01-02T15:04:05")
	} else {
		b = t.AppendFormat(b, "2006-01-02T15:04:05.000000")
	}
	if s.f != formNaive {
		b = append(b, "+00:00"...)
	}
	return b
}

// text is the rendered timestamp without quotes ("" for null).
func (s stamp) text() string {
	if s.t.IsZero() {
		return ""
	}
	return string(s.appendText(nil))
}

// stampAt turns a wanted change time into the stored timestamp of an object
// of form f. Stamps are strictly increasing across the whole simulator (so
// no change can ever land behind a value a client has already seen):
// t is moved to 1µs after the previous stamp if needed, and for whole-second
// objects rounded up to the next whole second.
func (s *Sim) stampAt(t time.Time, f tsForm) stamp {
	t = t.UTC().Truncate(time.Microsecond)
	if !t.After(s.last) {
		t = s.last.Add(time.Microsecond)
	}
	if f == formSeconds {
		if w := t.Truncate(time.Second); !w.Equal(t) {
			t = w.Add(time.Second)
		}
	}
	s.last = t
	return stamp{t: t, f: f}
}
