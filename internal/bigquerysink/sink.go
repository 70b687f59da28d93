package bigquerysink

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Config configures the BigQuery sink.
type Config struct {
	// Dest is the parsed destination URI (project, credentials, location).
	Dest Destination
	// Dataset holds the tables; default "gorgias". It is created if missing.
	Dataset string
	// TopicPrefix maps topics to entities (default "gorgias.").
	TopicPrefix string
	// Deletes is how deletions are applied (sink.deletes; zero value soft).
	Deletes sink.DeleteMode
	// Endpoint, when set, points the client at a fake or an emulator
	// (option.WithEndpoint + option.WithoutAuthentication), e.g.
	// http://127.0.0.1:9050/bigquery/v2/; a bare base URL such as http://127.0.0.1:9050
	// gets "/bigquery/v2/" (see EndpointURL).
	Endpoint string `config:"endpoint" help:"BigQuery API endpoint override for a fake or an emulator, e.g. http://127.0.0.1:9050 (a URL without a path gets /bigquery/v2/; no authentication); empty: the real BigQuery"`
	// ClientOptions are added to the client's options (tests).
	ClientOptions []option.ClientOption
	// StagingExpiration is the expiration of per-batch staging tables, a safety net for
	// tables a crash left behind (default 24h).
	StagingExpiration time.Duration `config:"staging_expiration" default:"24h" min:"1h" help:"expiration of per-batch staging tables left behind by a crash"`
	// Retry tunes the sink's retries and job polling.
	Retry Retry `config:""`
	// Logger receives debug lines and warnings (default slog.Default()).
	Logger *slog.Logger
}

// Sink writes batches into BigQuery with exactly-once semantics (see the package
// documentation for the protocol). It is safe for use by one goroutine at a time.
type Sink struct {
	cfg    Config
	dest   Destination
	client *bigquery.Client
	ds     *bigquery.Dataset
	retry  Retry
	log    *slog.Logger
	run    string // random per Open: job and staging-table IDs are unique per project
	// transport is ours (endpoint override only); Close releases its connections.
	transport *http.Transport
	seq       int
	stats     stats

	mu       sync.Mutex
	closed   bool
	prepared []catalog.Entity
	tables   map[string]*entityTables
}

// entityTables is what the sink knows of one entity's tables.
type entityTables struct {
	entity   catalog.Entity
	versions []*avrocodec.Schema
	known    map[uint64]bool
	// schema of the entity and changelog tables (entity fields, Kafka columns, deletion
	// columns, then columns added later).
	schema bigquery.Schema
}

// stats counts the sink's API usage (for benchmarks and logs).
type stats struct {
	requests, jobs, loads, loadBytes, batches, rows atomic.Int64
}

func (s *stats) addRequest() { s.requests.Add(1) }
func (s *stats) addJob()     { s.jobs.Add(1) }

// Stats is a snapshot of the sink's API usage since Open.
type Stats struct {
	// Batches written, Rows loaded, Jobs created (load and query), Loads and their
	// bytes, and API Requests sent (jobs, table operations, lookups, retries).
	Batches, Rows, Jobs, Loads, LoadBytes, Requests int64
}

// Stats returns the sink's counters.
func (s *Sink) Stats() Stats {
	return Stats{Batches: s.stats.batches.Load(), Rows: s.stats.rows.Load(), Jobs: s.stats.jobs.Load(),
		Loads: s.stats.loads.Load(), LoadBytes: s.stats.loadBytes.Load(), Requests: s.stats.requests.Load()}
}

// Open connects to BigQuery. It makes no API call: Prepare creates the dataset and
// tables.
func Open(ctx context.Context, cfg Config) (*Sink, error) {
	if cfg.Dataset == "" {
		cfg.Dataset = "gorgias"
	}
	if cfg.TopicPrefix == "" {
		cfg.TopicPrefix = "gorgias."
	}
	if cfg.StagingExpiration <= 0 {
		cfg.StagingExpiration = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Dest.Location == "" {
		cfg.Dest.Location = "US"
	}
	if !projectRe.MatchString(cfg.Dest.Project) {
		return nil, fmt.Errorf("%w: project %q is not a Google Cloud project id", ErrBadURI, cfg.Dest.Project)
	}
	var opts []option.ClientOption
	var transport *http.Transport
	switch {
	case cfg.Endpoint != "":
		// A fake or an emulator: no authentication, and a transport of our own so that
		// Close can release its connections.
		endpoint, err := EndpointURL(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		transport = http.DefaultTransport.(*http.Transport).Clone()
		opts = append(opts, option.WithEndpoint(endpoint), option.WithHTTPClient(&http.Client{Transport: transport}))
	case cfg.Dest.CredentialsPath != "":
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, cfg.Dest.CredentialsPath))
	}
	opts = append(opts, cfg.ClientOptions...)
	client, err := bigquery.NewClient(ctx, cfg.Dest.Project, opts...)
	if err != nil {
		return nil, fmt.Errorf("open BigQuery client for project %s: %w", cfg.Dest.Project, err)
	}
	client.Location = cfg.Dest.Location
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	return &Sink{
		cfg: cfg, dest: cfg.Dest, client: client, ds: client.Dataset(cfg.Dataset),
		retry: cfg.Retry.withDefaults(), log: cfg.Logger, run: hex.EncodeToString(rb[:]), transport: transport,
		tables: map[string]*entityTables{},
	}, nil
}

// Client returns the underlying BigQuery client (tests read tables through it).
func (s *Sink) Client() *bigquery.Client { return s.client }

// Prepare creates the dataset, the deletions table and, for every entity, its table,
// changelog table and offsets table, holding every field of the entity's given schema
// versions, then the Kafka and the deletion columns; existing
// tables get missing columns through tables.patch with the etag (a 412 is retried).
// Schemas of entities not listed are ignored; an entity without any schema is an error
// (sink.SchemasOf), found before any API call. It is idempotent.
func (s *Sink) Prepare(ctx context.Context, entities []catalog.Entity, schemas []*avrocodec.Schema) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	byEntity, err := sink.SchemasOf(entities, schemas)
	if err != nil {
		return fmt.Errorf("prepare BigQuery tables: %w", err)
	}
	if err := s.ensureDataset(ctx); err != nil {
		return err
	}
	if err := s.ensureTable(ctx, DeletionsTable, deletionsSchema, &deletionsMetadata); err != nil {
		return err
	}
	for _, es := range byEntity {
		e := es.Entity
		if _, err := s.ensureEntity(ctx, e, es.Schemas); err != nil {
			return err
		}
		if err := s.ensureTable(ctx, offsetsTable(e), offsetsSchema, &bigquery.TableMetadata{
			Clustering: &bigquery.Clustering{Fields: []string{"topic", "partition"}},
		}); err != nil {
			return err
		}
		if !containsEntity(s.prepared, e) {
			s.prepared = append(s.prepared, e)
		}
	}
	return nil
}

func containsEntity(es []catalog.Entity, e catalog.Entity) bool {
	for _, x := range es {
		if x.Name == e.Name {
			return true
		}
	}
	return false
}

func (s *Sink) ensureDataset(ctx context.Context) error {
	var missing bool
	err := s.retryCall(ctx, "get BigQuery dataset "+s.cfg.Dataset, false, func() error {
		_, err := s.ds.Metadata(ctx)
		missing = notFound(err)
		if missing {
			return nil
		}
		return err
	})
	if err != nil || !missing {
		return err
	}
	return s.retryCall(ctx, "create BigQuery dataset "+s.cfg.Dataset, false, func() error {
		err := s.ds.Create(ctx, &bigquery.DatasetMetadata{Location: s.dest.Location})
		if duplicate(err) {
			return nil
		}
		return err
	})
}

// ensureEntity makes the entity and changelog tables hold every field of versions
// (plus those already known) and returns the entity's state.
func (s *Sink) ensureEntity(ctx context.Context, e catalog.Entity, versions []*avrocodec.Schema) (*entityTables, error) {
	et := s.tables[e.Name]
	if et == nil {
		et = &entityTables{entity: e, known: map[uint64]bool{}}
	}
	fresh := sink.FreshSchemas(versions, func(fp uint64) bool { return et.known[fp] })
	if len(fresh) == 0 && et.schema != nil {
		return et, nil
	}
	all := append(slices.Clone(et.versions), fresh...)
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: no schema version of %s to create its tables from", ErrNotPrepared, e.Name)
	}
	fields, err := entitySchema(e, all)
	if err != nil {
		return nil, err
	}
	want := slices.Concat(fields, kafkaColumns, deletionColumns)
	if et.schema != nil {
		if want, _, err = mergeSchema(et.schema, want); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrIncompatibleSchema, e.Name, err)
		}
	}
	var mainSchema bigquery.Schema
	for _, t := range []struct {
		name string
		md   *bigquery.TableMetadata
	}{
		// The latest version per id: MERGE joins on id, so cluster on it.
		{e.Table(), &bigquery.TableMetadata{Clustering: &bigquery.Clustering{Fields: []string{catalog.Key}}}},
		// Every version: append-only, partitioned by the Kafka timestamp, clustered on id.
		{e.ChangelogTable(), &bigquery.TableMetadata{
			TimePartitioning: &bigquery.TimePartitioning{Type: bigquery.DayPartitioningType, Field: ColTimestamp},
			Clustering:       &bigquery.Clustering{Fields: []string{catalog.Key}},
		}},
	} {
		got, err := s.syncTable(ctx, t.name, want, t.md)
		if err != nil {
			return nil, err
		}
		if t.name == e.Table() {
			// The changelog gets every column of the entity table, including any that
			// another writer added: the batch's column list comes from it.
			mainSchema, want = got, got
		}
	}
	et.schema = mainSchema
	for _, v := range versions {
		if !et.known[v.Fingerprint] {
			et.known[v.Fingerprint] = true
			et.versions = append(et.versions, v)
		}
	}
	s.tables[e.Name] = et
	return et, nil
}

// ensureTable creates a table with schema if it does not exist, or adds the missing
// columns.
func (s *Sink) ensureTable(ctx context.Context, name string, schema bigquery.Schema, md *bigquery.TableMetadata) error {
	_, err := s.syncTable(ctx, name, schema, md)
	return err
}

// syncTable creates the table with want (and md's partitioning/clustering), or patches
// an existing one to add want's missing columns, and returns the table's schema.
func (s *Sink) syncTable(ctx context.Context, name string, want bigquery.Schema, md *bigquery.TableMetadata) (bigquery.Schema, error) {
	t := s.ds.Table(name)
	for try := 1; ; try++ {
		var cur *bigquery.TableMetadata
		err := s.retryCall(ctx, "get BigQuery table "+name, false, func() error {
			var err error
			cur, err = t.Metadata(ctx)
			if notFound(err) {
				cur, err = nil, nil
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if cur == nil {
			create := *md
			create.Schema = want
			err := s.retryCall(ctx, "create BigQuery table "+name, false, func() error {
				err := t.Create(ctx, &create)
				if duplicate(err) {
					return nil
				}
				return err
			})
			if err != nil {
				return nil, err
			}
			return want, nil
		}
		merged, changed, err := mergeSchema(cur.Schema, want)
		if err != nil {
			return nil, fmt.Errorf("%w: table %s: %v", ErrIncompatibleSchema, name, err)
		}
		if !changed {
			return cur.Schema, nil
		}
		if beforePatch != nil {
			beforePatch(name)
		}
		err = s.retryCall(ctx, "add columns to BigQuery table "+name, true, func() error {
			_, err := t.Update(ctx, bigquery.TableMetadataToUpdate{Schema: merged}, cur.ETag)
			return err
		})
		if err == nil {
			s.log.Info("added columns to BigQuery table", "table", name, "columns", len(merged)-len(cur.Schema))
			return merged, nil
		}
		if httpCode(err) != 412 || try >= s.retry.Attempts {
			return nil, err
		}
		// Someone changed the table since we read it: read it again and merge again.
		s.log.Debug("table changed concurrently (412), retrying", "table", name)
	}
}

// beforePatch, set by tests only, runs between reading a table's etag and patching it.
var beforePatch func(table string)

// Offsets reads every stored next offset of the prepared entities (before Prepare:
// of every entity whose offsets table exists).
func (s *Sink) Offsets(ctx context.Context) (map[sink.TopicPartition]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	out := map[sink.TopicPartition]int64{}
	if len(s.prepared) > 0 {
		return out, s.readOffsets(ctx, s.prepared, out, true)
	}
	for _, e := range catalog.All() {
		err := s.readOffsets(ctx, []catalog.Entity{e}, out, false)
		if err != nil && !notFound(err) {
			return nil, err
		}
	}
	return out, nil
}

// readOffsets adds the stored offsets of entities to out.
// A 404 is retried when the tables were just prepared (it may be BigQuery's delay
// after a creation).
func (s *Sink) readOffsets(ctx context.Context, entities []catalog.Entity, out map[sink.TopicPartition]int64, retryNotFound bool) error {
	got := map[sink.TopicPartition]int64{}
	err := s.retryCall(ctx, "read stored offsets", retryNotFound, func() error {
		clear(got)
		q := s.client.Query(s.offsetsQuery(entities))
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
			topic, _ := row[0].(string)
			part, _ := row[1].(int64)
			next, _ := row[2].(int64)
			got[sink.TopicPartition{Topic: topic, Partition: int32(part)}] = next
		}
	})
	if err != nil {
		return err
	}
	for k, v := range got {
		out[k] = v
	}
	return nil
}

// Write stores one batch exactly once: for each entity with records it creates a
// staging table for this batch and loads the rows, versions and deletions alike, into
// it (one load job, JSON lines), then one multi-statement transaction (a query job)
// fences on the stored offsets, appends to the changelog tables, applies the deletions
// (Config.Deletes), merges the versions into the entity tables and advances the
// offsets. The staging tables are dropped afterwards. A batch that does not continue
// the stored offsets is refused with sink.ErrStaleOffset and changes nothing; a
// malformed one (sink.CheckBatch, or a range of a topic outside the sink's prefix) is
// refused with sink.ErrBadBatch before any API call.
func (s *Sink) Write(ctx context.Context, b sink.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if len(s.prepared) == 0 {
		return ErrNotPrepared
	}
	if err := sink.CheckBatch(b); err != nil {
		return err
	}
	s.seq++
	batchID := fmt.Sprintf("%s_%d", s.run, s.seq)

	// Group records and ranges by entity.
	byEntity := map[string]*entityCommit{}
	var order []string
	part := func(e catalog.Entity) *entityCommit {
		p := byEntity[e.Name]
		if p == nil {
			p = &entityCommit{entity: e}
			byEntity[e.Name] = p
			order = append(order, e.Name)
		}
		return p
	}
	for _, r := range b.Ranges {
		e, ok := catalog.ByTopic(s.cfg.TopicPrefix, r.Topic)
		if !ok {
			return fmt.Errorf("%w: topic %s is not an entity topic of prefix %q", sink.ErrBadBatch, r.Topic, s.cfg.TopicPrefix)
		}
		p := part(e)
		p.ranges = append(p.ranges, r)
	}
	recs := map[string][]sink.Record{}
	newSchemas := map[string][]*avrocodec.Schema{}
	for _, r := range b.Records {
		part(r.Entity)
		recs[r.Entity.Name] = append(recs[r.Entity.Name], r)
		if r.Delete != nil {
			continue
		}
		if et := s.tables[r.Entity.Name]; et == nil || !et.known[r.Schema.Fingerprint] {
			newSchemas[r.Entity.Name] = append(newSchemas[r.Entity.Name], r.Schema)
		}
	}
	parts := make([]entityCommit, 0, len(order))
	var staged []string
	for _, name := range order {
		p := byEntity[name]
		if rs := recs[name]; len(rs) > 0 {
			et, err := s.ensureEntity(ctx, p.entity, newSchemas[name])
			if err != nil {
				return err
			}
			p.columns = columnNames(et.schema)
			p.idLo, p.idHi = rs[0].ID, rs[0].ID
			for _, r := range rs {
				p.idLo, p.idHi = min(p.idLo, r.ID), max(p.idHi, r.ID)
				p.deletions = p.deletions || r.Delete != nil
				p.versions = p.versions || r.Delete == nil
			}
			p.staging = stagingTable(p.entity, batchID)
			if err := s.stage(ctx, p.staging, et.schema, rs, batchID); err != nil {
				return err
			}
			staged = append(staged, p.staging)
		}
		parts = append(parts, *p)
	}
	script := s.commitScript(batchID, parts)
	_, err := s.runJob(ctx, "gk_"+batchID+"_commit", func(ctx context.Context, id string) error {
		q := s.client.Query(script)
		q.JobID = id
		q.Location = s.dest.Location
		_, err := q.Run(ctx)
		return err
	})
	s.dropStaging(ctx, staged)
	if err != nil {
		if _, msg := reason(err); strings.Contains(msg, staleMarker) {
			return fmt.Errorf("%w: %s", sink.ErrStaleOffset, msg)
		}
		return fmt.Errorf("commit batch %s: %w", batchID, err)
	}
	s.stats.batches.Add(1)
	s.stats.rows.Add(int64(len(b.Records)))
	return nil
}

// stage creates the batch's staging table of one entity (expiring, in case a crash
// leaves it behind) and loads the records, versions and deletions, into it with one
// load job. WRITE_TRUNCATE
// makes a repeated load of the same table harmless.
func (s *Sink) stage(ctx context.Context, table string, schema bigquery.Schema, recs []sink.Record, batchID string) error {
	var buf bytes.Buffer
	line := make([]byte, 0, 4096)
	for _, r := range recs {
		var err error
		if r.Delete != nil {
			line = appendDeletion(line[:0], r)
		} else if line, err = appendRow(line[:0], r); err != nil {
			return fmt.Errorf("encode %s record at %d/%d: %w", r.Entity.Name, r.Partition, r.Offset, err)
		}
		buf.Write(line)
	}
	data := buf.Bytes()
	t := s.ds.Table(table)
	err := s.retryCall(ctx, "create staging table "+table, false, func() error {
		err := t.Create(ctx, &bigquery.TableMetadata{Schema: schema, ExpirationTime: time.Now().Add(s.cfg.StagingExpiration)})
		if duplicate(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	_, err = s.runJob(ctx, "gk_"+table+"_load", func(ctx context.Context, id string) error {
		src := bigquery.NewReaderSource(bytes.NewReader(data))
		src.SourceFormat = bigquery.JSON
		ld := t.LoaderFrom(src)
		ld.JobID = id
		ld.Location = s.dest.Location
		ld.WriteDisposition = bigquery.WriteTruncate
		ld.CreateDisposition = bigquery.CreateNever
		_, err := ld.Run(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("load %d rows into %s: %w", len(recs), table, err)
	}
	s.stats.loads.Add(1)
	s.stats.loadBytes.Add(int64(len(data)))
	return nil
}

// dropStaging deletes staging tables; failures are only logged, the tables expire.
func (s *Sink) dropStaging(ctx context.Context, tables []string) {
	for _, name := range tables {
		err := s.retryCall(ctx, "drop staging table "+name, false, func() error {
			err := s.ds.Table(name).Delete(ctx)
			if notFound(err) {
				return nil
			}
			return err
		})
		if err != nil {
			s.log.Warn("staging table left behind; it expires by itself", "table", name, "err", err)
		}
	}
}

// Reset empties the entity and changelog tables of the prepared entities, forgets
// their deletions and replaces their stored offsets by next, in one transaction.
func (s *Sink) Reset(ctx context.Context, next map[sink.TopicPartition]int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if len(s.prepared) == 0 {
		return ErrNotPrepared
	}
	if err := sink.CheckReset(next); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	byEntity := map[catalog.Entity][]sink.Range{}
	for tp, off := range next {
		e, ok := catalog.ByTopic(s.cfg.TopicPrefix, tp.Topic)
		if !ok {
			return fmt.Errorf("reset: %w: topic %s is not an entity topic of prefix %q", sink.ErrBadBatch, tp.Topic, s.cfg.TopicPrefix)
		}
		byEntity[e] = append(byEntity[e], sink.Range{TopicPartition: tp, Next: off})
	}
	s.seq++
	script := s.resetScript(s.prepared, byEntity)
	_, err := s.runJob(ctx, fmt.Sprintf("gk_%s_%d_reset", s.run, s.seq), func(ctx context.Context, id string) error {
		q := s.client.Query(script)
		q.JobID = id
		q.Location = s.dest.Location
		_, err := q.Run(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("reset BigQuery tables: %w", err)
	}
	return nil
}

// Close releases the client. It is idempotent.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.client.Close()
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("close BigQuery client: %w", err)
	}
	return nil
}
