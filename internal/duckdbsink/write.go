package duckdbsink

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Failpoints of Write, in order (tests inject errors there).
const (
	pointFilled   = "filled"   // rows are in the appenders, stored rows replaced are deleted
	pointUpserted = "upserted" // every entity table and changelog written
	pointOffsets  = "offsets"  // offsets written, before COMMIT
)

// Failpoints are the points inside Write's transaction where Config.Failpoint is called,
// in order.
var Failpoints = []string{pointFilled, pointUpserted, pointOffsets}

// stageSlots is the number of insert appenders (and converting goroutines) per
// entity; parallelStageMin is the smallest number of rows split over them.
const (
	stageSlots       = 2
	parallelStageMin = 2048
)

// roundRows is the most rows one appender takes before it is flushed, well below
// DuckDB's own flush threshold of 204,800 rows, so that no statement runs while
// appenders fill. A variable for tests.
var roundRows = 50_000

// group is the records of one entity within a batch.
type group struct {
	t    *table
	vers []*sink.Record // the versions, in batch order
	dels []*sink.Record // the deletions, in batch order
}

// Write stores one batch in one DuckDB transaction: it checks every range against the
// stored offsets (a mismatch fails with an error wrapping sink.ErrStaleOffset),
// applies the batch's deletions (see applyDeletions), keeps per id the latest version
// of the batch (highest version, then highest offset), drops those not newer than
// their id's latest deletion, deletes the stored rows the others replace (older
// versions), inserts the kept versions whose id is then not stored, appends every
// version and deletion to the changelog tables when enabled, sets the next offset of
// every range, and commits. Rows are converted by DuckDB query appenders (several
// goroutines for large batches) that run those statements inside the transaction. On
// any error it rolls back and nothing of the batch is stored. New schema versions add
// their columns first, in a transaction of their own.
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
	phase("groups")
	groups, err := s.groups(ctx, b.Records)
	if err != nil {
		return err
	}
	phase("stage")
	for _, g := range groups {
		if err := s.stage(ctx, g); err != nil {
			return err
		}
	}
	err = s.inTx(ctx, groups, func() error {
		stored, err := s.checkOffsets(ctx, b.Ranges)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if err := s.upsert(ctx, g); err != nil {
				return err
			}
		}
		if err := s.fail(pointUpserted); err != nil {
			return err
		}
		phase("offsets")
		if err := s.setOffsets(ctx, b.Ranges, stored); err != nil {
			return err
		}
		return s.fail(pointOffsets)
	})
	if err != nil {
		return err
	}
	s.log.Debug("batch written", "records", len(b.Records), "ranges", len(b.Ranges), "took", time.Since(start))
	phase("between batches")
	if memLogOn {
		s.logMemory(ctx, len(b.Records))
	}
	return nil
}

// groups splits the records by entity (sink.GroupByEntity: versions and deletions) and
// makes sure every schema version they use has its columns. The records passed
// sink.CheckBatch.
func (s *Sink) groups(ctx context.Context, recs []sink.Record) ([]*group, error) {
	byEntity := sink.GroupByEntity(recs)
	out := make([]*group, 0, len(byEntity))
	for _, er := range byEntity {
		t, err := s.ensureTable(ctx, er.Entity, er.Schemas)
		if err != nil {
			return nil, err
		}
		out = append(out, &group{t: t, vers: er.Records, dels: er.Deletes})
	}
	return out, nil
}

// stage makes the group's appenders and staging tables ready, outside any
// transaction.
func (s *Sink) stage(ctx context.Context, g *group) error {
	if err := s.ensureStage(g.t); err != nil {
		return err
	}
	if len(g.vers) > 0 {
		if err := s.resetKeys(ctx, g.t); err != nil {
			return err
		}
	}
	if len(g.dels) > 0 {
		return s.resetDels(ctx, g.t)
	}
	return nil
}

// inTx runs fn in a transaction on the writer connection. On error the staging
// appenders of groups are discarded (so no buffered row survives) and the transaction
// is rolled back; if even that fails the connection is dropped.
func (s *Sink) inTx(ctx context.Context, groups []*group, fn func() error) error {
	if _, err := s.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		s.dropConn()
		return fmt.Errorf("DuckDB %s: begin: %w", s.cfg.Path, err)
	}
	err := fn()
	if err == nil {
		phase("commit")
		if _, err = s.conn.ExecContext(ctx, "COMMIT"); err == nil {
			return nil
		}
		err = fmt.Errorf("DuckDB %s: commit: %w", s.cfg.Path, err)
	}
	for _, g := range groups {
		if derr := g.t.dropStage(); derr != nil {
			s.log.Warn("discarding staging appender", "table", g.t.main, "err", derr)
		}
	}
	if _, rerr := s.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil &&
		!strings.Contains(rerr.Error(), "no transaction is active") {
		s.log.Warn("rollback failed; reconnecting", "err", rerr)
		s.dropConn()
	}
	return err
}

// checkOffsets compares every range's First with the stored next offset, and returns
// the stored offsets.
func (s *Sink) checkOffsets(ctx context.Context, ranges []sink.Range) (map[sink.TopicPartition]int64, error) {
	if len(ranges) == 0 {
		return nil, nil
	}
	stored, err := s.readOffsets(ctx)
	if err != nil {
		return nil, err
	}
	if err := sink.CheckContinues(stored, ranges); err != nil {
		return nil, err
	}
	return stored, nil
}

// upsert writes one entity's records inside the open transaction: its deletions
// first (their changelog rows included), then its versions and their changelog rows.
func (s *Sink) upsert(ctx context.Context, g *group) error {
	t := g.t
	winners, err := s.keptVersions(ctx, t, g.vers)
	if err != nil {
		return err
	}
	var logRows []*sink.Record
	if s.cfg.Changelog {
		logRows = g.vers
	}
	for round := 0; ; round++ {
		insParts := parts(winners, round, len(t.ins))
		logParts := parts(logRows, round, len(t.logs))
		if insParts == nil && logParts == nil {
			break
		}
		if err := s.fillAndFlush(ctx, t, insParts, logParts); err != nil {
			return err
		}
	}
	if len(g.dels) == 0 {
		return nil
	}
	return s.applyDeletions(ctx, t, g.dels)
}

// keptVersions returns the versions to insert: per id the latest of vers, unless the
// stored row is newer or equal, or the id's latest deletion is not older. It deletes
// the stored rows the returned versions replace.
func (s *Sink) keptVersions(ctx context.Context, t *table, vers []*sink.Record) ([]*sink.Record, error) {
	if len(vers) == 0 {
		return nil, nil
	}
	win := make(map[int64]int, len(vers))
	for i, r := range vers {
		j, ok := win[r.ID]
		if !ok || newer(r, vers[j]) {
			win[r.ID] = i
		}
	}
	winners := make([]*sink.Record, 0, len(win))
	for i, r := range vers {
		if win[r.ID] == i {
			winners = append(winners, r)
		}
	}
	// A stored newer or equal version stays and keeps its winner out; an older one
	// is deleted and replaced. A winner deleted since is dropped from the keys first.
	for _, r := range winners {
		if err := t.keys.AppendRow(r.ID, r.Version); err != nil {
			return nil, fmt.Errorf("upsert %s: stage key %d: %w", t.entity.Name, r.ID, err)
		}
	}
	if err := t.keys.Flush(); err != nil {
		return nil, fmt.Errorf("upsert %s: stage keys: %w", t.entity.Name, err)
	}
	phase("keys " + t.entity.Name)
	blocked, err := s.guardVersions(ctx, t)
	if err != nil {
		return nil, err
	}
	skip, replaced, err := s.skipped(ctx, t)
	if err != nil {
		return nil, err
	}
	for id := range blocked {
		if skip == nil {
			skip = map[int64]bool{}
		}
		skip[id] = true
	}
	// Only delete when some stored row is replaced: a DELETE touches the whole table, and
	// a backfill or replay replaces nothing.
	if replaced > 0 {
		if _, err := s.conn.ExecContext(ctx, t.sqlDelete); err != nil {
			return nil, fmt.Errorf("upsert %s: delete replaced rows: %w", t.main, err)
		}
	}
	if len(skip) > 0 {
		kept := winners[:0]
		for _, r := range winners {
			if !skip[r.ID] {
				kept = append(kept, r)
			}
		}
		winners = kept
	}
	return winners, nil
}

// skipped returns the ids of the staged keys whose stored version is newer or equal
// (their winners are not written), and how many stored rows are older (to be replaced).
func (s *Sink) skipped(ctx context.Context, t *table) (map[int64]bool, int, error) {
	rows, err := s.conn.QueryContext(ctx, t.sqlSkip)
	if err != nil {
		return nil, 0, fmt.Errorf("upsert %s: find stored versions: %w", t.main, err)
	}
	defer rows.Close()
	var skip map[int64]bool
	replaced := 0
	for rows.Next() {
		var id int64
		var keep bool
		if err := rows.Scan(&id, &keep); err != nil {
			return nil, 0, fmt.Errorf("upsert %s: find stored versions: %w", t.main, err)
		}
		if !keep {
			replaced++
			continue
		}
		if skip == nil {
			skip = map[int64]bool{}
		}
		skip[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("upsert %s: find stored versions: %w", t.main, err)
	}
	return skip, replaced, nil
}

// parts returns the rows of one round split over up to n appenders (one below
// parallelStageMin rows), or nil when the round is past the end.
func parts(rows []*sink.Record, round, n int) [][]*sink.Record {
	if len(rows) < parallelStageMin {
		n = 1
	}
	lo := round * n * roundRows
	if lo >= len(rows) {
		return nil
	}
	rows = rows[lo:min(len(rows), lo+n*roundRows)]
	out := make([][]*sink.Record, 0, n)
	for k := range n {
		if p := rows[k*len(rows)/n : (k+1)*len(rows)/n]; len(p) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// fillAndFlush converts the parts into their appenders, one goroutine per part, then
// flushes the insert appenders and the changelog appenders one by one, which runs
// their statements in the transaction.
func (s *Sink) fillAndFlush(ctx context.Context, t *table, insParts, logParts [][]*sink.Record) error {
	type job struct {
		sl   *slot
		rows []*sink.Record
	}
	var jobs []job
	for k, p := range insParts {
		jobs = append(jobs, job{t.ins[k], p})
	}
	for k, p := range logParts {
		jobs = append(jobs, job{t.logs[k], p})
	}
	phase("fill " + t.entity.Name)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for k := 1; k < len(jobs); k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = t.fill(jobs[k].sl, jobs[k].rows)
		}()
	}
	errs[0] = t.fill(jobs[0].sl, jobs[0].rows)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := s.fail(pointFilled); err != nil {
		return err
	}
	phase("flush " + t.entity.Name)
	for k := range insParts {
		if err := t.ins[k].app.FlushWithCancel(ctx); err != nil {
			return fmt.Errorf("upsert into %s: %w", t.main, err)
		}
	}
	for k := range logParts {
		if err := t.logs[k].app.FlushWithCancel(ctx); err != nil {
			return fmt.Errorf("append to %s: %w", t.changelog, err)
		}
	}
	return nil
}

// fill converts versions to the staged columns and appends them to the slot's
// appender.
func (t *table) fill(sl *slot, rows []*sink.Record) error {
	row := sl.row
	defer clear(row)
	for _, r := range rows {
		p := t.plans[r.Schema.Fingerprint]
		for c, col := range t.staged {
			switch col.meta {
			case partitionCol:
				row[c] = r.Partition
			case offsetCol:
				row[c] = r.Offset
			case timestampCol:
				if r.Timestamp.IsZero() {
					row[c] = nil
				} else {
					row[c] = r.Timestamp
				}
			default:
				j := p.src[c]
				if j < 0 {
					row[c] = nil
					continue
				}
				v := r.Values[j]
				if p.conv[c] != nil && v != nil {
					v = p.conv[c](v)
				}
				row[c] = v
			}
		}
		if err := sl.app.AppendRow(row...); err != nil {
			return fmt.Errorf("stage %s record %d at %d/%d: %w", t.entity.Name, r.ID, r.Partition, r.Offset, err)
		}
	}
	return nil
}

// newer reports whether a is a later version than b of the same id.
func newer(a, b *sink.Record) bool {
	if !a.Version.Equal(b.Version) {
		return a.Version.After(b.Version)
	}
	if a.Partition != b.Partition {
		return a.Partition > b.Partition
	}
	return a.Offset > b.Offset
}

// setOffsets stores Next for every range. stored is what the offsets table held at
// the start of the transaction: those rows are updated with a prepared statement,
// the others inserted.
func (s *Sink) setOffsets(ctx context.Context, ranges []sink.Range, stored map[sink.TopicPartition]int64) error {
	var fresh []sink.Range
	for _, r := range ranges {
		if _, ok := stored[r.TopicPartition]; !ok {
			fresh = append(fresh, r)
			continue
		}
		if s.offsetStmt == nil {
			st, err := s.conn.PrepareContext(ctx, fmt.Sprintf(
				`UPDATE %s SET next_offset = ? WHERE topic = ? AND "partition" = ?`, s.qualified(offsetsTable)))
			if err != nil {
				return fmt.Errorf("store offsets: %w", err)
			}
			s.offsetStmt = st
		}
		if _, err := s.offsetStmt.ExecContext(ctx, r.Next, r.Topic, r.Partition); err != nil {
			return fmt.Errorf("store offset of %s/%d: %w", r.Topic, r.Partition, err)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	var q strings.Builder
	fmt.Fprintf(&q, `INSERT INTO %s (topic, "partition", next_offset) VALUES `, s.qualified(offsetsTable))
	args := make([]any, 0, 3*len(fresh))
	for i, r := range fresh {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?)")
		args = append(args, r.Topic, r.Partition, r.Next)
	}
	if _, err := s.conn.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("store offsets: %w", err)
	}
	return nil
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
	return s.readOffsets(ctx)
}

// Reset empties every entity table and changelog table of the schema (the prepared
// ones and those of every catalog entity that exist) and the deletions table, and
// replaces the stored offsets by next, in one transaction.
func (s *Sink) Reset(ctx context.Context, next map[sink.TopicPartition]int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.ensureConn(ctx); err != nil {
		return err
	}
	if err := sink.CheckReset(next); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	ranges := make([]sink.Range, 0, len(next))
	for tp, off := range next {
		ranges = append(ranges, sink.Range{TopicPartition: tp, First: sink.NoOffset, Next: off})
	}
	sort.Slice(ranges, func(i, j int) bool {
		if ranges[i].Topic != ranges[j].Topic {
			return ranges[i].Topic < ranges[j].Topic
		}
		return ranges[i].Partition < ranges[j].Partition
	})
	tables, err := s.entityTables(ctx)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, nil, func() error {
		for _, name := range tables {
			if _, err := s.conn.ExecContext(ctx, "DELETE FROM "+s.qualified(name)); err != nil {
				return fmt.Errorf("reset: empty %s: %w", name, err)
			}
		}
		if _, err := s.conn.ExecContext(ctx, "DELETE FROM "+s.qualified(sink.DeletionsTable)); err != nil {
			return fmt.Errorf("reset: empty %s: %w", sink.DeletionsTable, err)
		}
		if _, err := s.conn.ExecContext(ctx, "DELETE FROM "+s.qualified(offsetsTable)); err != nil {
			return fmt.Errorf("clear offsets: %w", err)
		}
		return s.setOffsets(ctx, ranges, nil)
	})
	if err != nil {
		return fmt.Errorf("reset DuckDB %s: %w", s.cfg.Path, err)
	}
	for _, t := range s.tables {
		t.deleted = deletedNone
	}
	s.log.Info("reset", "tables", len(tables), "offsets", len(ranges))
	return nil
}

// entityTables lists the existing entity and changelog tables of the schema that
// belong to a prepared or catalog entity.
func (s *Sink) entityTables(ctx context.Context) ([]string, error) {
	want := map[string]bool{}
	for _, e := range catalog.All() {
		want[e.Table()], want[e.ChangelogTable()] = true, true
	}
	for _, t := range s.tables {
		want[t.entity.Table()], want[t.entity.ChangelogTable()] = true, true
	}
	rows, err := s.conn.QueryContext(ctx, `SELECT table_name FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = ? ORDER BY table_name`, s.cfg.Schema)
	if err != nil {
		return nil, fmt.Errorf("list DuckDB tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list DuckDB tables: %w", err)
		}
		if want[n] {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}
