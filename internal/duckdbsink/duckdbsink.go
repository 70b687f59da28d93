// Package duckdbsink is the DuckDB destination: it implements sink.Sink on one DuckDB
// file.
//
// Per entity it keeps <schema>.<entity> (latest version per id, plus _kafka_partition,
// _kafka_offset, _kafka_timestamp, then _deleted_at, _deleted_reason, _merged_into) and,
// when enabled, <schema>.<entity>_changelog (every version and deletion, append-only);
// <schema>._kafka_offsets holds the next offset of every topic partition and
// <schema>._deletions the latest deletion of every deleted id (table_name, id, the
// three deletion columns; primary key table_name and id).
//
// Deletions (tombstones) are applied in the batch's transaction, before its versions.
// The batch's deletions of an entity go through an Appender into a small TEMP table,
// the latest of each id flagged. From it an INSERT ... ON CONFLICT DO UPDATE keeps the
// later deletion of each id in _deletions; for the stored rows whose version is not
// newer than the deletion (or NULL) and that are not deleted already at that time or
// later, an UPDATE sets the deletion and Kafka columns (Config.Deletes soft: the row
// keeps its last version's fields, and an INSERT adds a row of only the id, the
// deletion and Kafka columns for an id the table lacks, its version NULL) or a DELETE
// removes them (hard); an INSERT appends every deletion to the changelog as such a
// row. The versions of an entity that has deletions are first checked against
// _deletions: a version not newer than its id's deletion is dropped from the staged
// keys (DELETE ... USING ... RETURNING), so it neither replaces the stored row nor is
// inserted; a newer one replaces the row as usual. Whether an entity has deletions is
// asked once per process and then tracked, so an entity without any pays nothing for
// the check; and the appenders leave the deletion columns out of their INSERTs
// (NULL), so a version's row costs what it did before. The columns and _deletions are
// added to an existing file by Open and Prepare.
//
// Each Write is one DuckDB transaction on the sink's writer connection: the stored
// offsets are checked; the batch is deduplicated in Go (per id the highest version,
// then the highest offset); the winners' (id, version) go through an Appender into a
// small TEMP table, which finds the stored rows that are newer or equal (those
// winners are dropped) and deletes the older ones; the remaining winners are converted
// by DuckDB query appenders (two goroutines for large batches) whose flush runs a plain
// INSERT into the entity table (JSON is appended as VARCHAR and cast there); every
// record is appended the same way to the changelog; the offsets are set; COMMIT.
// Schema changes (new fields, new nested fields) are applied with ALTER TABLE before
// the batch's transaction and cached by schema fingerprint, so a batch without new
// schema versions runs no DDL on the entity tables.
package duckdbsink

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// DefaultSchema is the DuckDB schema the tables go to when Config.Schema is empty.
const DefaultSchema = "gorgias"

// DefaultCheckpointThreshold is the WAL size that triggers a checkpoint when
// Config.CheckpointThreshold and Config.MemoryLimit are empty.
const DefaultCheckpointThreshold = "512MB"

// DefaultCappedCheckpointThreshold is the WAL size that triggers a checkpoint when
// Config.CheckpointThreshold is empty and Config.MemoryLimit is set.
const DefaultCappedCheckpointThreshold = "16MB"

// DefaultBlockSize is the block size, in bytes, of the DuckDB files the sink creates
// when Config.BlockSize is 0 (DuckDB's own default is 256 KiB).
const DefaultBlockSize = 64 << 10

// DefaultRowGroupSize is the number of rows per row group the sink writes when
// Config.RowGroupSize is 0 (DuckDB's own default is 122,880).
const DefaultRowGroupSize = 16384

// offsetsTable is the table holding the next offset of every topic partition.
const offsetsTable = "_kafka_offsets"

// Config configures a DuckDB sink.
type Config struct {
	// Path is the DuckDB file path (see ParseURI for the DEST_URI form).
	Path string
	// Schema is the DuckDB schema of every table, default "gorgias".
	Schema string
	// Changelog also keeps <entity>_changelog tables (append-only, every version).
	Changelog bool
	// Deletes is how deletions are applied (sink.deletes; zero value soft).
	Deletes sink.DeleteMode
	// Threads is DuckDB's thread count (0 = DuckDB default: one per core).
	Threads int `config:"threads" default:"1" min:"0" max:"1024" help:"DuckDB threads (0: one per core); 1 keeps memory lowest and is the cheapest in CPU"`
	// MemoryLimit is DuckDB's memory limit, e.g. "512MB" ("" = DuckDB default: 80% of
	// RAM). Data beyond it spills to a temporary directory next to the file. Setting
	// it also makes the sink favour a small process over speed (see
	// CheckpointThreshold and RetainFreedMemory). The process's resident memory is
	// this plus DuckDB's unaccounted allocations, Go's heap and about 60 MB of
	// resident code: the consumer's 1M-record replay peaked at about 230 MiB with
	// 64MB here (see BlockSize for how low it can go).
	MemoryLimit string `config:"memory_limit" default:"64MB" help:"DuckDB memory limit, e.g. 512MB (empty: DuckDB's default, 80% of RAM)"`
	// CheckpointThreshold is the WAL size that makes DuckDB checkpoint (compress and
	// write the new rows into the file): default DefaultCheckpointThreshold (512MB),
	// or DefaultCappedCheckpointThreshold (16MB) when MemoryLimit is set. Rows not yet
	// checkpointed are held uncompressed in DuckDB's memory (duckdb_memory() tag
	// IN_MEMORY_TABLE, about 1.7 times the WAL: 55-60 MiB at a 32MB threshold), and
	// under a small MemoryLimit they spill to temporary files, one file per block for
	// blocks other than 256 KiB: a replay under 64MB with a 512MB threshold ran at half
	// the speed. A batch too small to fill a row group per table always takes this way
	// (a large INSERT writes full row groups straight to the file instead). With 32MB
	// under a 64MB limit, every checkpoint found the memory full and spilled, creating
	// about a thousand temporary block files a second (ext4 file creation was ~40% of
	// the consumer's CPU); 16MB leaves the checkpoint more room (a quarter as many
	// temporary files): two back-to-back pairs of 200k-record replays ran 1.6 times
	// as fast at the same peak RSS, two pairs of 300k split (machine shared).
	// Each checkpoint also rewrites every table's last, partly filled row group, so a
	// small threshold wants a small RowGroupSize: with DuckDB's 122,880-row groups a
	// 16MB threshold made the sink 2-3 times slower, with 16,384-row groups 32MB costs
	// the append-only replay nothing measurable (the upsert benchmark, half updates,
	// loses about a third). The WAL is replayed on the next Open after a crash.
	CheckpointThreshold string `config:"checkpoint_threshold" default:"16MB" help:"WAL size that triggers a DuckDB checkpoint"`
	// BlockSize is the block size in bytes of a file the sink creates (0:
	// DefaultBlockSize): a power of two from 16 KiB to 256 KiB. A file that exists
	// keeps the block size it was created with. DuckDB keeps the unfilled last block
	// of every column of the rows not yet in a full row group in memory, and pins one
	// block per column while it commits or checkpoints, so the memory a table needs
	// grows with its physical column count (every STRUCT field and LIST, and each
	// column's validity, count: ticket_messages has about 160) times the block size.
	// With 256 KiB blocks a 1M-record replay failed with "failed to pin block" at
	// memory limits of 64 and 80 MB; with 64 KiB blocks it runs at 64 MB. Readers of
	// the file need a DuckDB that supports block sizes other than 256 KiB (the
	// DuckDB 1.5 this module uses does).
	BlockSize int
	// RowGroupSize is the number of rows per row group DuckDB writes (0:
	// DefaultRowGroupSize), a multiple of 2048. Rows of a table's last, unfilled row
	// group stay uncompressed in memory (spilling to the temporary directory beyond
	// MemoryLimit) until it fills, and each checkpoint rewrites it. With DuckDB's
	// default of 122,880 rows that is hundreds of MB of wide rows; 16,384 keeps it
	// small. Row groups written earlier with another size stay as they are.
	RowGroupSize int
	// RetainFreedMemory, when MemoryLimit is set, keeps memory DuckDB frees in its
	// allocator's cache (jemalloc's default decay of about a second, what DuckDB does
	// without MemoryLimit) instead of returning it to the operating system at once.
	// Returning it costs CPU (page faults on reuse: about a tenth more in the
	// consumer's replay benchmark, a third in the upsert benchmark) and lowered the
	// replay's resident memory by 50-70 MB. The setting is process-wide and applied by
	// the first Open of the process that has a MemoryLimit; it does nothing when
	// DUCKDB_JE_MALLOC_CONF is set (that setting wins) or where DuckDB does not use its
	// bundled jemalloc (builds other than Linux).
	RetainFreedMemory bool
	// Logger receives debug lines per batch and info lines on schema changes
	// (default slog.Default()).
	Logger *slog.Logger
	// Failpoint, when set, is called at each point of Write named in Failpoints, inside the
	// batch's transaction; an error there fails the write as a crash would (nothing of the
	// batch is stored). For tests and fault drills.
	Failpoint func(point string) error
}

// Sink writes batches into one DuckDB file. It implements sink.Sink. Its methods are
// safe for concurrent use (writes are serialised); DB and the read helpers may run
// alongside writes and see committed data only.
type Sink struct {
	cfg     Config
	schema  string // quoted schema identifier
	log     *slog.Logger
	db      *sql.DB
	lockKey string

	mu     sync.Mutex // guards everything below
	closed bool
	conn   *sql.Conn         // the writer connection; staging tables live on it
	tables map[string]*table // by entity name
	// offsetStmt updates one stored offset; prepared on conn when first needed.
	offsetStmt *sql.Stmt

	// failpoint, when set (tests only), is called at named points of Write; an error
	// aborts the batch there.
	failpoint func(point string) error
}

var _ sink.Sink = (*Sink)(nil)

// openFiles holds the lock keys of the files this process has open: DuckDB's file lock
// does not stop a second open from within the same process.
var (
	openMu    sync.Mutex
	openFiles = map[string]bool{}
)

// Open opens (creating it and its directory if needed) the DuckDB file at cfg.Path,
// applies the settings of cfg, and creates the schema and the offsets table. If the
// file is open in another sink of this process or in another process, it fails with an
// error wrapping sink.ErrLocked that names the file.
//
// A file is attached to an in-memory DuckDB instance rather than opened as its main
// database, because the row group size is an option of ATTACH only. The file's
// catalog is named after the file as before (gorgias.duckdb: "gorgias") and is every
// connection's default; temporary files go to <file>.tmp as DuckDB's default would.
func Open(ctx context.Context, cfg Config) (*Sink, error) {
	if cfg.Path == "" {
		return nil, errors.New("duckdb sink: empty file path")
	}
	if strings.Contains(cfg.Path, "?") {
		return nil, fmt.Errorf("duckdb sink: file path %q must not contain '?'", cfg.Path)
	}
	if cfg.Schema == "" {
		cfg.Schema = DefaultSchema
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CheckpointThreshold == "" {
		cfg.CheckpointThreshold = DefaultCheckpointThreshold
		if cfg.MemoryLimit != "" {
			cfg.CheckpointThreshold = DefaultCappedCheckpointThreshold
		}
	}
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("duckdb sink: threads must be >= 0, got %d", cfg.Threads)
	}
	if cfg.BlockSize == 0 {
		cfg.BlockSize = DefaultBlockSize
	}
	if cfg.BlockSize < 16<<10 || cfg.BlockSize > 256<<10 || cfg.BlockSize&(cfg.BlockSize-1) != 0 {
		return nil, fmt.Errorf("duckdb sink: block size must be a power of two from 16384 to 262144, got %d", cfg.BlockSize)
	}
	if cfg.RowGroupSize == 0 {
		cfg.RowGroupSize = DefaultRowGroupSize
	}
	if cfg.RowGroupSize < 0 || cfg.RowGroupSize%2048 != 0 {
		return nil, fmt.Errorf("duckdb sink: row group size must be a positive multiple of 2048, got %d", cfg.RowGroupSize)
	}
	if cfg.Path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
			return nil, fmt.Errorf("open DuckDB file %s: %w", cfg.Path, err)
		}
	}
	key := lockKeyOf(cfg.Path)
	if err := acquire(key); err != nil {
		return nil, fmt.Errorf("open DuckDB file %s: %w", cfg.Path, err)
	}
	s := &Sink{
		cfg:       cfg,
		schema:    quoteIdent(cfg.Schema),
		failpoint: cfg.Failpoint,
		log:       cfg.Logger.With("sink", "duckdb", "path", cfg.Path),
		lockKey:   key,
		tables:    map[string]*table{},
	}
	if err := s.open(ctx); err != nil {
		if s.db != nil {
			_ = s.db.Close()
		}
		release(key)
		return nil, err
	}
	return s, nil
}

func (s *Sink) open(ctx context.Context) error {
	var settings []string
	if s.cfg.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", s.cfg.Threads))
	}
	if s.cfg.MemoryLimit != "" {
		settings = append(settings, "SET memory_limit = "+quoteString(s.cfg.MemoryLimit))
	}
	settings = append(settings, "SET checkpoint_threshold = "+quoteString(s.cfg.CheckpointThreshold))
	dsn := s.cfg.Path
	if s.cfg.Path != ":memory:" {
		// Every connection runs these; only the first one attaches.
		opts := fmt.Sprintf("ROW_GROUP_SIZE %d", s.cfg.RowGroupSize)
		if st, err := os.Stat(s.cfg.Path); errors.Is(err, fs.ErrNotExist) || (err == nil && st.Size() == 0) {
			opts += fmt.Sprintf(", BLOCK_SIZE %d", s.cfg.BlockSize) // refused for an existing file of another size
		}
		alias := quoteIdent(attachName(s.cfg.Path))
		settings = append(settings,
			"SET temp_directory = "+quoteString(s.cfg.Path+".tmp"),
			fmt.Sprintf("ATTACH IF NOT EXISTS %s AS %s (%s)", quoteString(s.cfg.Path), alias, opts),
			"USE "+alias)
		dsn = ""
	}
	connector, err := duckdb.NewConnector(dsn, func(ex driver.ExecerContext) error {
		for _, q := range settings {
			if _, err := ex.ExecContext(context.Background(), q, nil); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		if isLockError(err) {
			return fmt.Errorf("open DuckDB file %s: %w: another process has it open (stop it or use another file): %w",
				s.cfg.Path, sink.ErrLocked, err)
		}
		return fmt.Errorf("open DuckDB file %s: %w", s.cfg.Path, err)
	}
	s.db = sql.OpenDB(connector)
	if err := s.ensureConn(ctx); err != nil {
		if isLockError(err) {
			return fmt.Errorf("open DuckDB file %s: %w: another process has it open (stop it or use another file): %w",
				s.cfg.Path, sink.ErrLocked, err)
		}
		return err
	}
	if s.cfg.MemoryLimit != "" && !s.cfg.RetainFreedMemory && os.Getenv("DUCKDB_JE_MALLOC_CONF") == "" {
		decayOnce.Do(func() {
			if err := setAllocatorDecay(0); err != nil && !errors.Is(err, errNoJemalloc) {
				s.log.Warn("could not make DuckDB's allocator return freed memory at once", "err", err)
			}
		})
	}
	// Qualify every name with the database (catalog) too: a file named after the schema
	// (gorgias.duckdb with schema gorgias, the default) makes "gorgias.x" ambiguous.
	var catalogName string
	if err := s.conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&catalogName); err != nil {
		return fmt.Errorf("duckdb %s: current_database: %w", s.cfg.Path, err)
	}
	s.schema = quoteIdent(catalogName) + "." + quoteIdent(s.cfg.Schema)
	for _, q := range []string{
		"CREATE SCHEMA IF NOT EXISTS " + s.schema,
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (topic VARCHAR, "partition" INTEGER, next_offset BIGINT, PRIMARY KEY (topic, "partition"))`,
			s.qualified(offsetsTable)),
		deletionsDDL(s.qualified(sink.DeletionsTable)),
	} {
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("duckdb %s: %s: %w", s.cfg.Path, q, err)
		}
	}
	return nil
}

// decayOnce applies the allocator setting of Config.RetainFreedMemory once per process.
var decayOnce sync.Once

// errNoJemalloc: DuckDB does not use its bundled jemalloc in this build.
var errNoJemalloc = errors.New("DuckDB's jemalloc is not available in this build")

// attachName is the catalog name DuckDB gives a database file: its base name up to the
// first dot ("gorgias" for dir/gorgias.duckdb), or "db" if that is empty or one of
// DuckDB's own catalog names.
func attachName(path string) string {
	name, _, _ := strings.Cut(filepath.Base(path), ".")
	switch strings.ToLower(name) {
	case "", "memory", "system", "temp", "main":
		return "db"
	}
	return name
}

// isLockError reports whether err is DuckDB's "file is locked by another process".
func isLockError(err error) bool {
	m := err.Error()
	return strings.Contains(m, "Could not set lock on file") || strings.Contains(m, "Conflicting lock")
}

// lockKeyOf returns the identity of a DuckDB file for the in-process lock.
func lockKeyOf(path string) string {
	if path == ":memory:" || strings.HasPrefix(path, ":memory:") {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs))
	}
	return abs
}

func acquire(key string) error {
	if key == "" {
		return nil
	}
	openMu.Lock()
	defer openMu.Unlock()
	if openFiles[key] {
		return fmt.Errorf("%w: the file is already open in this process (pid %d)", sink.ErrLocked, os.Getpid())
	}
	openFiles[key] = true
	return nil
}

func release(key string) {
	if key == "" {
		return
	}
	openMu.Lock()
	defer openMu.Unlock()
	delete(openFiles, key)
}

// ensureConn makes sure the writer connection exists. Staging tables and appenders are
// bound to it and recreated with it.
func (s *Sink) ensureConn(ctx context.Context) error {
	if s.conn != nil {
		return nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("DuckDB file %s: connect: %w", s.cfg.Path, err)
	}
	s.conn = c
	return nil
}

// dropConn discards the writer connection and everything bound to it, after an error
// that may have left it in an unknown state.
func (s *Sink) dropConn() {
	for _, t := range s.tables {
		_ = t.dropStage()
	}
	if s.offsetStmt != nil {
		_ = s.offsetStmt.Close()
		s.offsetStmt = nil
	}
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// Close closes the appenders, the writer connection and the database (DuckDB then
// checkpoints what is still only in the WAL), and releases the file. It waits for a
// running Write. Calling it again returns nil.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, t := range s.tables {
		if err := t.dropStage(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.offsetStmt != nil {
		if err := s.offsetStmt.Close(); err != nil {
			errs = append(errs, err)
		}
		s.offsetStmt = nil
	}
	if s.conn != nil {
		if err := s.conn.Close(); err != nil {
			errs = append(errs, err)
		}
		s.conn = nil
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, err)
	}
	release(s.lockKey)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close DuckDB file %s: %w", s.cfg.Path, err)
	}
	return nil
}

// DB returns the database handle for ad-hoc queries. It sees committed data only and
// must not be used after Close.
func (s *Sink) DB() *sql.DB { return s.db }

// Table returns the fully qualified, quoted name of a table of the sink's schema
// ("catalog"."schema"."table"), usable in queries on DB whatever the file is called.
func (s *Sink) Table(name string) string { return s.qualified(name) }

// qualified returns the quoted schema-qualified name of a table.
func (s *Sink) qualified(table string) string { return s.schema + "." + quoteIdent(table) }

// fail runs the test failpoint, if any.
func (s *Sink) fail(point string) error {
	if s.failpoint == nil {
		return nil
	}
	return s.failpoint(point)
}
