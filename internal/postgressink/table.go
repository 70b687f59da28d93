package postgressink

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// metaKind tells a schema field column from the columns the sink adds (the Kafka
// coordinates and the deletion columns).
type metaKind int

const (
	dataCol metaKind = iota
	partitionCol
	offsetCol
	timestampCol
	deletedAtCol
	deletedReasonCol
	mergedIntoCol
)

// column is one column of an entity table.
type column struct {
	name string
	typ  string // PostgreSQL's spelling (format_type)
	meta metaKind
}

// metaColumns are the columns every entity and changelog table has besides the
// schema's fields: the Kafka coordinates, then the deletion columns (NULL on a live
// object's row).
var metaColumns = []column{
	{name: sink.ColPartition, typ: typeInteger, meta: partitionCol},
	{name: sink.ColOffset, typ: typeBigint, meta: offsetCol},
	{name: sink.ColTimestamp, typ: typeTimestamptz, meta: timestampCol},
	{name: sink.ColDeletedAt, typ: typeTimestamptz, meta: deletedAtCol},
	{name: sink.ColDeletedReason, typ: typeText, meta: deletedReasonCol},
	{name: sink.ColMergedInto, typ: typeBigint, meta: mergedIntoCol},
}

// valueKind says how a record value becomes a COPY value.
type valueKind int

const (
	asIs       valueKind = iota // int64, float64, bool, time.Time
	asText                      // string, cleaned (cleanText)
	asJSONText                  // free-form JSON string, cleaned (cleanJSON)
	asJSON                      // record or array, encoded (appendJSON)
)

// plan maps the fields of one schema version to the table's columns.
type plan struct {
	src   []int // per column: index in Record.Values, -1 for NULL (or a meta column)
	kinds []valueKind
	types []*avrocodec.Type // per column: the field's type (asJSON)
}

// table is what the sink knows of one entity's tables.
type table struct {
	entity    catalog.Entity
	main      string // quoted, qualified
	changelog string // quoted, qualified
	deletions string // the sink's deletions table, quoted, qualified
	stage     pgx.Identifier
	shape     *shape   // union of the schema versions seen (a record)
	cols      []column // of the entity table, in table order
	schemas   map[uint64]*avrocodec.Schema
	plans     map[uint64]*plan

	copyCols  []string
	sqlStage  string // recreates the temporary table
	sqlUpsert string
	// sqlGuarded is sqlUpsert skipping the versions a deletion in the deletions table
	// supersedes ($1: the table's name there).
	sqlGuarded string
	sqlLog     string
	// sqlDelete applies a batch's deletions (see deleteSQL).
	sqlDelete string
	// staged: the temporary table exists on the current connection with cols.
	staged bool
}

// ensureTable makes the entity's tables hold every field of the given schema versions
// and returns the table with a plan for each. It runs DDL only for a schema version it
// has not seen yet.
func (s *Sink) ensureTable(ctx context.Context, e catalog.Entity, schemas []*avrocodec.Schema) (*table, error) {
	t := s.tables[e.Name]
	fresh := sink.FreshSchemas(schemas, func(fp uint64) bool { return t != nil && t.schemas[fp] != nil })
	if t != nil && len(fresh) == 0 {
		return t, nil
	}
	var merged *shape
	if t != nil {
		merged = t.shape.clone()
	}
	for _, sc := range fresh {
		if err := sink.CheckSchema(e, sc); err != nil {
			return nil, err
		}
		sh := shapeOf(sc.Root)
		if merged == nil {
			merged = sh
			continue
		}
		if err := merged.merge(sh); err != nil {
			return nil, fmt.Errorf("%w: %s schema %016x disagrees with earlier versions: %v", ErrIncompatibleSchema, e.Name, sc.Fingerprint, err)
		}
	}
	desired := make([]column, 0, len(merged.fields)+len(metaColumns))
	for _, f := range merged.fields {
		desired = append(desired, column{name: f.name, typ: sqlType(f.typ)})
	}
	desired = append(desired, metaColumns...)
	cols, err := s.syncColumns(ctx, e, desired)
	if err != nil {
		return nil, err
	}
	if t == nil {
		t = &table{
			entity:    e,
			main:      s.qualified(e.Table()),
			changelog: s.qualified(e.ChangelogTable()),
			deletions: s.qualified(sink.DeletionsTable),
			stage:     pgx.Identifier{"pg_temp", "_stage_" + e.Name},
			schemas:   map[uint64]*avrocodec.Schema{},
		}
	}
	t.shape = merged
	for _, sc := range fresh {
		t.schemas[sc.Fingerprint] = sc
	}
	if !slices.Equal(t.cols, cols) {
		t.cols = cols
		t.buildSQL(s.dest.Changelog, s.dest.Deletes.Hard())
		t.staged = false
	}
	t.plans = make(map[uint64]*plan, len(t.schemas))
	for fp, sc := range t.schemas {
		t.plans[fp] = buildPlan(t.cols, sc)
	}
	s.tables[e.Name] = t
	return t, nil
}

// syncColumns brings the entity table (and the changelog table when enabled) to hold
// the desired columns, in one transaction, and returns the entity table's columns.
// Existing columns keep their position and must have the desired type; new ones are
// appended (nullable).
func (s *Sink) syncColumns(ctx context.Context, e catalog.Entity, desired []column) ([]column, error) {
	var cols []column
	err := s.ddl(ctx, "tables of "+e.Name, func(tx pgx.Tx) error {
		var err error
		if cols, err = s.syncTable(ctx, tx, e.Table(), desired, true); err != nil {
			return err
		}
		if s.dest.Changelog {
			_, err = s.syncTable(ctx, tx, e.ChangelogTable(), cols, false)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range cols {
		for _, m := range metaColumns {
			if cols[i].name == m.name {
				cols[i].meta = m.meta
			}
		}
	}
	return cols, nil
}

// syncTable creates the table with the desired columns (with primary key id when
// keyed), or adds the columns it lacks; it returns the table's columns afterwards.
func (s *Sink) syncTable(ctx context.Context, tx pgx.Tx, raw string, desired []column, keyed bool) ([]column, error) {
	name := s.qualified(raw)
	have, err := loadColumns(ctx, tx, s.dest.Schema, raw)
	if err != nil {
		return nil, err
	}
	if have == nil {
		defs := make([]string, 0, len(desired)+1)
		for _, c := range desired {
			defs = append(defs, quote(c.name)+" "+c.typ)
		}
		if keyed {
			defs = append(defs, "PRIMARY KEY ("+quote(catalog.Key)+")")
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", name, strings.Join(defs, ", "))); err != nil {
			return nil, fmt.Errorf("create table %s: %w", name, err)
		}
		s.log.Info("created table", "table", name, "columns", len(desired))
		return append([]column(nil), desired...), nil
	}
	for _, d := range desired {
		i := slices.IndexFunc(have, func(c column) bool { return c.name == d.name })
		if i < 0 {
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", name, quote(d.name), d.typ)); err != nil {
				return nil, fmt.Errorf("add column %s to %s: %w", d.name, name, err)
			}
			s.log.Info("added column", "table", name, "column", d.name, "type", d.typ)
			have = append(have, d)
			continue
		}
		if have[i].typ != d.typ {
			return nil, fmt.Errorf("%w: table %s column %s is %s, the schema needs %s",
				ErrIncompatibleSchema, name, d.name, have[i].typ, d.typ)
		}
	}
	return have, nil
}

// loadColumns reads the columns of schema.table in table order; nil, nil if the table
// does not exist.
func loadColumns(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, schema, table string) ([]column, error) {
	rows, err := q.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		err := r.Scan(&c.name, &c.typ)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read columns of %s.%s: %w", schema, table, err)
	}
	if len(cols) == 0 {
		return nil, nil
	}
	return cols, nil
}

func quote(name string) string { return pgx.Identifier{name}.Sanitize() }

// buildPlan maps the fields of schema version sc to the table's columns.
func buildPlan(cols []column, sc *avrocodec.Schema) *plan {
	p := &plan{src: make([]int, len(cols)), kinds: make([]valueKind, len(cols)), types: make([]*avrocodec.Type, len(cols))}
	for i, c := range cols {
		p.src[i] = -1
		if c.meta != dataCol {
			continue
		}
		j := sc.Root.FieldIndex(c.name)
		if j < 0 {
			continue
		}
		ft := sc.Root.Fields[j].Type
		p.src[i], p.types[i] = j, ft
		switch ft.Kind {
		case avrocodec.KindString:
			p.kinds[i] = asText
		case avrocodec.KindJSON:
			p.kinds[i] = asJSONText
		case avrocodec.KindRecord, avrocodec.KindArray:
			p.kinds[i] = asJSON
		}
	}
	return p
}

// buildSQL builds the statements of the table's columns: the temporary table, the
// upsert (plain and guarded by the deletions), the changelog append and the deletion
// step. Within a batch the winner of an id is its highest version, then its highest
// partition and offset (the last one written); it replaces the stored row only when
// its version is newer (a row without a version, a soft deletion of an id never seen,
// is older than any). The upsert sets every column, so a stored version clears the
// deletion columns.
func (t *table) buildSQL(changelog, hard bool) {
	quoted := make([]string, len(t.cols))
	defs := make([]string, len(t.cols))
	var set []string
	t.copyCols = make([]string, len(t.cols))
	for i, c := range t.cols {
		quoted[i] = quote(c.name)
		defs[i] = quoted[i] + " " + c.typ
		t.copyCols[i] = c.name
		if c.name != catalog.Key {
			set = append(set, quoted[i]+" = EXCLUDED."+quoted[i])
		}
	}
	list := strings.Join(quoted, ", ")
	key, ver := quote(catalog.Key), quote(t.entity.VersionField)
	stage := t.stage.Sanitize()
	t.sqlStage = fmt.Sprintf("DROP TABLE IF EXISTS %s; CREATE TEMPORARY TABLE %s (%s) ON COMMIT DELETE ROWS",
		stage, quote(t.stage[1]), strings.Join(defs, ", "))
	upsert := func(where string) string {
		return fmt.Sprintf(`INSERT INTO %s AS t (%s)
		SELECT DISTINCT ON (%s) %s FROM %s AS s%s
		ORDER BY %s, %s DESC NULLS LAST, %s DESC, %s DESC
		ON CONFLICT (%s) DO UPDATE SET %s
		WHERE t.%s IS NULL OR EXCLUDED.%s > t.%s`,
			t.main, list,
			key, list, stage, where,
			key, ver, quote(sink.ColPartition), quote(sink.ColOffset),
			key, strings.Join(set, ", "),
			ver, ver, ver)
	}
	t.sqlUpsert = upsert("")
	t.sqlGuarded = upsert(fmt.Sprintf(`
		WHERE NOT EXISTS (SELECT 1 FROM %s AS x WHERE x.table_name = $1 AND x.%s = s.%s AND x.%s >= s.%s)`,
		t.deletions, key, key, quote(sink.ColDeletedAt), ver))
	t.sqlLog = fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", t.changelog, list, list, stage)
	t.sqlDelete = t.deleteSQL(changelog, hard)
}

// ensureStage (re)creates the entity's temporary table on the connection when it
// does not exist there with the current columns. It runs outside any transaction.
func (s *Sink) ensureStage(ctx context.Context, t *table) error {
	if t.staged {
		return nil
	}
	if _, err := s.conn.Exec(ctx, t.sqlStage); err != nil {
		return fmt.Errorf("create temporary table for %s: %w", t.main, err)
	}
	t.staged = true
	return nil
}
