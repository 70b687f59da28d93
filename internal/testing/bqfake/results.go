package bqfake

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	bq "google.golang.org/api/bigquery/v2"
)

// resultSet is the materialized result of a query.
type resultSet struct {
	fields []*bq.TableFieldSchema
	rows   [][]any // DuckDB values
}

// encode renders rows [start, start+n) in BigQuery's wire format.
func (r *resultSet) encode(start, n int, int64ts bool) []*bq.TableRow {
	out := make([]*bq.TableRow, 0, n)
	for _, row := range r.rows[start : start+n] {
		out = append(out, encodeRow(row, r.fields, int64ts))
	}
	return out
}

func encodeRow(row []any, fields []*bq.TableFieldSchema, int64ts bool) *bq.TableRow {
	cells := make([]*bq.TableCell, len(fields))
	for i, f := range fields {
		cells[i] = &bq.TableCell{V: encodeValue(row[i], f, int64ts)}
	}
	return &bq.TableRow{F: cells}
}

// encodeValue renders one value as BigQuery does: scalars as strings, RECORDs as
// {"f":[{"v":…}]}, REPEATED as [{"v":…}], NULL as null.
func encodeValue(v any, f *bq.TableFieldSchema, int64ts bool) any {
	if normMode(f.Mode) == "REPEATED" {
		el := *f
		el.Mode = "NULLABLE"
		list, _ := v.([]any)
		out := make([]any, 0, len(list))
		for _, x := range list {
			out = append(out, map[string]any{"v": encodeValue(x, &el, int64ts)})
		}
		return out
	}
	if v == nil {
		return nil
	}
	switch normType(f.Type) {
	case "RECORD":
		m, _ := v.(map[string]any)
		cells := make([]any, len(f.Fields))
		for i, sf := range f.Fields {
			x, ok := m[sf.Name]
			if !ok {
				for k, y := range m {
					if strings.EqualFold(k, sf.Name) {
						x = y
					}
				}
			}
			cells[i] = map[string]any{"v": encodeValue(x, sf, int64ts)}
		}
		return map[string]any{"f": cells}
	case "TIMESTAMP":
		if t, ok := v.(time.Time); ok {
			us := t.UnixMicro()
			if int64ts {
				return strconv.FormatInt(us, 10)
			}
			return strconv.FormatFloat(float64(us)/1e6, 'E', -1, 64)
		}
	case "DATETIME":
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format("2006-01-02T15:04:05.999999")
		}
	case "DATE":
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format("2006-01-02")
		}
	case "TIME":
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format("15:04:05.999999")
		}
	case "BYTES":
		if b, ok := v.([]byte); ok {
			return base64.StdEncoding.EncodeToString(b)
		}
	case "BOOLEAN":
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b)
		}
	case "FLOAT":
		var x float64
		switch n := v.(type) {
		case float64:
			x = n
		case float32:
			x = float64(n)
		default:
			return fmt.Sprint(v)
		}
		switch {
		case math.IsNaN(x):
			return "NaN"
		case math.IsInf(x, 1):
			return "Infinity"
		case math.IsInf(x, -1):
			return "-Infinity"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case "JSON", "STRING":
		switch x := v.(type) {
		case string:
			return x
		case []byte:
			return string(x)
		case map[string]any, []any, float64, bool:
			b, _ := json.Marshal(x)
			return string(b)
		}
	case "INTERVAL":
		if iv, ok := v.(duckdb.Interval); ok {
			us := iv.Micros
			sign := ""
			if us < 0 {
				sign, us = "-", -us
			}
			return fmt.Sprintf("%d-%d %d %s%d:%d:%d.%06d", iv.Months/12, iv.Months%12, iv.Days, sign,
				us/3_600_000_000, us/60_000_000%60, us/1_000_000%60, us%1_000_000)
		}
	}
	switch x := v.(type) {
	case duckdb.Decimal:
		return x.String()
	case *big.Int:
		return x.String()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	return fmt.Sprint(v)
}

// duckField converts a DuckDB column type name into a BigQuery field.
func duckField(name, typ string) *bq.TableFieldSchema {
	p := &typeParser{s: typ}
	f := p.parse()
	f.Name = name
	return f
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *typeParser) skipSpace() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// parse reads one DuckDB type and returns the BigQuery field (without name).
func (p *typeParser) parse() *bq.TableFieldSchema {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) && strings.IndexByte(",()[]", p.s[p.i]) < 0 {
		p.i++
	}
	base := strings.ToUpper(strings.TrimSpace(p.s[start:p.i]))
	f := &bq.TableFieldSchema{}
	if p.peek() == '(' {
		p.i++
		if base == "STRUCT" {
			for {
				p.skipSpace()
				name := p.name()
				sub := p.parse()
				sub.Name = name
				f.Fields = append(f.Fields, sub)
				p.skipSpace()
				if p.peek() == ',' {
					p.i++
					continue
				}
				break
			}
			p.i++ // ')'
		} else {
			depth := 1
			for p.i < len(p.s) && depth > 0 {
				switch p.s[p.i] {
				case '(':
					depth++
				case ')':
					depth--
				}
				p.i++
			}
		}
	}
	switch {
	case base == "STRUCT":
		f.Type = "RECORD"
	case base == "BOOLEAN":
		f.Type = "BOOLEAN"
	case base == "TINYINT" || base == "SMALLINT" || base == "INTEGER" || base == "BIGINT" || base == "HUGEINT" ||
		base == "UTINYINT" || base == "USMALLINT" || base == "UINTEGER" || base == "UBIGINT" || base == "UHUGEINT" || base == `"NULL"` || base == "NULL":
		f.Type = "INTEGER"
	case base == "FLOAT" || base == "DOUBLE":
		f.Type = "FLOAT"
	case base == "DECIMAL":
		f.Type = "NUMERIC"
	case base == "BLOB":
		f.Type = "BYTES"
	case base == "DATE":
		f.Type = "DATE"
	case base == "TIMESTAMP" || base == "TIMESTAMP_S" || base == "TIMESTAMP_MS" || base == "TIMESTAMP_NS":
		f.Type = "DATETIME"
	case base == "TIMESTAMPTZ" || base == "TIMESTAMP WITH TIME ZONE":
		f.Type = "TIMESTAMP"
	case base == "TIME":
		f.Type = "TIME"
	case base == "INTERVAL":
		f.Type = "INTERVAL"
	case base == "JSON":
		f.Type = "JSON"
	case base == "UUID":
		f.Type, f.Description = "STRING", "uuid"
	default:
		f.Type = "STRING"
	}
	for p.peek() == '[' {
		for p.i < len(p.s) && p.s[p.i] != ']' {
			p.i++
		}
		p.i++
		if f.Mode == "REPEATED" {
			// lists of lists have no BigQuery type: render elements as JSON text
			f = &bq.TableFieldSchema{Type: "STRING", Mode: "REPEATED"}
			continue
		}
		f.Mode = "REPEATED"
	}
	return f
}

func (p *typeParser) name() string {
	if p.peek() == '"' {
		var b strings.Builder
		p.i++
		for p.i < len(p.s) {
			c := p.s[p.i]
			p.i++
			if c == '"' {
				if p.peek() == '"' {
					b.WriteByte('"')
					p.i++
					continue
				}
				break
			}
			b.WriteByte(c)
		}
		return b.String()
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' {
		p.i++
	}
	return p.s[start:p.i]
}

// collect runs the final SELECT of a script and materializes its rows. Top-level JSON
// columns are read back as text so that numbers and key order survive.
func (s *Server) collect(ctx context.Context, c *sql.Conn, q string) (*resultSet, error) {
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, err
	}
	var jsonCols []string
	names := map[string]bool{}
	dup := false
	fields := make([]*bq.TableFieldSchema, len(cts))
	for i, ct := range cts {
		fields[i] = duckField(ct.Name(), ct.DatabaseTypeName())
		if ct.DatabaseTypeName() == "JSON" {
			jsonCols = append(jsonCols, ct.Name())
		}
		if names[strings.ToLower(ct.Name())] {
			dup = true
		}
		names[strings.ToLower(ct.Name())] = true
	}
	if len(jsonCols) > 0 && !dup {
		rows.Close()
		repl := make([]string, len(jsonCols))
		for i, n := range jsonCols {
			repl[i] = "CAST(" + sqlIdent(n) + " AS VARCHAR) AS " + sqlIdent(n)
		}
		rows, err = c.QueryContext(ctx, "SELECT * REPLACE ("+strings.Join(repl, ", ")+") FROM ("+q+") AS __bqfake_q")
		if err != nil {
			return nil, err
		}
	}
	defer rows.Close()
	out := &resultSet{fields: fields}
	for rows.Next() {
		vals := make([]any, len(fields))
		ptrs := make([]any, len(fields))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out.rows = append(out.rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, f := range out.fields {
		if f.Description != "uuid" {
			continue
		}
		f.Description = ""
		for _, row := range out.rows {
			if x, ok := row[i].([]byte); ok && len(x) == 16 {
				row[i] = fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:])
			}
		}
	}
	return out, nil
}

// listTableData is tabledata.list: rows in storage order, cells in the order of the
// table's metadata schema.
func (s *Server) listTableData(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	key := tableKeyOf(r)
	if rep := s.checkNotFound(key); rep != nil {
		return rep, ""
	}
	f := s.takeFault("tabledata.list", key)
	if rep := preFault(f); rep != nil {
		return rep, ""
	}
	s.catalogMu.RLock()
	defer s.catalogMu.RUnlock()
	s.mu.Lock()
	t, ok := s.tables[key]
	var fields []*bq.TableFieldSchema
	if ok && t.meta.Schema != nil {
		fields = cloneSchema(t.meta.Schema.Fields)
	}
	s.mu.Unlock()
	if !ok {
		return s.tableNotFound(r.PathValue("dataset"), key), ""
	}
	out := &bq.TableDataList{Kind: "bigquery#tableDataList"}
	if !t.hasDuck || len(fields) == 0 {
		return postFault(f, okReply(out)), ""
	}
	total := s.countRows(r.Context(), t)
	start, n, perr := pageParams(r, int(total))
	if perr != nil {
		return perr, ""
	}
	cols := make([]string, len(fields))
	for i, fl := range fields {
		cols[i] = sqlIdent(fl.Name)
		if normType(fl.Type) == "JSON" && normMode(fl.Mode) != "REPEATED" {
			cols[i] = "CAST(" + cols[i] + " AS VARCHAR)"
		}
	}
	q := fmt.Sprintf("SELECT %s FROM %s.%s LIMIT %d OFFSET %d", strings.Join(cols, ", "), sqlIdent(t.ds), sqlIdent(t.id), n, start)
	rows, err := s.db.QueryContext(r.Context(), q)
	if err != nil {
		return errReply(500, "internalError", "%s", duckMessage(err)), ""
	}
	defer rows.Close()
	int64ts := useInt64TS(r)
	for rows.Next() {
		vals := make([]any, len(fields))
		ptrs := make([]any, len(fields))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return errReply(500, "internalError", "%s", err), ""
		}
		out.Rows = append(out.Rows, encodeRow(vals, fields, int64ts))
	}
	if err := rows.Err(); err != nil {
		return errReply(500, "internalError", "%s", duckMessage(err)), ""
	}
	out.TotalRows = int64(total)
	if start+n < int(total) {
		out.PageToken = strconv.Itoa(start + n)
	}
	return postFault(f, okReply(out)), ""
}
