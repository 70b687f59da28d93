package postgressink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Rows returns every row of the entity's table ordered by id, one map of column name
// to value per row, in the forms avrocodec.Registry.DecodeRow produces: bigint → int64,
// double precision → float64, boolean → bool, text → string, timestamptz → time.Time
// in UTC, a free-form JSON field → its JSON text (as PostgreSQL renders jsonb), a nested
// record → map[string]any and an array → []any (converted by the field's Avro type:
// timestamps back to time.Time, integers to int64), NULL → nil; _kafka_partition is an
// int32. It is meant for tests and small tables.
func (s *Sink) Rows(ctx context.Context, e catalog.Entity) ([]map[string]any, error) {
	return s.readRows(ctx, e, e.Table(), quote(catalog.Key))
}

// ChangelogRows returns every row of the entity's changelog table in Kafka order
// (partition, offset), in the same forms as Rows.
func (s *Sink) ChangelogRows(ctx context.Context, e catalog.Entity) ([]map[string]any, error) {
	return s.readRows(ctx, e, e.ChangelogTable(), quote(sink.ColPartition)+", "+quote(sink.ColOffset))
}

func (s *Sink) readRows(ctx context.Context, e catalog.Entity, table, orderBy string) ([]map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if err := s.ensureConn(ctx); err != nil {
		return nil, err
	}
	name := s.qualified(table)
	cols, err := loadColumns(ctx, s.conn, s.dest.Schema, table)
	if err != nil {
		return nil, err
	}
	if cols == nil {
		return nil, fmt.Errorf("read %s: table does not exist", name)
	}
	sel := make([]string, len(cols))
	shapes := make([]*shape, len(cols))
	for i, c := range cols {
		sel[i] = quote(c.name)
		if c.typ == typeJSONB {
			sel[i] += "::text"
			shapes[i] = s.fieldShape(e, c.name)
		}
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(sel, ", "), name, orderBy))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			v := vals[i]
			switch x := v.(type) {
			case time.Time:
				v = x.UTC()
			case string:
				if c.typ == typeJSONB && (shapes[i] == nil || shapes[i].kind != avrocodec.KindJSON) {
					if v, err = decodeStored(shapes[i], x); err != nil {
						return nil, fmt.Errorf("read %s column %s: %w", name, c.name, err)
					}
				}
			}
			m[c.name] = v
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// decodeStored decodes a stored jsonb value (a record or an array) into DecodeRow's
// form.
func decodeStored(t *shape, text string) (any, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(text)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return fromJSON(t, v)
}

// fieldShape returns the Avro type of an entity's field: from the schema versions this
// sink has prepared or written, else from the embedded schema versions; nil if unknown.
func (s *Sink) fieldShape(e catalog.Entity, field string) *shape {
	if t := s.tables[e.Name]; t != nil {
		if f := t.shape.field(field); f != nil {
			return f
		}
	}
	if s.embedded == nil {
		s.embedded = map[string]*shape{}
		if reg, err := avrocodec.NewRegistry(); err == nil {
			for _, ent := range catalog.All() {
				var merged *shape
				for _, sc := range reg.Schemas(ent.Name) {
					sh := shapeOf(sc.Root)
					if merged == nil {
						merged = sh
					} else {
						_ = merged.merge(sh) // a conflicting version keeps the first type
					}
				}
				if merged != nil {
					s.embedded[ent.Name] = merged
				}
			}
		}
	}
	return s.embedded[e.Name].field(field)
}
