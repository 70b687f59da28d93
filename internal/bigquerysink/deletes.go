package bigquerysink

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cloud.google.com/go/bigquery"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Names of the deletion columns of the entity and changelog tables (NULL on a live
// object's row) and of the deletions table.
const (
	ColDeletedAt     = sink.ColDeletedAt
	ColDeletedReason = sink.ColDeletedReason
	ColMergedInto    = sink.ColMergedInto
	DeletionsTable   = sink.DeletionsTable
)

// deletionColumns follow the Kafka columns in every entity, changelog and staging
// table. In a staging table, a row with ColDeletedAt set is a deletion.
var deletionColumns = bigquery.Schema{
	{Name: ColDeletedAt, Type: bigquery.TimestampFieldType},
	{Name: ColDeletedReason, Type: bigquery.StringFieldType},
	{Name: ColMergedInto, Type: bigquery.IntegerFieldType},
}

// deletionsSchema is the schema of the deletions table: the latest deletion of each id
// of each entity table.
var deletionsSchema = bigquery.Schema{
	{Name: "table_name", Type: bigquery.StringFieldType, Required: true},
	{Name: catalog.Key, Type: bigquery.IntegerFieldType, Required: true},
	{Name: ColDeletedAt, Type: bigquery.TimestampFieldType, Required: true},
	{Name: ColDeletedReason, Type: bigquery.StringFieldType},
	{Name: ColMergedInto, Type: bigquery.IntegerFieldType},
}

// deletionsMetadata clusters the deletions table on its (unenforced) primary key, so
// the guard of each batch's versions reads only the blocks of its table and ids.
var deletionsMetadata = bigquery.TableMetadata{
	Clustering:       &bigquery.Clustering{Fields: []string{"table_name", catalog.Key}},
	TableConstraints: &bigquery.TableConstraints{PrimaryKey: &bigquery.PrimaryKey{Columns: []string{"table_name", catalog.Key}}},
}

// appendDeletion appends deletion r as one line of newline-delimited JSON for the
// staging table: the id, the deletion columns and the Kafka columns; every other
// column loads as NULL (REPEATED as empty).
func appendDeletion(b []byte, r sink.Record) []byte {
	b = append(b, `{"`+catalog.Key+`":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, `,"`+ColDeletedAt+`":"`...)
	b = r.Delete.At.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","`+ColDeletedReason+`":`...)
	b = sink.AppendJSONString(b, string(r.Delete.Reason))
	if r.Delete.MergedInto != 0 {
		b = append(b, `,"`+ColMergedInto+`":`...)
		b = strconv.AppendInt(b, r.Delete.MergedInto, 10)
	}
	b = append(b, ',')
	return appendKafka(b, r)
}

// deletionRowColumns are the columns of a staged deletion that are not NULL.
var deletionRowColumns = []string{catalog.Key, ColDeletedAt, ColDeletedReason, ColMergedInto, ColPartition, ColOffset, ColTimestamp}

// latestDeletions renders the source of the deletion steps: the latest deletion of
// each id among the staged rows (the first in Kafka order among equal times, as when
// they are applied one by one). It reads only the deletion's columns: BigQuery bills
// the columns a query reads.
func latestDeletions(stg string) string {
	cols := make([]string, len(deletionRowColumns))
	for i, c := range deletionRowColumns {
		cols[i] = quoteIdent(c)
	}
	return fmt.Sprintf("(SELECT %s FROM %s WHERE %s IS NOT NULL QUALIFY ROW_NUMBER() OVER (PARTITION BY %s ORDER BY %s DESC, %s, %s) = 1)",
		strings.Join(cols, ", "), stg, quoteIdent(ColDeletedAt), quoteIdent(catalog.Key), quoteIdent(ColDeletedAt), quoteIdent(ColPartition), quoteIdent(ColOffset))
}

// writeDeletionSteps appends the statements that apply the staged deletions of p: upsert
// the latest deletion of each id into the deletions table (an older one never replaces
// a newer), then mark (soft) or remove (hard) each entity row whose version is not
// newer than the deletion and that no later deletion marked yet; in soft mode an id
// without a row gets a row of only the id and the deletion and Kafka columns.
func (s *Sink) writeDeletionSteps(b *strings.Builder, p entityCommit, stg string) {
	src := latestDeletions(stg)
	id, at := quoteIdent(catalog.Key), quoteIdent(ColDeletedAt)
	del := []string{id, at, quoteIdent(ColDeletedReason), quoteIdent(ColMergedInto)}
	fmt.Fprintf(b, "MERGE %s D\nUSING %s S\nON D.table_name = %s AND D.%s = S.%s\n", s.tableRef(DeletionsTable), src, quoteString(p.entity.Table()), id, id)
	fmt.Fprintf(b, "WHEN MATCHED AND S.%s > D.%s THEN UPDATE SET %s\n", at, at, assignments(del[1:]))
	fmt.Fprintf(b, "WHEN NOT MATCHED THEN INSERT (table_name, %s) VALUES (%s, %s);\n", strings.Join(del, ", "), quoteString(p.entity.Table()), prefixed("S.", del))

	v := quoteIdent(p.entity.VersionField)
	fmt.Fprintf(b, "MERGE %s T\nUSING %s S\nON T.%s = S.%s AND T.%s BETWEEN %d AND %d\n", s.tableRef(p.entity.Table()), src, id, id, id, p.idLo, p.idHi)
	applies := fmt.Sprintf("(T.%s IS NULL OR T.%s <= S.%s) AND (T.%s IS NULL OR T.%s < S.%s)", v, v, at, at, at, at)
	if s.cfg.Deletes.Hard() {
		fmt.Fprintf(b, "WHEN MATCHED AND %s THEN DELETE;\n", applies)
		return
	}
	mark := slices.Concat(del[1:], []string{quoteIdent(ColPartition), quoteIdent(ColOffset), quoteIdent(ColTimestamp)})
	fmt.Fprintf(b, "WHEN MATCHED AND %s THEN UPDATE SET %s\n", applies, assignments(mark))
	row := slices.Concat([]string{id}, mark)
	fmt.Fprintf(b, "WHEN NOT MATCHED THEN INSERT (%s) VALUES (%s);\n", strings.Join(row, ", "), prefixed("S.", row))
}

// versionGuard renders the condition, on staged row R, that keeps a version out of the
// entity table when the deletions table holds a deletion of its id at or after it.
func (s *Sink) versionGuard(p entityCommit) string {
	id := quoteIdent(catalog.Key)
	return fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s D WHERE D.table_name = %s AND D.%s BETWEEN %d AND %d AND D.%s = R.%s AND D.%s >= R.%s)",
		s.tableRef(DeletionsTable), quoteString(p.entity.Table()), id, p.idLo, p.idHi, id, id, quoteIdent(ColDeletedAt), quoteIdent(p.entity.VersionField))
}

// assignments renders "c = S.c, ..." for an UPDATE SET.
func assignments(cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c + " = S." + c
	}
	return strings.Join(out, ", ")
}

// prefixed renders cols each with prefix, comma-separated.
func prefixed(prefix string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = prefix + c
	}
	return strings.Join(out, ", ")
}
