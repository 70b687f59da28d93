package bqfake

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	bq "google.golang.org/api/bigquery/v2"
)

// fspec is a schema field prepared for parsing JSON rows.
type fspec struct {
	name     string // as in the table schema (and DuckDB)
	path     string // dotted, for messages
	typ      string // normType
	mode     string // normMode
	scale    int    // NUMERIC / BIGNUMERIC
	children []*fspec
	index    map[string]int // child name → index (exact and lower-case)
}

func buildSpecs(fields []*bq.TableFieldSchema, prefix string) ([]*fspec, map[string]int) {
	specs := make([]*fspec, len(fields))
	index := make(map[string]int, 2*len(fields))
	for i, f := range fields {
		sp := &fspec{name: f.Name, path: prefix + f.Name, typ: normType(f.Type), mode: normMode(f.Mode)}
		switch sp.typ {
		case "NUMERIC":
			sp.scale = 9
		case "BIGNUMERIC":
			sp.scale = 18
		case "RECORD":
			sp.children, sp.index = buildSpecs(f.Fields, sp.path+".")
		}
		specs[i] = sp
		index[f.Name] = i
		index[strings.ToLower(f.Name)] = i
	}
	return specs, index
}

// rowError is a problem with one JSON row; it fails the whole load.
type rowError struct {
	pos int
	msg string
}

func (e *rowError) Error() string {
	return fmt.Sprintf("Error while reading data, error message: JSON parsing error in row starting at position %d: %s", e.pos, e.msg)
}

// parseRows converts newline-delimited JSON into rows of Go values in spec order.
func parseRows(data []byte, specs []*fspec, index map[string]int, ignoreUnknown bool) ([][]any, error) {
	var rows [][]any
	pos := 0
	for pos < len(data) {
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += pos
		}
		line := bytes.TrimSpace(data[pos:end])
		if len(line) > 0 {
			row, msg := parseRow(line, specs, index, ignoreUnknown)
			if msg != "" {
				return nil, &rowError{pos, msg}
			}
			rows = append(rows, row)
		}
		pos = end + 1
	}
	return rows, nil
}

func parseRow(line []byte, specs []*fspec, index map[string]int, ignoreUnknown bool) ([]any, string) {
	if line[0] != '{' {
		return nil, "Start of row is not a JSON object."
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return nil, "Parser terminated before end of string: " + err.Error()
	}
	return convertObject(obj, specs, index, ignoreUnknown, "")
}

func convertObject(obj map[string]json.RawMessage, specs []*fspec, index map[string]int, ignoreUnknown bool, prefix string) ([]any, string) {
	vals := make([]any, len(specs))
	seen := make([]bool, len(specs))
	for k, raw := range obj {
		i, ok := index[k]
		if !ok {
			i, ok = index[strings.ToLower(k)]
		}
		if !ok {
			if ignoreUnknown {
				continue
			}
			return nil, "No such field: " + prefix + k + "."
		}
		v, msg := convertValue(raw, specs[i], ignoreUnknown)
		if msg != "" {
			return nil, msg
		}
		vals[i], seen[i] = v, true
	}
	for i, sp := range specs {
		if seen[i] {
			continue
		}
		switch sp.mode {
		case "REQUIRED":
			return nil, "Missing required field: " + sp.path + "."
		case "REPEATED":
			vals[i] = []any{}
		}
	}
	return vals, ""
}

func convertValue(raw json.RawMessage, sp *fspec, ignoreUnknown bool) (any, string) {
	if isNull(raw) {
		switch sp.mode {
		case "REQUIRED":
			return nil, "Only optional fields can be set to NULL. Field: " + sp.path + "; Value: NULL"
		case "REPEATED":
			return []any{}, ""
		}
		return nil, ""
	}
	if sp.mode == "REPEATED" {
		if raw[0] != '[' {
			return nil, "Array specified for non-repeated field: " + sp.path + "."
		}
		var els []json.RawMessage
		if err := json.Unmarshal(raw, &els); err != nil {
			return nil, "Parser terminated before end of string: " + err.Error()
		}
		out := make([]any, len(els))
		for i, el := range els {
			if isNull(el) {
				return nil, "Only optional fields can be set to NULL. Field: " + sp.path + "; Value: NULL"
			}
			v, msg := convertScalar(el, sp, ignoreUnknown)
			if msg != "" {
				return nil, msg
			}
			out[i] = v
		}
		return out, ""
	}
	return convertScalar(raw, sp, ignoreUnknown)
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || (len(raw) == 4 && string(raw) == "null")
}

func badValue(sp *fspec, what string, raw json.RawMessage) string {
	v := string(raw)
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return fmt.Sprintf("Could not convert value to %s. Field: %s; Value: %s", what, sp.path, v)
}

// jsonText returns the string of a JSON string, or the literal text of a number or
// boolean; isStr says which.
func jsonText(raw json.RawMessage) (s string, isStr bool, ok bool) {
	switch raw[0] {
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), true, true
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, false
		}
		return s, true, true
	case '{', '[':
		return "", false, false
	}
	return string(raw), false, true
}

func convertScalar(raw json.RawMessage, sp *fspec, ignoreUnknown bool) (any, string) {
	switch sp.typ {
	case "JSON":
		return json.RawMessage(raw), ""
	case "RECORD":
		if raw[0] != '{' {
			return nil, badValue(sp, "record", raw)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, "Parser terminated before end of string: " + err.Error()
		}
		vals, msg := convertObject(obj, sp.children, sp.index, ignoreUnknown, sp.path+".")
		if msg != "" {
			return nil, msg
		}
		m := make(map[string]any, len(vals))
		for i, c := range sp.children {
			m[c.name] = vals[i]
		}
		return m, ""
	}
	s, isStr, ok := jsonText(raw)
	if !ok {
		return nil, badValue(sp, strings.ToLower(sp.typ), raw)
	}
	switch sp.typ {
	case "STRING", "GEOGRAPHY":
		if !isStr && (s == "true" || s == "false") {
			return nil, badValue(sp, "string", raw)
		}
		return s, ""
	case "INTEGER":
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, ""
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f), ""
		}
		return nil, badValue(sp, "integer", raw)
	case "FLOAT":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			switch strings.ToLower(s) {
			case "nan":
				return math.NaN(), ""
			case "infinity", "inf", "+inf", "+infinity":
				return math.Inf(1), ""
			case "-infinity", "-inf":
				return math.Inf(-1), ""
			}
			return nil, badValue(sp, "double", raw)
		}
		return f, ""
	case "BOOLEAN":
		switch strings.ToLower(s) {
		case "true", "1":
			return true, ""
		case "false", "0":
			return false, ""
		}
		return nil, badValue(sp, "boolean", raw)
	case "TIMESTAMP":
		if !isStr {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, badValue(sp, "timestamp", raw)
			}
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).UTC(), ""
		}
		t, err := parseTimestamp(s)
		if err != nil {
			return nil, badValue(sp, "timestamp", raw)
		}
		return t, ""
	case "DATE":
		t, err := time.Parse("2006-01-02", s)
		if err != nil || !isStr {
			return nil, badValue(sp, "date", raw)
		}
		return t, ""
	case "DATETIME":
		t, err := parseDatetime(s)
		if err != nil || !isStr {
			return nil, badValue(sp, "datetime", raw)
		}
		return t, ""
	case "TIME":
		t, err := time.Parse("15:04:05.999999999", s)
		if err != nil || !isStr {
			return nil, badValue(sp, "time", raw)
		}
		return t, ""
	case "NUMERIC", "BIGNUMERIC":
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return nil, badValue(sp, strings.ToLower(sp.typ), raw)
		}
		scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sp.scale)), nil)))
		n := roundRat(scaled)
		if n.CmpAbs(maxDecimal38) >= 0 {
			return nil, badValue(sp, strings.ToLower(sp.typ), raw)
		}
		return n, ""
	case "BYTES":
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || !isStr {
			return nil, badValue(sp, "bytes", raw)
		}
		return b, ""
	}
	return nil, badValue(sp, sp.typ, raw)
}

var maxDecimal38 = new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil)

// roundRat rounds half away from zero.
func roundRat(r *big.Rat) *big.Int {
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return q
}

var timestampLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999 Z07:00",
	"2006-01-02T15:04:05.999999999-0700",
	"2006-01-02 15:04:05.999999999-0700",
	"2006-01-02 15:04:05.999999999-07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTimestamp accepts what BigQuery's JSON loader accepts for TIMESTAMP: RFC 3339
// and "YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]][ UTC|Z|±HH[:MM]]". Values without a zone are
// UTC. Precision is truncated to microseconds.
func parseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, " UTC") {
		s = strings.TrimSuffix(s, " UTC") + "Z"
	} else if strings.HasSuffix(s, "UTC") {
		s = strings.TrimSuffix(s, "UTC") + "Z"
	}
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q", s)
}

func parseDatetime(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad datetime %q", s)
}

// mergeFields returns the table schema after a load with schema update options:
// existing fields keep their place (modes relaxed as the load says), new ones follow.
func mergeFields(old, new []*bq.TableFieldSchema) []*bq.TableFieldSchema {
	out := cloneSchema(old)
	for _, o := range out {
		n := findField(new, o.Name)
		if n == nil {
			continue
		}
		if normMode(o.Mode) == "REQUIRED" && normMode(n.Mode) == "NULLABLE" {
			o.Mode = "NULLABLE"
		}
		if normType(o.Type) == "RECORD" {
			o.Fields = mergeFields(o.Fields, n.Fields)
		}
	}
	for _, n := range new {
		if findField(old, n.Name) == nil {
			out = append(out, cloneSchema([]*bq.TableFieldSchema{n})...)
		}
	}
	return out
}

func hasOption(opts []string, o string) bool {
	for _, x := range opts {
		if strings.EqualFold(x, o) {
			return true
		}
	}
	return false
}

// runLoad executes a load job: all rows or none, in one DuckDB transaction.
func (s *Server) runLoad(j *job, cfg *bq.JobConfigurationLoad, data []byte) *apiError {
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	ctx := s.ctx
	ref := cfg.DestinationTable
	ds, tbl := ref.DatasetId, ref.TableId
	key := ds + "." + tbl
	name := s.project + ":" + key
	s.mu.Lock()
	_, dsOK := s.datasets[ds]
	t := s.tables[key]
	var tableFields []*bq.TableFieldSchema
	hasDuck := false
	if t != nil {
		hasDuck = t.hasDuck
		if t.meta.Schema != nil {
			tableFields = cloneSchema(t.meta.Schema.Fields)
		}
	}
	s.mu.Unlock()
	if !dsOK {
		return &apiError{404, "notFound", "Not found: Dataset " + s.project + ":" + ds}
	}
	var loadFields []*bq.TableFieldSchema
	if cfg.Schema != nil {
		loadFields = cfg.Schema.Fields
	}
	if err := validateSchema(loadFields, ""); err != nil {
		return &apiError{400, "invalid", err.Error()}
	}
	write := strings.ToUpper(cfg.WriteDisposition)
	if write == "" {
		write = "WRITE_APPEND"
	}
	var target []*bq.TableFieldSchema
	var alters []string
	create, recreate := false, false
	switch {
	case t == nil:
		if strings.EqualFold(cfg.CreateDisposition, "CREATE_NEVER") {
			return &apiError{404, "notFound", "Not found: Table " + name}
		}
		if len(loadFields) == 0 {
			return &apiError{400, "invalid", "No schema specified on job or table."}
		}
		create, target = true, loadFields
	case !hasDuck:
		if len(loadFields) == 0 {
			return &apiError{400, "invalid", "No schema specified on job or table."}
		}
		create, target = true, loadFields
	case len(loadFields) > 0 && write == "WRITE_TRUNCATE":
		recreate, target = true, loadFields
	case len(loadFields) > 0:
		var err error
		alters, _, err = schemaDiff(name, tableFields, loadFields,
			hasOption(cfg.SchemaUpdateOptions, "ALLOW_FIELD_ADDITION"), hasOption(cfg.SchemaUpdateOptions, "ALLOW_FIELD_RELAXATION"))
		if err != nil {
			return &apiError{400, "invalid", err.Error()}
		}
		target = mergeFields(tableFields, loadFields)
	default:
		target = tableFields
	}
	specs, index := buildSpecs(target, "")
	rows, err := parseRows(data, specs, index, cfg.IgnoreUnknownValues)
	if err != nil {
		return &apiError{400, "invalid", err.Error()}
	}

	c, discard, err := s.conn(ctx)
	if err != nil {
		return &apiError{500, "internalError", err.Error()}
	}
	defer discard()
	fail := func(e error) *apiError {
		c.ExecContext(ctx, "ROLLBACK")
		return &apiError{500, "internalError", duckMessage(e)}
	}
	if _, err := c.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return &apiError{500, "internalError", duckMessage(err)}
	}
	qt := sqlIdent(ds) + "." + sqlIdent(tbl)
	if recreate {
		if _, err := c.ExecContext(ctx, "DROP TABLE "+qt); err != nil {
			return fail(err)
		}
	}
	if create || recreate {
		if _, err := c.ExecContext(ctx, createTableSQL(ds, tbl, target)); err != nil {
			return fail(err)
		}
	}
	for _, a := range alters {
		if _, err := c.ExecContext(ctx, "ALTER TABLE "+qt+" "+a); err != nil {
			return fail(err)
		}
	}
	switch write {
	case "WRITE_TRUNCATE":
		if !recreate && !create {
			if _, err := c.ExecContext(ctx, "DELETE FROM "+qt); err != nil {
				return fail(err)
			}
		}
	case "WRITE_EMPTY":
		var n int64
		if err := c.QueryRowContext(ctx, "SELECT count(*) FROM "+qt).Scan(&n); err != nil {
			return fail(err)
		}
		if n > 0 {
			c.ExecContext(ctx, "ROLLBACK")
			return &apiError{409, "duplicate", "Already Exists: Table " + name}
		}
	}
	if err := s.appendRows(ctx, c, ds, tbl, specs, rows); err != nil {
		return fail(err)
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return fail(err)
	}
	s.mu.Lock()
	now := msNow()
	if t == nil {
		t = &table{ds: ds, id: tbl, created: now, etag: s.newEtag(),
			meta: bq.Table{TimePartitioning: cfg.TimePartitioning, Clustering: cfg.Clustering}}
		s.tables[key] = t
	}
	if create || recreate || len(alters) > 0 {
		t.meta.Schema = &bq.TableSchema{Fields: cloneSchema(target)}
		t.etag = s.newEtag()
	}
	t.hasDuck = true
	t.modified = now
	j.outputRows = int64(len(rows))
	s.mu.Unlock()
	return nil
}

// appendRows appends rows (in spec order) through a DuckDB Appender inside the
// connection's open transaction.
func (s *Server) appendRows(ctx context.Context, c interface {
	Raw(func(any) error) error
}, ds, tbl string, specs []*fspec, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	return c.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "", ds, tbl)
		if err != nil {
			return err
		}
		// DuckDB column order may differ from the schema's order after patches.
		cols, err := duckColumns(ctx, dc.(driver.Conn), ds, tbl)
		if err != nil {
			app.Close()
			return err
		}
		idx := make([]int, len(cols))
		for i, cn := range cols {
			idx[i] = -1
			for k, sp := range specs {
				if strings.EqualFold(sp.name, cn) {
					idx[i] = k
				}
			}
		}
		vals := make([]driver.Value, len(cols))
		for _, row := range rows {
			for i, k := range idx {
				if k < 0 {
					vals[i] = nil
				} else {
					vals[i] = row[k]
				}
			}
			if err := app.AppendRow(vals...); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
}

// duckColumns lists a table's columns in DuckDB order, as seen by the connection's
// transaction.
func duckColumns(ctx context.Context, dc driver.Conn, ds, tbl string) ([]string, error) {
	qc, ok := dc.(driver.QueryerContext)
	if !ok {
		return nil, fmt.Errorf("duckdb connection cannot query")
	}
	rows, err := qc.QueryContext(ctx, "SELECT column_name FROM duckdb_columns() WHERE schema_name = "+sqlString(ds)+" AND table_name = "+sqlString(tbl)+" ORDER BY column_index", nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	dest := make([]driver.Value, 1)
	for {
		if err := rows.Next(dest); err != nil {
			break
		}
		out = append(out, fmt.Sprint(dest[0]))
	}
	return out, nil
}
