package postgressink

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Column types. Scalars map to their PostgreSQL counterparts (timestamps are
// timestamptz, in microseconds like the Avro timestamp-micros they come from).
//
// Free-form JSON fields, nested records and arrays are all jsonb:
//   - users query them with ->, ->> and jsonb_array_elements, and index them with GIN,
//     which composite types and arrays of composites do not allow as simply;
//   - the Avro schemas evolve by adding nullable fields, at any depth: with jsonb that
//     changes nothing in the table, where a composite type would need an ALTER TYPE
//     cascading to every table and view that uses it;
//   - BigQuery and DuckDB readers of the same topics get the same JSON shape (field
//     names as in the schema, timestamps as RFC 3339 UTC strings, free-form JSON
//     fields embedded as JSON, not as strings).
//
// The names are PostgreSQL's own spelling (format_type), so a table's existing columns
// compare with them directly.
const (
	typeBigint      = "bigint"
	typeInteger     = "integer"
	typeDouble      = "double precision"
	typeBoolean     = "boolean"
	typeText        = "text"
	typeTimestamptz = "timestamp with time zone"
	typeJSONB       = "jsonb"
)

// sqlType returns the column type of a field of Avro type t.
func sqlType(t *shape) string {
	switch t.kind {
	case avrocodec.KindLong:
		return typeBigint
	case avrocodec.KindDouble:
		return typeDouble
	case avrocodec.KindBoolean:
		return typeBoolean
	case avrocodec.KindString:
		return typeText
	case avrocodec.KindTimestamp:
		return typeTimestamptz
	}
	return typeJSONB // JSON, records, arrays
}

// shape is an Avro type as the sink keeps it: the union of every schema version seen,
// so that nested changes between versions can be checked (the jsonb columns do not
// show them) and stored JSON can be read back into DecodeRow's forms.
type shape struct {
	kind   avrocodec.Kind
	fields []shapeField // records, in order of first appearance
	index  map[string]int
	items  *shape // arrays
}

type shapeField struct {
	name string
	typ  *shape
}

// shapeOf converts an Avro type.
func shapeOf(t *avrocodec.Type) *shape {
	s := &shape{kind: t.Kind}
	switch t.Kind {
	case avrocodec.KindRecord:
		s.index = make(map[string]int, len(t.Fields))
		for _, f := range t.Fields {
			s.index[f.Name] = len(s.fields)
			s.fields = append(s.fields, shapeField{name: f.Name, typ: shapeOf(f.Type)})
		}
	case avrocodec.KindArray:
		s.items = shapeOf(t.Items)
	}
	return s
}

// field returns the type of the record field name, or nil.
func (s *shape) field(name string) *shape {
	if s == nil || s.kind != avrocodec.KindRecord {
		return nil
	}
	if i, ok := s.index[name]; ok {
		return s.fields[i].typ
	}
	return nil
}

// merge adds want's fields to s (in place) and fails when a kind differs at any depth:
// a released schema version only adds nullable fields.
func (s *shape) merge(want *shape) error {
	if s.kind != want.kind {
		return fmt.Errorf("type changes from %s to %s", s.kind, want.kind)
	}
	switch s.kind {
	case avrocodec.KindRecord:
		for _, f := range want.fields {
			i, ok := s.index[f.name]
			if !ok {
				s.index[f.name] = len(s.fields)
				s.fields = append(s.fields, f)
				continue
			}
			if err := s.fields[i].typ.merge(f.typ); err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
		}
	case avrocodec.KindArray:
		if err := s.items.merge(want.items); err != nil {
			return fmt.Errorf("items: %w", err)
		}
	}
	return nil
}

// clone returns a deep copy (merge works in place).
func (s *shape) clone() *shape {
	c := &shape{kind: s.kind}
	if s.items != nil {
		c.items = s.items.clone()
	}
	if s.fields != nil {
		c.index = make(map[string]int, len(s.fields))
		for i, f := range s.fields {
			c.index[f.name] = i
			c.fields = append(c.fields, shapeField{name: f.name, typ: f.typ.clone()})
		}
	}
	return c
}

// Text values. PostgreSQL text cannot hold NUL characters nor invalid UTF-8, and jsonb
// refuses the escape \u0000: a record holding one would stall the sink on a batch it
// can never write. Such characters are stored as U+FFFD (the replacement character),
// as encoding/json does for invalid UTF-8.

// cleanText returns s fit for a text column.
func cleanText(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// cleanJSON returns JSON text fit for a jsonb column: s itself when it is valid JSON
// without \u0000, the same with \u0000 escapes replaced, or, when it is not JSON at all,
// s as a JSON string (so nothing is lost).
func cleanJSON(s string) string {
	if !json.Valid([]byte(s)) {
		return string(sink.AppendJSONStringNoNUL(nil, s))
	}
	if strings.Contains(s, `\u0000`) {
		return string(replaceNulEscapes([]byte(s)))
	}
	return s
}

// appendJSONValue appends free-form JSON text inside a document being built.
func appendJSONValue(dst []byte, s string) []byte {
	if !json.Valid([]byte(s)) {
		return sink.AppendJSONStringNoNUL(dst, s)
	}
	if strings.Contains(s, `\u0000`) {
		return append(dst, replaceNulEscapes([]byte(s))...)
	}
	return append(dst, s...)
}

// replaceNulEscapes rewrites the escapes \u0000 of valid JSON text as \ufffd, leaving
// an escaped backslash followed by u0000 alone.
func replaceNulEscapes(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) && string(b[i+2:i+6]) == "0000" {
			out = append(out, `\ufffd`...)
			i += 5
			continue
		}
		out = append(out, c, b[i+1]) // any other escape, kept whole
		i++
	}
	return out
}

// timeLayout is how timestamps are written inside jsonb: RFC 3339 in UTC, with the
// microseconds Avro holds (trailing zeros dropped).
const timeLayout = "2006-01-02T15:04:05.999999Z07:00"

// appendJSON appends v, a value of Avro type t in DecodeRow's form, as JSON.
func appendJSON(dst []byte, t *avrocodec.Type, v any) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	switch t.Kind {
	case avrocodec.KindLong:
		if n, ok := v.(int64); ok {
			return strconv.AppendInt(dst, n, 10), nil
		}
	case avrocodec.KindDouble:
		if f, ok := v.(float64); ok {
			return sink.AppendJSONDouble(dst, f), nil
		}
	case avrocodec.KindBoolean:
		if b, ok := v.(bool); ok {
			return strconv.AppendBool(dst, b), nil
		}
	case avrocodec.KindString:
		if s, ok := v.(string); ok {
			return sink.AppendJSONStringNoNUL(dst, s), nil
		}
	case avrocodec.KindJSON:
		if s, ok := v.(string); ok {
			return appendJSONValue(dst, s), nil
		}
	case avrocodec.KindTimestamp:
		if ts, ok := v.(time.Time); ok {
			dst = append(dst, '"')
			dst = ts.UTC().AppendFormat(dst, timeLayout)
			return append(dst, '"'), nil
		}
	case avrocodec.KindRecord:
		if m, ok := v.(map[string]any); ok {
			dst = append(dst, '{')
			for i, f := range t.Fields {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = sink.AppendJSONStringNoNUL(dst, f.Name)
				dst = append(dst, ':')
				var err error
				if dst, err = appendJSON(dst, f.Type, m[f.Name]); err != nil {
					return nil, fmt.Errorf("%s: %w", f.Name, err)
				}
			}
			return append(dst, '}'), nil
		}
	case avrocodec.KindArray:
		if xs, ok := v.([]any); ok {
			dst = append(dst, '[')
			for i, x := range xs {
				if i > 0 {
					dst = append(dst, ',')
				}
				var err error
				if dst, err = appendJSON(dst, t.Items, x); err != nil {
					return nil, fmt.Errorf("[%d]: %w", i, err)
				}
			}
			return append(dst, ']'), nil
		}
	}
	return nil, fmt.Errorf("%T is not a %s value", v, t.Kind)
}

// fromJSON converts a value decoded from stored jsonb (with json.Decoder.UseNumber)
// back into DecodeRow's form for Avro type t (nil: unknown, kept generic with numbers
// as int64 or float64).
func fromJSON(t *shape, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t == nil {
		return generic(v), nil
	}
	switch t.kind {
	case avrocodec.KindLong:
		if n, ok := v.(json.Number); ok {
			return n.Int64()
		}
	case avrocodec.KindDouble:
		switch x := v.(type) {
		case json.Number:
			return x.Float64()
		case string: // NaN and the infinities
			switch x {
			case "NaN":
				return math.NaN(), nil
			case "Infinity":
				return math.Inf(1), nil
			case "-Infinity":
				return math.Inf(-1), nil
			}
		}
	case avrocodec.KindBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case avrocodec.KindString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case avrocodec.KindJSON:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case avrocodec.KindTimestamp:
		if s, ok := v.(string); ok {
			ts, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, err
			}
			return ts.UTC(), nil
		}
	case avrocodec.KindRecord:
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				c, err := fromJSON(t.field(k), x)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				m[k] = c
			}
			return m, nil
		}
	case avrocodec.KindArray:
		if xs, ok := v.([]any); ok {
			for i, x := range xs {
				c, err := fromJSON(t.items, x)
				if err != nil {
					return nil, fmt.Errorf("[%d]: %w", i, err)
				}
				xs[i] = c
			}
			return xs, nil
		}
	}
	return nil, fmt.Errorf("stored %T is not a %s value", v, t.kind)
}

// generic converts JSON of no known type: numbers become int64 when integral, else
// float64.
func generic(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = generic(e)
		}
	case []any:
		for i, e := range x {
			x[i] = generic(e)
		}
	}
	return v
}
