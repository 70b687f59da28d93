package bqfake

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// stmtKind classifies a translated statement for the script runner.
type stmtKind int

const (
	skOther stmtKind = iota
	skSelect
	skBegin
	skCommit
	skRollback
	skAssert
	skDML
	skDDL
)

// stmt is one translated statement of a script.
type stmt struct {
	orig      string   // GoogleSQL text as written (trimmed)
	sql       string   // DuckDB text
	kind      stmtKind // how the runner treats it
	stype     string   // BigQuery statementType
	targets   []string // "dataset.table" of permanent tables it mutates (DML)
	ddlTable  string   // "dataset.table" of a permanent table it creates/drops/alters (DDL)
	assertMsg string   // message of a failing ASSERT
}

// qparam is a named or positional query parameter as sent by the client.
type qparam struct {
	Name           string   `json:"name"`
	ParameterType  *qpType  `json:"parameterType"`
	ParameterValue *qpValue `json:"parameterValue"`
}

type qpType struct {
	Type        string  `json:"type"`
	ArrayType   *qpType `json:"arrayType"`
	StructTypes []struct {
		Name string  `json:"name"`
		Type *qpType `json:"type"`
	} `json:"structTypes"`
}

type qpValue struct {
	Value        *string             `json:"value"`
	ArrayValues  []*qpValue          `json:"arrayValues"`
	StructValues map[string]*qpValue `json:"structValues"`
}

// translator turns GoogleSQL scripts into DuckDB statements.
type translator struct {
	project        string
	isDataset      func(string) (string, bool) // canonical dataset name if it exists
	named          map[string]*qparam          // lower-cased name → parameter
	positional     []*qparam
	defaultDataset string
	nextPos        int
	temps          map[string]bool // temp tables created by this script (lower-case)
}

// translateScript splits and translates a script.
func (tr *translator) translateScript(src string) ([]*stmt, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	var out []*stmt
	for _, st := range splitStatements(toks) {
		s, err := tr.translateStmt(st)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("Syntax error: Unexpected end of script")
	}
	return out, nil
}

// ntok is a non-space token with whether whitespace preceded it.
type ntok struct {
	token
	sp bool
}

func compact(toks []token) ([]ntok, string) {
	var out []ntok
	var orig strings.Builder
	sp := false
	for _, t := range toks {
		orig.WriteString(t.raw)
		if t.kind == tkSpace {
			sp = true
			continue
		}
		out = append(out, ntok{t, sp})
		sp = false
	}
	return out, strings.TrimSpace(orig.String())
}

func (tr *translator) translateStmt(raw []token) (*stmt, error) {
	toks, orig := compact(raw)
	st := &stmt{orig: orig}
	head := strings.ToUpper(toks[0].val)
	if toks[0].kind != tkIdent {
		head = ""
	}
	rest := toks[1:]
	onlyTxn := len(rest) == 0 || (len(rest) == 1 && rest[0].is("TRANSACTION"))
	switch head {
	case "BEGIN", "START":
		if !onlyTxn && !(head == "START" && len(rest) == 1) {
			return nil, fmt.Errorf("Syntax error: procedural BEGIN ... END blocks are not supported by bqfake")
		}
		st.kind, st.sql, st.stype = skBegin, "BEGIN TRANSACTION", "BEGIN_TRANSACTION"
		return st, nil
	case "COMMIT":
		if !onlyTxn {
			return nil, fmt.Errorf("Syntax error: Expected end of input but got %q", rest[0].raw)
		}
		st.kind, st.sql, st.stype = skCommit, "COMMIT", "COMMIT_TRANSACTION"
		return st, nil
	case "ROLLBACK":
		if !onlyTxn {
			return nil, fmt.Errorf("Syntax error: Expected end of input but got %q", rest[0].raw)
		}
		st.kind, st.sql, st.stype = skRollback, "ROLLBACK", "ROLLBACK_TRANSACTION"
		return st, nil
	case "ASSERT":
		cond := rest
		n := len(rest)
		if n >= 2 && rest[n-2].is("AS") && rest[n-1].kind == tkString {
			st.assertMsg = rest[n-1].val
			cond = rest[:n-2]
		} else {
			st.assertMsg = "Assertion failed: " + strings.TrimSpace(orig[len(toks[0].raw):])
		}
		if len(cond) == 0 {
			return nil, fmt.Errorf("Syntax error: Unexpected end of statement after ASSERT")
		}
		c, err := tr.emit(st, cond, false)
		if err != nil {
			return nil, err
		}
		st.kind, st.stype = skAssert, "ASSERT"
		st.sql = "SELECT CASE WHEN (" + c + ") IS NOT TRUE THEN error(" + sqlString(st.assertMsg) + ") END"
		return st, nil
	}

	var prefix string
	body := toks
	st.kind, st.stype = skOther, head
	switch head {
	case "SELECT", "WITH", "FROM", "VALUES", "":
		st.kind, st.stype = skSelect, "SELECT"
	case "INSERT", "DELETE", "MERGE":
		st.kind = skDML
		kw := map[string]string{"INSERT": "INTO", "DELETE": "FROM", "MERGE": "INTO"}[head]
		if len(rest) > 0 && rest[0].is(kw) {
			rest = rest[1:]
		}
		if head == "DELETE" && !hasTopLevel(rest, "WHERE") {
			return nil, fmt.Errorf("DELETE must have a WHERE clause")
		}
		prefix = head + " " + kw
		body = rest
		if t := tr.tableKey(rest); t != "" {
			st.targets = append(st.targets, t)
		}
	case "UPDATE":
		st.kind = skDML
		if !hasTopLevel(rest, "WHERE") {
			return nil, fmt.Errorf("UPDATE must have a WHERE clause")
		}
		if t := tr.tableKey(rest); t != "" {
			st.targets = append(st.targets, t)
		}
	case "TRUNCATE":
		st.kind, st.stype = skDML, "TRUNCATE_TABLE"
		if len(rest) > 0 && rest[0].is("TABLE") {
			if t := tr.tableKey(rest[1:]); t != "" {
				st.targets = append(st.targets, t)
			}
		}
	case "CREATE", "DROP", "ALTER":
		st.kind = skDDL
		i := 0
		temp := false
		for i < len(rest) && (rest[i].is("OR") || rest[i].is("REPLACE") || rest[i].is("TEMP") || rest[i].is("TEMPORARY")) {
			if rest[i].is("TEMP") || rest[i].is("TEMPORARY") {
				temp = true
			}
			i++
		}
		if i < len(rest) && rest[i].is("TABLE") {
			i++
			for i < len(rest) && (rest[i].is("IF") || rest[i].is("NOT") || rest[i].is("EXISTS")) {
				i++
			}
			st.stype = head + "_TABLE"
			if head == "CREATE" && hasTopLevel(rest[i:], "AS") {
				st.stype = "CREATE_TABLE_AS_SELECT"
			}
			if temp {
				if i < len(rest) {
					tr.temps[strings.ToLower(rest[i].val)] = true
				}
			} else {
				st.ddlTable = tr.tableKey(rest[i:])
			}
		}
		if head == "CREATE" {
			body = stripCreateOptions(toks)
		}
	}
	out, err := tr.emit(st, body, head == "CREATE")
	if err != nil {
		return nil, err
	}
	if prefix != "" {
		out = prefix + " " + out
	}
	st.sql = out
	return st, nil
}

// hasTopLevel reports whether keyword kw appears outside parentheses.
func hasTopLevel(toks []ntok, kw string) bool {
	d := 0
	for _, t := range toks {
		switch {
		case t.punct("("):
			d++
		case t.punct(")"):
			d--
		case d == 0 && t.is(kw):
			return true
		}
	}
	return false
}

// stripCreateOptions drops PARTITION BY, CLUSTER BY and OPTIONS(...) clauses of a
// CREATE statement (BigQuery-only metadata).
func stripCreateOptions(toks []ntok) []ntok {
	var out []ntok
	d := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if d == 0 && t.is("OPTIONS") && i+1 < len(toks) && toks[i+1].punct("(") {
			dd := 0
			for i++; i < len(toks); i++ {
				if toks[i].punct("(") {
					dd++
				} else if toks[i].punct(")") {
					dd--
					if dd == 0 {
						break
					}
				}
			}
			continue
		}
		if d == 0 && (t.is("PARTITION") || t.is("CLUSTER")) && i+1 < len(toks) && toks[i+1].is("BY") {
			dd := 0
			for i += 2; i < len(toks); i++ {
				x := toks[i]
				if x.punct("(") {
					dd++
				} else if x.punct(")") {
					dd--
				} else if dd == 0 && (x.is("AS") || x.is("OPTIONS") || x.is("CLUSTER") || x.is("PARTITION")) {
					i--
					break
				}
			}
			continue
		}
		if t.punct("(") {
			d++
		} else if t.punct(")") {
			d--
		}
		out = append(out, t)
	}
	return out
}

// pathAt collects a dotted name starting at toks[i]: the flattened parts, whether any
// part was backquoted, and the index after the path.
func pathAt(toks []ntok, i int) (parts []string, quoted bool, next int) {
	for i < len(toks) {
		t := toks[i]
		switch t.kind {
		case tkIdent:
			parts = append(parts, t.val)
		case tkQIdent:
			parts = append(parts, strings.Split(t.val, ".")...)
			quoted = true
		default:
			return parts, quoted, i
		}
		i++
		if i+1 < len(toks) && toks[i].punct(".") && (toks[i+1].kind == tkIdent || toks[i+1].kind == tkQIdent) {
			i++
			continue
		}
		break
	}
	return parts, quoted, i
}

// normPath drops a leading project from a path of three or more parts.
func (tr *translator) normPath(parts []string) []string {
	if len(parts) >= 3 {
		if strings.EqualFold(parts[0], tr.project) || strings.Contains(parts[0], "-") {
			return parts[1:]
		}
		if _, ok := tr.isDataset(parts[1]); ok {
			if _, ok0 := tr.isDataset(parts[0]); !ok0 {
				return parts[1:]
			}
		}
	}
	return parts
}

// tableKey returns "dataset.table" for the table path at toks[0], "" for temp tables.
func (tr *translator) tableKey(toks []ntok) string {
	if len(toks) == 0 {
		return ""
	}
	parts, _, _ := pathAt(toks, 0)
	parts = tr.normPath(parts)
	switch len(parts) {
	case 2:
		if ds, ok := tr.isDataset(parts[0]); ok {
			return ds + "." + parts[1]
		}
	case 1:
		if tr.defaultDataset != "" && !tr.temps[strings.ToLower(parts[0])] {
			return tr.defaultDataset + "." + parts[0]
		}
	}
	return ""
}

// frame is an open parenthesis during emission.
type frame struct {
	cast    bool   // CAST( ... AS type )
	coldefs bool   // CREATE TABLE t ( col type, ... )
	close   string // extra text emitted after the closing parenthesis
}

// emit translates a token run into DuckDB text.
func (tr *translator) emit(st *stmt, toks []ntok, create bool) (string, error) {
	var b strings.Builder
	lastWord := false
	put := func(s string, sp bool) {
		if s == "" {
			return
		}
		word := isIdentPart(s[0]) || s[0] == '"' || s[0] == '\''
		if b.Len() > 0 && (sp || (word && lastWord)) {
			b.WriteByte(' ')
		}
		b.WriteString(s)
		c := s[len(s)-1]
		lastWord = isIdentPart(c) || c == '"' || c == '\''
	}
	var stack []frame
	createParenSeen, seenAS := false, false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if len(stack) == 0 && t.is("AS") {
			seenAS = true
		}
		next := func(k int) ntok {
			if i+k < len(toks) {
				return toks[i+k]
			}
			return ntok{}
		}
		switch t.kind {
		case tkString:
			put(sqlString(t.val), t.sp)
		case tkBytes:
			put("from_hex("+sqlString(hex.EncodeToString([]byte(t.val)))+")", t.sp)
		case tkNumber:
			put(t.val, t.sp)
		case tkParam:
			p := tr.named[strings.ToLower(t.val)]
			if p == nil {
				return "", fmt.Errorf("Query parameter '%s' not found", t.val)
			}
			lit, err := paramLiteral(p.ParameterType, p.ParameterValue)
			if err != nil {
				return "", err
			}
			put(lit, t.sp)
		case tkPositional:
			if tr.nextPos >= len(tr.positional) {
				return "", fmt.Errorf("Not enough positional query parameters")
			}
			p := tr.positional[tr.nextPos]
			tr.nextPos++
			lit, err := paramLiteral(p.ParameterType, p.ParameterValue)
			if err != nil {
				return "", err
			}
			put(lit, t.sp)
		case tkSysVar:
			return "", fmt.Errorf("System variables (@@%s) are not supported by bqfake", t.val)
		case tkPunct:
			switch t.val {
			case "(":
				f := frame{}
				if create && !createParenSeen && !seenAS && len(stack) == 0 && i > 0 && (toks[i-1].kind == tkIdent || toks[i-1].kind == tkQIdent) {
					f.coldefs = true
					createParenSeen = true
				}
				stack = append(stack, f)
				put("(", t.sp)
				if f.coldefs {
					if err := tr.colDef(toks, &i, put); err != nil {
						return "", err
					}
				}
			case ")":
				close := ""
				if len(stack) > 0 {
					close = stack[len(stack)-1].close
					stack = stack[:len(stack)-1]
				}
				put(")"+close, t.sp)
			case ",":
				put(",", t.sp)
				if len(stack) > 0 && stack[len(stack)-1].coldefs {
					if err := tr.colDef(toks, &i, put); err != nil {
						return "", err
					}
				}
			default:
				put(t.val, t.sp)
			}
		case tkIdent, tkQIdent:
			parts, quoted, end := pathAt(toks, i)
			if len(parts) == 1 && !quoted {
				kw := strings.ToUpper(t.val)
				switch {
				case (kw == "CAST" || kw == "SAFE_CAST" || kw == "TRY_CAST") && next(1).punct("("):
					if kw == "SAFE_CAST" {
						kw = "TRY_CAST"
					}
					put(kw+"(", t.sp)
					stack = append(stack, frame{cast: true})
					i++
					continue
				case kw == "AS" && len(stack) > 0 && stack[len(stack)-1].cast:
					put("AS", t.sp)
					typ, n, err := bqType(toks, i+1)
					if err != nil {
						return "", err
					}
					put(typ, true)
					i = n - 1
					continue
				case (kw == "CURRENT_TIMESTAMP" || kw == "CURRENT_DATE") && next(1).punct("(") && next(2).punct(")"):
					put(kw, t.sp)
					i += 2
					continue
				case kw == "CURRENT_DATETIME" && next(1).punct("(") && next(2).punct(")"):
					put("CAST(CURRENT_TIMESTAMP AS TIMESTAMP)", t.sp)
					i += 2
					continue
				case kw == "GENERATE_UUID" && next(1).punct("(") && next(2).punct(")"):
					put("CAST(gen_random_uuid() AS VARCHAR)", t.sp)
					i += 2
					continue
				case kw == "EXCEPT" && i > 0 && toks[i-1].punct("*") && next(1).punct("("):
					put("EXCLUDE", t.sp)
					continue
				case (kw == "TIMESTAMP" || kw == "DATETIME" || kw == "DATE" || kw == "JSON" || kw == "NUMERIC" || kw == "BIGNUMERIC" || kw == "TIME") && next(1).kind == tkString:
					typ, _, _ := bqType(toks, i)
					put("CAST("+sqlString(next(1).val)+" AS "+typ+")", t.sp)
					i++
					continue
				case kw == "IN" && next(1).is("UNNEST") && next(2).punct("("):
					put("IN (SELECT UNNEST(", t.sp)
					stack = append(stack, frame{close: ")"})
					i += 2
					continue
				case kw == "INSERT" && next(1).is("ROW") && i > 0 && toks[i-1].is("THEN"):
					put("INSERT", t.sp)
					i++
					continue
				case (kw == "OFFSET" || kw == "SAFE_OFFSET" || kw == "ORDINAL" || kw == "SAFE_ORDINAL") && i > 0 && toks[i-1].punct("[") && next(1).punct("("):
					f := frame{}
					if strings.HasSuffix(kw, "OFFSET") {
						f.close = "+1"
					}
					put("(", false)
					stack = append(stack, f)
					i++
					continue
				}
				put(t.val, t.sp)
				continue
			}
			np := tr.normPath(parts)
			_, knownDS := tr.isDataset(np[0])
			afterTableKW := i > 0 && (toks[i-1].is("INTO") || toks[i-1].is("TABLE") || toks[i-1].is("EXISTS"))
			if end < len(toks) && toks[end].punct("(") && !(len(np) == 2 && knownDS) && !afterTableKW {
				// function call such as SAFE.PARSE_DATE(...): drop the SAFE prefix.
				if len(np) > 1 && strings.EqualFold(np[0], "SAFE") {
					np = np[1:]
				}
				put(strings.Join(np, "."), t.sp)
			} else {
				q := make([]string, len(np))
				for k, p := range np {
					q[k] = sqlIdent(p)
				}
				put(strings.Join(q, "."), t.sp)
			}
			i = end - 1
		}
	}
	return b.String(), nil
}

// colDef emits "name type" of a column definition following '(' or ',' at toks[*i].
func (tr *translator) colDef(toks []ntok, i *int, put func(string, bool)) error {
	j := *i + 1
	if j >= len(toks) || (toks[j].kind != tkIdent && toks[j].kind != tkQIdent) {
		return nil
	}
	if toks[j].is("PRIMARY") || toks[j].is("FOREIGN") || toks[j].is("CONSTRAINT") {
		return nil
	}
	put(sqlIdent(toks[j].val), toks[*i].punct(","))
	typ, n, err := bqType(toks, j+1)
	if err != nil {
		return err
	}
	put(typ, true)
	*i = n - 1
	return nil
}

// bqType parses a GoogleSQL type at toks[i] and returns its DuckDB spelling and the
// index after it.
func bqType(toks []ntok, i int) (string, int, error) {
	if i >= len(toks) || toks[i].kind != tkIdent {
		return "", i, fmt.Errorf("Syntax error: expected a type")
	}
	name := strings.ToUpper(toks[i].val)
	i++
	switch name {
	case "ARRAY":
		if i >= len(toks) || !toks[i].punct("<") {
			return "", i, fmt.Errorf("Syntax error: expected < after ARRAY")
		}
		el, n, err := bqType(toks, i+1)
		if err != nil {
			return "", n, err
		}
		if n >= len(toks) || !toks[n].punct(">") {
			return "", n, fmt.Errorf("Syntax error: expected > to close ARRAY")
		}
		return el + "[]", n + 1, nil
	case "STRUCT":
		if i >= len(toks) || !toks[i].punct("<") {
			return "", i, fmt.Errorf("Syntax error: expected < after STRUCT")
		}
		i++
		var fields []string
		for {
			if i+1 >= len(toks) {
				return "", i, fmt.Errorf("Syntax error: unclosed STRUCT")
			}
			fname := toks[i].val
			ft, n, err := bqType(toks, i+1)
			if err != nil {
				return "", n, err
			}
			fields = append(fields, sqlIdent(fname)+" "+ft)
			i = n
			if i < len(toks) && toks[i].punct(",") {
				i++
				continue
			}
			if i < len(toks) && toks[i].punct(">") {
				return "STRUCT(" + strings.Join(fields, ", ") + ")", i + 1, nil
			}
			return "", i, fmt.Errorf("Syntax error: expected > to close STRUCT")
		}
	}
	// optional parameters, e.g. STRING(10), NUMERIC(20, 2)
	var params []string
	if i < len(toks) && toks[i].punct("(") {
		j := i + 1
		for j < len(toks) && !toks[j].punct(")") {
			if toks[j].kind == tkNumber {
				params = append(params, toks[j].val)
			}
			j++
		}
		i = j + 1
	}
	switch name {
	case "INT64", "INT", "INTEGER", "SMALLINT", "BIGINT", "TINYINT", "BYTEINT":
		return "BIGINT", i, nil
	case "FLOAT64", "FLOAT", "DOUBLE":
		return "DOUBLE", i, nil
	case "STRING", "VARCHAR":
		return "VARCHAR", i, nil
	case "BOOL", "BOOLEAN":
		return "BOOLEAN", i, nil
	case "BYTES":
		return "BLOB", i, nil
	case "NUMERIC", "DECIMAL":
		if len(params) == 2 {
			return "DECIMAL(" + params[0] + "," + params[1] + ")", i, nil
		}
		return "DECIMAL(38,9)", i, nil
	case "BIGNUMERIC", "BIGDECIMAL":
		return "DECIMAL(38,18)", i, nil
	case "TIMESTAMP":
		return "TIMESTAMPTZ", i, nil
	case "DATETIME":
		return "TIMESTAMP", i, nil
	}
	return name, i, nil
}

// duckType returns the DuckDB type of a query parameter type.
func duckParamType(t *qpType) (string, error) {
	if t == nil {
		return "", fmt.Errorf("query parameter without type")
	}
	switch strings.ToUpper(t.Type) {
	case "ARRAY":
		el, err := duckParamType(t.ArrayType)
		return el + "[]", err
	case "STRUCT":
		var f []string
		for _, st := range t.StructTypes {
			ft, err := duckParamType(st.Type)
			if err != nil {
				return "", err
			}
			f = append(f, sqlIdent(st.Name)+" "+ft)
		}
		return "STRUCT(" + strings.Join(f, ", ") + ")", nil
	}
	typ, _, err := bqType([]ntok{{token: token{kind: tkIdent, val: t.Type}}}, 0)
	return typ, err
}

// paramLiteral renders a query parameter value as a typed DuckDB literal.
func paramLiteral(t *qpType, v *qpValue) (string, error) {
	dt, err := duckParamType(t)
	if err != nil {
		return "", err
	}
	typ := strings.ToUpper(t.Type)
	if v == nil || (v.Value == nil && v.ArrayValues == nil && v.StructValues == nil) {
		if typ == "ARRAY" && v != nil {
			return "CAST([] AS " + dt + ")", nil
		}
		return "CAST(NULL AS " + dt + ")", nil
	}
	switch typ {
	case "ARRAY":
		var els []string
		for _, e := range v.ArrayValues {
			l, err := paramLiteral(t.ArrayType, e)
			if err != nil {
				return "", err
			}
			els = append(els, l)
		}
		return "CAST([" + strings.Join(els, ", ") + "] AS " + dt + ")", nil
	case "STRUCT":
		var f []string
		for _, st := range t.StructTypes {
			l, err := paramLiteral(st.Type, v.StructValues[st.Name])
			if err != nil {
				return "", err
			}
			f = append(f, sqlString(st.Name)+": "+l)
		}
		return "CAST({" + strings.Join(f, ", ") + "} AS " + dt + ")", nil
	}
	if v.Value == nil {
		return "CAST(NULL AS " + dt + ")", nil
	}
	s := *v.Value
	switch typ {
	case "INT64", "INTEGER":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", fmt.Errorf("Invalid INT64 query parameter value: %q", s)
		}
		return "CAST(" + strconv.FormatInt(n, 10) + " AS BIGINT)", nil
	case "BOOL", "BOOLEAN":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return "", fmt.Errorf("Invalid BOOL query parameter value: %q", s)
		}
		if b {
			return "TRUE", nil
		}
		return "FALSE", nil
	case "STRING":
		return sqlString(s), nil
	case "BYTES":
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "", fmt.Errorf("Invalid BYTES query parameter value")
		}
		return "from_hex(" + sqlString(hex.EncodeToString(raw)) + ")", nil
	}
	return "CAST(" + sqlString(s) + " AS " + dt + ")", nil
}
