package avrocodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// DecodeRow decodes a single-object encoded value with its exact writer schema into one
// value per top-level field (in schema order), the form sinks consume:
//
//   - null is nil, union values are unwrapped;
//   - long → int64, double → float64, boolean → bool, string and JSON text → string;
//   - timestamp → time.Time in UTC;
//   - a nested record → map[string]any (same rules), an array → []any.
//
// It is several times faster than Decode (no goavro maps). It fails like Decode.
func (r *Registry) DecodeRow(value []byte) (*Schema, []any, error) {
	fp, err := Fingerprint(value)
	if err != nil {
		return nil, nil, err
	}
	s, ok := r.Lookup(fp)
	if !ok {
		return nil, nil, fmt.Errorf("%w %016x", ErrUnknownSchema, fp)
	}
	row, err := r.DecodeRowBody(s, value[10:])
	if err != nil {
		return nil, nil, err
	}
	return s, row, nil
}

// DecodeRowBody decodes an Avro binary body (a value without its single-object or
// Confluent header) written with schema s, into one value per top-level field of s, as
// DecodeRow does. It fails with ErrCorruptRecord when the body does not decode with s
// or leaves bytes over. s need not be registered in r.
func (r *Registry) DecodeRowBody(s *Schema, body []byte) ([]any, error) {
	d := decoder{b: body}
	row := make([]any, len(s.Root.Fields))
	for i, f := range s.Root.Fields {
		row[i] = d.value(f.Type)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: %s schema %016x: %v", ErrCorruptRecord, s.Entity, s.Fingerprint, d.err)
	}
	return row, nil
}

var errShort = errors.New("short buffer")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) long() int64 {
	if d.err != nil {
		return 0
	}
	u, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) bytes() []byte {
	n := d.long()
	if d.err != nil {
		return nil
	}
	if n < 0 || n > int64(len(d.b)) {
		d.err = errShort
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) value(t *Type) any {
	if t.Nullable {
		switch d.long() {
		case 0:
			return nil
		case 1:
		default:
			if d.err == nil {
				d.err = errors.New("bad union branch")
			}
			return nil
		}
	}
	if d.err != nil {
		return nil
	}
	switch t.Kind {
	case KindLong:
		return d.long()
	case KindTimestamp:
		us := d.long()
		return time.UnixMicro(us).UTC()
	case KindDouble:
		if len(d.b) < 8 {
			d.err = errShort
			return nil
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		return v
	case KindBoolean:
		if len(d.b) < 1 {
			d.err = errShort
			return nil
		}
		v := d.b[0] != 0
		d.b = d.b[1:]
		return v
	case KindString, KindJSON:
		return string(d.bytes())
	case KindRecord:
		m := make(map[string]any, len(t.Fields))
		for _, f := range t.Fields {
			m[f.Name] = d.value(f.Type)
		}
		return m
	case KindArray:
		var out []any
		for {
			n := d.long()
			if d.err != nil {
				return nil
			}
			if n == 0 {
				break
			}
			if n < 0 { // a block with its byte size
				n = -n
				d.long()
			}
			if n > int64(len(d.b)) {
				d.err = errShort
				return nil
			}
			for i := int64(0); i < n; i++ {
				out = append(out, d.value(t.Items))
			}
		}
		if out == nil {
			out = []any{}
		}
		return out
	}
	d.err = fmt.Errorf("unsupported kind %s", t.Kind)
	return nil
}
