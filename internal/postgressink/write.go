package postgressink

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Points of Write's transaction where the test hook is called, in order.
const (
	pointOffsets = "offsets" // offsets checked, locked and set
	pointWritten = "written" // every table written, before COMMIT
)

// group is the records of one entity within a batch: its versions and its
// deletions.
type group struct {
	t    *table
	recs []*sink.Record
	dels []*sink.Record
}

// Write stores one batch in one PostgreSQL transaction: it locks the offsets rows of
// the batch's partitions and checks every range against them (a mismatch fails with an
// error wrapping sink.ErrStaleOffset, and so does a partition whose first offset
// another writer stored meanwhile), sets the next offsets, applies each entity's
// deletions (as Dest.Deletes says), copies its versions into its temporary table and
// from there upserts the latest version of each id (an older or equal version never
// replaces a stored newer one, nor does a version not newer than the id's deletion) and
// appends every record to the changelog when enabled, then commits. On any error
// nothing of the batch is stored. New schema versions add their columns first, in a
// transaction of their own.
func (s *Sink) Write(ctx context.Context, b sink.Batch) error {
	start := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := sink.CheckBatch(b); err != nil {
		return err
	}
	if err := s.ensureConn(ctx); err != nil {
		return err
	}
	groups, err := s.groups(ctx, b.Records)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if err := s.ensureStage(ctx, g.t); err != nil {
			s.closeConn()
			return err
		}
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := s.setOffsets(ctx, tx, b.Ranges); err != nil {
			return err
		}
		if err := s.at(pointOffsets); err != nil {
			return err
		}
		for _, g := range groups {
			if err := s.writeGroup(ctx, tx, g); err != nil {
				return err
			}
		}
		return s.at(pointWritten)
	})
	if err != nil {
		return fmt.Errorf("postgres %s: write batch: %w", s.target.shown, s.target.red.err(err))
	}
	s.log.Debug("batch written", "records", len(b.Records), "ranges", len(b.Ranges), "took", time.Since(start))
	return nil
}

func (s *Sink) at(point string) error {
	if s.hook == nil {
		return nil
	}
	return s.hook(point)
}

// groups splits the records by entity (sink.GroupByEntity) and makes sure every schema
// version they use has its columns; an entity with deletions only gets its table too.
// The records passed sink.CheckBatch.
func (s *Sink) groups(ctx context.Context, recs []sink.Record) ([]*group, error) {
	byEntity := sink.GroupByEntity(recs)
	out := make([]*group, 0, len(byEntity))
	for _, er := range byEntity {
		var t *table
		var err error
		if len(er.Records) > 0 {
			t, err = s.ensureTable(ctx, er.Entity, er.Schemas)
		} else {
			t, err = s.tableFor(ctx, er.Entity)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, &group{t: t, recs: er.Records, dels: er.Deletes})
	}
	return out, nil
}

// setOffsets checks the batch's ranges against the stored offsets and stores their
// Next, inside the batch's transaction. The stored rows are locked first, in a fixed
// order (FOR UPDATE waits for a concurrent writer's transaction and then returns the
// offset it committed); a partition without a stored offset is inserted with ON
// CONFLICT DO NOTHING, which waits for a concurrent insert of the same partition and
// then inserts nothing: that writer won, this batch is stale.
func (s *Sink) setOffsets(ctx context.Context, tx pgx.Tx, ranges []sink.Range) error {
	if len(ranges) == 0 {
		return nil
	}
	ranges = append([]sink.Range(nil), ranges...)
	sort.Slice(ranges, func(i, j int) bool {
		if ranges[i].Topic != ranges[j].Topic {
			return ranges[i].Topic < ranges[j].Topic
		}
		return ranges[i].Partition < ranges[j].Partition
	})
	stored, err := s.lockOffsets(ctx, tx, ranges)
	if err != nil {
		return err
	}
	if err := sink.CheckContinues(stored, ranges); err != nil {
		return err
	}
	var upd, ins offsetRows
	for _, r := range ranges {
		if _, ok := stored[r.TopicPartition]; ok {
			upd.add(r)
		} else {
			ins.add(r)
		}
	}
	return s.storeOffsets(ctx, tx, upd, ins)
}

// lockOffsets reads the stored offsets of the ranges' partitions (sorted, so that
// writers lock rows in one order) and locks their rows until the transaction ends.
func (s *Sink) lockOffsets(ctx context.Context, tx pgx.Tx, ranges []sink.Range) (map[sink.TopicPartition]int64, error) {
	topics := make([]string, len(ranges))
	parts := make([]int32, len(ranges))
	for i, r := range ranges {
		topics[i], parts[i] = r.Topic, r.Partition
	}
	rows, err := tx.Query(ctx, `SELECT o.topic, o."partition", o.next_offset FROM `+s.qualified(offsetsTable)+` AS o
		WHERE (o.topic, o."partition") IN (SELECT * FROM unnest($1::text[], $2::integer[]))
		ORDER BY o.topic, o."partition" FOR UPDATE`, topics, parts)
	if err != nil {
		return nil, fmt.Errorf("lock offsets: %w", err)
	}
	stored := map[sink.TopicPartition]int64{}
	var tp sink.TopicPartition
	var next int64
	if _, err := pgx.ForEachRow(rows, []any{&tp.Topic, &tp.Partition, &next}, func() error {
		stored[tp] = next
		return nil
	}); err != nil {
		return nil, fmt.Errorf("lock offsets: %w", err)
	}
	return stored, nil
}

// offsetRows are next offsets to store, as the columns of an unnest.
type offsetRows struct {
	topics []string
	parts  []int32
	next   []int64
}

func (o *offsetRows) add(r sink.Range) {
	o.topics, o.parts, o.next = append(o.topics, r.Topic), append(o.parts, r.Partition), append(o.next, r.Next)
}

// storeOffsets updates the locked rows (upd) and inserts the partitions that had none
// (ins). An insert that finds a row another writer inserted meanwhile (no row lock
// could fence it) is refused as stale.
func (s *Sink) storeOffsets(ctx context.Context, tx pgx.Tx, upd, ins offsetRows) error {
	table := s.qualified(offsetsTable)
	if len(upd.topics) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE `+table+` AS o SET next_offset = v.next
			FROM unnest($1::text[], $2::integer[], $3::bigint[]) AS v(topic, p, next)
			WHERE o.topic = v.topic AND o."partition" = v.p`, upd.topics, upd.parts, upd.next); err != nil {
			return fmt.Errorf("store offsets: %w", err)
		}
	}
	if len(ins.topics) > 0 {
		tag, err := tx.Exec(ctx, `INSERT INTO `+table+` (topic, "partition", next_offset)
			SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[]) ON CONFLICT DO NOTHING`, ins.topics, ins.parts, ins.next)
		if err != nil {
			return fmt.Errorf("store offsets: %w", err)
		}
		if n := tag.RowsAffected(); n != int64(len(ins.topics)) {
			return fmt.Errorf("%w: batch starts at the beginning of %d partition(s) but another writer stored an offset for %d of them meanwhile",
				sink.ErrStaleOffset, len(ins.topics), int64(len(ins.topics))-n)
		}
	}
	return nil
}

// writeGroup writes one entity's records inside the batch's transaction: its versions
// first (those a deletion stored by an earlier batch supersedes are skipped), then its
// deletions, so that a soft-deleted row keeps its last version's fields however the
// history was batched.
func (s *Sink) writeGroup(ctx context.Context, tx pgx.Tx, g *group) error {
	if len(g.recs) > 0 {
		guard, err := s.hasDeletions(ctx, tx, g.t)
		if err != nil {
			return err
		}
		if err := s.upsert(ctx, tx, g, guard); err != nil {
			return err
		}
	}
	if len(g.dels) == 0 {
		return nil
	}
	return s.applyDeletions(ctx, tx, g)
}

// upsert writes one entity's versions inside the batch's transaction: COPY into the
// temporary table, then the upsert (skipping, when guard is set, the versions a stored
// deletion supersedes) and the changelog append from it.
func (s *Sink) upsert(ctx context.Context, tx pgx.Tx, g *group, guard bool) error {
	t := g.t
	src := &copySource{t: t, recs: g.recs, i: -1, row: make([]any, len(t.cols))}
	n, err := tx.CopyFrom(ctx, t.stage, t.copyCols, src)
	if err != nil {
		return fmt.Errorf("copy %s records: %w", t.entity.Name, err)
	}
	if n != int64(len(g.recs)) {
		return fmt.Errorf("copy %s records: %d of %d copied", t.entity.Name, n, len(g.recs))
	}
	if guard {
		_, err = tx.Exec(ctx, t.sqlGuarded, t.entity.Table())
	} else {
		_, err = tx.Exec(ctx, t.sqlUpsert)
	}
	if err != nil {
		return fmt.Errorf("upsert into %s: %w", t.main, err)
	}
	if s.dest.Changelog {
		if _, err := tx.Exec(ctx, t.sqlLog); err != nil {
			return fmt.Errorf("append to %s: %w", t.changelog, err)
		}
	}
	return nil
}

// copySource feeds a group's records to CopyFrom, converted to the table's columns.
// pgx encodes each row before asking for the next, so the row and its JSON buffer are
// reused.
type copySource struct {
	t    *table
	recs []*sink.Record
	i    int
	row  []any
	buf  []byte
	err  error
}

func (c *copySource) Next() bool {
	c.i++
	return c.i < len(c.recs) && c.err == nil
}

func (c *copySource) Err() error { return c.err }

func (c *copySource) Values() ([]any, error) {
	r := c.recs[c.i]
	p := c.t.plans[r.Schema.Fingerprint]
	row := c.row
	c.buf = c.buf[:0]
	for i, col := range c.t.cols {
		switch col.meta {
		case partitionCol:
			row[i] = r.Partition
			continue
		case offsetCol:
			row[i] = r.Offset
			continue
		case timestampCol:
			if r.Timestamp.IsZero() {
				row[i] = nil
			} else {
				row[i] = r.Timestamp
			}
			continue
		case deletedAtCol, deletedReasonCol, mergedIntoCol:
			row[i] = nil
			continue
		}
		j := p.src[i]
		if j < 0 || r.Values[j] == nil {
			row[i] = nil
			continue
		}
		v := r.Values[j]
		switch p.kinds[i] {
		case asText:
			if s, ok := v.(string); ok {
				v = cleanText(s)
			}
		case asJSONText:
			if s, ok := v.(string); ok {
				v = cleanJSON(s)
			}
		case asJSON:
			start := len(c.buf)
			var err error
			if c.buf, err = appendJSON(c.buf, p.types[i], v); err != nil {
				c.err = fmt.Errorf("%s record %d at %d/%d: field %s: %w", c.t.entity.Name, r.ID, r.Partition, r.Offset, col.name, err)
				return nil, c.err
			}
			v = c.buf[start:len(c.buf):len(c.buf)]
		}
		row[i] = v
	}
	return row, nil
}

// Offsets returns the stored next offset of every topic partition.
func (s *Sink) Offsets(ctx context.Context) (map[sink.TopicPartition]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if err := s.ensureConn(ctx); err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, `SELECT topic, "partition", next_offset FROM `+s.qualified(offsetsTable))
	if err != nil {
		return nil, fmt.Errorf("postgres %s: read offsets: %w", s.target.shown, err)
	}
	out := map[sink.TopicPartition]int64{}
	var tp sink.TopicPartition
	var next int64
	if _, err := pgx.ForEachRow(rows, []any{&tp.Topic, &tp.Partition, &next}, func() error {
		out[tp] = next
		return nil
	}); err != nil {
		return nil, fmt.Errorf("postgres %s: read offsets: %w", s.target.shown, err)
	}
	return out, nil
}

// Reset empties every entity and changelog table of the schema (those of the prepared
// and the catalog entities that exist) and the deletions table, and replaces the stored offsets by next, in one
// transaction (TRUNCATE is transactional in PostgreSQL; it waits for running writes).
func (s *Sink) Reset(ctx context.Context, next map[sink.TopicPartition]int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := sink.CheckReset(next); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	if err := s.ensureConn(ctx); err != nil {
		return err
	}
	var topics []string
	var parts []int32
	var offs []int64
	for tp, off := range next {
		topics, parts, offs = append(topics, tp.Topic), append(parts, tp.Partition), append(offs, off)
	}
	var tables []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if tables, err = s.entityTables(ctx, tx); err != nil {
			return err
		}
		names := []string{s.qualified(offsetsTable), s.qualified(sink.DeletionsTable)}
		for _, n := range tables {
			names = append(names, s.qualified(n))
		}
		if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", ")); err != nil {
			return fmt.Errorf("truncate: %w", err)
		}
		if len(topics) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+s.qualified(offsetsTable)+` (topic, "partition", next_offset)
			SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[])`, topics, parts, offs); err != nil {
			return fmt.Errorf("store offsets: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres %s: reset: %w", s.target.shown, s.target.red.err(err))
	}
	s.log.Info("reset", "tables", len(tables), "offsets", len(next))
	return nil
}

// entityTables lists the existing entity and changelog tables of the schema that
// belong to a prepared or catalog entity.
func (s *Sink) entityTables(ctx context.Context, tx pgx.Tx) ([]string, error) {
	var want []string
	for _, e := range catalog.All() {
		want = append(want, e.Table(), e.ChangelogTable())
	}
	for _, t := range s.tables {
		want = append(want, t.entity.Table(), t.entity.ChangelogTable())
	}
	rows, err := tx.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname = ANY($2) ORDER BY c.relname`, s.dest.Schema, want)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return out, nil
}
