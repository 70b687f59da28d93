package bqfake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	bq "google.golang.org/api/bigquery/v2"
)

// translate translates a script with its query parameters.
func (s *Server) translate(q string, params []*qparam, defDS string) ([]*stmt, error) {
	tr := &translator{
		project:        s.project,
		isDataset:      s.lookupDatasetFold,
		named:          map[string]*qparam{},
		defaultDataset: defDS,
		temps:          map[string]bool{},
	}
	for _, p := range params {
		if p == nil {
			continue
		}
		if p.Name == "" {
			tr.positional = append(tr.positional, p)
		} else {
			tr.named[strings.ToLower(p.Name)] = p
		}
	}
	return tr.translateScript(q)
}

// referencedTables lists the known tables ("dataset.table") a script names. It looks
// at the raw text so that it works even when translation failed.
func referencedTables(_ []*stmt, s *Server, q string) []string {
	toks, err := lex(q)
	if err != nil {
		return nil
	}
	nt, _ := compact(toks)
	tr := &translator{project: s.project, isDataset: s.lookupDatasetFold}
	seen := map[string]bool{}
	var out []string
	for i := 0; i < len(nt); i++ {
		if nt[i].kind != tkIdent && nt[i].kind != tkQIdent {
			continue
		}
		parts, _, end := pathAt(nt, i)
		parts = tr.normPath(parts)
		if len(parts) == 2 {
			if ds, ok := s.lookupDatasetFold(parts[0]); ok {
				k := ds + "." + parts[1]
				if !seen[strings.ToLower(k)] {
					seen[strings.ToLower(k)] = true
					out = append(out, k)
				}
			}
		}
		i = end - 1
	}
	return out
}

var duckErrPrefix = regexp.MustCompile(`^[A-Za-z ]+ Error: `)

// runScript runs the statements of a query job on a dedicated DuckDB connection with
// BigQuery's script semantics and finishes the job.
// missingTable matches DuckDB's error for a table that does not exist.
var missingTable = regexp.MustCompile(`Table with name (\S+) does not exist`)

func (s *Server) runScript(j *job, stmts []*stmt, defDS string) {
	ctx := s.ctx
	res, dml, hasDML, err := s.execScript(ctx, j, stmts, defDS)
	s.unlockTables(j.id)
	s.mu.Lock()
	j.result, j.dmlRows, j.hasDML = res, dml, hasDML
	if len(stmts) == 1 {
		j.stmtType = stmts[0].stype
	} else {
		j.stmtType = "SCRIPT"
	}
	s.mu.Unlock()
	if err != nil {
		var ae *apiError
		switch {
		case errors.As(err, &ae):
		case missingTable.MatchString(err.Error()):
			// BigQuery fails a query on a table that does not exist with notFound.
			name := missingTable.FindStringSubmatch(err.Error())[1]
			ae = &apiError{404, "notFound", "Not found: Table " + s.project + ":" + name + " was not found in location US"}
		default:
			ae = &apiError{400, "invalidQuery", err.Error()}
		}
		s.finishJob(j, ae)
		return
	}
	s.finishJob(j, nil)
}

func (s *Server) execScript(ctx context.Context, j *job, stmts []*stmt, defDS string) (res *resultSet, dml int64, hasDML bool, err error) {
	c, discard, err := s.conn(ctx)
	if err != nil {
		return nil, 0, false, err
	}
	defer discard()
	if defDS != "" {
		if _, ok := s.lookupDatasetFold(defDS); !ok {
			return nil, 0, false, &apiError{404, "notFound", fmt.Sprintf("Not found: Dataset %s:%s", s.project, defDS)}
		}
		if _, err := c.ExecContext(ctx, "SET schema = "+sqlString(defDS)); err != nil {
			return nil, 0, false, err
		}
	}
	inTxn := false
	fail := func(e error) (*resultSet, int64, bool, error) {
		if inTxn {
			c.ExecContext(ctx, "ROLLBACK")
		}
		var ab *errAborted
		if errors.As(e, &ab) {
			return nil, 0, false, &apiError{400, "invalidQuery", ab.Error()}
		}
		msg := duckMessage(e)
		if strings.Contains(msg, "Conflict") || strings.Contains(msg, "conflict") {
			return nil, 0, false, &apiError{400, "invalidQuery", "Transaction is aborted due to concurrent update: " + duckErrPrefix.ReplaceAllString(msg, "")}
		}
		return nil, 0, false, e
	}
	for i, st := range stmts {
		s.mu.Lock()
		hook := s.hook
		s.mu.Unlock()
		if hook != nil {
			hook(j.id, i, st.orig)
		}
		last := i == len(stmts)-1
		switch st.kind {
		case skBegin:
			if inTxn {
				return fail(fmt.Errorf("Transaction already started"))
			}
			if _, err := c.ExecContext(ctx, st.sql); err != nil {
				return fail(err)
			}
			inTxn = true
		case skCommit, skRollback:
			if !inTxn {
				return fail(fmt.Errorf("%s without an active transaction", st.stype))
			}
			_, err := c.ExecContext(ctx, st.sql)
			inTxn = false
			s.unlockTables(j.id)
			if err != nil {
				return fail(err)
			}
		case skDML:
			if err := s.lockTables(j.id, inTxn, st.targets); err != nil {
				return fail(err)
			}
			r, err := c.ExecContext(ctx, st.sql)
			if !inTxn {
				s.unlockTables(j.id)
			}
			if err != nil {
				return fail(err)
			}
			n, _ := r.RowsAffected()
			dml += n
			hasDML = true
		case skAssert:
			if err := drain(ctx, c, st.sql); err != nil {
				if strings.Contains(duckMessage(err), st.assertMsg) {
					return fail(&apiError{400, "invalidQuery", st.assertMsg})
				}
				return fail(err)
			}
		case skDDL:
			if st.ddlTable != "" && inTxn {
				return fail(fmt.Errorf("%s statement on a permanent table is not supported inside a transaction", st.stype))
			}
			if _, err := c.ExecContext(ctx, st.sql); err != nil {
				return fail(err)
			}
			if st.ddlTable != "" {
				s.syncTable(ctx, c, st.ddlTable)
			}
		case skSelect:
			if last {
				r, err := s.collect(ctx, c, st.sql)
				if err != nil {
					return fail(err)
				}
				res = r
			} else if err := drain(ctx, c, st.sql); err != nil {
				return fail(err)
			}
		default:
			if _, err := c.ExecContext(ctx, st.sql); err != nil {
				return fail(err)
			}
		}
	}
	if inTxn {
		// a script that ends inside a transaction rolls it back
		if _, err := c.ExecContext(ctx, "ROLLBACK"); err != nil {
			return nil, 0, false, err
		}
	}
	return res, dml, hasDML, nil
}

// drain runs a query and reads all its rows, so that errors raised while producing
// rows (such as ASSERT's error()) surface.
func drain(ctx context.Context, c *sql.Conn, q string) error {
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}

// syncTable makes the table metadata follow a DDL statement run through SQL.
func (s *Server) syncTable(ctx context.Context, c *sql.Conn, key string) {
	ds, tbl, _ := strings.Cut(key, ".")
	rows, err := c.QueryContext(ctx, `SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() WHERE lower(schema_name) = lower(?) AND lower(table_name) = lower(?) ORDER BY column_index`, ds, tbl)
	if err != nil {
		return
	}
	var fields []*bq.TableFieldSchema
	name := tbl
	for rows.Next() {
		var tn, cn, dt string
		var nullable bool
		if rows.Scan(&tn, &cn, &dt, &nullable) != nil {
			continue
		}
		name = tn
		f := duckField(cn, dt)
		if !nullable && f.Mode == "" {
			f.Mode = "REQUIRED"
		}
		fields = append(fields, f)
	}
	rows.Close()
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	var t *table
	for k, x := range s.tables {
		if strings.EqualFold(k, key) {
			t = x
		}
	}
	if len(fields) == 0 {
		if t != nil && t.hasDuck {
			delete(s.tables, t.key())
		}
		return
	}
	now := msNow()
	if t == nil {
		t = &table{ds: ds, id: name, created: now, hasDuck: true}
		s.tables[t.key()] = t
	}
	old := map[string]*bq.TableFieldSchema{}
	if t.meta.Schema != nil {
		for _, f := range t.meta.Schema.Fields {
			old[strings.ToLower(f.Name)] = f
		}
	}
	for i, f := range fields {
		if o := old[strings.ToLower(f.Name)]; o != nil && normType(o.Type) == normType(f.Type) {
			fields[i] = o
		}
	}
	t.meta.Schema = &bq.TableSchema{Fields: fields}
	t.hasDuck = true
	t.modified = now
	t.etag = s.newEtag()
}
