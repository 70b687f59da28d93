package bigquerysink

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// Rows reads an entity table through the BigQuery API: one map per row, column →
// value in the forms of avrocodec.Registry.DecodeRow (int64, float64, bool, string,
// JSON as text, time.Time in UTC, map[string]any for records, []any for repeated).
// It is meant for tests and small tables.
func (s *Sink) Rows(ctx context.Context, e catalog.Entity) ([]map[string]any, error) {
	return s.readTable(ctx, e.Table())
}

// ChangelogRows reads an entity's changelog table like Rows.
func (s *Sink) ChangelogRows(ctx context.Context, e catalog.Entity) ([]map[string]any, error) {
	return s.readTable(ctx, e.ChangelogTable())
}

func (s *Sink) readTable(ctx context.Context, table string) ([]map[string]any, error) {
	var out []map[string]any
	err := s.retryCall(ctx, "read BigQuery table "+table, true, func() error {
		out = out[:0]
		q := s.client.Query("SELECT * FROM " + s.tableRef(table))
		q.Location = s.dest.Location
		it, err := q.Read(ctx)
		if err != nil {
			return err
		}
		for {
			var row []bigquery.Value
			err := it.Next(&row)
			if err == iterator.Done {
				return nil
			}
			if err != nil {
				return err
			}
			m, err := rowMap(it.Schema, row)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
	})
	return out, err
}

func rowMap(schema bigquery.Schema, row []bigquery.Value) (map[string]any, error) {
	if len(row) != len(schema) {
		return nil, fmt.Errorf("row has %d values for %d columns", len(row), len(schema))
	}
	m := make(map[string]any, len(row))
	for i, f := range schema {
		v, err := plainValue(f, row[i])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		m[f.Name] = v
	}
	return m, nil
}

func plainValue(f *bigquery.FieldSchema, v bigquery.Value) (any, error) {
	if v == nil {
		return nil, nil
	}
	if f.Repeated {
		xs, ok := v.([]bigquery.Value)
		if !ok {
			return nil, fmt.Errorf("repeated value is %T", v)
		}
		one := *f
		one.Repeated = false
		out := make([]any, len(xs))
		for i, x := range xs {
			var err error
			if out[i], err = plainValue(&one, x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	switch f.Type {
	case bigquery.RecordFieldType:
		xs, ok := v.([]bigquery.Value)
		if !ok {
			return nil, fmt.Errorf("record value is %T", v)
		}
		return rowMap(f.Schema, xs)
	case bigquery.TimestampFieldType:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("timestamp value is %T", v)
		}
		return t.UTC(), nil
	}
	return v, nil
}
