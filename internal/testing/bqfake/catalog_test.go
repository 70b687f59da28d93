package bqfake

import (
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/bigquery"
)

func TestDatasetsAndTables(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	ds := client.Dataset("d1")

	if _, err := ds.Metadata(ctx); reason(apiErr(t, err)) != "notFound" {
		t.Fatalf("get missing dataset: %v", err)
	}
	if err := ds.Create(ctx, &bigquery.DatasetMetadata{Location: "US"}); err != nil {
		t.Fatal(err)
	}
	err := ds.Create(ctx, &bigquery.DatasetMetadata{Location: "US"})
	if ge := apiErr(t, err); ge.Code != http.StatusConflict || reason(ge) != "duplicate" {
		t.Fatalf("second create: %v", err)
	}
	md, err := ds.Metadata(ctx)
	if err != nil || md.Location != "US" || md.ETag == "" {
		t.Fatalf("dataset metadata %+v, %v", md, err)
	}

	tbl := ds.Table("t1")
	if _, err := tbl.Metadata(ctx); reason(apiErr(t, err)) != "notFound" {
		t.Fatalf("get missing table: %v", err)
	}
	tm := &bigquery.TableMetadata{
		Schema: bigquery.Schema{
			{Name: "id", Type: bigquery.IntegerFieldType, Required: true},
			{Name: "at", Type: bigquery.TimestampFieldType},
		},
		TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: "at"},
		Clustering:       &bigquery.Clustering{Fields: []string{"id"}},
		ExpirationTime:   time.Now().Add(time.Hour).Truncate(time.Millisecond),
	}
	if err := tbl.Create(ctx, tm); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Create(ctx, tm); reason(apiErr(t, err)) != "duplicate" {
		t.Fatalf("second table create: %v", err)
	}
	got, err := tbl.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Schema) != 2 || !got.Schema[0].Required || got.Schema[1].Type != bigquery.TimestampFieldType {
		t.Errorf("schema %+v", got.Schema)
	}
	if got.TimePartitioning == nil || got.TimePartitioning.Field != "at" || got.Clustering == nil || got.Clustering.Fields[0] != "id" {
		t.Errorf("partitioning/clustering not kept: %+v %+v", got.TimePartitioning, got.Clustering)
	}
	if !got.ExpirationTime.Equal(tm.ExpirationTime) || got.ETag == "" || got.Type != bigquery.RegularTable {
		t.Errorf("metadata %+v", got)
	}
	// The DuckDB table exists with NOT NULL on the REQUIRED column.
	mustExec(t, srv, `INSERT INTO "d1"."t1" VALUES (1, now())`)
	if _, err := srv.DB().Exec(`INSERT INTO "d1"."t1" VALUES (NULL, now())`); err == nil {
		t.Error("NULL accepted in a REQUIRED column")
	}
	if got, _ := tbl.Metadata(ctx); got.NumRows != 1 {
		t.Errorf("numRows %d", got.NumRows)
	}
	// table in a missing dataset
	if err := client.Dataset("nope").Table("x").Create(ctx, tm); reason(apiErr(t, err)) != "notFound" {
		t.Errorf("create in missing dataset: %v", err)
	}
	if err := tbl.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Metadata(ctx); reason(apiErr(t, err)) != "notFound" {
		t.Errorf("after delete: %v", err)
	}
	if _, err := srv.DB().Exec(`SELECT * FROM "d1"."t1"`); err == nil {
		t.Error("DuckDB table survived tables.delete")
	}
}

func TestPatchSchemaEtag(t *testing.T) {
	srv, client := newTestServer(t)
	ctx := ctxT(t)
	ds := setupDataset(t, client, "d")
	tbl := ds.Table("t")
	base := bigquery.Schema{
		{Name: "id", Type: bigquery.IntegerFieldType, Required: true},
		{Name: "rec", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{{Name: "a", Type: bigquery.StringFieldType}}},
		{Name: "items", Type: bigquery.RecordFieldType, Repeated: true, Schema: bigquery.Schema{{Name: "sku", Type: bigquery.StringFieldType}}},
	}
	if err := tbl.Create(ctx, &bigquery.TableMetadata{Schema: base}); err != nil {
		t.Fatal(err)
	}
	mustExec(t, srv, `INSERT INTO "d"."t" VALUES (1, {'a': 'x'}, [{'sku': 's1'}])`)
	md, err := tbl.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	etag := md.ETag

	// Add a top-level column, a nested field and a field inside a REPEATED RECORD.
	grown := bigquery.Schema{
		base[0],
		{Name: "rec", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{{Name: "a", Type: bigquery.StringFieldType}, {Name: "b", Type: bigquery.IntegerFieldType}}},
		{Name: "items", Type: bigquery.RecordFieldType, Repeated: true, Schema: bigquery.Schema{{Name: "sku", Type: bigquery.StringFieldType}, {Name: "qty", Type: bigquery.IntegerFieldType}}},
		{Name: "note", Type: bigquery.StringFieldType},
		{Name: "labels", Type: bigquery.StringFieldType, Repeated: true},
	}
	md2, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: grown}, etag)
	if err != nil {
		t.Fatalf("patch with etag: %v", err)
	}
	if md2.ETag == etag || len(md2.Schema) != 5 || len(md2.Schema[1].Schema) != 2 {
		t.Fatalf("after patch: etag %q→%q, schema %+v", etag, md2.ETag, md2.Schema)
	}
	// Stale etag → 412 conditionNotMet.
	_, err = tbl.Update(ctx, bigquery.TableMetadataToUpdate{Description: "x"}, etag)
	if ge := apiErr(t, err); ge.Code != http.StatusPreconditionFailed || reason(ge) != "conditionNotMet" {
		t.Fatalf("stale etag: %v", err)
	}
	// The old row is still there and the new columns exist (nested ones NULL).
	var note, recB, qty any
	if err := srv.DB().QueryRow(`SELECT note, rec.b, items[1].qty FROM "d"."t" WHERE id = 1`).Scan(&note, &recB, &qty); err != nil {
		t.Fatal(err)
	}
	if note != nil || recB != nil || qty != nil {
		t.Errorf("new columns not NULL: %v %v %v", note, recB, qty)
	}
	mustExec(t, srv, `INSERT INTO "d"."t" VALUES (2, {'a': 'y', 'b': 3}, [{'sku': 's2', 'qty': 4}], 'n', ['l'])`)

	bad := []struct {
		name   string
		schema bigquery.Schema
	}{
		{"required column added", append(grown[:5:5], &bigquery.FieldSchema{Name: "r", Type: bigquery.StringFieldType, Required: true})},
		{"column dropped", grown[:4]},
		{"type changed", bigquery.Schema{{Name: "id", Type: bigquery.StringFieldType, Required: true}, grown[1], grown[2], grown[3], grown[4]}},
		{"nested type changed", bigquery.Schema{grown[0], {Name: "rec", Type: bigquery.RecordFieldType, Schema: bigquery.Schema{{Name: "a", Type: bigquery.IntegerFieldType}, {Name: "b", Type: bigquery.IntegerFieldType}}}, grown[2], grown[3], grown[4]}},
		{"nullable made repeated", bigquery.Schema{grown[0], grown[1], grown[2], {Name: "note", Type: bigquery.StringFieldType, Repeated: true}, grown[4]}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: tc.schema}, "")
			if ge := apiErr(t, err); ge.Code != http.StatusBadRequest || reason(ge) != "invalid" {
				t.Fatalf("got %v", err)
			}
		})
	}
	// Relaxing REQUIRED to NULLABLE is allowed (BigQuery does too).
	relaxed := append(bigquery.Schema{{Name: "id", Type: bigquery.IntegerFieldType}}, grown[1:]...)
	if _, err := tbl.Update(ctx, bigquery.TableMetadataToUpdate{Schema: relaxed}, ""); err != nil {
		t.Fatalf("relax: %v", err)
	}
	mustExec(t, srv, `INSERT INTO "d"."t" (id) VALUES (NULL)`)
	if n := count(t, srv, `"d"."t"`); n != 3 {
		t.Errorf("rows %d", n)
	}
}
