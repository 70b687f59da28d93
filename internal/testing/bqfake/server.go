package bqfake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"google.golang.org/api/option"
)

// Options configure a Server.
type Options struct {
	Project  string                           // default "test-project"
	Location string                           // default "US"
	Logf     func(format string, args ...any) // optional request log (e.g. t.Logf)
	// Addr is the listen address (default "127.0.0.1:0": a free port).
	Addr string
}

// Server is an in-process BigQuery REST fake backed by an in-memory DuckDB database.
// All its methods are safe for concurrent use.
type Server struct {
	project, location string
	logf              func(string, ...any)

	hs        *httptest.Server
	transport *http.Transport
	db        *sql.DB
	ctx       context.Context // cancelled by Close; jobs run under it
	cancel    context.CancelFunc
	closeOnce sync.Once

	// catalogMu is held shared by load jobs and exclusively by table DDL through the
	// REST API, so that a load never sees a table change shape mid-way.
	catalogMu sync.RWMutex

	mu       sync.Mutex
	lockCond *sync.Cond // on mu: table locks released
	datasets map[string]*dataset
	tables   map[string]*table // "dataset.table"
	jobs     map[string]*job   // "project:jobID"
	jobOrder []*job
	uploads  map[string]*upload
	requests []RequestInfo
	faults   []*faultState
	fired    int            // faults fired so far
	notFound map[string]int // lower-case "dataset.table" → 404 answers left
	hook     func(jobID string, stmt int, sql string)
	locks    map[string]*tableLock // lower-case "dataset.table"
	seq      int64
}

// RequestInfo describes one HTTP request the server answered. Status is 0 when the
// reply was deliberately lost (FaultLoseReply).
type RequestInfo struct {
	Op, Method, Path string
	Status           int
}

// JobInfo describes one accepted job. OutputRows is the number of rows a load wrote,
// or the number of rows a query's DML statements affected.
type JobInfo struct {
	ID, Kind   string // Kind is "load" or "query"
	State      string // "RUNNING" or "DONE"
	Err        string // errorResult message, "" if the job succeeded or is running
	Query      string // original SQL of a query job
	DestTable  string // "dataset.table" of a load job
	InputBytes int64
	OutputRows int64
}

// New starts a fake on an httptest server at 127.0.0.1 with an empty in-memory
// DuckDB database.
func New(opts Options) (*Server, error) {
	if opts.Project == "" {
		opts.Project = "test-project"
	}
	if opts.Location == "" {
		opts.Location = "US"
	}
	connector, err := duckdb.NewConnector("", func(ex driver.ExecerContext) error {
		// One DuckDB thread: a fake holds small tables, and tests run many fakes at once.
		for _, q := range []string{"SET TimeZone = 'UTC'", "SET threads = 1"} {
			if _, err := ex.ExecContext(context.Background(), q, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bqfake: open duckdb: %w", err)
	}
	s := &Server{
		project:  opts.Project,
		location: opts.Location,
		logf:     opts.Logf,
		db:       sql.OpenDB(connector),
		datasets: map[string]*dataset{},
		tables:   map[string]*table{},
		jobs:     map[string]*job{},
		uploads:  map[string]*upload{},
		notFound: map[string]int{},
		locks:    map[string]*tableLock{},
	}
	s.lockCond = sync.NewCond(&s.mu)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.transport = http.DefaultTransport.(*http.Transport).Clone()
	s.hs = httptest.NewUnstartedServer(s.routes())
	if opts.Addr != "" {
		l, err := net.Listen("tcp", opts.Addr)
		if err != nil {
			s.cancel()
			_ = s.hs.Listener.Close()
			_ = s.db.Close()
			return nil, fmt.Errorf("bqfake: listen on %s: %w", opts.Addr, err)
		}
		_ = s.hs.Listener.Close()
		s.hs.Listener = l
	}
	s.hs.Start()
	return s, nil
}

// URL returns the server's base URL, e.g. http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.hs.URL }

// ClientOptions returns the options that point cloud.google.com/go/bigquery at the
// fake: its endpoint, no authentication, and an HTTP client whose idle connections
// Close drops.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.URL() + "/bigquery/v2/"),
		option.WithoutAuthentication(),
		option.WithHTTPClient(&http.Client{Transport: s.transport}),
	}
}

// DB returns the DuckDB database. Dataset d's table t is "d"."t".
func (s *Server) DB() *sql.DB { return s.db }

// Close stops the HTTP server (waiting for requests in progress; release any
// statement hook first) and closes DuckDB. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.cancel()
		s.mu.Lock()
		s.lockCond.Broadcast()
		s.mu.Unlock()
		s.hs.Close()
		s.transport.CloseIdleConnections()
		err = s.db.Close()
	})
	return err
}

// SetStatementHook sets a function called before each statement of a query script
// runs, with the job ID, the statement's index (0-based) and its GoogleSQL text. The
// job waits while the hook runs. nil clears it.
func (s *Server) SetStatementHook(h func(jobID string, stmt int, sql string)) {
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
}

// Jobs returns every accepted job, in the order they were accepted.
func (s *Server) Jobs() []JobInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JobInfo, 0, len(s.jobOrder))
	for _, j := range s.jobOrder {
		out = append(out, j.info())
	}
	return out
}

// Requests returns every request answered so far, in order of completion.
func (s *Server) Requests() []RequestInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestInfo(nil), s.requests...)
}

func (s *Server) nextSeq() int64 {
	s.seq++
	return s.seq
}

// reply is a handler's answer.
type reply struct {
	status int
	body   any
	header map[string]string
	lose   bool // hijack the connection and close it without answering
}

// apiError is a BigQuery error answer.
type apiError struct {
	code            int
	reason, message string
}

func (e *apiError) Error() string { return e.message }

func errReply(code int, reason, format string, args ...any) *reply {
	return errorReply(&apiError{code, reason, fmt.Sprintf(format, args...)})
}

func errorReply(e *apiError) *reply {
	status := map[int]string{400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS",
		412: "FAILED_PRECONDITION", 500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE"}[e.code]
	return &reply{status: e.code, body: map[string]any{"error": map[string]any{
		"code":    e.code,
		"message": e.message,
		"errors":  []map[string]any{{"reason": e.reason, "message": e.message, "domain": "global"}},
		"status":  status,
	}}}
}

func okReply(body any) *reply { return &reply{status: http.StatusOK, body: body} }

// handler adapts a handler function, logs the request and records it.
func (s *Server) handler(op string, h func(r *http.Request) (*reply, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rep, realOp := h(r)
		if realOp == "" {
			realOp = op
		}
		status := rep.status
		if rep.lose {
			status = 0
		}
		s.mu.Lock()
		s.requests = append(s.requests, RequestInfo{Op: realOp, Method: r.Method, Path: r.URL.Path, Status: status})
		s.mu.Unlock()
		if s.logf != nil {
			s.logf("bqfake: %s %s %s → %d", realOp, r.Method, r.URL.RequestURI(), status)
		}
		if rep.lose {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		if rep.body == nil {
			w.WriteHeader(rep.status)
			return
		}
		b, err := json.Marshal(rep.body)
		if err != nil {
			b, _ = json.Marshal(errorReply(&apiError{500, "internalError", err.Error()}).body)
			rep.status = 500
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(rep.status)
		w.Write(b)
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	const p = "/bigquery/v2/projects/{project}"
	mux.HandleFunc("POST "+p+"/datasets", s.handler("datasets.insert", s.insertDataset))
	mux.HandleFunc("GET "+p+"/datasets/{dataset}", s.handler("datasets.get", s.getDataset))
	mux.HandleFunc("DELETE "+p+"/datasets/{dataset}", s.handler("datasets.delete", s.deleteDataset))
	mux.HandleFunc("POST "+p+"/datasets/{dataset}/tables", s.handler("tables.insert", s.insertTable))
	mux.HandleFunc("GET "+p+"/datasets/{dataset}/tables/{table}", s.handler("tables.get", s.getTable))
	mux.HandleFunc("PATCH "+p+"/datasets/{dataset}/tables/{table}", s.handler("tables.patch", s.patchTable))
	mux.HandleFunc("PUT "+p+"/datasets/{dataset}/tables/{table}", s.handler("tables.patch", s.patchTable))
	mux.HandleFunc("DELETE "+p+"/datasets/{dataset}/tables/{table}", s.handler("tables.delete", s.deleteTable))
	mux.HandleFunc("GET "+p+"/datasets/{dataset}/tables/{table}/data", s.handler("tabledata.list", s.listTableData))
	mux.HandleFunc("POST "+p+"/jobs", s.handler("jobs.insert.query", s.insertJob))
	mux.HandleFunc("GET "+p+"/jobs/{job}", s.handler("jobs.get", s.getJob))
	mux.HandleFunc("GET "+p+"/queries/{job}", s.handler("jobs.getQueryResults", s.getQueryResults))
	mux.HandleFunc("POST "+p+"/queries", s.handler("jobs.query", s.query))
	mux.HandleFunc("POST /upload/bigquery/v2/projects/{project}/jobs", s.handler("jobs.insert.load", s.upload))
	mux.HandleFunc("/", s.handler("unknown", func(r *http.Request) (*reply, string) {
		return errReply(404, "notFound", "Not found: URL %s %s is not handled by bqfake", r.Method, r.URL.Path), ""
	}))
	return mux
}

// tableLock is a table held by a transaction or a single DML statement.
type tableLock struct {
	owner string // job ID
	txn   bool
}

// errAborted is returned when a transaction conflicts with another one.
type errAborted struct{ table string }

func (e *errAborted) Error() string {
	return "Transaction is aborted due to concurrent update against table " + e.table + "."
}

// lockTables takes the table-level write locks of job jobID. A transaction that finds
// a table held by another transaction is aborted; otherwise it waits for the holder
// (a single statement) to finish, as BigQuery queues conflicting DML.
func (s *Server) lockTables(jobID string, txn bool, tables []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tables {
		key := strings.ToLower(t)
		for {
			l := s.locks[key]
			if l == nil || l.owner == jobID {
				break
			}
			if txn && l.txn {
				return &errAborted{table: s.project + ":" + t}
			}
			if s.ctx.Err() != nil {
				return s.ctx.Err()
			}
			s.lockCond.Wait()
		}
		if s.locks[key] == nil {
			s.locks[key] = &tableLock{owner: jobID, txn: txn}
		}
	}
	return nil
}

// unlockTables releases every table lock held by job jobID.
func (s *Server) unlockTables(jobID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, l := range s.locks {
		if l.owner == jobID {
			delete(s.locks, k)
		}
	}
	s.lockCond.Broadcast()
}

// conn returns a dedicated DuckDB connection and a function that discards it (which
// drops its temp tables and rolls back anything left open).
func (s *Server) conn(ctx context.Context) (*sql.Conn, func(), error) {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c, func() {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
		_ = c.Close()
	}, nil
}

// duckMessage strips DuckDB's error class prefix.
func duckMessage(err error) string {
	var de *duckdb.Error
	msg := err.Error()
	if errors.As(err, &de) {
		msg = de.Msg
	}
	return msg
}

func msNow() int64 { return time.Now().UnixMilli() }
