package duckdbsink

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
)

// shape renders a parsed type with every scalar as its name in angle brackets, so that
// tests see the tree ParseColumnType built.
func shape(t *ColumnType) string {
	switch {
	case t.Elem != nil && t.Size > 0:
		return "ARRAY[" + shape(t.Elem) + "]" + strings.Repeat("*", t.Size)
	case t.Elem != nil:
		return "LIST[" + shape(t.Elem) + "]"
	case t.Fields != nil:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + shape(f.Type)
		}
		return "STRUCT{" + strings.Join(parts, ",") + "}"
	}
	return "<" + t.Name + ">"
}

func TestParseColumnType(t *testing.T) {
	for _, tc := range []struct {
		in, shape, sql string // sql: String() of the parse
	}{
		{"BIGINT", "<BIGINT>", "BIGINT"},
		{" TIMESTAMP WITH TIME ZONE ", "<TIMESTAMP WITH TIME ZONE>", "TIMESTAMP WITH TIME ZONE"},
		{"DECIMAL(18,3)", "<DECIMAL(18,3)>", "DECIMAL(18,3)"},
		{"VARCHAR[]", "LIST[<VARCHAR>]", "VARCHAR[]"},
		{"INTEGER[3]", "ARRAY[<INTEGER>]***", "INTEGER[3]"},
		{"INTEGER[2][]", "LIST[ARRAY[<INTEGER>]**]", "INTEGER[2][]"},
		{"BIGINT[][]", "LIST[LIST[<BIGINT>]]", "BIGINT[][]"},
		{"MAP(VARCHAR, STRUCT(a BIGINT))[]", "LIST[<MAP(VARCHAR, STRUCT(a BIGINT))>]", "MAP(VARCHAR, STRUCT(a BIGINT))[]"},
		{"ENUM('a)', 'b,c')", "<ENUM('a)', 'b,c')>", "ENUM('a)', 'b,c')"},
		{`"NULL"`, `<"NULL">`, `"NULL"`},
		// duckdb_columns() quotes field names only where needed, the driver always.
		{`STRUCT(id BIGINT, "from" VARCHAR, tags VARCHAR[])[]`, "LIST[STRUCT{id:<BIGINT>,from:<VARCHAR>,tags:LIST[<VARCHAR>]}]",
			`STRUCT("id" BIGINT, "from" VARCHAR, "tags" VARCHAR[])[]`},
		{`STRUCT("a ""b"" c" STRUCT("x" DOUBLE), "d" JSON)`, `STRUCT{a "b" c:STRUCT{x:<DOUBLE>},d:<JSON>}`,
			`STRUCT("a ""b"" c" STRUCT("x" DOUBLE), "d" JSON)`},
		{"struct(a bigint)", "STRUCT{a:<bigint>}", `STRUCT("a" bigint)`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ct, err := ParseColumnType(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := shape(ct); got != tc.shape {
				t.Errorf("shape %s, want %s", got, tc.shape)
			}
			if got := ct.String(); got != tc.sql {
				t.Errorf("String() = %s, want %s", got, tc.sql)
			}
			again, err := ParseColumnType(ct.String())
			if err != nil || shape(again) != tc.shape {
				t.Errorf("String() does not parse back: %v, %v", err, again)
			}
		})
	}
	for _, bad := range []string{"", "STRUCT(", "STRUCT(a)", "STRUCT(a BIGINT",
		`STRUCT("a BIGINT)`, "BIGINT)", "BIGINT[", "BIGINT[x]", "BIGINT[0]", "ENUM('a"} {
		if ct, err := ParseColumnType(bad); err == nil {
			t.Errorf("ParseColumnType(%q) = %s, want an error", bad, shape(ct))
		}
	}
}

// TestParseColumnTypeOfDuckDB parses the spellings DuckDB itself produces, in both
// places they are read: duckdb_columns().data_type (the sink) and the driver's
// DatabaseTypeName (the BigQuery fake). Both must give the same tree.
func TestParseColumnTypeOfDuckDB(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cols := []struct{ name, typ, shape string }{
		{"i", "BIGINT", "<>"},
		{"ts", "TIMESTAMPTZ", "<>"},
		{"dec", "DECIMAL(18,3)", "<>"},
		{"j", "JSON", "<>"},
		{"tags", "VARCHAR[]", "LIST[<>]"},
		{"fixed", "INTEGER[3]", "ARRAY[<>]***"},
		{"m", "MAP(VARCHAR, BIGINT)", "<>"},
		{"s", `STRUCT(id BIGINT, "from" VARCHAR, "we ""quote"", (and) [bracket]" DOUBLE[], "inner" STRUCT(x JSON))[]`,
			`LIST[STRUCT{id:<>,from:<>,we "quote", (and) [bracket]:LIST[<>],inner:STRUCT{x:<>}}]`},
	}
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = c.name + " " + c.typ
	}
	if _, err := db.Exec("CREATE TABLE t (" + strings.Join(defs, ", ") + ")"); err != nil {
		t.Fatal(err)
	}
	// A scalar's spelling differs between the two (TIMESTAMP WITH TIME ZONE vs
	// TIMESTAMPTZ): compare trees with scalars blanked.
	blank := func(s string) string {
		var b strings.Builder
		depth := 0
		for _, r := range s {
			switch {
			case r == '<':
				depth++
				b.WriteRune(r)
			case r == '>':
				depth--
				b.WriteRune(r)
			case depth == 0:
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	rows, err := db.Query("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 't' ORDER BY column_index")
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		ct, err := ParseColumnType(typ)
		if err != nil {
			t.Errorf("data_type of %s: %v", name, err)
		} else if got := blank(shape(ct)); got != cols[i].shape {
			t.Errorf("data_type of %s %q: shape %s, want %s", name, typ, got, cols[i].shape)
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	rows, err = db.Query("SELECT * FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cts {
		ct, err := ParseColumnType(c.DatabaseTypeName())
		if err != nil {
			t.Errorf("DatabaseTypeName of %s: %v", c.Name(), err)
		} else if got := blank(shape(ct)); got != cols[i].shape {
			t.Errorf("DatabaseTypeName of %s %q: shape %s, want %s", c.Name(), c.DatabaseTypeName(), got, cols[i].shape)
		}
	}
}

// TestParseColType: the sink's view of a parsed type: its own kinds, anything else kept
// verbatim (kind 0).
func TestParseColType(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind avrocodec.Kind
		sql  string
	}{
		{"INT8", avrocodec.KindLong, "BIGINT"},
		{"TIMESTAMP WITH TIME ZONE", avrocodec.KindTimestamp, "TIMESTAMPTZ"},
		{"JSON[]", avrocodec.KindArray, "JSON[]"},
		{`STRUCT(id BIGINT, "from" VARCHAR)`, avrocodec.KindRecord, `STRUCT("id" BIGINT, "from" VARCHAR)`},
		{"DECIMAL(18,3)", 0, "DECIMAL(18,3)"},
		{"INTEGER[3]", 0, "INTEGER[3]"},
	} {
		ct, err := parseColType(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if ct.kind != tc.kind || ct.sql(false) != tc.sql {
			t.Errorf("%s: kind %v sql %s, want %v %s", tc.in, ct.kind, ct.sql(false), tc.kind, tc.sql)
		}
	}
}
