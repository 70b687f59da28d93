package bqfake

import (
	"strings"
	"testing"
)

func testTranslator(params ...*qparam) *translator {
	tr := &translator{
		project: "test-project",
		isDataset: func(s string) (string, bool) {
			if strings.EqualFold(s, "ds") {
				return "ds", true
			}
			return "", false
		},
		named: map[string]*qparam{},
		temps: map[string]bool{},
	}
	for _, p := range params {
		tr.named[strings.ToLower(p.Name)] = p
	}
	return tr
}

func strp(s string) *string { return &s }

func TestTranslate(t *testing.T) {
	cases := []struct {
		name, in, want string
		kind           stmtKind
		targets        string
	}{
		{"backquoted 3-part", "SELECT * FROM `test-project.ds.t`", `SELECT * FROM "ds"."t"`, skSelect, ""},
		{"backquoted 2-part", "SELECT a FROM `ds.t` WHERE b = 1", `SELECT a FROM "ds"."t" WHERE b = 1`, skSelect, ""},
		{"split backquotes", "SELECT `x` FROM `test-project`.ds.`t`", `SELECT "x" FROM "ds"."t"`, skSelect, ""},
		{"bare 2-part", "SELECT T.id FROM ds.t T", `SELECT "T"."id" FROM "ds"."t" T`, skSelect, ""},
		{"double-quoted string", `SELECT "it's" AS s`, `SELECT 'it''s' AS s`, skSelect, ""},
		{"escapes", `SELECT 'a\nb\'c'`, "SELECT 'a\nb''c'", skSelect, ""},
		{"raw string", `SELECT r'a\d'`, `SELECT 'a\d'`, skSelect, ""},
		{"comments", "SELECT 1 -- x; y\n# z;\n/* ; */ + 2", `SELECT 1 + 2`, skSelect, ""},
		{"except", "SELECT * EXCEPT (a, b) FROM ds.t", `SELECT * EXCLUDE (a, b) FROM "ds"."t"`, skSelect, ""},
		{"safe_cast types", "SELECT SAFE_CAST(x AS INT64), CAST(y AS FLOAT64), CAST(z AS STRING), CAST(b AS BOOL), CAST(c AS BYTES), CAST(d AS ARRAY<STRUCT<a INT64, b TIMESTAMP>>)",
			`SELECT TRY_CAST(x AS BIGINT), CAST(y AS DOUBLE), CAST(z AS VARCHAR), CAST(b AS BOOLEAN), CAST(c AS BLOB), CAST(d AS STRUCT("a" BIGINT, "b" TIMESTAMPTZ)[])`, skSelect, ""},
		{"typed literal", "SELECT TIMESTAMP '2024-01-01 00:00:00+00', CURRENT_TIMESTAMP()", `SELECT CAST('2024-01-01 00:00:00+00' AS TIMESTAMPTZ), CURRENT_TIMESTAMP`, skSelect, ""},
		{"in unnest", "SELECT 1 FROM ds.t WHERE p IN UNNEST([1, 2])", `SELECT 1 FROM "ds"."t" WHERE p IN (SELECT UNNEST([1, 2]))`, skSelect, ""},
		{"offset", "SELECT arr[OFFSET(0)], arr[SAFE_ORDINAL(1)]", `SELECT arr[(0)+1], arr[(1)]`, skSelect, ""},
		{"insert without into", "INSERT ds.t (a) VALUES (1)", `INSERT INTO "ds"."t" (a) VALUES (1)`, skDML, "ds.t"},
		{"delete without from", "DELETE `test-project.ds.t` WHERE TRUE", `DELETE FROM "ds"."t" WHERE TRUE`, skDML, "ds.t"},
		{"update", "UPDATE ds.t SET a = 1 WHERE TRUE", `UPDATE "ds"."t" SET a = 1 WHERE TRUE`, skDML, "ds.t"},
		{"merge", "MERGE `ds.t` T USING ds.s S ON T.id = S.id WHEN NOT MATCHED BY TARGET THEN INSERT ROW",
			`MERGE INTO "ds"."t" T USING "ds"."s" S ON "T"."id" = "S"."id" WHEN NOT MATCHED BY TARGET THEN INSERT`, skDML, "ds.t"},
		{"temp table dml", "INSERT INTO tmp SELECT 1", `INSERT INTO tmp SELECT 1`, skDML, ""},
		{"begin", "BEGIN TRANSACTION", "BEGIN TRANSACTION", skBegin, ""},
		{"begin short", "BEGIN", "BEGIN TRANSACTION", skBegin, ""},
		{"commit", "COMMIT TRANSACTION", "COMMIT", skCommit, ""},
		{"rollback", "ROLLBACK TRANSACTION", "ROLLBACK", skRollback, ""},
		{"assert", "ASSERT (SELECT COUNT(*) FROM ds.t) = 1 AS 'bad count'",
			`SELECT CASE WHEN ((SELECT COUNT(*) FROM "ds"."t") = 1) IS NOT TRUE THEN error('bad count') END`, skAssert, ""},
		{"assert default message", "ASSERT FALSE",
			`SELECT CASE WHEN (FALSE) IS NOT TRUE THEN error('Assertion failed: FALSE') END`, skAssert, ""},
		{"create temp", "CREATE TEMP TABLE src (a INT64, b ARRAY<STRING>)", `CREATE TEMP TABLE src ("a" BIGINT, "b" VARCHAR[])`, skDDL, ""},
		{"create options", "CREATE TABLE ds.x (a INT64) PARTITION BY DATE(ts) CLUSTER BY a OPTIONS(description='d')", `CREATE TABLE "ds"."x" ("a" BIGINT)`, skDDL, ""},
		{"params", "SELECT @n, @s, @ts, @arr, @B",
			`SELECT CAST(5 AS BIGINT), 'o''k', CAST('2024-01-02 03:04:05.000006+00:00' AS TIMESTAMPTZ), CAST([CAST(1 AS BIGINT), CAST(2 AS BIGINT)] AS BIGINT[]), TRUE`, skSelect, ""},
	}
	params := []*qparam{
		{Name: "n", ParameterType: &qpType{Type: "INT64"}, ParameterValue: &qpValue{Value: strp("5")}},
		{Name: "s", ParameterType: &qpType{Type: "STRING"}, ParameterValue: &qpValue{Value: strp("o'k")}},
		{Name: "ts", ParameterType: &qpType{Type: "TIMESTAMP"}, ParameterValue: &qpValue{Value: strp("2024-01-02 03:04:05.000006+00:00")}},
		{Name: "arr", ParameterType: &qpType{Type: "ARRAY", ArrayType: &qpType{Type: "INT64"}}, ParameterValue: &qpValue{ArrayValues: []*qpValue{{Value: strp("1")}, {Value: strp("2")}}}},
		{Name: "b", ParameterType: &qpType{Type: "BOOL"}, ParameterValue: &qpValue{Value: strp("true")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sts, err := testTranslator(params...).translateScript(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(sts) != 1 {
				t.Fatalf("%d statements", len(sts))
			}
			st := sts[0]
			if st.sql != tc.want {
				t.Errorf("got  %s\nwant %s", st.sql, tc.want)
			}
			if st.kind != tc.kind {
				t.Errorf("kind %d, want %d", st.kind, tc.kind)
			}
			if got := strings.Join(st.targets, ","); got != tc.targets {
				t.Errorf("targets %q, want %q", got, tc.targets)
			}
		})
	}
}

func TestSplitScript(t *testing.T) {
	sts, err := testTranslator().translateScript("BEGIN;\nSELECT ';' AS a, `x;y`; -- c;\n/* ; */ COMMIT TRANSACTION;;")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sts {
		got = append(got, s.sql)
	}
	want := []string{"BEGIN TRANSACTION", `SELECT ';' AS a, "x;y"`, "COMMIT"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	if sts[1].orig != "SELECT ';' AS a, `x;y`" {
		t.Errorf("orig %q", sts[1].orig)
	}
	for _, bad := range []string{"SELECT 'unterminated", "SELECT `x", "SELECT @missing", "BEGIN SELECT 1; END", "DELETE FROM ds.t", "UPDATE ds.t SET a = 1"} {
		if _, err := testTranslator().translateScript(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
