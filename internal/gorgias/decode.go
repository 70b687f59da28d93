package gorgias

import (
	"encoding/json"
	"errors"
	"fmt"
)

// decodeList decodes a list body
// {"object":"list","uri":...,"data":[...],"meta":{"next_cursor":...,"prev_cursor":...}}
// in a single validating pass: the whole body is checked to be valid JSON
// (same acceptance as encoding/json), the elements of "data" are returned as
// sub-slices of body without decoding or copying them, and only the small
// "meta" object goes through encoding/json. A bare top-level array (the few
// non-paginated endpoints) is accepted as a single last page. Errors wrap
// ErrMalformedResponse.
func decodeList(body []byte) (*Page, error) {
	s := jsonScanner{b: body}
	s.ws()
	p := &Page{}
	var err error
	switch s.peek() {
	case '[':
		p.Data, err = s.splitArray()
	case '{':
		err = s.envelope(p)
	default:
		err = s.fail("expected a JSON object")
	}
	if err == nil {
		s.ws()
		if s.i != len(body) {
			err = s.fail("unexpected data after the top-level value")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: decode list (%d bytes): %w", ErrMalformedResponse, len(body), err)
	}
	return p, nil
}

// jsonScanner is a strict, allocation-free JSON validator over a byte slice.
type jsonScanner struct {
	b     []byte
	i     int
	depth int
}

const maxJSONDepth = 10000 // as encoding/json

var errSyntax = errors.New("invalid JSON")

func (s *jsonScanner) fail(what string) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, s.i, what)
}

func (s *jsonScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// envelope scans the top-level object, splitting "data" and decoding "meta".
func (s *jsonScanner) envelope(p *Page) error {
	s.i++ // '{'
	var meta []byte
	sawData := false
	s.ws()
	if s.peek() == '}' {
		s.i++
		return errors.New(`list envelope has no "data" array`)
	}
	for {
		s.ws()
		ks := s.i
		if err := s.str(); err != nil {
			return err
		}
		key := s.b[ks+1 : s.i-1]
		s.ws()
		if s.peek() != ':' {
			return s.fail("expected ':'")
		}
		s.i++
		s.ws()
		vs := s.i
		switch {
		case string(key) == "data":
			if s.peek() != '[' {
				return fmt.Errorf(`list envelope "data" is not an array (offset %d)`, s.i)
			}
			d, err := s.splitArray()
			if err != nil {
				return err
			}
			p.Data, sawData = d, true
		default:
			if err := s.value(); err != nil {
				return err
			}
			if string(key) == "meta" {
				meta = s.b[vs:s.i]
			}
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			continue
		case '}':
			s.i++
		default:
			return s.fail("expected ',' or '}'")
		}
		break
	}
	if !sawData {
		return errors.New(`list envelope has no "data" array`)
	}
	if meta != nil {
		var m struct {
			NextCursor *string `json:"next_cursor"`
			PrevCursor *string `json:"prev_cursor"`
		}
		if err := json.Unmarshal(meta, &m); err != nil {
			return fmt.Errorf("decode meta: %w", err)
		}
		if m.NextCursor != nil {
			p.NextCursor = *m.NextCursor
		}
		if m.PrevCursor != nil {
			p.PrevCursor = *m.PrevCursor
		}
	}
	return nil
}

// splitArray validates the array at s.i and returns its elements as
// capacity-limited sub-slices of s.b.
func (s *jsonScanner) splitArray() ([]json.RawMessage, error) {
	s.i++ // '['
	out := make([]json.RawMessage, 0, DefaultPageLimit)
	s.ws()
	if s.peek() == ']' {
		s.i++
		return out, nil
	}
	for {
		s.ws()
		start := s.i
		if err := s.value(); err != nil {
			return nil, err
		}
		out = append(out, json.RawMessage(s.b[start:s.i:s.i]))
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return out, nil
		default:
			return nil, s.fail("expected ',' or ']' in array")
		}
	}
}

// value validates one JSON value starting at s.i and advances past it.
func (s *jsonScanner) value() error {
	switch c := s.peek(); {
	case c == '"':
		return s.str()
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '-' || c >= '0' && c <= '9':
		return s.num()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case s.i >= len(s.b):
		return s.fail("unexpected end of input")
	default:
		return s.fail("unexpected character")
	}
}

func (s *jsonScanner) enter() error {
	s.depth++
	if s.depth > maxJSONDepth {
		return s.fail("nesting too deep")
	}
	return nil
}

func (s *jsonScanner) object() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // '{'
	s.ws()
	if s.peek() == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		if s.peek() != '"' {
			return s.fail("expected object key")
		}
		if err := s.str(); err != nil {
			return err
		}
		s.ws()
		if s.peek() != ':' {
			return s.fail("expected ':'")
		}
		s.i++
		s.ws()
		if err := s.value(); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or '}' in object")
		}
	}
}

func (s *jsonScanner) array() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // '['
	s.ws()
	if s.peek() == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		if err := s.value(); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or ']' in array")
		}
	}
}

// str validates the string starting at s.i (which must be '"').
func (s *jsonScanner) str() error {
	if s.peek() != '"' {
		return s.fail("expected string")
	}
	b := s.b
	for i := s.i + 1; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return nil
		case c < 0x20:
			s.i = i
			return s.fail("control character in string")
		case c == '\\':
			i++
			if i >= len(b) {
				break
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					s.i = len(b)
					return s.fail("unexpected end of input in string")
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						s.i = i
						return s.fail("invalid \\u escape")
					}
				}
				i += 4
			default:
				s.i = i
				return s.fail("invalid escape")
			}
		}
	}
	s.i = len(b)
	return s.fail("unterminated string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *jsonScanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// num validates -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScanner) num() error {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return s.fail("invalid number")
	}
	if s.peek() == '.' {
		s.i++
		if s.digits() == 0 {
			return s.fail("invalid number")
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if s.digits() == 0 {
			return s.fail("invalid number")
		}
	}
	return nil
}

func (s *jsonScanner) lit(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail("invalid literal")
	}
	s.i += len(word)
	return nil
}

// validJSON reports whether b is one valid JSON value (with surrounding
// whitespace), like json.Valid.
func validJSON(b []byte) bool {
	s := jsonScanner{b: b}
	s.ws()
	if s.value() != nil {
		return false
	}
	s.ws()
	return s.i == len(b)
}
