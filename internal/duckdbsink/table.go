package duckdbsink

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// metaKind tells a schema field column from the Kafka coordinate columns.
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

// deletion reports whether m is one of the deletion columns.
func (m metaKind) deletion() bool { return m >= deletedAtCol }

// Names of the Kafka coordinate columns every entity table has.
const (
	ColPartition = sink.ColPartition
	ColOffset    = sink.ColOffset
	ColTimestamp = sink.ColTimestamp
)

// Names of the deletion columns every entity and changelog table has (NULL on a live
// object's row).
const (
	ColDeletedAt     = sink.ColDeletedAt
	ColDeletedReason = sink.ColDeletedReason
	ColMergedInto    = sink.ColMergedInto
)

// metaColumns are the columns the sink adds after the schema fields of a new table: the
// Kafka columns, then the deletion columns.
var metaColumns = []column{
	{name: ColPartition, typ: &colType{base: "INTEGER"}, meta: partitionCol},
	{name: ColOffset, typ: &colType{kind: avrocodec.KindLong, base: "BIGINT"}, meta: offsetCol},
	{name: ColTimestamp, typ: &colType{kind: avrocodec.KindTimestamp, base: "TIMESTAMPTZ"}, meta: timestampCol},
	{name: ColDeletedAt, typ: &colType{kind: avrocodec.KindTimestamp, base: "TIMESTAMPTZ"}, meta: deletedAtCol},
	{name: ColDeletedReason, typ: &colType{kind: avrocodec.KindString, base: "VARCHAR"}, meta: deletedReasonCol},
	{name: ColMergedInto, typ: &colType{kind: avrocodec.KindLong, base: "BIGINT"}, meta: mergedIntoCol},
}

// column is one column of an entity table.
type column struct {
	name string
	typ  *colType
	meta metaKind
}

// plan maps the values of records written with one schema version to table columns.
type plan struct {
	src  []int       // per column: index in Record.Values, -1 for NULL (or a meta column)
	conv []converter // per column: nil when the value is appended unchanged
}

// table is what the sink knows of one entity's tables.
type table struct {
	entity    catalog.Entity
	main      string // quoted, qualified
	changelog string // quoted, qualified
	cols      []column
	staged    []column // the columns the appenders fill: cols but the deletion columns
	schemas   map[uint64]*avrocodec.Schema
	plans     map[uint64]*plan

	// Query appenders bound to the writer connection (ins == nil: create on next
	// use). Each buffers rows on the Go side and in a DuckDB collection, and runs its
	// statement over them (as the table "staged") on Flush, inside the open
	// transaction.
	ins  []*slot // winners: INSERT into the entity table
	logs []*slot // every record: INSERT into the changelog

	// keys is an appender on the TEMP table keysTable holding (id, version) of the
	// batch's winners; the table is recreated before every batch (DuckDB does not
	// reclaim the space of deleted rows of a TEMP table).
	keys      *duckdb.Appender
	keysTable string // unquoted
	sqlSkip   string // stored ids of the staged keys, and whether their stored version is newer or equal
	sqlDelete string // deletes the stored rows the winners replace

	// dels is an appender on the TEMP table delsTable holding the batch's deletions (one
	// per id, the latest), recreated before every batch that has deletions of the entity
	// (nil otherwise).
	dels      *duckdb.Appender
	delsTable string // unquoted
	sqlDel    deletionSQL
	// deleted says whether the deletions table may hold deletions of the entity: while
	// it is known to hold none, versions skip the deletions guard.
	deleted deletedState
}

// slot is one appender and the row buffer its filling goroutine reuses.
type slot struct {
	app *duckdb.Appender
	row []driver.Value
}

// Prepare creates, for every entity, its table (and changelog table when enabled) with
// the union of the fields of the entity's schema versions among schemas, then the
// Kafka and deletion columns; existing tables get the missing columns (and missing
// nested fields), the deletion columns included (Open creates the deletions table).
// Schemas of entities not listed are ignored; an entity without any schema is an error
// (sink.SchemasOf), found before any table is touched. It is idempotent.
func (s *Sink) Prepare(ctx context.Context, entities []catalog.Entity, schemas []*avrocodec.Schema) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	byEntity, err := sink.SchemasOf(entities, schemas)
	if err != nil {
		return fmt.Errorf("prepare DuckDB tables: %w", err)
	}
	if err := s.ensureConn(ctx); err != nil {
		return err
	}
	for _, es := range byEntity {
		if _, err := s.ensureTable(ctx, es.Entity, es.Schemas); err != nil {
			return err
		}
	}
	return nil
}

// ensureTable makes the entity's tables hold every field of the given schema versions
// and returns the table with a plan for each. It runs DDL (in its own transaction) only
// for a schema version it has not seen yet. The schemas belong to e: Prepare picks
// them by entity, and Write's records passed sink.CheckBatch.
func (s *Sink) ensureTable(ctx context.Context, e catalog.Entity, schemas []*avrocodec.Schema) (*table, error) {
	t := s.tables[e.Name]
	fresh := sink.FreshSchemas(schemas, func(fp uint64) bool { return t != nil && t.plans[fp] != nil })
	if t != nil && len(fresh) == 0 {
		return t, nil
	}
	var want []colField
	for _, sc := range fresh {
		if err := sink.CheckSchema(e, sc); err != nil {
			return nil, err
		}
		ct, err := fromAvro(sc.Root)
		if err != nil {
			return nil, fmt.Errorf("%w: %s schema %016x: %v", ErrIncompatibleSchema, e.Name, sc.Fingerprint, err)
		}
		if want, _, err = mergeFields(want, ct.fields); err != nil {
			return nil, fmt.Errorf("%w: %s schema versions disagree: %v", ErrIncompatibleSchema, e.Name, err)
		}
	}
	if t == nil && len(want) == 0 {
		// Only deletions of an entity not prepared in this process: the table exists
		// already (its columns are loaded) or gets the key and version columns the
		// deletion steps compare, the other fields coming with the first schema.
		want = keyFields(e)
	}
	if t == nil {
		t = &table{
			entity:    e,
			main:      s.qualified(e.Table()),
			changelog: s.qualified(e.ChangelogTable()),
			keysTable: "_keys_" + e.Name,
			delsTable: "_dels_" + e.Name,
			schemas:   map[uint64]*avrocodec.Schema{},
			plans:     map[uint64]*plan{},
		}
	}
	cols, err := s.syncColumns(ctx, t, want)
	if err != nil {
		return nil, err
	}
	if !sameColumns(t.cols, cols) {
		if err := t.dropStage(); err != nil {
			s.log.Warn("closing staging appender", "table", e.Table(), "err", err)
		}
		t.cols = cols
		t.staged = stagedColumns(cols)
		t.plans = map[uint64]*plan{}
	}
	for _, sc := range fresh {
		t.schemas[sc.Fingerprint] = sc
	}
	for fp, sc := range t.schemas {
		if t.plans[fp] == nil {
			t.plans[fp] = buildPlan(t.staged, sc)
		}
	}
	s.tables[e.Name] = t
	return t, nil
}

// syncColumns brings the entity table (and the changelog table when enabled) to hold
// the want fields, in one transaction, and returns the entity table's columns as they
// are then. Existing columns keep their position; new ones are appended.
func (s *Sink) syncColumns(ctx context.Context, t *table, want []colField) (cols []column, err error) {
	if _, err := s.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return nil, fmt.Errorf("DuckDB DDL for %s: begin: %w", t.main, err)
	}
	defer func() {
		if err != nil {
			if _, rerr := s.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				s.dropConn()
			}
			delete(s.tables, t.entity.Name) // reload from the database next time
		}
	}()
	desired := make([]column, 0, len(want)+len(metaColumns))
	for _, f := range want {
		desired = append(desired, column{name: f.name, typ: f.typ})
	}
	desired = append(desired, metaColumns...)

	cols, err = s.syncTable(ctx, t.entity.Table(), desired)
	if err != nil {
		return nil, err
	}
	if s.cfg.Changelog {
		if _, err := s.syncTable(ctx, t.entity.ChangelogTable(), cols); err != nil {
			return nil, err
		}
	}
	if _, err := s.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, fmt.Errorf("DuckDB DDL for %s: commit: %w", t.main, err)
	}
	// Meta columns are known by name, whatever their position.
	for i := range cols {
		for _, m := range metaColumns {
			if cols[i].name == m.name {
				cols[i].meta = m.meta
			}
		}
	}
	return cols, nil
}

// syncTable creates table with the desired columns, or adds to it the columns it
// lacks and widens the STRUCT types that lack nested fields. It returns the table's
// columns afterwards.
func (s *Sink) syncTable(ctx context.Context, raw string, desired []column) ([]column, error) {
	name := s.qualified(raw)
	have, err := s.loadColumns(ctx, raw)
	if err != nil {
		return nil, err
	}
	if have == nil {
		defs := make([]string, len(desired))
		for i, c := range desired {
			defs[i] = quoteIdent(c.name) + " " + c.typ.sql(false)
		}
		q := fmt.Sprintf("CREATE TABLE %s (%s)", name, strings.Join(defs, ", "))
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("create DuckDB table %s: %w", name, err)
		}
		s.log.Info("created table", "table", name, "columns", len(desired))
		return append([]column(nil), desired...), nil
	}
	for _, d := range desired {
		i := slices.IndexFunc(have, func(c column) bool { return c.name == d.name })
		if i < 0 {
			q := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", name, quoteIdent(d.name), d.typ.sql(false))
			if _, err := s.conn.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("add column %s to DuckDB table %s: %w", d.name, name, err)
			}
			s.log.Info("added column", "table", name, "column", d.name, "type", d.typ.sql(false))
			have = append(have, d)
			continue
		}
		m, err := mergeTypes(have[i].typ, d.typ)
		if err != nil {
			return nil, fmt.Errorf("%w: DuckDB table %s column %s: %v", ErrIncompatibleSchema, name, d.name, err)
		}
		if m == have[i].typ {
			continue
		}
		q := fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s", name, quoteIdent(d.name), m.sql(false))
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("widen column %s of DuckDB table %s: %w", d.name, name, err)
		}
		s.log.Info("widened column", "table", name, "column", d.name, "type", m.sql(false))
		have[i].typ = m
	}
	return have, nil
}

// loadColumns reads the columns of table (in the sink's schema) from the catalog; nil,
// nil if it does not exist.
func (s *Sink) loadColumns(ctx context.Context, table string) ([]column, error) {
	qualified := s.qualified(table)
	rows, err := s.conn.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = ? AND table_name = ?
		ORDER BY column_index`, s.cfg.Schema, table)
	if err != nil {
		return nil, fmt.Errorf("read columns of DuckDB table %s: %w", qualified, err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("read columns of DuckDB table %s: %w", qualified, err)
		}
		ct, err := parseColType(typ)
		if err != nil {
			return nil, fmt.Errorf("DuckDB table %s column %s: %w", qualified, name, err)
		}
		cols = append(cols, column{name: name, typ: ct})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of DuckDB table %s: %w", qualified, err)
	}
	return cols, nil
}

// sameColumns reports whether a and b have the same names and types in the same order.
func sameColumns(a, b []column) bool {
	return slices.EqualFunc(a, b, func(x, y column) bool { return x.name == y.name && equalTypes(x.typ, y.typ) })
}

// stagedColumns returns cols without the deletion columns: the appenders' INSERTs
// leave those out (NULL), which costs a version's row nothing, and the deletion steps
// set them with SQL.
func stagedColumns(cols []column) []column {
	out := make([]column, 0, len(cols))
	for _, c := range cols {
		if !c.meta.deletion() {
			out = append(out, c)
		}
	}
	return out
}

// buildPlan maps the fields of schema version sc to the staged columns.
func buildPlan(cols []column, sc *avrocodec.Schema) *plan {
	idx := make(map[string]int, len(sc.Root.Fields))
	for i, f := range sc.Root.Fields {
		idx[f.Name] = i
	}
	p := &plan{src: make([]int, len(cols)), conv: make([]converter, len(cols))}
	for i, c := range cols {
		p.src[i] = -1
		if c.meta != dataCol {
			continue
		}
		if j, ok := idx[c.name]; ok {
			p.src[i] = j
			p.conv[i] = converterFor(c.typ, sc.Root.Fields[j].Type)
		}
	}
	return p
}

// ensureStage creates the entity's query appenders on the writer connection. It runs
// only when the columns changed or after an error. JSON is appended as VARCHAR (the
// driver's appender would JSON-encode a string written to a JSON column) and cast in
// the statements, which validates it and keeps the text byte for byte.
func (s *Sink) ensureStage(t *table) (err error) {
	if t.ins != nil {
		return nil
	}
	defer func() {
		if err != nil {
			_ = t.dropStage()
		}
	}()
	names := make([]string, len(t.staged))
	quoted := make([]string, len(t.staged))
	cast := make([]string, len(t.staged)) // staged column in its table type
	infos := make([]duckdb.TypeInfo, len(t.staged))
	for i, c := range t.staged {
		names[i], quoted[i] = c.name, quoteIdent(c.name)
		cast[i] = "s." + quoted[i]
		if c.typ.hasJSON() {
			cast[i] = fmt.Sprintf("CAST(s.%s AS %s)", quoted[i], c.typ.sql(false))
		}
		if infos[i], err = typeInfo(c.typ); err != nil {
			return fmt.Errorf("DuckDB table %s column %s: %w", t.main, c.name, err)
		}
	}
	key, ver := quoteIdent(catalog.Key), quoteIdent(t.entity.VersionField)
	list := strings.Join(quoted, ", ")
	keys := "temp.main." + quoteIdent(t.keysTable)
	t.sqlSkip = fmt.Sprintf("SELECT k.id, coalesce(t.%s >= k.v, false) FROM %s AS k JOIN %s AS t ON t.%s = k.id", ver, keys, t.main, key)
	t.sqlDelete = fmt.Sprintf("DELETE FROM %s AS t USING %s AS k WHERE t.%s = k.id AND (t.%s IS NULL OR k.v > t.%s)",
		t.main, keys, key, ver, ver)
	t.sqlDel = s.deletionStatements(t)
	// Plain INSERTs: an anti-join here would make DuckDB build its hash table on the
	// wide staged rows, several times slower than the separate skip query.
	ins := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM staged AS s", t.main, list, strings.Join(cast, ", "))
	logIns := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM staged AS s", t.changelog, list, strings.Join(cast, ", "))
	for range stageSlots {
		sl, err := s.newSlot(ins, infos, names)
		if err != nil {
			return fmt.Errorf("DuckDB appender for %s: %w", t.main, err)
		}
		t.ins = append(t.ins, sl)
		if s.cfg.Changelog {
			sl, err := s.newSlot(logIns, infos, names)
			if err != nil {
				return fmt.Errorf("DuckDB appender for %s: %w", t.changelog, err)
			}
			t.logs = append(t.logs, sl)
		}
	}
	return nil
}

// resetKeys recreates the entity's keys table (empty) and its appender, outside any
// transaction.
func (s *Sink) resetKeys(ctx context.Context, t *table) error {
	app, err := s.recreateTemp(ctx, t.keysTable, "id BIGINT, v TIMESTAMPTZ", &t.keys)
	if err != nil {
		return fmt.Errorf("DuckDB keys table for %s: %w", t.main, err)
	}
	t.keys = app
	return nil
}

// recreateTemp closes the appender *old (discarding what it buffers), recreates the
// TEMP table name (unquoted) empty with the given column definitions, and returns a new
// appender on it. It runs outside any transaction: DuckDB does not reclaim the space
// of rows deleted from a TEMP table, so staging tables are replaced, not emptied.
func (s *Sink) recreateTemp(ctx context.Context, name, defs string, old **duckdb.Appender) (*duckdb.Appender, error) {
	if *old != nil {
		app := *old
		*old = nil
		if err := errors.Join(app.Clear(), app.Close()); err != nil {
			return nil, fmt.Errorf("close appender: %w", err)
		}
	}
	q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (%s)", quoteIdent(name), defs)
	if _, err := s.conn.ExecContext(ctx, q); err != nil {
		return nil, err
	}
	var app *duckdb.Appender
	err := s.conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("not a driver connection")
		}
		var err error
		app, err = duckdb.NewAppender(c, "temp", "main", name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("appender: %w", err)
	}
	return app, nil
}

// newSlot creates a query appender on the writer connection.
func (s *Sink) newSlot(query string, infos []duckdb.TypeInfo, names []string) (*slot, error) {
	sl := &slot{row: make([]driver.Value, len(infos))}
	err := s.conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("not a driver connection")
		}
		app, err := duckdb.NewQueryAppender(c, query, "staged", infos, names)
		sl.app = app
		return err
	})
	return sl, err
}

// typeInfo returns the appender type of a column type, with JSON as VARCHAR.
func typeInfo(c *colType) (duckdb.TypeInfo, error) {
	switch c.kind {
	case avrocodec.KindRecord:
		entries := make([]duckdb.StructEntry, len(c.fields))
		for i, f := range c.fields {
			fi, err := typeInfo(f.typ)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			if entries[i], err = duckdb.NewStructEntry(fi, f.name); err != nil {
				return nil, err
			}
		}
		if len(entries) == 0 {
			return nil, errors.New("empty STRUCT")
		}
		return duckdb.NewStructInfo(entries[0], entries[1:]...)
	case avrocodec.KindArray:
		it, err := typeInfo(c.items)
		if err != nil {
			return nil, err
		}
		return duckdb.NewListInfo(it)
	case avrocodec.KindLong:
		return duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	case avrocodec.KindDouble:
		return duckdb.NewTypeInfo(duckdb.TYPE_DOUBLE)
	case avrocodec.KindBoolean:
		return duckdb.NewTypeInfo(duckdb.TYPE_BOOLEAN)
	case avrocodec.KindString, avrocodec.KindJSON:
		return duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	case avrocodec.KindTimestamp:
		return duckdb.NewTypeInfo(duckdb.TYPE_TIMESTAMP_TZ)
	}
	if c.base == "INTEGER" {
		return duckdb.NewTypeInfo(duckdb.TYPE_INTEGER)
	}
	return nil, fmt.Errorf("unsupported column type %s", c.base)
}

// dropStage discards the appenders and any row they buffer (Clear before Close, so
// closing runs no statement); they are recreated on next use.
func (t *table) dropStage() error {
	var errs []error
	for _, sl := range append(t.ins, t.logs...) {
		if sl.app != nil {
			errs = append(errs, sl.app.Clear(), sl.app.Close())
		}
	}
	for _, app := range []*duckdb.Appender{t.keys, t.dels} {
		if app != nil {
			errs = append(errs, app.Clear(), app.Close())
		}
	}
	t.ins, t.logs, t.keys, t.dels = nil, nil, nil, nil
	return errors.Join(errs...)
}
