package bqfake

import (
	"fmt"
	"strings"

	bq "google.golang.org/api/bigquery/v2"
)

// normType returns the canonical legacy name of a BigQuery field type, or "" if the
// fake does not know it.
func normType(t string) string {
	switch strings.ToUpper(t) {
	case "STRING":
		return "STRING"
	case "INTEGER", "INT64":
		return "INTEGER"
	case "FLOAT", "FLOAT64":
		return "FLOAT"
	case "BOOLEAN", "BOOL":
		return "BOOLEAN"
	case "TIMESTAMP":
		return "TIMESTAMP"
	case "DATE":
		return "DATE"
	case "DATETIME":
		return "DATETIME"
	case "TIME":
		return "TIME"
	case "NUMERIC":
		return "NUMERIC"
	case "BIGNUMERIC":
		return "BIGNUMERIC"
	case "BYTES":
		return "BYTES"
	case "JSON":
		return "JSON"
	case "GEOGRAPHY":
		return "GEOGRAPHY"
	case "RECORD", "STRUCT":
		return "RECORD"
	}
	return ""
}

func normMode(m string) string {
	if m == "" {
		return "NULLABLE"
	}
	return strings.ToUpper(m)
}

// validateSchema checks names, types and modes of a schema.
func validateSchema(fields []*bq.TableFieldSchema, prefix string) error {
	seen := map[string]bool{}
	for _, f := range fields {
		if f == nil || f.Name == "" {
			return fmt.Errorf("Empty field name")
		}
		name := prefix + f.Name
		if seen[strings.ToLower(f.Name)] {
			return fmt.Errorf("Field %s already exists in schema", name)
		}
		seen[strings.ToLower(f.Name)] = true
		t := normType(f.Type)
		if t == "" {
			return fmt.Errorf("Invalid field type %q for field %s", f.Type, name)
		}
		switch normMode(f.Mode) {
		case "NULLABLE", "REQUIRED", "REPEATED":
		default:
			return fmt.Errorf("Invalid mode %q for field %s", f.Mode, name)
		}
		if t == "RECORD" {
			if len(f.Fields) == 0 {
				return fmt.Errorf("Field %s is type RECORD but has no schema", name)
			}
			if err := validateSchema(f.Fields, name+"."); err != nil {
				return err
			}
		} else if len(f.Fields) > 0 {
			return fmt.Errorf("Field %s is type %s but has subfields", name, f.Type)
		}
	}
	return nil
}

// duckType returns the DuckDB type of a BigQuery field (mode included).
func duckType(f *bq.TableFieldSchema) string {
	var t string
	switch normType(f.Type) {
	case "STRING", "GEOGRAPHY":
		t = "VARCHAR"
	case "INTEGER":
		t = "BIGINT"
	case "FLOAT":
		t = "DOUBLE"
	case "BOOLEAN":
		t = "BOOLEAN"
	case "TIMESTAMP":
		t = "TIMESTAMPTZ"
	case "DATE":
		t = "DATE"
	case "DATETIME":
		t = "TIMESTAMP"
	case "TIME":
		t = "TIME"
	case "NUMERIC":
		t = "DECIMAL(38,9)"
	case "BIGNUMERIC":
		t = "DECIMAL(38,18)"
	case "BYTES":
		t = "BLOB"
	case "JSON":
		t = "JSON"
	case "RECORD":
		parts := make([]string, len(f.Fields))
		for i, c := range f.Fields {
			parts[i] = sqlIdent(c.Name) + " " + duckType(c)
		}
		t = "STRUCT(" + strings.Join(parts, ", ") + ")"
	}
	if normMode(f.Mode) == "REPEATED" {
		t += "[]"
	}
	return t
}

// createTableSQL returns the CREATE TABLE statement of a BigQuery schema.
func createTableSQL(ds, tbl string, fields []*bq.TableFieldSchema) string {
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = sqlIdent(f.Name) + " " + duckType(f)
		if normMode(f.Mode) == "REQUIRED" {
			cols[i] += " NOT NULL"
		}
	}
	return "CREATE TABLE " + sqlIdent(ds) + "." + sqlIdent(tbl) + " (" + strings.Join(cols, ", ") + ")"
}

func findField(fields []*bq.TableFieldSchema, name string) *bq.TableFieldSchema {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// schemaDiff compares an existing schema with a proposed one. It returns the DuckDB
// ALTER TABLE clauses (after "ALTER TABLE t ") that turn the old into the new, and
// whether any field was added. allowAdd/allowRelax say what is permitted; any other
// difference is an error worded like BigQuery's.
func schemaDiff(tableName string, old, new []*bq.TableFieldSchema, allowAdd, allowRelax bool) (alters []string, added bool, err error) {
	var walk func(old, new []*bq.TableFieldSchema, duckPath []string, namePath string) error
	walk = func(old, new []*bq.TableFieldSchema, duckPath []string, namePath string) error {
		for _, o := range old {
			n := findField(new, o.Name)
			if n == nil {
				return fmt.Errorf("Provided Schema does not match Table %s. Field %s is missing in new schema", tableName, namePath+o.Name)
			}
			if normType(o.Type) != normType(n.Type) {
				return fmt.Errorf("Provided Schema does not match Table %s. Field %s has changed type from %s to %s", tableName, namePath+o.Name, normType(o.Type), normType(n.Type))
			}
			om, nm := normMode(o.Mode), normMode(n.Mode)
			if om != nm {
				if !(om == "REQUIRED" && nm == "NULLABLE" && allowRelax) {
					return fmt.Errorf("Provided Schema does not match Table %s. Field %s has changed mode from %s to %s", tableName, namePath+o.Name, om, nm)
				}
				if len(duckPath) == 0 {
					alters = append(alters, "ALTER COLUMN "+sqlIdent(o.Name)+" DROP NOT NULL")
				}
			}
			if normType(o.Type) == "RECORD" {
				p := append(append([]string(nil), duckPath...), o.Name)
				if om == "REPEATED" {
					p = append(p, "element")
				}
				if err := walk(o.Fields, n.Fields, p, namePath+o.Name+"."); err != nil {
					return err
				}
			}
		}
		for _, n := range new {
			if findField(old, n.Name) != nil {
				continue
			}
			if normMode(n.Mode) == "REQUIRED" {
				return fmt.Errorf("Provided Schema does not match Table %s. Cannot add required fields to an existing schema. (field: %s)", tableName, namePath+n.Name)
			}
			if !allowAdd {
				return fmt.Errorf("Provided Schema does not match Table %s. Cannot add fields (field: %s)", tableName, namePath+n.Name)
			}
			added = true
			var q []string
			for _, p := range append(append([]string(nil), duckPath...), n.Name) {
				q = append(q, sqlIdent(p))
			}
			alters = append(alters, "ADD COLUMN "+strings.Join(q, ".")+" "+duckType(n))
		}
		return nil
	}
	err = walk(old, new, nil, "")
	return alters, added, err
}

// cloneSchema returns a deep copy of a schema.
func cloneSchema(fields []*bq.TableFieldSchema) []*bq.TableFieldSchema {
	out := make([]*bq.TableFieldSchema, len(fields))
	for i, f := range fields {
		c := *f
		c.Fields = cloneSchema(f.Fields)
		out[i] = &c
	}
	return out
}
