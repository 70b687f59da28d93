package duckdbsink

import (
	"fmt"
	"strings"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
)

// colType is the DuckDB type of a column, as a small tree. It is built from an Avro
// schema (fromAvro) or parsed back from DuckDB's own spelling (parseColType), so the
// types of an existing table can be merged with new schema versions.
type colType struct {
	kind   avrocodec.Kind // 0 for a type the sink does not produce (kept verbatim in base)
	base   string         // SQL name of a scalar type
	fields []colField     // STRUCT fields, in order
	items  *colType       // LIST element type
}

type colField struct {
	name string
	typ  *colType
}

// scalarSQL maps each scalar kind to its DuckDB type.
var scalarSQL = map[avrocodec.Kind]string{
	avrocodec.KindLong:      "BIGINT",
	avrocodec.KindDouble:    "DOUBLE",
	avrocodec.KindBoolean:   "BOOLEAN",
	avrocodec.KindString:    "VARCHAR",
	avrocodec.KindJSON:      "JSON",
	avrocodec.KindTimestamp: "TIMESTAMPTZ",
}

// fromAvro converts a schema node into its column type.
func fromAvro(t *avrocodec.Type) (*colType, error) {
	switch t.Kind {
	case avrocodec.KindRecord:
		c := &colType{kind: avrocodec.KindRecord}
		for _, f := range t.Fields {
			ft, err := fromAvro(f.Type)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			c.fields = append(c.fields, colField{name: f.Name, typ: ft})
		}
		return c, nil
	case avrocodec.KindArray:
		it, err := fromAvro(t.Items)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		return &colType{kind: avrocodec.KindArray, items: it}, nil
	}
	base, ok := scalarSQL[t.Kind]
	if !ok {
		return nil, fmt.Errorf("unsupported kind %s", t.Kind)
	}
	return &colType{kind: t.Kind, base: base}, nil
}

// sql renders the type in DuckDB syntax. With jsonAsText, JSON (at any depth) is
// rendered as VARCHAR, the type used to read JSON back as text.
func (c *colType) sql(jsonAsText bool) string {
	var b strings.Builder
	c.write(&b, jsonAsText)
	return b.String()
}

func (c *colType) write(b *strings.Builder, jsonAsText bool) {
	switch c.kind {
	case avrocodec.KindRecord:
		b.WriteString("STRUCT(")
		for i, f := range c.fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(f.name))
			b.WriteByte(' ')
			f.typ.write(b, jsonAsText)
		}
		b.WriteByte(')')
	case avrocodec.KindArray:
		c.items.write(b, jsonAsText)
		b.WriteString("[]")
	case avrocodec.KindJSON:
		if jsonAsText {
			b.WriteString("VARCHAR")
		} else {
			b.WriteString("JSON")
		}
	default:
		b.WriteString(c.base)
	}
}

// hasJSON reports whether the type holds JSON at any depth.
func (c *colType) hasJSON() bool {
	switch c.kind {
	case avrocodec.KindJSON:
		return true
	case avrocodec.KindRecord:
		for _, f := range c.fields {
			if f.typ.hasJSON() {
				return true
			}
		}
	case avrocodec.KindArray:
		return c.items.hasJSON()
	}
	return false
}

// mergeTypes returns the type that holds values of both have and want: records get the
// union of their fields (have's order first, want's new fields inserted after their
// predecessor). Any other difference is an error, because a released schema only adds
// nullable fields. A type the sink does not know (have.kind == 0) is kept as is.
func mergeTypes(have, want *colType) (*colType, error) {
	if have.kind == 0 {
		return have, nil
	}
	if have.kind != want.kind {
		return nil, fmt.Errorf("type changes from %s to %s", have.sql(false), want.sql(false))
	}
	switch have.kind {
	case avrocodec.KindArray:
		it, err := mergeTypes(have.items, want.items)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		if it == have.items {
			return have, nil
		}
		return &colType{kind: avrocodec.KindArray, items: it}, nil
	case avrocodec.KindRecord:
		fields, changed, err := mergeFields(have.fields, want.fields)
		if err != nil {
			return nil, err
		}
		if !changed {
			return have, nil
		}
		return &colType{kind: avrocodec.KindRecord, fields: fields}, nil
	}
	return have, nil
}

// mergeFields merges two field lists (see mergeTypes) and reports whether the result
// differs from have.
func mergeFields(have, want []colField) ([]colField, bool, error) {
	out := append([]colField(nil), have...)
	changed := false
	idx := func(name string) int {
		for i, f := range out {
			if f.name == name {
				return i
			}
		}
		return -1
	}
	after := -1 // position in out of want's previous field
	for _, w := range want {
		i := idx(w.name)
		if i < 0 {
			at := len(out)
			if after >= 0 {
				at = after + 1
			}
			out = append(out[:at], append([]colField{w}, out[at:]...)...)
			after = at
			changed = true
			continue
		}
		m, err := mergeTypes(out[i].typ, w.typ)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", w.name, err)
		}
		if m != out[i].typ {
			out[i] = colField{name: w.name, typ: m}
			changed = true
		}
		after = i
	}
	return out, changed, nil
}

// equalTypes reports whether two types render identically.
func equalTypes(a, b *colType) bool { return a.sql(false) == b.sql(false) }

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteString quotes an SQL string literal.
func quoteString(s string) string {
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}

// parseColType parses DuckDB's spelling of a column type (duckdb_columns().data_type),
// e.g. `STRUCT(id BIGINT, "from" VARCHAR)[]`. Scalar types the sink does not produce
// are kept verbatim with kind 0.
func parseColType(s string) (*colType, error) {
	p := typeParser{s: s}
	t, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("parse type %q: %w", s, err)
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("parse type %q: trailing %q", s, p.s[p.i:])
	}
	return t, nil
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *typeParser) parse() (*colType, error) {
	p.space()
	var t *colType
	if strings.HasPrefix(p.s[p.i:], "STRUCT(") {
		p.i += len("STRUCT(")
		t = &colType{kind: avrocodec.KindRecord}
		for {
			p.space()
			name, err := p.ident()
			if err != nil {
				return nil, err
			}
			ft, err := p.parse()
			if err != nil {
				return nil, err
			}
			t.fields = append(t.fields, colField{name: name, typ: ft})
			p.space()
			if p.i >= len(p.s) {
				return nil, fmt.Errorf("unterminated STRUCT")
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.s[p.i] != ',' {
				return nil, fmt.Errorf("unexpected %q in STRUCT", p.s[p.i])
			}
			p.i++
		}
	} else {
		// A scalar: everything up to the next ',', ')' or '[' at depth 0.
		start, depth := p.i, 0
		for p.i < len(p.s) {
			c := p.s[p.i]
			if c == '(' {
				depth++
			} else if c == ')' {
				if depth == 0 {
					break
				}
				depth--
			} else if (c == ',' || c == '[') && depth == 0 {
				break
			}
			p.i++
		}
		base := strings.TrimSpace(p.s[start:p.i])
		if base == "" {
			return nil, fmt.Errorf("empty type at %d", start)
		}
		t = scalarFromSQL(base)
	}
	for strings.HasPrefix(p.s[p.i:], "[]") {
		p.i += 2
		t = &colType{kind: avrocodec.KindArray, items: t}
	}
	return t, nil
}

// scalarFromSQL maps DuckDB's name of a scalar type to a colType.
func scalarFromSQL(base string) *colType {
	switch base {
	case "BIGINT", "INT8", "LONG":
		return &colType{kind: avrocodec.KindLong, base: "BIGINT"}
	case "DOUBLE", "FLOAT8":
		return &colType{kind: avrocodec.KindDouble, base: "DOUBLE"}
	case "BOOLEAN", "BOOL":
		return &colType{kind: avrocodec.KindBoolean, base: "BOOLEAN"}
	case "VARCHAR", "STRING", "TEXT":
		return &colType{kind: avrocodec.KindString, base: "VARCHAR"}
	case "JSON":
		return &colType{kind: avrocodec.KindJSON, base: "JSON"}
	case "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ":
		return &colType{kind: avrocodec.KindTimestamp, base: "TIMESTAMPTZ"}
	}
	return &colType{base: base}
}

func (p *typeParser) ident() (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		p.i++
		for p.i < len(p.s) {
			c := p.s[p.i]
			p.i++
			if c == '"' {
				if p.i < len(p.s) && p.s[p.i] == '"' {
					b.WriteByte('"')
					p.i++
					continue
				}
				return b.String(), nil
			}
			b.WriteByte(c)
		}
		return "", fmt.Errorf("unterminated quoted identifier")
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' {
		p.i++
	}
	if start == p.i {
		return "", fmt.Errorf("missing field name at %d", start)
	}
	return p.s[start:p.i], nil
}
