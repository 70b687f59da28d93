package duckdbsink

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// deletedState is what the sink knows of an entity's rows in the deletions table.
type deletedState int8

const (
	// deletedUnknown: not looked at yet in this process (asked inside the next batch).
	deletedUnknown deletedState = iota
	// deletedNone: the deletions table holds no deletion of the entity.
	deletedNone
	// deletedSome: it may hold some (set as soon as a batch stages one, before commit,
	// so a rolled-back batch errs on the safe side).
	deletedSome
)

// deletionSQL holds the statements of an entity's deletion steps; they read the staged
// deletions (delsTable: every deletion of the batch, the latest of each id flagged) or
// the staged version keys (keysTable).
type deletionSQL struct {
	record string // upserts the latest deletions into the deletions table, the later kept
	mark   string // soft: sets the deletion and Kafka columns of the rows the deletions apply to
	insert string // soft: inserts an id-and-deletion row for each deleted id the table lacks
	remove string // hard: deletes the rows the deletions apply to
	log    string // appends every deletion to the changelog table
	guard  string // deletes the staged keys not newer than their id's deletion, returning their ids
	exists string // whether the deletions table holds any deletion of the entity
}

// delsDefs are the columns of an entity's deletions staging table; latest flags the
// deletion of an id that the entity table and the deletions table get.
const delsDefs = "id BIGINT, del_at TIMESTAMPTZ, reason VARCHAR, merged_into BIGINT, p INTEGER, o BIGINT, ts TIMESTAMPTZ, latest BOOLEAN"

// deletionsDDL creates the deletions table (sink.DeletionsTable) in schema (quoted).
func deletionsDDL(table string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (table_name VARCHAR, id BIGINT, %s TIMESTAMPTZ, %s VARCHAR, %s BIGINT, PRIMARY KEY (table_name, id))`,
		table, quoteIdent(ColDeletedAt), quoteIdent(ColDeletedReason), quoteIdent(ColMergedInto))
}

// deletionStatements builds the deletion steps of t. The latest deletion (x) of an id
// applies to the stored row (t) of the id if its version is not newer (or NULL: a row
// holding only a deletion) and it is not deleted already at the same time or later.
func (s *Sink) deletionStatements(t *table) deletionSQL {
	key, ver := quoteIdent(catalog.Key), quoteIdent(t.entity.VersionField)
	at, reason, into := quoteIdent(ColDeletedAt), quoteIdent(ColDeletedReason), quoteIdent(ColMergedInto)
	part, off, ts := quoteIdent(ColPartition), quoteIdent(ColOffset), quoteIdent(ColTimestamp)
	dels := "temp.main." + quoteIdent(t.delsTable)
	keys := "temp.main." + quoteIdent(t.keysTable)
	reg := s.qualified(sink.DeletionsTable)
	name := quoteString(t.entity.Table())
	applies := fmt.Sprintf("x.latest AND t.%s = x.id AND (t.%s IS NULL OR t.%s <= x.del_at) AND (t.%s IS NULL OR t.%s < x.del_at)", key, ver, ver, at, at)
	return deletionSQL{
		record: fmt.Sprintf(`INSERT INTO %s (table_name, id, %s, %s, %s) SELECT %s, x.id, x.del_at, x.reason, x.merged_into FROM %s AS x WHERE x.latest
			ON CONFLICT (table_name, id) DO UPDATE SET %s = excluded.%s, %s = excluded.%s, %s = excluded.%s
			WHERE excluded.%s > %s`,
			reg, at, reason, into, name, dels, at, at, reason, reason, into, into, at, at),
		mark: fmt.Sprintf("UPDATE %s AS t SET %s = x.del_at, %s = x.reason, %s = x.merged_into, %s = x.p, %s = x.o, %s = x.ts FROM %s AS x WHERE %s",
			t.main, at, reason, into, part, off, ts, dels, applies),
		insert: fmt.Sprintf(`INSERT INTO %s (%s, %s, %s, %s, %s, %s, %s) SELECT x.id, x.del_at, x.reason, x.merged_into, x.p, x.o, x.ts
			FROM %s AS x WHERE x.latest AND NOT EXISTS (SELECT 1 FROM %s AS t WHERE t.%s = x.id)`,
			t.main, key, at, reason, into, part, off, ts, dels, t.main, key),
		log: fmt.Sprintf(`INSERT INTO %s (%s, %s, %s, %s, %s, %s, %s) SELECT x.id, x.del_at, x.reason, x.merged_into, x.p, x.o, x.ts FROM %s AS x`,
			t.changelog, key, at, reason, into, part, off, ts, dels),
		remove: fmt.Sprintf("DELETE FROM %s AS t USING %s AS x WHERE %s", t.main, dels, applies),
		guard: fmt.Sprintf("DELETE FROM %s AS k USING %s AS d WHERE d.table_name = %s AND d.id = k.id AND d.%s >= k.v RETURNING k.id",
			keys, reg, name, at),
		exists: fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE table_name = %s LIMIT 1)", reg, name),
	}
}

// keyFields are the columns a table created for deletions alone starts with: the key
// and the version, which the deletion steps compare.
func keyFields(e catalog.Entity) []colField {
	return []colField{
		{name: catalog.Key, typ: &colType{kind: avrocodec.KindLong, base: "BIGINT"}},
		{name: e.VersionField, typ: &colType{kind: avrocodec.KindTimestamp, base: "TIMESTAMPTZ"}},
	}
}

// latestDeletions returns, per id, the deletion with the latest time (the first of
// equal ones).
func latestDeletions(dels []*sink.Record) map[int64]*sink.Record {
	out := make(map[int64]*sink.Record, len(dels))
	for _, r := range dels {
		if l, ok := out[r.ID]; !ok || r.Delete.At.After(l.Delete.At) {
			out[r.ID] = r
		}
	}
	return out
}

// resetDels recreates the entity's deletions staging table (empty) and its appender,
// outside any transaction.
func (s *Sink) resetDels(ctx context.Context, t *table) error {
	app, err := s.recreateTemp(ctx, t.delsTable, delsDefs, &t.dels)
	if err != nil {
		return fmt.Errorf("DuckDB deletions staging table for %s: %w", t.main, err)
	}
	t.dels = app
	return nil
}

// applyDeletions applies one entity's deletions inside the open transaction: it
// stages them, records the latest of each id in the deletions table (a later one
// replaces an earlier one), marks (soft) or removes (hard) the rows they apply to
// (soft also inserts a row for each deleted id the table lacks), and appends every
// deletion to the changelog when enabled.
func (s *Sink) applyDeletions(ctx context.Context, t *table, dels []*sink.Record) error {
	t.deleted = deletedSome
	latest := latestDeletions(dels)
	for _, r := range dels {
		d := r.Delete
		if err := t.dels.AppendRow(r.ID, d.At, string(d.Reason), mergedInto(d), r.Partition, r.Offset, kafkaTime(r.Timestamp), latest[r.ID] == r); err != nil {
			return fmt.Errorf("delete from %s: stage deletion of %d: %w", t.entity.Name, r.ID, err)
		}
	}
	if err := t.dels.Flush(); err != nil {
		return fmt.Errorf("delete from %s: stage deletions: %w", t.entity.Name, err)
	}
	type step struct{ what, q string }
	steps := []step{{"record deletions", t.sqlDel.record}}
	if s.cfg.Deletes.Hard() {
		steps = append(steps, step{"remove deleted rows", t.sqlDel.remove})
	} else {
		steps = append(steps, step{"mark deleted rows", t.sqlDel.mark}, step{"insert rows of unknown deleted ids", t.sqlDel.insert})
	}
	if s.cfg.Changelog {
		steps = append(steps, step{"append to the changelog", t.sqlDel.log})
	}
	for _, st := range steps {
		if _, err := s.conn.ExecContext(ctx, st.q); err != nil {
			return fmt.Errorf("delete from %s: %s: %w", t.main, st.what, err)
		}
	}
	return nil
}

// mayHaveDeletions reports whether the deletions table may hold a deletion of t's
// entity, asking it (inside the open transaction) only the first time.
func (s *Sink) mayHaveDeletions(ctx context.Context, t *table) (bool, error) {
	if t.deleted == deletedUnknown {
		var n int64
		if err := s.conn.QueryRowContext(ctx, t.sqlDel.exists).Scan(&n); err != nil {
			return false, fmt.Errorf("upsert %s: look for deletions: %w", t.main, err)
		}
		t.deleted = deletedNone
		if n > 0 {
			t.deleted = deletedSome
		}
	}
	return t.deleted == deletedSome, nil
}

// guardVersions removes from the staged keys the versions that are not newer than
// their id's latest deletion and returns those ids (nil for none): they are not stored
// and their stored row stays. It runs only while the entity may have deletions.
func (s *Sink) guardVersions(ctx context.Context, t *table) (map[int64]bool, error) {
	if ok, err := s.mayHaveDeletions(ctx, t); err != nil || !ok {
		return nil, err
	}
	rows, err := s.conn.QueryContext(ctx, t.sqlDel.guard)
	if err != nil {
		return nil, fmt.Errorf("upsert %s: drop versions deleted since: %w", t.main, err)
	}
	defer rows.Close()
	var blocked map[int64]bool
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("upsert %s: drop versions deleted since: %w", t.main, err)
		}
		if blocked == nil {
			blocked = map[int64]bool{}
		}
		blocked[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("upsert %s: drop versions deleted since: %w", t.main, err)
	}
	return blocked, nil
}

// mergedInto is the value of ColMergedInto for d: the survivor's id, or NULL.
func mergedInto(d *tombstone.Deletion) driver.Value {
	if d.MergedInto == 0 {
		return nil
	}
	return d.MergedInto
}

// kafkaTime is the value of ColTimestamp for a record's timestamp (NULL when unset).
func kafkaTime(ts time.Time) driver.Value {
	if ts.IsZero() {
		return nil
	}
	return ts
}
