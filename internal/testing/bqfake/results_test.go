package bqfake

import (
	"strings"
	"testing"

	bq "google.golang.org/api/bigquery/v2"
)

// fieldString renders a BigQuery field as "name MODE TYPE<sub fields>" for comparison.
func fieldString(f *bq.TableFieldSchema) string {
	s := f.Type
	if f.Mode != "" {
		s = f.Mode + " " + s
	}
	if f.Name != "" {
		s = f.Name + " " + s
	}
	if len(f.Fields) > 0 {
		parts := make([]string, len(f.Fields))
		for i, sf := range f.Fields {
			parts[i] = fieldString(sf)
		}
		s += "<" + strings.Join(parts, ", ") + ">"
	}
	return s
}

// TestDuckField: DuckDB types as DuckDB spells them (duckdb_columns().data_type or the
// driver's DatabaseTypeName) map to the BigQuery fields a real table or query result
// would have.
func TestDuckField(t *testing.T) {
	for _, tc := range []struct{ typ, want string }{
		{"BIGINT", "c INTEGER"},
		{"HUGEINT", "c INTEGER"},
		{`"NULL"`, "c INTEGER"},
		{"DOUBLE", "c FLOAT"},
		{"DECIMAL(38,9)", "c NUMERIC"},
		{"TIMESTAMP WITH TIME ZONE", "c TIMESTAMP"},
		{"TIMESTAMPTZ", "c TIMESTAMP"},
		{"TIMESTAMP", "c DATETIME"},
		{"DATE", "c DATE"},
		{"BLOB", "c BYTES"},
		{"JSON", "c JSON"},
		{"VARCHAR", "c STRING"},
		{"MAP(VARCHAR, BIGINT)", "c STRING"},
		{"JSON[]", "c REPEATED JSON"},
		{"INTEGER[3]", "c REPEATED INTEGER"},
		{"BIGINT[][]", "c REPEATED STRING"},
		{`STRUCT("id" BIGINT, "from" VARCHAR, tags VARCHAR[], "inner" STRUCT(x TIMESTAMPTZ))[]`,
			"c REPEATED RECORD<id INTEGER, from STRING, tags REPEATED STRING, inner RECORD<x TIMESTAMP>>"},
		{"STRUCT(", "c STRING"}, // not a DuckDB spelling: a STRING column rather than a panic
	} {
		if got := fieldString(duckField("c", tc.typ)); got != tc.want {
			t.Errorf("duckField(%q) = %s, want %s", tc.typ, got, tc.want)
		}
	}
	if f := duckField("u", "UUID"); f.Type != "STRING" || f.Description != "uuid" {
		t.Errorf("UUID: %+v, want STRING marked uuid", f)
	}
}
