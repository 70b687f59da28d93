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

	"github.com/gorgias-kafka/gorgias-kafka/internal/duckdbsink"
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

// duckField converts a DuckDB column type, as DuckDB spells it (duckdb_columns().data_type
// or the driver's DatabaseTypeName), into a BigQuery field.
//
// The spelling is parsed by duckdbsink.ParseColumnType, the parser the DuckDB sink reads
// its own tables' columns with: both read the same DuckDB type strings, so the project
// keeps one parser of them (a test double may import the product, never the reverse),
// and only the mapping to BigQuery types (bqFieldOf) lives here. A spelling that does not
// parse, which DuckDB does not produce, becomes a STRING column.
func duckField(name, typ string) *bq.TableFieldSchema {
	f := &bq.TableFieldSchema{Type: "STRING"}
	if ct, err := duckdbsink.ParseColumnType(typ); err == nil {
		f = bqFieldOf(ct)
	}
	f.Name = name
	return f
}

// bqFieldOf maps a DuckDB type to a BigQuery field (without name): STRUCT is RECORD,
// lists and fixed-size arrays are REPEATED (a list of lists, which BigQuery lacks, is a
// REPEATED STRING), scalars map by their name without parameters.
func bqFieldOf(ct *duckdbsink.ColumnType) *bq.TableFieldSchema {
	switch {
	case ct.Elem != nil:
		f := bqFieldOf(ct.Elem)
		if f.Mode == "REPEATED" {
			return &bq.TableFieldSchema{Type: "STRING", Mode: "REPEATED"}
		}
		f.Mode = "REPEATED"
		return f
	case ct.Fields != nil:
		f := &bq.TableFieldSchema{Type: "RECORD"}
		for _, sf := range ct.Fields {
			sub := bqFieldOf(sf.Type)
			sub.Name = sf.Name
			f.Fields = append(f.Fields, sub)
		}
		return f
	}
	base := strings.ToUpper(ct.Name)
	if i := strings.IndexByte(base, '('); i >= 0 {
		base = strings.TrimSpace(base[:i])
	}
	f := &bq.TableFieldSchema{}
	switch base {
	case "BOOLEAN":
		f.Type = "BOOLEAN"
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", `"NULL"`, "NULL":
		f.Type = "INTEGER"
	case "FLOAT", "DOUBLE":
		f.Type = "FLOAT"
	case "DECIMAL":
		f.Type = "NUMERIC"
	case "BLOB":
		f.Type = "BYTES"
	case "DATE":
		f.Type = "DATE"
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		f.Type = "DATETIME"
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		f.Type = "TIMESTAMP"
	case "TIME":
		f.Type = "TIME"
	case "INTERVAL":
		f.Type = "INTERVAL"
	case "JSON":
		f.Type = "JSON"
	case "UUID":
		f.Type, f.Description = "STRING", "uuid"
	default:
		f.Type = "STRING"
	}
	return f
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
