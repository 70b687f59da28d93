package avrocodec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	// AsOf is the latest time the Gorgias server may have had when it answered. Derived
	// versions ignore *_datetime values after it (a scheduled should_send_datetime is not
	// a change until it has passed). Zero means no cap.
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
	// Content is a 64-bit FNV-1a hash of the Avro body without _extracted_at: equal
	// objects (the same fields, whatever their JSON formatting) have equal Content, so
	// snapshots publish an object only when it changed.
	Content uint64
}

// Encoder converts Gorgias JSON objects of one entity into single-object encoded Avro
// records written with the entity's current schema. It transcodes JSON straight to Avro
// binary, guided by the schema, without building intermediate values. It is safe for
// concurrent use.
type Encoder struct {
	entity catalog.Entity
	schema *Schema
	root   *Type
	header [10]byte

	idIdx, sortIdx, versionIdx, domainIdx, extractedIdx, extraIdx int
	// hasSort says the entity's records carry their sort field as a datetime (every
	// mode but Snapshot, when the list has a sort field); sortIdx is -1 otherwise.
	hasSort bool
	// extractedVersion says the version is the extraction time (Snapshot entities).
	extractedVersion bool
}

// NewEncoder builds the encoder of entity from its current embedded schema.
func NewEncoder(e catalog.Entity) (*Encoder, error) {
	text, err := schemas.Current(e.Name)
	if err != nil {
		return nil, err
	}
	return NewEncoderWithSchema(e, text)
}

// NewEncoderWithSchema builds an encoder that writes with the given schema text. The
// schema must hold the entity's id (long), sort and version fields (timestamp-micros),
// _domain (string), _extracted_at (timestamp-micros) and, as its last field, _extra
// (nullable JSON string).
func NewEncoderWithSchema(e catalog.Entity, text string) (*Encoder, error) {
	s, err := newSchema(e.Name, text)
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", e.Name, err)
	}
	enc := &Encoder{entity: e, schema: s, root: s.Root, sortIdx: -1,
		hasSort:          e.SortField != "" && e.Mode != catalog.Snapshot,
		extractedVersion: e.VersionField == catalog.ExtractedField,
	}
	for _, f := range []struct {
		name string
		kind Kind
		idx  *int
	}{
		{catalog.Key, KindLong, &enc.idIdx}, {e.SortField, KindTimestamp, &enc.sortIdx},
		{e.VersionField, KindTimestamp, &enc.versionIdx}, {"_domain", KindString, &enc.domainIdx},
		{catalog.ExtractedField, KindTimestamp, &enc.extractedIdx}, {"_extra", KindJSON, &enc.extraIdx},
	} {
		if f.idx == &enc.sortIdx && !enc.hasSort {
			continue
		}
		i, ok := s.Root.fieldIdx[f.name]
		if !ok || s.Root.Fields[i].Type.Kind != f.kind {
			return nil, fmt.Errorf("schema of %s: field %s must exist with type %s", e.Name, f.name, f.kind)
		}
		*f.idx = i
	}
	for _, i := range []int{enc.idIdx, enc.sortIdx, enc.versionIdx} {
		if i >= 0 && s.Root.Fields[i].Type.Nullable {
			return nil, fmt.Errorf("schema of %s: field %s must not be nullable", e.Name, s.Root.Fields[i].Name)
		}
	}
	if enc.extraIdx != len(s.Root.Fields)-1 || !s.Root.Fields[enc.extraIdx].Type.Nullable {
		return nil, fmt.Errorf("schema of %s: _extra must be the last field, nullable", e.Name)
	}
	enc.header[0], enc.header[1] = 0xC3, 0x01
	binary.LittleEndian.PutUint64(enc.header[2:], s.Fingerprint)
	return enc, nil
}

// Schema returns the writer schema of the encoder.
func (enc *Encoder) Schema() *Schema { return enc.schema }

func (enc *Encoder) reserved(i int) bool {
	return i == enc.domainIdx || i == enc.extractedIdx || i == enc.extraIdx ||
		(enc.entity.DerivedVersion && i == enc.versionIdx)
}

// Encode converts one object. Unknown fields, and values whose JSON type does not match
// a nullable field, are kept in _extra (a JSON object: path → original value, e.g.
// "customer.new_key" or "tags[2]") so nothing is dropped. It fails with
// ErrInvalidObject only when the input is not a JSON object, or its id, sort or version
// field is missing or malformed. The value is appended to buf[:0].
func (enc *Encoder) Encode(raw []byte, m Meta, buf []byte) (Record, error) {
	var (
		rec   Record
		ex    extras
		slots       = make([][]byte, len(enc.root.Fields))
		best  int64 = math.MinInt64
		asOf  int64 = math.MaxInt64
	)
	if !m.AsOf.IsZero() {
		asOf = m.AsOf.UnixMicro()
	}
	err := eachMember(raw, func(key, val []byte) error {
		if i, ok := enc.root.fieldIdx[string(key)]; ok && !enc.reserved(i) {
			slots[i] = val
		} else {
			ex.add(string(key), val)
		}
		if enc.entity.DerivedVersion && bytes.HasSuffix(key, []byte("_datetime")) && string(key) != enc.entity.VersionField {
			if s, ok := jsonString(val); ok {
				if t, err := gorgias.ParseTime(s); err == nil {
					if us := t.UnixMicro(); us <= asOf && us > best {
						best = us
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return rec, fmt.Errorf("%w: %s object: %v", ErrInvalidObject, enc.entity.Name, err)
	}
	idRaw := bytes.TrimSpace(slots[enc.idIdx])
	if idRaw == nil && enc.entity.Single {
		idRaw = []byte(strconv.FormatInt(catalog.SingleKey, 10)) // the account has no id
		slots[enc.idIdx] = idRaw
	}
	id, err := strconv.ParseInt(string(idRaw), 10, 64)
	if err != nil {
		return rec, fmt.Errorf("%w: %s object: id %s is not an integer", ErrInvalidObject, enc.entity.Name, truncate(slots[enc.idIdx]))
	}
	rec.ID = id
	if enc.hasSort {
		if rec.Sort, err = requiredTime(slots[enc.sortIdx]); err != nil {
			return rec, fmt.Errorf("%w: %s object %d: %s %v", ErrInvalidObject, enc.entity.Name, id, enc.entity.SortField, err)
		}
	}
	switch {
	case enc.extractedVersion:
		rec.Version = m.ExtractedAt.UTC().Truncate(time.Microsecond)
	case enc.entity.DerivedVersion:
		rec.Version = rec.Sort
		if best != math.MinInt64 && best > rec.Sort.UnixMicro() {
			rec.Version = time.UnixMicro(best).UTC()
		}
	default:
		if rec.Version, err = requiredTime(slots[enc.versionIdx]); err != nil {
			return rec, fmt.Errorf("%w: %s object %d: %s %v", ErrInvalidObject, enc.entity.Name, id, enc.entity.VersionField, err)
		}
	}

	dst := append(buf[:0], enc.header[:]...)
	var scratch bytes.Buffer
	var extFrom, extTo int // where _extracted_at is in dst
	for i, f := range enc.root.Fields {
		switch i {
		case enc.domainIdx:
			dst = appendString(dst, m.Domain)
		case enc.extractedIdx:
			extFrom = len(dst)
			dst = appendLong(dst, m.ExtractedAt.UnixMicro())
			extTo = len(dst)
		case enc.extraIdx:
			if x := ex.json(); x != "" {
				dst = appendString(append(dst, 2), x)
			} else {
				dst = append(dst, 0)
			}
		default:
			if i == enc.versionIdx && enc.entity.DerivedVersion {
				dst = appendLong(dst, rec.Version.UnixMicro())
				continue
			}
			p := path{name: f.Name}
			if dst, err = encodeValue(dst, f.Type, slots[i], &p, &ex, &scratch); err != nil {
				return rec, fmt.Errorf("%w: %s object %d: %v", ErrInvalidObject, enc.entity.Name, id, err)
			}
		}
	}
	rec.Value = dst
	rec.Content = contentHash(dst[len(enc.header):extFrom], dst[extTo:])
	return rec, nil
}

// contentHash is the FNV-1a hash of the body parts around _extracted_at.
func contentHash(before, after []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(before)
	_, _ = h.Write(after)
	return h.Sum64()
}

func requiredTime(raw []byte) (time.Time, error) {
	s, ok := jsonString(raw)
	if !ok {
		return time.Time{}, fmt.Errorf("is missing or not a string: %s", truncate(raw))
	}
	t, err := gorgias.ParseTime(s)
	if err != nil {
		return time.Time{}, err
	}
	return t.Truncate(time.Microsecond), nil
}

// path locates a value inside the object, rendered only when a value goes to _extra.
type path struct {
	parent *path
	name   string // field name, or "" for an array element
	index  int
}

func (p *path) String() string {
	if p == nil {
		return ""
	}
	if p.name == "" {
		return p.parent.String() + "[" + strconv.Itoa(p.index) + "]"
	}
	if p.parent == nil {
		return p.name
	}
	return p.parent.String() + "." + p.name
}

func isNull(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// encodeValue appends the Avro encoding of raw as type t. raw == nil means absent. For
// a nullable t a mismatch writes null and keeps raw in ex; for other types it returns
// an error (and writes nothing).
func encodeValue(dst []byte, t *Type, raw []byte, p *path, ex *extras, scratch *bytes.Buffer) ([]byte, error) {
	if isNull(raw) {
		if t.Nullable {
			return append(dst, 0), nil
		}
		return dst, fmt.Errorf("field %s is missing or null", p)
	}
	start := len(dst)
	if t.Nullable {
		dst = append(dst, 2) // union branch 1, zig-zag encoded
	}
	out, err := encodeBody(dst, t, raw, p, ex, scratch)
	if err != nil {
		if t.Nullable {
			ex.add(p.String(), raw)
			return append(dst[:start], 0), nil
		}
		return dst[:start], err
	}
	return out, nil
}

func encodeBody(dst []byte, t *Type, raw []byte, p *path, ex *extras, scratch *bytes.Buffer) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	switch t.Kind {
	case KindLong:
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return appendLong(dst, n), nil
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return dst, fmt.Errorf("field %s: %s is not an integer", p, truncate(raw))
		}
		return appendLong(dst, int64(f)), nil
	case KindDouble:
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return dst, fmt.Errorf("field %s: %s is not a number", p, truncate(raw))
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), nil
	case KindBoolean:
		switch string(raw) {
		case "true":
			return append(dst, 1), nil
		case "false":
			return append(dst, 0), nil
		}
		return dst, fmt.Errorf("field %s: %s is not a boolean", p, truncate(raw))
	case KindString:
		switch raw[0] {
		case '"':
			s, ok := jsonString(raw)
			if !ok || !utf8.ValidString(s) {
				return dst, fmt.Errorf("field %s: invalid string", p)
			}
			return appendString(dst, s), nil
		case '{', '[':
			return dst, fmt.Errorf("field %s: expected a string, got %s", p, truncate(raw))
		}
		if !json.Valid(raw) {
			return dst, fmt.Errorf("field %s: invalid literal %s", p, truncate(raw))
		}
		return appendBytes(dst, raw), nil // a number or boolean where a string was documented
	case KindJSON:
		scratch.Reset()
		if err := json.Compact(scratch, raw); err != nil {
			return dst, fmt.Errorf("field %s: %v", p, err)
		}
		return appendBytes(dst, scratch.Bytes()), nil
	case KindTimestamp:
		s, ok := jsonString(raw)
		if !ok {
			return dst, fmt.Errorf("field %s: %s is not a timestamp string", p, truncate(raw))
		}
		ts, err := gorgias.ParseTime(s)
		if err != nil {
			return dst, fmt.Errorf("field %s: %w", p, err)
		}
		return appendLong(dst, ts.UnixMicro()), nil
	case KindRecord:
		var small [16][]byte
		slots := small[:0]
		if len(t.Fields) <= len(small) {
			slots = small[:len(t.Fields)]
		} else {
			slots = make([][]byte, len(t.Fields))
		}
		err := eachMember(raw, func(key, val []byte) error {
			if i, ok := t.fieldIdx[string(key)]; ok {
				slots[i] = val
			} else {
				kp := path{parent: p, name: string(key)}
				ex.add(kp.String(), val)
			}
			return nil
		})
		if err != nil {
			return dst, fmt.Errorf("field %s: expected an object: %v", p, err)
		}
		for i, f := range t.Fields {
			fp := path{parent: p, name: f.Name}
			if dst, err = encodeValue(dst, f.Type, slots[i], &fp, ex, scratch); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case KindArray:
		if raw[0] != '[' {
			return dst, fmt.Errorf("field %s: expected an array, got %s", p, truncate(raw))
		}
		err := eachElement(raw, func(n int, val []byte) error {
			// One block per item (count 1): the item count need not be known up front.
			ip := path{parent: p, index: n}
			mark := len(dst)
			out, err := encodeValue(append(dst, 2), t.Items, val, &ip, ex, scratch)
			if err != nil {
				ex.add(ip.String(), val) // a bad item is kept in _extra, the rest is kept
				dst = dst[:mark]
				return nil
			}
			dst = out
			return nil
		})
		if err != nil {
			return dst, fmt.Errorf("field %s: %v", p, err)
		}
		return append(dst, 0), nil
	}
	return dst, fmt.Errorf("field %s: unsupported kind %s", p, t.Kind)
}

func appendLong(dst []byte, n int64) []byte {
	return binary.AppendUvarint(dst, uint64((n<<1)^(n>>63)))
}

func appendString(dst []byte, s string) []byte {
	return append(appendLong(dst, int64(len(s))), s...)
}

func appendBytes(dst []byte, b []byte) []byte {
	return append(appendLong(dst, int64(len(b))), b...)
}

// extras collects unknown or mismatched values by path.
type extras struct {
	m map[string][]byte
}

func (e *extras) add(path string, raw []byte) {
	if e.m == nil {
		e.m = map[string][]byte{}
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
	var b strings.Builder
	b.WriteByte('{')
	var tmp bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		tmp.Reset()
		if err := json.Compact(&tmp, e.m[k]); err != nil {
			vb, _ := json.Marshal(string(e.m[k])) // not JSON: kept as a string
			b.Write(vb)
		} else {
			b.Write(tmp.Bytes())
		}
	}
	b.WriteByte('}')
	return b.String()
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
