package postgressink

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// sqlCreateDeletions creates the deletions table (sink.DeletionsTable) in schema: the
// latest deletion applied per entity table and id.
func sqlCreateDeletions(table string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (table_name text NOT NULL, %s bigint NOT NULL,
		%s timestamp with time zone NOT NULL, %s text, %s bigint, PRIMARY KEY (table_name, %s))`,
		table, quote(catalog.Key), quote(sink.ColDeletedAt), quote(sink.ColDeletedReason), quote(sink.ColMergedInto), quote(catalog.Key))
}

// deleteSQL builds the statement that applies a batch's deletions of the entity, given
// as arrays ($2 to $8, see deletionArgs; $1 is the entity table's name in the deletions
// table). In one statement:
//   - every deletion is appended to the changelog when enabled (id, deletion and Kafka
//     columns; the fields NULL);
//   - the latest deletion of each id (the first one in Kafka order among equals) is
//     upserted into the deletions table, replacing an older one only;
//   - it is applied to the entity row when that row's version is not newer than it
//     (or is NULL) and the row is not already deleted at or after it: soft, by setting
//     the deletion and Kafka columns (inserting a row of just those and the id when
//     there is none); hard, by deleting the row.
func (t *table) deleteSQL(changelog, hard bool) string {
	key, ver := quote(catalog.Key), quote(t.entity.VersionField)
	delCols := []string{quote(sink.ColDeletedAt), quote(sink.ColDeletedReason), quote(sink.ColMergedInto)}
	kafkaCols := []string{quote(sink.ColPartition), quote(sink.ColOffset), quote(sink.ColTimestamp)}
	rowCols := strings.Join(append(append([]string{key}, delCols...), kafkaCols...), ", ")
	const rowVals = "id, deleted_at, reason, NULLIF(merged_into, 0), p, o, ts"
	var b strings.Builder
	b.WriteString(`WITH a AS (SELECT * FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::bigint[], $6::integer[], $7::bigint[], $8::timestamptz[])
			AS a(id, deleted_at, reason, merged_into, p, o, ts)),
		d AS (SELECT DISTINCT ON (id) * FROM a ORDER BY id, deleted_at DESC, p, o)`)
	if changelog {
		fmt.Fprintf(&b, `,
		logged AS (INSERT INTO %s (%s) SELECT %s FROM a)`, t.changelog, rowCols, rowVals)
	}
	dAt := quote(sink.ColDeletedAt)
	fmt.Fprintf(&b, `,
		remembered AS (INSERT INTO %s AS x (table_name, %s, %s)
			SELECT $1, id, deleted_at, reason, NULLIF(merged_into, 0) FROM d
			ON CONFLICT (table_name, %s) DO UPDATE SET %s
			WHERE EXCLUDED.%s > x.%s)
		`, t.deletions, key, strings.Join(delCols, ", "), key, setExcluded(delCols), dAt, dAt)
	if hard {
		fmt.Fprintf(&b, `DELETE FROM %s AS t USING d WHERE t.%s = d.id
			AND (t.%s IS NULL OR t.%s <= d.deleted_at) AND (t.%s IS NULL OR t.%s < d.deleted_at)`,
			t.main, key, ver, ver, dAt, dAt)
		return b.String()
	}
	fmt.Fprintf(&b, `INSERT INTO %s AS t (%s) SELECT %s FROM d
			ON CONFLICT (%s) DO UPDATE SET %s
			WHERE (t.%s IS NULL OR t.%s <= EXCLUDED.%s) AND (t.%s IS NULL OR t.%s < EXCLUDED.%s)`,
		t.main, rowCols, rowVals, key, setExcluded(append(delCols, kafkaCols...)), ver, ver, dAt, dAt, dAt, dAt)
	return b.String()
}

// setExcluded is the SET list of an ON CONFLICT DO UPDATE taking cols (quoted) from
// the row proposed for insertion.
func setExcluded(cols []string) string {
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = EXCLUDED." + c
	}
	return strings.Join(set, ", ")
}

// deletionArgs are the arguments of a table's sqlDelete for the deletions dels.
func deletionArgs(t *table, dels []*sink.Record) []any {
	n := len(dels)
	ids, at, reasons, into := make([]int64, n), make([]time.Time, n), make([]string, n), make([]int64, n)
	parts, offs, ts := make([]int32, n), make([]int64, n), make([]pgtype.Timestamptz, n)
	for i, r := range dels {
		ids[i], at[i], reasons[i], into[i] = r.ID, r.Delete.At, string(r.Delete.Reason), r.Delete.MergedInto
		parts[i], offs[i] = r.Partition, r.Offset
		ts[i] = pgtype.Timestamptz{Time: r.Timestamp, Valid: !r.Timestamp.IsZero()}
	}
	return []any{t.entity.Table(), ids, at, reasons, into, parts, offs, ts}
}

// applyDeletions applies one entity's deletions inside the batch's transaction.
func (s *Sink) applyDeletions(ctx context.Context, tx pgx.Tx, g *group) error {
	if _, err := tx.Exec(ctx, g.t.sqlDelete, deletionArgs(g.t, g.dels)...); err != nil {
		return fmt.Errorf("apply %d %s deletion(s): %w", len(g.dels), g.t.entity.Name, err)
	}
	return nil
}

// hasDeletions reports whether the deletions table holds a deletion of the entity (an
// index probe): until it does, versions need no guard. It runs inside the batch's
// transaction; a deletion of the same id can only be written by the writer of its
// partition, which this batch's offset lock fences.
func (s *Sink) hasDeletions(ctx context.Context, tx pgx.Tx, t *table) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.deletions+" WHERE table_name = $1)", t.entity.Table()).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("look up deletions of %s: %w", t.main, err)
	}
	return ok, nil
}

// tableFor returns the entity's table for deletions when the batch has no version of
// it: the prepared one, else one made from the embedded schema versions.
func (s *Sink) tableFor(ctx context.Context, e catalog.Entity) (*table, error) {
	if t := s.tables[e.Name]; t != nil {
		return t, nil
	}
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		return nil, fmt.Errorf("embedded schemas: %w", err)
	}
	schemas := reg.Schemas(e.Name)
	if len(schemas) == 0 {
		return nil, fmt.Errorf("deletion of %s: the entity has no schema", e.Name)
	}
	return s.ensureTable(ctx, e, schemas)
}
