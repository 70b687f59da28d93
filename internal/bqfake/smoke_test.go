package bqfake

import (
	"testing"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
)

func TestSmoke(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	ds := setupDataset(t, client, "d")
	tbl := ds.Table("t")
	schema := bigquery.Schema{
		{Name: "id", Type: bigquery.IntegerFieldType, Required: true},
		{Name: "name", Type: bigquery.StringFieldType},
		{Name: "ts", Type: bigquery.TimestampFieldType},
		{Name: "payload", Type: bigquery.JSONFieldType},
		{Name: "tags", Type: bigquery.StringFieldType, Repeated: true},
		{Name: "rec", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{{Name: "a", Type: bigquery.IntegerFieldType}, {Name: "b", Type: bigquery.StringFieldType}}},
		{Name: "amount", Type: bigquery.NumericFieldType},
	}
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: schema}); err != nil {
		t.Fatal(err)
	}
	st, err := load(t, tbl, "load1", jsonl(
		`{"id": 1, "name": "a", "ts": "2024-01-02T03:04:05.123456Z", "payload": {"x": [1,2]}, "tags": ["p","q"], "rec": {"a": 5, "b": "z"}, "amount": "12.5"}`,
		`{"id": 2, "ts": 1700000000.5, "payload": "str", "tags": null}`,
	), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Err() != nil {
		t.Fatal(st.Err())
	}
	if n := count(t, srv, `"d"."t"`); n != 2 {
		t.Fatalf("rows %d", n)
	}
	it, err := client.Query("SELECT * FROM `test-project.d.t` ORDER BY id").Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for {
		var row []bigquery.Value
		err := it.Next(&row)
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%#v", row)
	}
	for _, r := range srv.Requests() {
		t.Logf("%+v", r)
	}
}
