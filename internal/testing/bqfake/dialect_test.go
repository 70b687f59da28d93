package bqfake

import (
	"fmt"
	"testing"
)

// TestDialectExecutes runs translated GoogleSQL through the client and checks results.
func TestDialectExecutes(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	setupOrders(t, srv, client)
	cases := []struct{ sql, want string }{
		{"SELECT * EXCEPT (qty, _off) FROM `test-project.d.orders` ORDER BY id LIMIT 1", "[1]"},
		{"SELECT SAFE_CAST('x' AS INT64), CAST('7' AS INT64), CAST(1 AS STRING), CAST('2.5' AS FLOAT64), CAST('true' AS BOOL)", "[<nil> 7 1 2.5 true]"},
		{"SELECT LENGTH(GENERATE_UUID()), CURRENT_TIMESTAMP() > TIMESTAMP '2020-01-01 00:00:00 UTC'", "[36 true]"},
		{`SELECT "double" || 'single', 2 IN UNNEST([1, 2]), [10, 20][OFFSET(1)], [10, 20][ORDINAL(1)]`, "[doublesingle true 20 10]"},
		{"SELECT id FROM d.stg WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY _off DESC) = 1 ORDER BY id", "[1] [2] [3] [4]"},
		{"SELECT GREATEST(1, 5, 3), COALESCE(NULL, 'c'), IF(TRUE, 'y', 'n'), IFNULL(NULL, 0)", "[5 c y 0]"},
		{"SELECT TIMESTAMP '2024-01-01 10:00:00+02:00' = TIMESTAMP '2024-01-01 08:00:00 UTC'", "[true]"},
		{"SELECT CAST(NULL AS NUMERIC) IS NULL, CAST('1.25' AS NUMERIC) * 2", "[true 5/2]"},
	}
	for _, tc := range cases {
		t.Run(tc.sql, func(t *testing.T) {
			it, err := client.Query(tc.sql).Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for i, r := range readAll(t, it) {
				if i > 0 {
					got += " "
				}
				got += fmt.Sprint(r)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestMergeClauses runs each MERGE clause form on DuckDB through the translation.
func TestMergeClauses(t *testing.T) {
	cases := []struct {
		name, merge, want string
	}{
		{"update when matched", "MERGE d.orders T USING d.stg S ON T.id = S.id AND S._off = 4 WHEN MATCHED THEN UPDATE SET qty = S.qty",
			"1:12 2:20 3:30"},
		{"delete when matched and", "MERGE d.orders T USING d.stg S ON T.id = S.id WHEN MATCHED AND S._deleted THEN DELETE",
			"1:10 3:30"},
		{"insert columns when not matched by target", "MERGE INTO `test-project.d.orders` AS T USING (SELECT * FROM d.stg WHERE id = 4 LIMIT 1) AS S ON T.id = S.id WHEN NOT MATCHED BY TARGET THEN INSERT (id, qty, _off) VALUES (S.id, S.qty, S._off)",
			"1:10 2:20 3:30 4:40"},
		{"insert row", "MERGE d.orders T USING (SELECT 5 AS id, 50 AS qty, 9 AS _off) S ON T.id = S.id WHEN NOT MATCHED THEN INSERT ROW",
			"1:10 2:20 3:30 5:50"},
		{"not matched by source", "MERGE d.orders T USING (SELECT 1 AS id) S ON T.id = S.id WHEN NOT MATCHED BY SOURCE AND T.id > 2 THEN DELETE",
			"1:10 2:20"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, client := newTestServer(t)
			ctx := ctxT(t)
			setupOrders(t, srv, client)
			job, err := runQuery(ctx, client, "m", tc.merge)
			if err != nil {
				t.Fatal(err)
			}
			if st, err := job.Status(ctx); err != nil || st.Err() != nil {
				t.Fatalf("%v %v", err, st.Err())
			}
			rows, err := srv.DB().Query(`SELECT id, qty FROM d.orders ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			got := ""
			for rows.Next() {
				var id, qty int
				rows.Scan(&id, &qty)
				if got != "" {
					got += " "
				}
				got += fmt.Sprintf("%d:%d", id, qty)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestDDLThroughSQL: tables created, altered and dropped by query jobs show up in the
// table API.
func TestDDLThroughSQL(t *testing.T) {
	_, client := newTestServer(t)
	ctx := ctxT(t)
	ds := setupDataset(t, client, "d")
	for i, q := range []string{
		"CREATE TABLE `test-project.d.x` (id INT64 NOT NULL, tags ARRAY<STRING>, r STRUCT<a INT64, b TIMESTAMP>) PARTITION BY DATE(_PARTITIONTIME) OPTIONS(description='x')",
		"ALTER TABLE d.x ADD COLUMN note STRING",
	} {
		job, err := runQuery(ctx, client, fmt.Sprint("ddl", i), q)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := job.Status(ctx); err != nil || st.Err() != nil {
			t.Fatalf("%s: %v %v", q, err, st.Err())
		}
	}
	md, err := ds.Table("x").Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, f := range md.Schema {
		got += fmt.Sprintf("%s:%s:%v:%v:%d ", f.Name, f.Type, f.Required, f.Repeated, len(f.Schema))
	}
	if want := "id:INTEGER:true:false:0 tags:STRING:false:true:0 r:RECORD:false:false:2 note:STRING:false:false:0 "; got != want {
		t.Errorf("schema %s, want %s", got, want)
	}
	if _, err := runQuery(ctx, client, "drop", "DROP TABLE d.x"); err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Table("x").Metadata(ctx); reason(apiErr(t, err)) != "notFound" {
		t.Errorf("after DROP: %v", err)
	}
}
