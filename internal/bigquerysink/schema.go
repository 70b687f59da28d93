package bigquerysink

import (
	"fmt"

	"cloud.google.com/go/bigquery"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Names of the Kafka coordinate columns every entity table has.
const (
	ColPartition = sink.ColPartition
	ColOffset    = sink.ColOffset
	ColTimestamp = sink.ColTimestamp
)

// kafkaColumns are appended to every entity, changelog and staging table.
var kafkaColumns = bigquery.Schema{
	{Name: ColPartition, Type: bigquery.IntegerFieldType},
	{Name: ColOffset, Type: bigquery.IntegerFieldType},
	{Name: ColTimestamp, Type: bigquery.TimestampFieldType},
}

// offsetsSchema is the schema of an entity's _kafka_offsets__<entity> table.
var offsetsSchema = bigquery.Schema{
	{Name: "topic", Type: bigquery.StringFieldType, Required: true},
	{Name: "partition", Type: bigquery.IntegerFieldType, Required: true},
	{Name: "next_offset", Type: bigquery.IntegerFieldType, Required: true},
}

// scalarTypes maps each scalar Avro kind to its BigQuery type (the DuckDB mapping's
// mirror: timestamps are TIMESTAMP, free-form JSON text is JSON).
var scalarTypes = map[avrocodec.Kind]bigquery.FieldType{
	avrocodec.KindLong:      bigquery.IntegerFieldType,
	avrocodec.KindDouble:    bigquery.FloatFieldType,
	avrocodec.KindBoolean:   bigquery.BooleanFieldType,
	avrocodec.KindString:    bigquery.StringFieldType,
	avrocodec.KindJSON:      bigquery.JSONFieldType,
	avrocodec.KindTimestamp: bigquery.TimestampFieldType,
}

// fieldSchema converts one Avro field to a BigQuery column: records become RECORD,
// arrays REPEATED (BigQuery has no nullable arrays: a null array loads as empty, and
// null elements are dropped), everything else NULLABLE.
func fieldSchema(name string, t *avrocodec.Type) (*bigquery.FieldSchema, error) {
	fs := &bigquery.FieldSchema{Name: name}
	if t.Kind == avrocodec.KindArray {
		if t.Items.Kind == avrocodec.KindArray {
			return nil, fmt.Errorf("%s: BigQuery has no arrays of arrays", name)
		}
		fs.Repeated = true
		t = t.Items
	}
	if t.Kind == avrocodec.KindRecord {
		fs.Type = bigquery.RecordFieldType
		for _, f := range t.Fields {
			sub, err := fieldSchema(f.Name, f.Type)
			if err != nil {
				return nil, fmt.Errorf("%s.%w", name, err)
			}
			fs.Schema = append(fs.Schema, sub)
		}
		return fs, nil
	}
	typ, ok := scalarTypes[t.Kind]
	if !ok {
		return nil, fmt.Errorf("%s: unsupported kind %s", name, t.Kind)
	}
	fs.Type = typ
	return fs, nil
}

// entitySchema returns the columns that hold every field of the given schema versions
// of e (their union, first version's order first), without the Kafka columns. The
// versions belong to e: Prepare picks them by entity, and Write's records passed
// sink.CheckBatch.
func entitySchema(e catalog.Entity, versions []*avrocodec.Schema) (bigquery.Schema, error) {
	var out bigquery.Schema
	for _, sc := range versions {
		if err := sink.CheckSchema(e, sc); err != nil {
			return nil, err
		}
		var s bigquery.Schema
		for _, f := range sc.Root.Fields {
			fs, err := fieldSchema(f.Name, f.Type)
			if err != nil {
				return nil, fmt.Errorf("%w: %s schema %016x: %v", ErrIncompatibleSchema, e.Name, sc.Fingerprint, err)
			}
			s = append(s, fs)
		}
		var err error
		if out, _, err = mergeSchema(out, s); err != nil {
			return nil, fmt.Errorf("%w: %s schema versions disagree: %v", ErrIncompatibleSchema, e.Name, err)
		}
	}
	return out, nil
}

// mergeSchema returns have plus the columns (and nested RECORD fields) of want that it
// lacks, appended at the end (BigQuery only appends), and whether anything was added.
// A column whose type or mode differs is an error: released schemas only add nullable
// fields.
func mergeSchema(have, want bigquery.Schema) (bigquery.Schema, bool, error) {
	out := make(bigquery.Schema, len(have))
	copy(out, have)
	changed := false
	for _, w := range want {
		i := indexOf(out, w.Name)
		if i < 0 {
			out = append(out, w)
			changed = true
			continue
		}
		h := out[i]
		if h.Type != w.Type || h.Repeated != w.Repeated {
			return nil, false, fmt.Errorf("column %s changes from %s to %s", w.Name, typeName(h), typeName(w))
		}
		if h.Type == bigquery.RecordFieldType {
			sub, ch, err := mergeSchema(h.Schema, w.Schema)
			if err != nil {
				return nil, false, fmt.Errorf("%s.%w", w.Name, err)
			}
			if ch {
				cp := *h
				cp.Schema = sub
				out[i] = &cp
				changed = true
			}
		}
	}
	return out, changed, nil
}

func indexOf(s bigquery.Schema, name string) int {
	for i, f := range s {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func typeName(f *bigquery.FieldSchema) string {
	if f.Repeated {
		return "REPEATED " + string(f.Type)
	}
	return string(f.Type)
}

// columnNames lists the top-level column names of s.
func columnNames(s bigquery.Schema) []string {
	out := make([]string, len(s))
	for i, f := range s {
		out[i] = f.Name
	}
	return out
}
