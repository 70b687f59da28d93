package avrocodec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linkedin/goavro/v2"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/schemas"
)

// Meta is the extraction context stamped on every record of one page.
type Meta struct {
	// Domain is the Gorgias account (written to _domain).
	Domain string
	// ExtractedAt is written to _extracted_at.
	ExtractedAt time.Time
	// AsOf is the Gorgias server time of the response. Derived versions ignore
	// *_datetime values after it (a scheduled should_send_datetime is not a change until
	// it has passed). Zero means no cap.
	AsOf time.Time
}

// Record is one Gorgias object converted to an Avro record.
type Record struct {
	// ID is the object's id, the Kafka key.
	ID int64
	// Sort is the value of the entity's sort field.
	Sort time.Time
	// Version is the value of the entity's version field (derived if the entity says so).
	Version time.Time
	// Value is the single-object encoded Avro record (C3 01, fingerprint, body).
	Value []byte
}

// Encoder converts Gorgias JSON objects of one entity into single-object encoded Avro
// records written with the entity's current schema. It is safe for concurrent use.
type Encoder struct {
	entity catalog.Entity
	schema *Schema
	root   *Type
}

// NewEncoder builds the encoder of entity from its current embedded schema.
func NewEncoder(e catalog.Entity) (*Encoder, error) {
	text, err := schemas.Current(e.Name)
	if err != nil {
		return nil, err
	}
	return NewEncoderWithSchema(e, text)
}

// NewEncoderWithSchema builds an encoder that writes with the given schema text, which
// must contain the entity's id, sort and version fields and the _domain, _extracted_at
// and _extra fields.
func NewEncoderWithSchema(e catalog.Entity, text string) (*Encoder, error) {
	s, err := newSchema(e.Name, text)
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", e.Name, err)
	}
	for _, f := range []struct {
		name string
		kind Kind
	}{{catalog.Key, KindLong}, {e.SortField, KindTimestamp}, {e.VersionField, KindTimestamp},
		{"_domain", KindString}, {"_extracted_at", KindTimestamp}, {"_extra", KindJSON}} {
		fd, ok := s.Root.Field(f.name)
		if !ok || fd.Type.Kind != f.kind {
			return nil, fmt.Errorf("schema of %s: field %s must exist with type %s", e.Name, f.name, f.kind)
		}
	}
	return &Encoder{entity: e, schema: s, root: s.Root}, nil
}

// Schema returns the writer schema of the encoder.
func (enc *Encoder) Schema() *Schema { return enc.schema }

// Encode converts one object. Unknown fields, and values whose JSON type does not match
// a nullable field, are kept in _extra (JSON: path → original value) so nothing is
// dropped. It fails with ErrInvalidObject only when the object is not a JSON object or
// its id, sort or version field is missing or malformed. buf is reused for the value
// when it has capacity.
func (enc *Encoder) Encode(raw []byte, m Meta, buf []byte) (Record, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Record{}, fmt.Errorf("%w: %s object: %v", ErrInvalidObject, enc.entity.Name, err)
	}
	var ex extras
	native := make(map[string]any, len(enc.root.Fields))
	var rec Record
	for _, f := range enc.root.Fields {
		switch f.Name {
		case "_domain":
			native[f.Name] = m.Domain
			continue
		case "_extracted_at":
			native[f.Name] = m.ExtractedAt.UTC()
			continue
		case "_extra":
			continue
		}
		if enc.entity.DerivedVersion && f.Name == enc.entity.VersionField {
			if v, ok := obj[f.Name]; ok && !isNull(v) {
				ex.add(f.Name, v) // the API sent it: keep its value, the derived one wins
			}
			continue
		}
		v, err := convert(f.Type, obj[f.Name], f.Name, &ex)
		if err != nil {
			if f.Name == catalog.Key || f.Name == enc.entity.SortField || f.Name == enc.entity.VersionField || !f.Type.Nullable {
				return Record{}, fmt.Errorf("%w: %s object %s: %v", ErrInvalidObject, enc.entity.Name, idOf(obj), err)
			}
		}
		native[f.Name] = v
	}
	for k, v := range obj {
		if _, ok := enc.root.Field(k); !ok || k == "_domain" || k == "_extracted_at" || k == "_extra" {
			ex.add(k, v)
		}
	}
	rec.ID = native[catalog.Key].(int64)
	rec.Sort = unwrapTime(native[enc.entity.SortField])
	if enc.entity.DerivedVersion {
		rec.Version = derivedVersion(obj, rec.Sort, m.AsOf)
		native[enc.entity.VersionField] = rec.Version
	} else {
		rec.Version = unwrapTime(native[enc.entity.VersionField])
	}
	if rec.Sort.IsZero() || rec.Version.IsZero() {
		return Record{}, fmt.Errorf("%w: %s object %d: missing %s or %s", ErrInvalidObject, enc.entity.Name, rec.ID, enc.entity.SortField, enc.entity.VersionField)
	}
	if x := ex.json(); x != "" {
		native["_extra"] = goavro.Union("string", x)
	} else {
		native["_extra"] = nil
	}
	out, err := enc.schema.codec.SingleFromNative(buf[:0], native)
	if err != nil {
		return Record{}, fmt.Errorf("encode %s object %d: %w", enc.entity.Name, rec.ID, err)
	}
	rec.Value = out
	return rec, nil
}

func idOf(obj map[string]json.RawMessage) string {
	if v, ok := obj["id"]; ok {
		s := string(v)
		if len(s) > 40 {
			s = s[:40]
		}
		return "id=" + s
	}
	return "without id"
}

func unwrapTime(v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x
	case map[string]any:
		for _, y := range x {
			if t, ok := y.(time.Time); ok {
				return t
			}
		}
	}
	return time.Time{}
}

// derivedVersion is the latest *_datetime value of obj that is not after asOf (when set).
// If every value is after asOf, the sort value is used.
func derivedVersion(obj map[string]json.RawMessage, sortVal, asOf time.Time) time.Time {
	var best time.Time
	for k, raw := range obj {
		if !strings.HasSuffix(k, "_datetime") || k == "updated_datetime" || isNull(raw) {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			continue
		}
		t, err := gorgias.ParseTime(s)
		if err != nil {
			continue
		}
		t = t.Truncate(time.Microsecond)
		if !asOf.IsZero() && t.After(asOf) {
			continue
		}
		if t.After(best) {
			best = t
		}
	}
	if best.IsZero() || best.Before(sortVal) {
		return sortVal
	}
	return best
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// extras collects unknown or mismatched values by path.
type extras struct {
	m map[string]json.RawMessage
}

func (e *extras) add(path string, raw json.RawMessage) {
	if e.m == nil {
		e.m = map[string]json.RawMessage{}
	}
	e.m[path] = raw
}

func (e *extras) json() string {
	if len(e.m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(e.m))
	for k := range e.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		if err := json.Compact(&b, e.m[k]); err != nil {
			vb, _ := json.Marshal(string(e.m[k]))
			b.Write(vb)
		}
	}
	b.WriteByte('}')
	return b.String()
}

// convert turns one JSON value into goavro's native form for t. A mismatch on a nullable
// type yields nil, records the original value in ex under path and returns an error that
// callers may ignore for optional fields.
func convert(t *Type, raw json.RawMessage, path string, ex *extras) (any, error) {
	if isNull(raw) {
		if t.Nullable {
			return nil, nil
		}
		return nil, fmt.Errorf("field %s is missing or null", path)
	}
	v, err := convertValue(t, raw, path, ex)
	if err != nil {
		ex.add(path, raw)
		if t.Nullable {
			return nil, err
		}
		return zeroOf(t), err
	}
	if t.Nullable {
		return goavro.Union(t.unionName, v), nil
	}
	return v, nil
}

func zeroOf(t *Type) any {
	switch t.Kind {
	case KindLong:
		return int64(0)
	case KindDouble:
		return float64(0)
	case KindBoolean:
		return false
	case KindString, KindJSON:
		return ""
	case KindTimestamp:
		return time.Unix(0, 0).UTC()
	case KindArray:
		return []any{}
	}
	return nil
}

func convertValue(t *Type, raw json.RawMessage, path string, ex *extras) (any, error) {
	raw = bytes.TrimSpace(raw)
	switch t.Kind {
	case KindLong:
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || f != float64(int64(f)) {
			return nil, fmt.Errorf("field %s: %s is not an integer", path, truncate(raw))
		}
		return int64(f), nil
	case KindDouble:
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return nil, fmt.Errorf("field %s: %s is not a number", path, truncate(raw))
		}
		return f, nil
	case KindBoolean:
		switch string(raw) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("field %s: %s is not a boolean", path, truncate(raw))
	case KindString:
		if raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("field %s: %v", path, err)
			}
			return s, nil
		}
		if raw[0] == '{' || raw[0] == '[' {
			return nil, fmt.Errorf("field %s: expected a string, got %s", path, truncate(raw))
		}
		return string(raw), nil // a number or boolean where a string was documented
	case KindJSON:
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, fmt.Errorf("field %s: %v", path, err)
		}
		return b.String(), nil
	case KindTimestamp:
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return nil, fmt.Errorf("field %s: %s is not a timestamp string", path, truncate(raw))
		}
		ts, err := gorgias.ParseTime(s)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", path, err)
		}
		return ts.Truncate(time.Microsecond), nil
	case KindRecord:
		var obj map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
			return nil, fmt.Errorf("field %s: expected an object, got %s", path, truncate(raw))
		}
		out := make(map[string]any, len(t.Fields))
		for _, f := range t.Fields {
			v, err := convert(f.Type, obj[f.Name], path+"."+f.Name, ex)
			if err != nil && !f.Type.Nullable {
				return nil, err
			}
			out[f.Name] = v
		}
		for k, v := range obj {
			if _, ok := t.Field(k); !ok {
				ex.add(path+"."+k, v)
			}
		}
		return out, nil
	case KindArray:
		var items []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
			return nil, fmt.Errorf("field %s: expected an array, got %s", path, truncate(raw))
		}
		out := make([]any, 0, len(items))
		for i, it := range items {
			v, err := convert(t.Items, it, path+"["+strconv.Itoa(i)+"]", ex)
			if err != nil && !t.Items.Nullable {
				continue // kept in _extra under its path
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("field %s: unsupported kind %s", path, t.Kind)
}

func truncate(raw []byte) string {
	const max = 60
	if len(raw) <= max {
		return string(raw)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(raw[cut]) {
		cut--
	}
	return string(raw[:cut]) + "…"
}
