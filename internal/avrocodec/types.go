package avrocodec

import (
	"encoding/json"
	"fmt"
)

// Kind is the logical type of a schema node, as the sinks see it.
type Kind int

// The kinds a Gorgias schema may use. Every other Avro construct is rejected by
// ParseSchema, so sinks can map each Kind to a column type.
const (
	KindLong Kind = iota + 1
	KindDouble
	KindBoolean
	KindString
	// KindTimestamp is a long with logicalType timestamp-micros (UTC).
	KindTimestamp
	// KindJSON is a string field marked `"json": true`: free-form JSON text.
	KindJSON
	KindRecord
	KindArray
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindLong:
		return "long"
	case KindDouble:
		return "double"
	case KindBoolean:
		return "boolean"
	case KindString:
		return "string"
	case KindTimestamp:
		return "timestamp"
	case KindJSON:
		return "json"
	case KindRecord:
		return "record"
	case KindArray:
		return "array"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Type is one node of a parsed schema. Types are immutable after ParseSchema.
type Type struct {
	Kind Kind
	// Nullable is true for a ["null", T] union.
	Nullable bool
	// Name is the full name of a record type.
	Name string
	// Fields are the fields of a record, in schema order.
	Fields []Field
	// Items is the element type of an array (never nullable itself unless declared so).
	Items *Type

	unionName string // goavro's branch name for the non-null member
	fieldIdx  map[string]int
}

// Field is one field of a record type.
type Field struct {
	Name string
	Type *Type
}

// FieldIndex returns the position of the field called name, or -1.
func (t *Type) FieldIndex(name string) int {
	if i, ok := t.fieldIdx[name]; ok {
		return i
	}
	return -1
}

// Field returns the field called name and whether it exists.
func (t *Type) Field(name string) (Field, bool) {
	i, ok := t.fieldIdx[name]
	if !ok {
		return Field{}, false
	}
	return t.Fields[i], true
}

type parser struct {
	named map[string]*Type
}

// parseType turns a schema JSON value into a Type. ns is the enclosing namespace.
func (p *parser) parseType(v any, ns string, jsonText bool) (*Type, error) {
	switch s := v.(type) {
	case string:
		return p.primitive(s, ns, jsonText)
	case []any:
		if len(s) != 2 || s[0] != "null" {
			return nil, fmt.Errorf("unsupported union %v: only [\"null\", T] is allowed", s)
		}
		t, err := p.parseType(s[1], ns, jsonText)
		if err != nil {
			return nil, err
		}
		if t.Nullable {
			return nil, fmt.Errorf("nested nullable union %v", s)
		}
		c := *t
		c.Nullable = true
		return &c, nil
	case map[string]any:
		typ, _ := s["type"].(string)
		switch typ {
		case "record":
			return p.record(s, ns)
		case "array":
			items, err := p.parseType(s["items"], ns, false)
			if err != nil {
				return nil, fmt.Errorf("array items: %w", err)
			}
			return &Type{Kind: KindArray, Items: items, unionName: "array"}, nil
		case "long":
			switch lt, _ := s["logicalType"].(string); lt {
			case "timestamp-micros":
				return &Type{Kind: KindTimestamp, unionName: "long.timestamp-micros"}, nil
			case "":
				return &Type{Kind: KindLong, unionName: "long"}, nil
			default:
				return nil, fmt.Errorf("unsupported logicalType %q", lt)
			}
		case "string", "boolean", "double", "int":
			return p.primitive(typ, ns, jsonText)
		default:
			return nil, fmt.Errorf("unsupported type %v", s["type"])
		}
	}
	return nil, fmt.Errorf("unsupported schema node %T", v)
}

func (p *parser) primitive(s, ns string, jsonText bool) (*Type, error) {
	switch s {
	case "long", "int":
		return &Type{Kind: KindLong, unionName: s}, nil
	case "double":
		return &Type{Kind: KindDouble, unionName: "double"}, nil
	case "boolean":
		return &Type{Kind: KindBoolean, unionName: "boolean"}, nil
	case "string":
		if jsonText {
			return &Type{Kind: KindJSON, unionName: "string"}, nil
		}
		return &Type{Kind: KindString, unionName: "string"}, nil
	}
	full := s
	if ns != "" && !containsDot(s) {
		full = ns + "." + s
	}
	if t, ok := p.named[full]; ok {
		return t, nil
	}
	if t, ok := p.named[s]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("unknown type %q", s)
}

func containsDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
}

func (p *parser) record(s map[string]any, ns string) (*Type, error) {
	name, _ := s["name"].(string)
	if n, ok := s["namespace"].(string); ok {
		ns = n
	}
	full := name
	if ns != "" && !containsDot(name) {
		full = ns + "." + name
	}
	if containsDot(name) {
		ns = name[:lastDot(name)]
	}
	t := &Type{Kind: KindRecord, Name: full, unionName: full, fieldIdx: map[string]int{}}
	p.named[full] = t
	fields, _ := s["fields"].([]any)
	for _, f := range fields {
		fm, ok := f.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %s: bad field %v", full, f)
		}
		fname, _ := fm["name"].(string)
		isJSON, _ := fm["json"].(bool)
		ft, err := p.parseType(fm["type"], ns, isJSON)
		if err != nil {
			return nil, fmt.Errorf("record %s field %s: %w", full, fname, err)
		}
		if isJSON && ft.Kind != KindJSON {
			return nil, fmt.Errorf("record %s field %s: \"json\": true needs a string field", full, fname)
		}
		t.fieldIdx[fname] = len(t.Fields)
		t.Fields = append(t.Fields, Field{Name: fname, Type: ft})
	}
	return t, nil
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

// ParseSchema parses a schema text into its Type tree. It accepts the subset of Avro the
// Gorgias schemas use: records, arrays, long/int, double, boolean, string (optionally
// marked "json": true), timestamp-micros, and ["null", T] unions.
func ParseSchema(text string) (*Type, error) {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return nil, fmt.Errorf("parse schema JSON: %w", err)
	}
	p := parser{named: map[string]*Type{}}
	t, err := p.parseType(v, "", false)
	if err != nil {
		return nil, err
	}
	if t.Kind != KindRecord || t.Nullable {
		return nil, fmt.Errorf("top-level schema must be a record")
	}
	return t, nil
}
