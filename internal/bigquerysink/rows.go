package bigquerysink

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// timeLayout is how TIMESTAMP values are written in load files: RFC 3339 with
// microseconds, which BigQuery's JSON loader accepts.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// appendRow appends version r as one line of newline-delimited JSON: every field of its
// writer schema plus the Kafka columns (the deletion columns load as NULL). Fields of newer schema versions that r lacks are left
// out, so they load as NULL.
func appendRow(b []byte, r sink.Record) ([]byte, error) {
	b = append(b, '{')
	var err error
	for i, f := range r.Schema.Root.Fields {
		v := r.Values[i]
		if v == nil {
			continue
		}
		b = sink.AppendJSONString(b, f.Name)
		b = append(b, ':')
		if b, err = appendValue(b, f.Type, v); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		b = append(b, ',')
	}
	return appendKafka(b, r), nil
}

// appendKafka ends a JSON line with r's Kafka columns.
func appendKafka(b []byte, r sink.Record) []byte {
	b = append(b, `"`+ColPartition+`":`...)
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, `,"`+ColOffset+`":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, `,"`+ColTimestamp+`":"`...)
	b = r.Timestamp.UTC().AppendFormat(b, timeLayout)
	return append(b, '"', '}', '\n')
}

// appendValue appends one value in the form of avrocodec.Registry.DecodeRow as JSON.
func appendValue(b []byte, t *avrocodec.Type, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	switch t.Kind {
	case avrocodec.KindLong:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("want int64, got %T", v)
		}
		return strconv.AppendInt(b, n, 10), nil
	case avrocodec.KindDouble:
		x, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("want float64, got %T", v)
		}
		return sink.AppendJSONDouble(b, x), nil
	case avrocodec.KindBoolean:
		x, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want bool, got %T", v)
		}
		return strconv.AppendBool(b, x), nil
	case avrocodec.KindString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want string, got %T", v)
		}
		return sink.AppendJSONString(b, s), nil
	case avrocodec.KindJSON:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want JSON text, got %T", v)
		}
		if !json.Valid([]byte(s)) {
			return nil, fmt.Errorf("invalid JSON text")
		}
		// A JSON column takes the JSON value itself; compact it onto one line.
		return appendCompactJSON(b, s)
	case avrocodec.KindTimestamp:
		x, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("want time.Time, got %T", v)
		}
		b = append(b, '"')
		b = x.UTC().AppendFormat(b, timeLayout)
		return append(b, '"'), nil
	case avrocodec.KindRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want record, got %T", v)
		}
		b = append(b, '{')
		first := true
		var err error
		for _, f := range t.Fields {
			fv := m[f.Name]
			if fv == nil {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = sink.AppendJSONString(b, f.Name)
			b = append(b, ':')
			if b, err = appendValue(b, f.Type, fv); err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		return append(b, '}'), nil
	case avrocodec.KindArray:
		xs, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want array, got %T", v)
		}
		b = append(b, '[')
		first := true
		var err error
		for _, x := range xs {
			if x == nil {
				continue // BigQuery arrays cannot hold NULL
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			if b, err = appendValue(b, t.Items, x); err != nil {
				return nil, fmt.Errorf("item: %w", err)
			}
		}
		return append(b, ']'), nil
	}
	return nil, fmt.Errorf("unsupported kind %s", t.Kind)
}

// appendCompactJSON appends valid JSON text s without insignificant whitespace (a load
// file line must not contain a newline).
func appendCompactJSON(b []byte, s string) ([]byte, error) {
	inStr, esc := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			b = append(b, c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inStr = true
		}
		b = append(b, c)
	}
	return b, nil
}
