package bqfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	bq "google.golang.org/api/bigquery/v2"
)

// job is an accepted load or query job. Its fields are guarded by Server.mu once the
// job is registered.
type job struct {
	project, id, location, kind string
	config                      *bq.JobConfiguration
	state                       string
	errResult                   *bq.ErrorProto
	errs                        []*bq.ErrorProto
	created, started, ended     int64
	done                        chan struct{}

	// load jobs
	dest                   string
	inputBytes, outputRows int64

	// query jobs
	query     string
	tables    []string // tables the script names
	stmtType  string
	dmlRows   int64
	hasDML    bool
	result    *resultSet
	requestID string
}

func (j *job) info() JobInfo {
	ji := JobInfo{ID: j.id, Kind: j.kind, State: j.state, Query: j.query, DestTable: j.dest, InputBytes: j.inputBytes}
	if j.errResult != nil {
		ji.Err = j.errResult.Message
	}
	if j.kind == "load" {
		ji.OutputRows = j.outputRows
	} else {
		ji.OutputRows = j.dmlRows
	}
	return ji
}

func randomID(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// newJob builds a RUNNING job from a jobs.insert body (or a jobs.query request).
func (s *Server) newJob(kind string, in *bq.Job) *job {
	j := &job{project: s.project, kind: kind, location: s.location, config: in.Configuration, state: "RUNNING", done: make(chan struct{})}
	if in.JobReference != nil {
		j.id = in.JobReference.JobId
		if in.JobReference.Location != "" {
			j.location = in.JobReference.Location
		}
	}
	if j.id == "" {
		j.id = randomID("job_")
	}
	now := msNow()
	j.created, j.started = now, now
	return j
}

// registerJob adds a job, or answers 409 duplicate if its ID is taken.
func (s *Server) registerJob(j *job) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := j.project + ":" + j.id
	if old, ok := s.jobs[key]; ok {
		return errReply(409, "duplicate", "Already Exists: Job %s:%s.%s", old.project, old.location, old.id)
	}
	s.jobs[key] = j
	s.jobOrder = append(s.jobOrder, j)
	return nil
}

// finishJob marks a job DONE with an optional error.
func (s *Server) finishJob(j *job, e *apiError) {
	s.mu.Lock()
	if e != nil {
		j.errResult = &bq.ErrorProto{Reason: e.reason, Message: e.message}
		j.errs = []*bq.ErrorProto{{Reason: e.reason, Message: e.message}}
	}
	j.state = "DONE"
	j.ended = msNow()
	close(j.done)
	s.mu.Unlock()
}

var injectedJobFailure = &apiError{500, "backendError", "injected job failure"}

// jobJSON renders a job resource. The caller holds s.mu.
func (s *Server) jobJSON(j *job) *bq.Job {
	out := &bq.Job{
		Kind:          "bigquery#job",
		Id:            j.project + ":" + j.location + "." + j.id,
		JobReference:  &bq.JobReference{ProjectId: j.project, JobId: j.id, Location: j.location},
		Configuration: j.config,
		Status:        &bq.JobStatus{State: j.state, ErrorResult: j.errResult, Errors: j.errs},
		Statistics:    &bq.JobStatistics{CreationTime: j.created, StartTime: j.started, EndTime: j.ended},
		UserEmail:     "bqfake@" + j.project + ".iam.gserviceaccount.com",
	}
	if j.state == "DONE" {
		switch j.kind {
		case "load":
			out.Statistics.Load = &bq.JobStatistics3{OutputRows: j.outputRows, InputFileBytes: j.inputBytes, InputFiles: 1}
		case "query":
			q := &bq.JobStatistics2{StatementType: j.stmtType, NumDmlAffectedRows: j.dmlRows, CacheHit: false}
			out.Statistics.Query = q
			if j.stmtType == "SCRIPT" {
				out.Statistics.NumChildJobs = 1
			}
		}
	}
	return out
}

// lookupJob finds a job; a location that does not match answers 404 like BigQuery.
func (s *Server) lookupJob(r *http.Request) (*job, *reply) {
	id := r.PathValue("job")
	loc := r.URL.Query().Get("location")
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[s.project+":"+id]
	if !ok || (loc != "" && !strings.EqualFold(loc, j.location)) {
		if loc == "" {
			loc = s.location
		}
		return nil, errReply(404, "notFound", "Not found: Job %s:%s.%s", s.project, loc, id)
	}
	return j, nil
}

func (s *Server) jobTables(j *job) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.dest != "" {
		return []string{j.dest}
	}
	return j.tables
}

func (s *Server) getJob(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	j, rep := s.lookupJob(r)
	if rep != nil {
		return rep, ""
	}
	f := s.takeFault("jobs.get", s.jobTables(j)...)
	if rep := preFault(f); rep != nil {
		return rep, ""
	}
	s.mu.Lock()
	out := s.jobJSON(j)
	s.mu.Unlock()
	return postFault(f, okReply(out)), ""
}

// insertJob is jobs.insert without media: query jobs.
func (s *Server) insertJob(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	var raw json.RawMessage
	if rep := decodeBody(r, &raw); rep != nil {
		return rep, ""
	}
	var in bq.Job
	if err := json.Unmarshal(raw, &in); err != nil {
		return errReply(400, "invalid", "Invalid JSON payload received. %v", err), ""
	}
	if in.Configuration == nil || in.Configuration.Query == nil {
		if in.Configuration != nil && in.Configuration.Load != nil {
			return errReply(400, "invalid", "bqfake: load jobs must upload their data (sourceUris are unsupported)"), "jobs.insert.load"
		}
		return errReply(400, "invalid", "bqfake supports only query and uploaded load jobs"), ""
	}
	var params struct {
		Configuration struct {
			Query struct {
				QueryParameters []*qparam `json:"queryParameters"`
			} `json:"query"`
		} `json:"configuration"`
	}
	_ = json.Unmarshal(raw, &params)
	qc := in.Configuration.Query
	if qc.UseLegacySql != nil && *qc.UseLegacySql {
		return errReply(400, "invalid", "bqfake supports only GoogleSQL (useLegacySql=false)"), ""
	}
	if qc.DestinationTable != nil {
		return errReply(400, "invalid", "bqfake does not support query destination tables"), ""
	}
	defDS := ""
	if qc.DefaultDataset != nil {
		defDS = qc.DefaultDataset.DatasetId
	}
	j := s.newJob("query", &in)
	j.query = qc.Query
	stmts, terr := s.translate(qc.Query, params.Configuration.Query.QueryParameters, defDS)
	j.tables = referencedTables(stmts, s, qc.Query)
	if rep := s.checkNotFound(j.tables...); rep != nil {
		return rep, ""
	}
	f := s.takeFault("jobs.insert.query", j.tables...)
	if rep := preFault(f); rep != nil {
		return rep, ""
	}
	if rep := s.registerJob(j); rep != nil {
		return rep, ""
	}
	switch {
	case f != nil && f.Kind == FaultJobFails:
		s.finishJob(j, injectedJobFailure)
	case terr != nil:
		s.finishJob(j, &apiError{400, "invalidQuery", terr.Error()})
	default:
		s.runScript(j, stmts, defDS)
	}
	s.mu.Lock()
	out := s.jobJSON(j)
	s.mu.Unlock()
	return postFault(f, okReply(out)), ""
}

// jobErrorReply is how getQueryResults and jobs.query report a failed job: as an
// HTTP error carrying the job's errorResult reason.
func jobErrorReply(e *bq.ErrorProto) *reply {
	code := 400
	switch e.Reason {
	case "notFound":
		code = 404
	case "duplicate":
		code = 409
	case "backendError", "internalError":
		code = 500
	case "rateLimitExceeded", "quotaExceeded", "accessDenied":
		code = 403
	}
	return errorReply(&apiError{code, e.Reason, e.Message})
}

// waitJob waits up to d for a job to finish; it reports whether it did.
func (s *Server) waitJob(j *job, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-j.done:
		return true
	case <-t.C:
	case <-s.ctx.Done():
	}
	return false
}

func queryTimeout(r *http.Request, def time.Duration) time.Duration {
	if v := r.URL.Query().Get("timeoutMs"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Duration(n) * time.Millisecond
		}
	}
	return def
}

// page returns the window [start, start+n) of a result, and the next page token.
func pageParams(r *http.Request, total int) (start, n int, err *reply) {
	q := r.URL.Query()
	if tok := q.Get("pageToken"); tok != "" {
		v, e := strconv.Atoi(tok)
		if e != nil || v < 0 {
			return 0, 0, errReply(400, "invalid", "Invalid page token %q", tok)
		}
		start = v
	} else if v := q.Get("startIndex"); v != "" {
		x, e := strconv.Atoi(v)
		if e != nil || x < 0 {
			return 0, 0, errReply(400, "invalid", "Invalid startIndex %q", v)
		}
		start = x
	}
	n = 100000
	if v := q.Get("maxResults"); v != "" {
		x, e := strconv.Atoi(v)
		if e != nil || x < 0 {
			return 0, 0, errReply(400, "invalid", "Invalid maxResults %q", v)
		}
		n = x
	}
	if start > total {
		start = total
	}
	if start+n > total {
		n = total - start
	}
	return start, n, nil
}

func useInt64TS(r *http.Request) bool {
	return r.URL.Query().Get("formatOptions.useInt64Timestamp") == "true"
}

func (s *Server) getQueryResults(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	j, rep := s.lookupJob(r)
	if rep != nil {
		return rep, ""
	}
	f := s.takeFault("jobs.getQueryResults", s.jobTables(j)...)
	if rep := preFault(f); rep != nil {
		return rep, ""
	}
	if j.kind != "query" {
		return errReply(400, "invalid", "Job %s:%s.%s is not a query job", j.project, j.location, j.id), ""
	}
	ref := &bq.JobReference{ProjectId: j.project, JobId: j.id, Location: j.location}
	if !s.waitJob(j, queryTimeout(r, 10*time.Second)) {
		return postFault(f, okReply(&bq.GetQueryResultsResponse{Kind: "bigquery#getQueryResultsResponse", JobReference: ref, JobComplete: false})), ""
	}
	s.mu.Lock()
	errResult, res, dml, hasDML := j.errResult, j.result, j.dmlRows, j.hasDML
	s.mu.Unlock()
	if errResult != nil {
		return jobErrorReply(errResult), ""
	}
	out := &bq.GetQueryResultsResponse{Kind: "bigquery#getQueryResultsResponse", JobReference: ref, JobComplete: true}
	if hasDML {
		out.NumDmlAffectedRows = dml
		out.ForceSendFields = append(out.ForceSendFields, "NumDmlAffectedRows")
	}
	if res != nil {
		start, n, perr := pageParams(r, len(res.rows))
		if perr != nil {
			return perr, ""
		}
		out.Schema = &bq.TableSchema{Fields: res.fields}
		out.TotalRows = uint64(len(res.rows))
		out.Rows = res.encode(start, n, useInt64TS(r))
		if start+n < len(res.rows) {
			out.PageToken = strconv.Itoa(start + n)
		}
	}
	return postFault(f, okReply(out)), ""
}

// query is jobs.query: it runs the script synchronously and answers with the first
// page of rows. A repeated requestId answers with the job it created before, unless
// that job failed (then the query runs again).
func (s *Server) query(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	var raw json.RawMessage
	if rep := decodeBody(r, &raw); rep != nil {
		return rep, ""
	}
	var in bq.QueryRequest
	if err := json.Unmarshal(raw, &in); err != nil {
		return errReply(400, "invalid", "Invalid JSON payload received. %v", err), ""
	}
	var params struct {
		QueryParameters []*qparam `json:"queryParameters"`
	}
	_ = json.Unmarshal(raw, &params)
	if in.UseLegacySql != nil && *in.UseLegacySql {
		return errReply(400, "invalid", "bqfake supports only GoogleSQL (useLegacySql=false)"), ""
	}
	defDS := ""
	if in.DefaultDataset != nil {
		defDS = in.DefaultDataset.DatasetId
	}
	var j *job
	if in.RequestId != "" {
		s.mu.Lock()
		for _, old := range s.jobOrder {
			if old.requestID == in.RequestId && old.errResult == nil {
				j = old
			}
		}
		s.mu.Unlock()
	}
	var f *Fault
	if j == nil {
		j = s.newJob("query", &bq.Job{
			JobReference:  &bq.JobReference{Location: in.Location},
			Configuration: &bq.JobConfiguration{JobType: "QUERY", Query: &bq.JobConfigurationQuery{Query: in.Query, UseLegacySql: in.UseLegacySql, DefaultDataset: in.DefaultDataset, QueryParameters: in.QueryParameters, ParameterMode: in.ParameterMode}},
		})
		j.query, j.requestID = in.Query, in.RequestId
		stmts, terr := s.translate(in.Query, params.QueryParameters, defDS)
		j.tables = referencedTables(stmts, s, in.Query)
		if rep := s.checkNotFound(j.tables...); rep != nil {
			return rep, ""
		}
		f = s.takeFault("jobs.query", j.tables...)
		if rep := preFault(f); rep != nil {
			return rep, ""
		}
		if rep := s.registerJob(j); rep != nil {
			return rep, ""
		}
		switch {
		case f != nil && f.Kind == FaultJobFails:
			s.finishJob(j, injectedJobFailure)
		case terr != nil:
			s.finishJob(j, &apiError{400, "invalidQuery", terr.Error()})
		default:
			s.runScript(j, stmts, defDS)
		}
	}
	<-j.done
	s.mu.Lock()
	errResult, res, dml, hasDML := j.errResult, j.result, j.dmlRows, j.hasDML
	s.mu.Unlock()
	if errResult != nil {
		return postFault(f, jobErrorReply(errResult)), ""
	}
	out := &bq.QueryResponse{Kind: "bigquery#queryResponse", JobComplete: true,
		JobReference: &bq.JobReference{ProjectId: j.project, JobId: j.id, Location: j.location}}
	if hasDML {
		out.NumDmlAffectedRows = dml
		out.ForceSendFields = append(out.ForceSendFields, "NumDmlAffectedRows")
	}
	if res != nil {
		n := len(res.rows)
		if in.MaxResults > 0 && int(in.MaxResults) < n {
			n = int(in.MaxResults)
		}
		out.Schema = &bq.TableSchema{Fields: res.fields}
		out.TotalRows = uint64(len(res.rows))
		int64ts := in.FormatOptions != nil && in.FormatOptions.UseInt64Timestamp
		out.Rows = res.encode(0, n, int64ts)
		if n < len(res.rows) {
			out.PageToken = strconv.Itoa(n)
		}
	}
	return postFault(f, okReply(out)), ""
}
