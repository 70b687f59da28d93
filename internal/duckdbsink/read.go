package duckdbsink

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// readOffsets reads the offsets table on the writer connection (inside its
// transaction, if one is open).
func (s *Sink) readOffsets(ctx context.Context) (map[sink.TopicPartition]int64, error) {
	rows, err := s.conn.QueryContext(ctx, `SELECT topic, "partition", next_offset FROM `+s.qualified(offsetsTable))
	if err != nil {
		return nil, fmt.Errorf("read offsets: %w", err)
	}
	defer rows.Close()
	out := map[sink.TopicPartition]int64{}
	for rows.Next() {
		var tp sink.TopicPartition
		var next int64
		if err := rows.Scan(&tp.Topic, &tp.Partition, &next); err != nil {
			return nil, fmt.Errorf("read offsets: %w", err)
		}
		out[tp] = next
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read offsets: %w", err)
	}
	return out, nil
}

// Columns returns the column names of the entity's table in table order (schema fields
// in schema order, the Kafka columns, then fields added by later schema versions), or
// nil if the table does not exist.
func (s *Sink) Columns(ctx context.Context, e catalog.Entity) ([]string, error) {
	cols, err := s.tableColumns(ctx, e.Table())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cols {
		out = append(out, c.name)
	}
	return out, nil
}

// Rows returns every row of the entity's table ordered by id, one map of column name
// to value per row, in the forms avrocodec.Registry.DecodeRow produces: BIGINT →
// int64, DOUBLE → float64, BOOLEAN → bool, VARCHAR and JSON → string, TIMESTAMPTZ →
// time.Time in UTC, STRUCT → map[string]any, LIST → []any, NULL → nil;
// _kafka_partition is an int32. It is meant for tests and small tables.
func (s *Sink) Rows(ctx context.Context, e catalog.Entity) ([]map[string]any, error) {
	return s.readRows(ctx, e.Table(), quoteIdent(catalog.Key))
}

// ChangelogRows returns every row of the entity's changelog table in Kafka order
// (partition, offset), in the same forms as Rows.
func (s *Sink) ChangelogRows(ctx context.Context, e catalog.Entity) ([]map[string]any, error) {
	return s.readRows(ctx, e.ChangelogTable(), quoteIdent(ColPartition)+", "+quoteIdent(ColOffset))
}

// tableColumns reads a table's columns through the pool (not the writer connection).
func (s *Sink) tableColumns(ctx context.Context, table string) ([]column, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = ? AND table_name = ?
		ORDER BY column_index`, s.cfg.Schema, table)
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("read columns of %s: %w", table, err)
		}
		ct, err := parseColType(typ)
		if err != nil {
			return nil, fmt.Errorf("%s column %s: %w", table, name, err)
		}
		cols = append(cols, column{name: name, typ: ct})
	}
	return cols, rows.Err()
}

func (s *Sink) readRows(ctx context.Context, table, orderBy string) ([]map[string]any, error) {
	cols, err := s.tableColumns(ctx, table)
	if err != nil {
		return nil, err
	}
	if cols == nil {
		return nil, fmt.Errorf("read %s: table does not exist", s.qualified(table))
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		q := quoteIdent(c.name)
		if c.typ.hasJSON() {
			sel[i] = fmt.Sprintf("CAST(%s AS %s) AS %s", q, c.typ.sql(true), q)
		} else {
			sel[i] = q
		}
	}
	q := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(sel, ", "), s.qualified(table), orderBy)
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.qualified(table), err)
	}
	defer rows.Close()
	var out []map[string]any
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", s.qualified(table), err)
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c.name] = normalize(vals[i])
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", s.qualified(table), err)
	}
	return out, nil
}

// normalize turns a scanned value into DecodeRow's forms (times in UTC, recursively).
func normalize(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC()
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}
