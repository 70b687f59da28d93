package bqfake

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	bq "google.golang.org/api/bigquery/v2"
)

// dataset is a BigQuery dataset (a DuckDB schema).
type dataset struct {
	id, location, etag string
	created, modified  int64
	meta               bq.Dataset
}

// table is a BigQuery table (a DuckDB table "dataset"."table" once it has columns).
type table struct {
	ds, id            string
	etag              string
	created, modified int64
	meta              bq.Table // schema, partitioning, clustering, expiration, labels…
	hasDuck           bool     // the DuckDB table exists (a table needs a column first)
}

func (t *table) key() string { return t.ds + "." + t.id }

func (s *Server) newEtag() string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "bqfake-%d", s.nextSeq()))
}

func decodeBody(r *http.Request, v any) *reply {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return errReply(400, "invalid", "Cannot read request body: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errReply(400, "invalid", "Invalid JSON payload received. %v", err)
	}
	return nil
}

// checkProject answers 404 for a project other than the fake's.
func (s *Server) checkProject(r *http.Request) *reply {
	if p := r.PathValue("project"); p != s.project {
		return errReply(404, "notFound", "Not found: Project %s", p)
	}
	return nil
}

// lookupDataset finds a dataset by exact name, or case-insensitively for SQL.
func (s *Server) lookupDatasetFold(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.datasets[name]; ok {
		return name, true
	}
	for id := range s.datasets {
		if strings.EqualFold(id, name) {
			return id, true
		}
	}
	return "", false
}

func (s *Server) datasetJSON(d *dataset) *bq.Dataset {
	out := d.meta
	out.DatasetReference = &bq.DatasetReference{ProjectId: s.project, DatasetId: d.id}
	out.Id = s.project + ":" + d.id
	out.Kind = "bigquery#dataset"
	out.Location = d.location
	out.Etag = d.etag
	out.CreationTime = d.created
	out.LastModifiedTime = d.modified
	return &out
}

func (s *Server) insertDataset(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	var in bq.Dataset
	if rep := decodeBody(r, &in); rep != nil {
		return rep, ""
	}
	if in.DatasetReference == nil || in.DatasetReference.DatasetId == "" {
		return errReply(400, "invalid", "Missing required field: datasetReference.datasetId"), ""
	}
	id := in.DatasetReference.DatasetId
	f := s.takeFault("datasets.insert")
	if rep := preFault(f); rep != nil {
		return rep, ""
	}
	s.mu.Lock()
	if _, ok := s.datasets[id]; ok {
		s.mu.Unlock()
		return errReply(409, "duplicate", "Already Exists: Dataset %s:%s", s.project, id), ""
	}
	s.mu.Unlock()
	if _, err := s.db.ExecContext(s.ctx, "CREATE SCHEMA IF NOT EXISTS "+sqlIdent(id)); err != nil {
		return errReply(500, "internalError", "%s", duckMessage(err)), ""
	}
	loc := in.Location
	if loc == "" {
		loc = s.location
	}
	s.mu.Lock()
	if _, ok := s.datasets[id]; ok {
		s.mu.Unlock()
		return errReply(409, "duplicate", "Already Exists: Dataset %s:%s", s.project, id), ""
	}
	now := msNow()
	d := &dataset{id: id, location: loc, etag: s.newEtag(), created: now, modified: now, meta: in}
	s.datasets[id] = d
	out := s.datasetJSON(d)
	s.mu.Unlock()
	return postFault(f, okReply(out)), ""
}

func (s *Server) getDataset(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	f := s.takeFault("datasets.get")
	if rep := preFault(f); rep != nil {
		return rep, ""
	}
	id := r.PathValue("dataset")
	s.mu.Lock()
	d, ok := s.datasets[id]
	var out *bq.Dataset
	if ok {
		out = s.datasetJSON(d)
	}
	s.mu.Unlock()
	if !ok {
		return errReply(404, "notFound", "Not found: Dataset %s:%s", s.project, id), ""
	}
	return postFault(f, okReply(out)), ""
}

func (s *Server) deleteDataset(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	id := r.PathValue("dataset")
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	s.mu.Lock()
	_, ok := s.datasets[id]
	n := 0
	for _, t := range s.tables {
		if t.ds == id {
			n++
		}
	}
	s.mu.Unlock()
	if !ok {
		return errReply(404, "notFound", "Not found: Dataset %s:%s", s.project, id), ""
	}
	if n > 0 && r.URL.Query().Get("deleteContents") != "true" {
		return errReply(400, "resourceInUse", "Dataset %s:%s is still in use", s.project, id), ""
	}
	if _, err := s.db.ExecContext(s.ctx, "DROP SCHEMA "+sqlIdent(id)+" CASCADE"); err != nil {
		return errReply(500, "internalError", "%s", duckMessage(err)), ""
	}
	s.mu.Lock()
	delete(s.datasets, id)
	for k, t := range s.tables {
		if t.ds == id {
			delete(s.tables, k)
		}
	}
	s.mu.Unlock()
	return &reply{status: http.StatusNoContent}, ""
}

// tableJSON renders a table resource; numRows is counted in DuckDB.
func (s *Server) tableJSON(t *table) *bq.Table {
	out := t.meta
	out.TableReference = &bq.TableReference{ProjectId: s.project, DatasetId: t.ds, TableId: t.id}
	out.Id = s.project + ":" + t.key()
	out.Kind = "bigquery#table"
	out.Type = "TABLE"
	out.Etag = t.etag
	out.CreationTime = t.created
	out.LastModifiedTime = uint64(t.modified)
	if out.Location == "" {
		out.Location = s.location
	}
	if out.Schema != nil {
		sc := *out.Schema
		sc.Fields = cloneSchema(sc.Fields)
		out.Schema = &sc
	}
	return &out
}

func (s *Server) countRows(ctx context.Context, t *table) uint64 {
	if !t.hasDuck {
		return 0
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+sqlIdent(t.ds)+"."+sqlIdent(t.id)).Scan(&n); err != nil {
		return 0
	}
	return uint64(n)
}

func tableKeyOf(r *http.Request) string { return r.PathValue("dataset") + "." + r.PathValue("table") }

func (s *Server) insertTable(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	var in bq.Table
	if rep := decodeBody(r, &in); rep != nil {
		return rep, ""
	}
	ds := r.PathValue("dataset")
	if in.TableReference == nil || in.TableReference.TableId == "" {
		return errReply(400, "invalid", "Missing required field: tableReference.tableId"), ""
	}
	if in.TableReference.DatasetId != "" && in.TableReference.DatasetId != ds {
		return errReply(400, "invalid", "Dataset %s in the table reference does not match the URL", in.TableReference.DatasetId), ""
	}
	if in.View != nil || in.MaterializedView != nil || in.ExternalDataConfiguration != nil {
		return errReply(400, "invalid", "bqfake supports only native tables"), ""
	}
	key := ds + "." + in.TableReference.TableId
	f := s.takeFault("tables.insert", key)
	if rep := preFault(f); rep != nil {
		return rep, ""
	}
	var fields []*bq.TableFieldSchema
	if in.Schema != nil {
		fields = in.Schema.Fields
	}
	if err := validateSchema(fields, ""); err != nil {
		return errReply(400, "invalid", "%s", err.Error()), ""
	}
	s.catalogMu.Lock()
	s.mu.Lock()
	_, dsOK := s.datasets[ds]
	_, exists := s.tables[key]
	s.mu.Unlock()
	if !dsOK {
		s.catalogMu.Unlock()
		return errReply(404, "notFound", "Not found: Dataset %s:%s", s.project, ds), ""
	}
	if exists {
		s.catalogMu.Unlock()
		return errReply(409, "duplicate", "Already Exists: Table %s:%s", s.project, key), ""
	}
	t := &table{ds: ds, id: in.TableReference.TableId, meta: in}
	if len(fields) > 0 {
		if _, err := s.db.ExecContext(s.ctx, createTableSQL(ds, t.id, fields)); err != nil {
			s.catalogMu.Unlock()
			return errReply(500, "internalError", "%s", duckMessage(err)), ""
		}
		t.hasDuck = true
	}
	s.mu.Lock()
	now := msNow()
	t.created, t.modified, t.etag = now, now, s.newEtag()
	s.tables[key] = t
	out := s.tableJSON(t)
	s.mu.Unlock()
	s.catalogMu.Unlock()
	if f != nil && f.Kind == FaultNotFoundAfterCreate {
		s.armNotFound(key, f.Times)
	}
	return postFault(f, okReply(out)), ""
}

func (s *Server) getTable(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	key := tableKeyOf(r)
	if rep := s.checkNotFound(key); rep != nil {
		return rep, ""
	}
	f := s.takeFault("tables.get", key)
	if rep := preFault(f); rep != nil {
		return rep, ""
	}
	s.catalogMu.RLock()
	defer s.catalogMu.RUnlock()
	s.mu.Lock()
	t, ok := s.tables[key]
	var out *bq.Table
	if ok {
		out = s.tableJSON(t)
	}
	s.mu.Unlock()
	if !ok {
		return s.tableNotFound(r.PathValue("dataset"), key), ""
	}
	out.NumRows = s.countRows(r.Context(), t)
	return postFault(f, okReply(out)), ""
}

// tableNotFound answers 404 for a missing table or its missing dataset.
func (s *Server) tableNotFound(ds, key string) *reply {
	s.mu.Lock()
	_, ok := s.datasets[ds]
	s.mu.Unlock()
	if !ok {
		return errReply(404, "notFound", "Not found: Dataset %s:%s", s.project, ds)
	}
	return errReply(404, "notFound", "Not found: Table %s:%s", s.project, key)
}

func (s *Server) deleteTable(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	key := tableKeyOf(r)
	if rep := s.checkNotFound(key); rep != nil {
		return rep, ""
	}
	f := s.takeFault("tables.delete", key)
	if rep := preFault(f); rep != nil {
		return rep, ""
	}
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	s.mu.Lock()
	t, ok := s.tables[key]
	s.mu.Unlock()
	if !ok {
		return s.tableNotFound(r.PathValue("dataset"), key), ""
	}
	if t.hasDuck {
		if _, err := s.db.ExecContext(s.ctx, "DROP TABLE "+sqlIdent(t.ds)+"."+sqlIdent(t.id)); err != nil {
			return errReply(500, "internalError", "%s", duckMessage(err)), ""
		}
	}
	s.mu.Lock()
	delete(s.tables, key)
	s.mu.Unlock()
	return postFault(f, &reply{status: http.StatusNoContent}), ""
}

// patchTable implements tables.patch and tables.update: keys present in the body
// replace the table's; a schema may only add NULLABLE/REPEATED fields (also inside
// RECORDs) or relax REQUIRED to NULLABLE.
func (s *Server) patchTable(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	key := tableKeyOf(r)
	var raw map[string]json.RawMessage
	if rep := decodeBody(r, &raw); rep != nil {
		return rep, ""
	}
	var in bq.Table
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &in); err != nil {
		return errReply(400, "invalid", "Invalid JSON payload received. %v", err), ""
	}
	if rep := s.checkNotFound(key); rep != nil {
		return rep, ""
	}
	f := s.takeFault("tables.patch", key)
	if rep := preFault(f); rep != nil {
		return rep, ""
	}
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	s.mu.Lock()
	t, ok := s.tables[key]
	var etag string
	var oldFields []*bq.TableFieldSchema
	if ok {
		etag = t.etag
		if t.meta.Schema != nil {
			oldFields = t.meta.Schema.Fields
		}
	}
	s.mu.Unlock()
	if !ok {
		return s.tableNotFound(r.PathValue("dataset"), key), ""
	}
	if m := strings.Trim(r.Header.Get("If-Match"), `"`); m != "" && m != "*" && m != etag {
		return errReply(412, "conditionNotMet", "Precondition check failed."), ""
	}
	var newFields []*bq.TableFieldSchema
	_, hasSchema := raw["schema"]
	if hasSchema {
		if in.Schema != nil {
			newFields = in.Schema.Fields
		}
		if err := validateSchema(newFields, ""); err != nil {
			return errReply(400, "invalid", "%s", err.Error()), ""
		}
		alters, _, err := schemaDiff(s.project+":"+key, oldFields, newFields, true, true)
		if err != nil {
			return errReply(400, "invalid", "%s", err.Error()), ""
		}
		if err := s.applySchema(t, newFields, alters); err != nil {
			return errReply(500, "internalError", "%s", duckMessage(err)), ""
		}
	}
	s.mu.Lock()
	for k := range raw {
		switch k {
		case "schema":
			t.meta.Schema = &bq.TableSchema{Fields: cloneSchema(newFields)}
		case "description":
			t.meta.Description = in.Description
		case "friendlyName":
			t.meta.FriendlyName = in.FriendlyName
		case "labels":
			t.meta.Labels = in.Labels
		case "expirationTime":
			t.meta.ExpirationTime = in.ExpirationTime
		case "timePartitioning":
			t.meta.TimePartitioning = in.TimePartitioning
		case "clustering":
			t.meta.Clustering = in.Clustering
		case "requirePartitionFilter":
			t.meta.RequirePartitionFilter = in.RequirePartitionFilter
		}
	}
	t.etag = s.newEtag()
	t.modified = msNow()
	out := s.tableJSON(t)
	s.mu.Unlock()
	return postFault(f, okReply(out)), ""
}

// applySchema runs the ALTER TABLE clauses of a schema change (or creates the
// DuckDB table of a table that had no columns). The caller holds catalogMu.
func (s *Server) applySchema(t *table, newFields []*bq.TableFieldSchema, alters []string) error {
	if !t.hasDuck {
		if len(newFields) == 0 {
			return nil
		}
		if _, err := s.db.ExecContext(s.ctx, createTableSQL(t.ds, t.id, newFields)); err != nil {
			return err
		}
		s.mu.Lock()
		t.hasDuck = true
		s.mu.Unlock()
		return nil
	}
	if len(alters) == 0 {
		return nil
	}
	c, done, err := s.conn(s.ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, err := c.ExecContext(s.ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	for _, a := range alters {
		if _, err := c.ExecContext(s.ctx, "ALTER TABLE "+sqlIdent(t.ds)+"."+sqlIdent(t.id)+" "+a); err != nil {
			c.ExecContext(s.ctx, "ROLLBACK")
			return err
		}
	}
	_, err = c.ExecContext(s.ctx, "COMMIT")
	return err
}
