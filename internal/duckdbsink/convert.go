package duckdbsink

import (
	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
)

// converter adapts a value decoded with an older schema to a column whose type gained
// nested fields since: the appender needs every STRUCT field present in the map.
type converter func(v any) any

// converterFor returns the converter from values of src (a record's field type) to
// values of the column type col, or nil when values can be appended unchanged.
func converterFor(col *colType, src *avrocodec.Type) converter {
	switch col.kind {
	case avrocodec.KindRecord:
		if src.Kind != avrocodec.KindRecord {
			return nil
		}
		type sub struct {
			name    string
			present bool
			conv    converter
		}
		subs := make([]sub, len(col.fields))
		needed := false
		for i, f := range col.fields {
			sf, ok := src.Field(f.name)
			subs[i] = sub{name: f.name, present: ok}
			if !ok {
				needed = true
				continue
			}
			if c := converterFor(f.typ, sf.Type); c != nil {
				subs[i].conv = c
				needed = true
			}
		}
		if !needed {
			return nil
		}
		return func(v any) any {
			m, ok := v.(map[string]any)
			if !ok {
				return v
			}
			out := make(map[string]any, len(subs))
			for _, s := range subs {
				x := m[s.name]
				if s.conv != nil && x != nil {
					x = s.conv(x)
				}
				out[s.name] = x
			}
			return out
		}
	case avrocodec.KindArray:
		if src.Kind != avrocodec.KindArray {
			return nil
		}
		c := converterFor(col.items, src.Items)
		if c == nil {
			return nil
		}
		return func(v any) any {
			xs, ok := v.([]any)
			if !ok {
				return v
			}
			out := make([]any, len(xs))
			for i, x := range xs {
				if x != nil {
					x = c(x)
				}
				out[i] = x
			}
			return out
		}
	}
	return nil
}
