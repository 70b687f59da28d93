// Package postgressink is the PostgreSQL destination: it implements sink.Sink on one
// PostgreSQL database, through one connection (github.com/jackc/pgx/v5).
//
// Per entity it keeps <schema>.<entity> (the latest version of each id, primary key id,
// plus _kafka_partition, _kafka_offset, _kafka_timestamp and the deletion columns
// _deleted_at, _deleted_reason, _merged_into) and, when Dest.Changelog is set,
// <schema>.<entity>_changelog (every version and deletion, append-only);
// <schema>._kafka_offsets(topic, partition, next_offset) holds the next offset of every
// topic partition. Column types are described at typeJSONB.
//
// Deletions (tombstones) are stored in the batch's transaction, before its versions.
// <schema>._deletions(table_name, id, _deleted_at, _deleted_reason, _merged_into)
// keeps the latest deletion of each id of each entity table (upserted from the batch's
// deletions, passed as arrays to one statement), in both modes. The same statement
// appends each deletion to the changelog (the fields NULL) and applies the latest
// deletion of each id to the entity row unless that row's version is newer or it is
// already deleted at or after it: with Dest.Deletes soft, the deletion and Kafka
// columns are set (the fields keep the last version; an id never seen gets a row of
// just the id and those columns, with a NULL version); hard deletes the row. The
// versions' upsert then skips, by an anti-join on _deletions, any version not newer
// than its id's deletion; it runs without the anti-join while _deletions holds
// nothing of the entity (an index probe per batch). A stored version sets every
// column, which clears the deletion columns. Reset empties _deletions too. Tables from
// before deletions get the three columns appended by Prepare.
//
// Each Write is one PostgreSQL transaction: the offsets rows of the batch's partitions
// are locked (SELECT ... FOR UPDATE) and compared with the batch's ranges, then set;
// every entity's records are copied (binary COPY) into a temporary table of the
// connection (ON COMMIT DELETE ROWS), from which one INSERT ... SELECT DISTINCT ON (id)
// ... ON CONFLICT (id) DO UPDATE ... WHERE the stored version is older upserts the
// latest version of each id, and one INSERT ... SELECT appends every record to the
// changelog; COMMIT. Two sinks writing the same partition cannot both pass the offset
// check: the second waits for the first's row lock (or, for a partition with no stored
// offset yet, for its insert) and then sees the offset it stored.
//
// Schema changes (new fields) add nullable columns with ALTER TABLE ... ADD COLUMN IF
// NOT EXISTS before the batch's transaction, once per schema version and process; DDL
// of concurrent sinks is serialised by an advisory lock.
//
// The connection's temporary tables and prepared statements need a session of its
// own: put a pooler in front only in session mode (PgBouncer's transaction mode breaks
// both).
package postgressink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// DefaultSchema is the schema the tables go to when Dest.Schema is empty.
const DefaultSchema = "gorgias"

// BatchMaxWait is the sink's batch wait when sink.batch_max_wait is auto.
const BatchMaxWait = 5 * time.Second

// offsetsTable holds the next offset of every topic partition.
const offsetsTable = "_kafka_offsets"

// ddlLockKey is the advisory lock (pg_advisory_xact_lock) taken by every DDL
// transaction of the sink, so that sinks starting together do not race on CREATE
// TABLE IF NOT EXISTS (which can fail with a duplicate key on the catalog).
const ddlLockKey int64 = 0x676f7267_6b61666b // "gorgkafk"

// Sentinel errors of the PostgreSQL sink. Batches that do not continue the stored
// offsets wrap sink.ErrStaleOffset, malformed batches sink.ErrBadBatch.
var (
	// ErrBadURI means the destination URI is not a usable postgresql:// or postgres://
	// URI. Its messages never contain the password.
	ErrBadURI = errors.New("bad PostgreSQL destination URI")
	// ErrClosed means the sink was used after Close.
	ErrClosed = errors.New("postgres sink is closed")
	// ErrIncompatibleSchema means a schema version changes the type of a field the
	// tables (or earlier schema versions) hold.
	ErrIncompatibleSchema = sink.ErrIncompatibleSchema
)

// Config tunes the PostgreSQL sink (section postgres).
type Config struct {
	// Password is the password of the URI's user when the URI has none. It is never
	// logged nor shown in errors.
	Password config.Sensitive `config:"password" secret:"true" env_only:"true" help:"password of the URI's user, if the URI has none (env POSTGRES_PASSWORD)"`
	// PasswordFile names a file holding the password (one trailing newline ignored).
	PasswordFile string `config:"password_file" help:"file holding the password (e.g. a mounted secret); not together with postgres.password"`
}

// Validate reports a password given both directly and as a file, and a password file
// that cannot be read or is empty.
func (c Config) Validate(report func(key, why string)) {
	if _, why := config.SecretFile(c.Password, c.PasswordFile); why != "" {
		report("password_file", why)
	}
}

// The PostgreSQL sink serves postgresql:// and postgres:// destinations; its keys are
// postgres.* (Config's tags).
func init() {
	sink.Register(sink.Driver[Config]{
		Name: "postgres", Schemes: []string{"postgresql", "postgres"}, BatchMaxWait: BatchMaxWait,
		Open: func(ctx context.Context, d sink.Dest, c Config) (sink.Sink, error) { return Open(ctx, d, c) },
	})
}

// Sink writes batches into one PostgreSQL database. It implements sink.Sink. Its
// methods are safe for concurrent use; they are serialised on the sink's one
// connection.
type Sink struct {
	dest   sink.Dest
	target *target
	schema string // quoted schema identifier
	log    *slog.Logger

	mu     sync.Mutex // guards everything below
	closed bool
	conn   *pgx.Conn
	tables map[string]*table // by entity name
	// embedded holds the shapes of the embedded schema versions of each entity, for
	// reading tables this process has not prepared (loaded on first need).
	embedded map[string]*shape

	// hook, when set (tests only), is called at named points of Write's transaction; an
	// error aborts the batch there.
	hook func(point string) error
}

var _ sink.Sink = (*Sink)(nil)

// Open connects to the database of dest.URI (see parseURI for where the password
// comes from), creates the schema (dest.Schema, default gorgias) and the offsets table
// if needed, and returns the sink. Its errors never contain the password.
func Open(ctx context.Context, dest sink.Dest, cfg Config) (*Sink, error) {
	pw, why := config.SecretFile(cfg.Password, cfg.PasswordFile)
	if why != "" {
		return nil, fmt.Errorf("postgres sink: postgres.password_file %s", why)
	}
	tg, err := parseURI(dest.URI, pw)
	if err != nil {
		return nil, err
	}
	if dest.Schema == "" {
		dest.Schema = DefaultSchema
	}
	if dest.Logger == nil {
		dest.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sink{
		dest:   dest,
		target: tg,
		schema: pgx.Identifier{dest.Schema}.Sanitize(),
		log:    dest.Logger.With("sink", "postgres", "dest", tg.shown, "schema", dest.Schema),
		tables: map[string]*table{},
	}
	if err := s.ensureConn(ctx); err != nil {
		return nil, err
	}
	if err := s.ddl(ctx, "create schema", func(tx pgx.Tx) error {
		for _, q := range []string{
			"CREATE SCHEMA IF NOT EXISTS " + s.schema,
			`CREATE TABLE IF NOT EXISTS ` + s.qualified(offsetsTable) + ` (topic text NOT NULL, "partition" integer NOT NULL,
				next_offset bigint NOT NULL, PRIMARY KEY (topic, "partition"))`,
			sqlCreateDeletions(s.qualified(sink.DeletionsTable)),
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		s.closeConn()
		return nil, err
	}
	if tg.ignoredConfigPassword {
		s.log.Warn("the destination URI has a password; postgres.password (or its file) is ignored")
	}
	s.log.Info("connected", "server_version", s.conn.PgConn().ParameterStatus("server_version"))
	return s, nil
}

// qualified returns the quoted name of a table in the sink's schema.
func (s *Sink) qualified(table string) string {
	return s.schema + "." + pgx.Identifier{table}.Sanitize()
}

// ensureConn connects when the sink has no open connection. Temporary tables belong
// to the connection: a new one starts without them.
func (s *Sink) ensureConn(ctx context.Context) error {
	if s.conn != nil && !s.conn.IsClosed() {
		return nil
	}
	s.closeConn()
	conn, err := pgx.ConnectConfig(ctx, s.target.conn)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL %s: %w", s.target.shown, s.target.red.err(err))
	}
	s.conn = conn
	for _, t := range s.tables {
		t.staged = false
	}
	return nil
}

// closeConn closes the connection (after an error that may have left it in an unknown
// state, or on Close).
func (s *Sink) closeConn() {
	if s.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.conn.Close(ctx)
	s.conn = nil
	for _, t := range s.tables {
		t.staged = false
	}
}

// inTx runs fn in a transaction and commits. On error it rolls back; if that fails
// too, the connection is closed (the next call reconnects).
func (s *Sink) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		s.closeConn()
		return fmt.Errorf("begin: %w", err)
	}
	if err = fn(tx); err == nil {
		if err = tx.Commit(ctx); err == nil {
			return nil
		}
		err = fmt.Errorf("commit: %w", err)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if rerr := tx.Rollback(rctx); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) {
		s.closeConn()
	} else if s.conn != nil && s.conn.IsClosed() {
		s.closeConn()
	}
	return err
}

// ddl runs fn in a transaction holding the sink's DDL advisory lock.
func (s *Sink) ddl(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", ddlLockKey); err != nil {
			return fmt.Errorf("DDL lock: %w", err)
		}
		return fn(tx)
	})
	if err != nil {
		return fmt.Errorf("postgres %s: %s: %w", s.target.shown, what, s.target.red.err(err))
	}
	return nil
}

// Prepare creates, for every entity, its table (and changelog table when enabled) with
// the union of the fields of the entity's schema versions among schemas, and adds the
// columns existing tables lack. Schemas of entities not listed are ignored; an entity
// without any schema is an error (sink.SchemasOf), found before any table is touched.
// It is idempotent.
func (s *Sink) Prepare(ctx context.Context, entities []catalog.Entity, schemas []*avrocodec.Schema) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	byEntity, err := sink.SchemasOf(entities, schemas)
	if err != nil {
		return fmt.Errorf("prepare PostgreSQL tables: %w", err)
	}
	if err := s.ensureConn(ctx); err != nil {
		return err
	}
	for _, es := range byEntity {
		if _, err := s.ensureTable(ctx, es.Entity, es.Schemas); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the connection (its temporary tables go with it). It waits for a
// running call. Calling it again returns nil.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.conn.Close(ctx)
	s.conn = nil
	if err != nil {
		return fmt.Errorf("close PostgreSQL connection: %w", s.target.red.err(err))
	}
	return nil
}
