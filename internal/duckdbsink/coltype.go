package duckdbsink

import (
	"fmt"
	"strconv"
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
// e.g. `STRUCT(id BIGINT, "from" VARCHAR)[]`. Types the sink does not produce (other
// scalars, fixed-size arrays) are kept verbatim with kind 0.
func parseColType(s string) (*colType, error) {
	ct, err := ParseColumnType(s)
	if err != nil {
		return nil, err
	}
	return toColType(ct), nil
}

// toColType converts a parsed DuckDB type into the sink's colType.
func toColType(ct *ColumnType) *colType {
	switch {
	case ct.Elem != nil && ct.Size == 0:
		return &colType{kind: avrocodec.KindArray, items: toColType(ct.Elem)}
	case ct.Elem != nil:
		return &colType{base: ct.String()}
	case ct.Fields != nil:
		t := &colType{kind: avrocodec.KindRecord}
		for _, f := range ct.Fields {
			t.fields = append(t.fields, colField{name: f.Name, typ: toColType(f.Type)})
		}
		return t
	}
	return scalarFromSQL(ct.Name)
}

// ColumnType is a DuckDB type as DuckDB spells it, parsed into a tree by
// ParseColumnType. Exactly one of these describes it:
//
//   - Elem: a LIST (T[], Size 0) or a fixed-size ARRAY (T[n], Size n) of Elem;
//   - Fields: a STRUCT (Name is "STRUCT");
//   - Name alone: any other type, spelled as DuckDB does, parameters included
//     ("BIGINT", "TIMESTAMP WITH TIME ZONE", "DECIMAL(18,3)", "MAP(VARCHAR, BIGINT)").
type ColumnType struct {
	Name   string
	Fields []ColumnField
	Elem   *ColumnType
	Size   int
}

// ColumnField is one field of a STRUCT.
type ColumnField struct {
	Name string
	Type *ColumnType
}

// String renders t in DuckDB syntax (field names quoted).
func (t *ColumnType) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *ColumnType) write(b *strings.Builder) {
	switch {
	case t.Elem != nil:
		t.Elem.write(b)
		if t.Size > 0 {
			fmt.Fprintf(b, "[%d]", t.Size)
		} else {
			b.WriteString("[]")
		}
	case t.Fields != nil:
		b.WriteString("STRUCT(")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(f.Name))
			b.WriteByte(' ')
			f.Type.write(b)
		}
		b.WriteByte(')')
	default:
		b.WriteString(t.Name)
	}
}

// ParseColumnType parses DuckDB's spelling of a type: duckdb_columns().data_type, or
// the DuckDB driver's database/sql ColumnType.DatabaseTypeName (which quotes every
// STRUCT field name), e.g. `STRUCT("id" BIGINT, tags VARCHAR[])[]` or `INTEGER[3]`.
// It splits STRUCTs, LISTs and fixed-size ARRAYs down to their scalars and leaves the
// scalars as spelled; what they mean is the caller's business. It is the one parser of
// DuckDB type strings in the project: the DuckDB sink reads its tables' columns with it,
// and the BigQuery fake (bqfake) maps its query results' columns to BigQuery fields
// with it.
func ParseColumnType(s string) (*ColumnType, error) {
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

// typeParser reads DuckDB type strings for ParseColumnType.
type typeParser struct {
	s string
	i int
}

func (p *typeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *typeParser) parse() (*ColumnType, error) {
	p.space()
	var t *ColumnType
	if len(p.s)-p.i >= len("STRUCT(") && strings.EqualFold(p.s[p.i:p.i+len("STRUCT(")], "STRUCT(") {
		p.i += len("STRUCT(")
		t = &ColumnType{Name: "STRUCT", Fields: []ColumnField{}}
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
			t.Fields = append(t.Fields, ColumnField{Name: name, Type: ft})
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
		// A scalar: everything up to the next ',', ')' or '[' at depth 0. Quoted
		// parts (ENUM('a)'), UNION("x,y" INTEGER)) are skipped whole.
		start, depth := p.i, 0
	scan:
		for p.i < len(p.s) {
			switch c := p.s[p.i]; {
			case c == '\'' || c == '"':
				if err := p.skipQuoted(c); err != nil {
					return nil, err
				}
				continue
			case c == '(':
				depth++
			case c == ')':
				if depth == 0 {
					break scan
				}
				depth--
			case (c == ',' || c == '[') && depth == 0:
				break scan
			}
			p.i++
		}
		name := strings.TrimSpace(p.s[start:p.i])
		if name == "" {
			return nil, fmt.Errorf("empty type at %d", start)
		}
		t = &ColumnType{Name: name}
	}
	for p.i < len(p.s) && p.s[p.i] == '[' {
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			return nil, fmt.Errorf("unterminated [ at %d", p.i)
		}
		size := 0
		if n := p.s[p.i+1 : p.i+end]; n != "" {
			var err error
			if size, err = strconv.Atoi(n); err != nil || size <= 0 {
				return nil, fmt.Errorf("bad array size %q at %d", n, p.i)
			}
		}
		p.i += end + 1
		t = &ColumnType{Elem: t, Size: size}
	}
	return t, nil
}

// skipQuoted moves past a string quoted with q (a doubled q stands for itself).
func (p *typeParser) skipQuoted(q byte) error {
	start := p.i
	for p.i++; p.i < len(p.s); p.i++ {
		if p.s[p.i] != q {
			continue
		}
		if p.i+1 < len(p.s) && p.s[p.i+1] == q {
			p.i++
			continue
		}
		p.i++
		return nil
	}
	return fmt.Errorf("unterminated quote at %d", start)
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
