package sinktest

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// Memory is an in-memory Sink with the semantics every sink must have. It backs runner
// tests and is itself checked by the conformance suite. Rows do not survive the process,
// but they do survive Close and a later Open of the same *Memory (a "reopen").
type Memory struct {
	mu        sync.Mutex
	tables    map[string]map[int64]map[string]any // entity → id → column → value
	changelog map[string][]map[string]any
	columns   map[string][]string
	offsets   map[sink.TopicPartition]int64
	deletions map[string]map[int64]time.Time // entity → id → latest deletion applied
	// Deletes is how deletions are applied (the zero value is soft).
	Deletes sink.DeleteMode
	// FailWrite, when set, is called at the start of each Write; an error fails the write
	// before anything is stored.
	FailWrite func(b sink.Batch) error
	writes    int
}

// NewMemory returns an empty memory sink.
func NewMemory() *Memory {
	return &Memory{
		tables: map[string]map[int64]map[string]any{}, changelog: map[string][]map[string]any{},
		columns: map[string][]string{}, offsets: map[sink.TopicPartition]int64{},
		deletions: map[string]map[int64]time.Time{},
	}
}

// Prepare implements sink.Sink.
func (m *Memory) Prepare(_ context.Context, entities []catalog.Entity, schemas []*avrocodec.Schema) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entities {
		if m.tables[e.Name] == nil {
			m.tables[e.Name] = map[int64]map[string]any{}
		}
	}
	for _, s := range schemas {
		m.addColumns(s)
	}
	return nil
}

func (m *Memory) addColumns(s *avrocodec.Schema) {
	have := map[string]bool{}
	for _, c := range m.columns[s.Entity] {
		have[c] = true
	}
	if len(m.columns[s.Entity]) == 0 {
		m.columns[s.Entity] = []string{"_kafka_partition", "_kafka_offset", "_kafka_timestamp",
			sink.ColDeletedAt, sink.ColDeletedReason, sink.ColMergedInto}
		for _, c := range m.columns[s.Entity] {
			have[c] = true
		}
	}
	for _, f := range s.Root.Fields {
		if !have[f.Name] {
			m.columns[s.Entity] = append(m.columns[s.Entity], f.Name)
		}
	}
}

// Offsets implements sink.Sink.
func (m *Memory) Offsets(context.Context) (map[sink.TopicPartition]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[sink.TopicPartition]int64, len(m.offsets))
	for k, v := range m.offsets {
		out[k] = v
	}
	return out, nil
}

// Write implements sink.Sink.
func (m *Memory) Write(_ context.Context, b sink.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.FailWrite != nil {
		if err := m.FailWrite(b); err != nil {
			return err
		}
	}
	if err := sink.CheckContinues(m.offsets, b.Ranges); err != nil {
		return err
	}
	// Versions first (checked against the deletions of earlier batches), then
	// deletions: a soft-deleted row keeps its last version's fields however the history
	// was batched.
	for _, r := range b.Records {
		if m.tables[r.Entity.Name] == nil {
			m.tables[r.Entity.Name] = map[int64]map[string]any{}
		}
		if r.Delete == nil {
			m.applyVersion(r)
		}
	}
	for _, r := range b.Records {
		if r.Delete != nil {
			m.applyDelete(r)
		}
	}
	for _, rg := range b.Ranges {
		m.offsets[rg.TopicPartition] = rg.Next
	}
	m.writes++
	return nil
}

// applyDelete records a deletion: in the changelog, in the deletions, and on the row
// (marked or removed) unless the row holds a version newer than the deletion.
func (m *Memory) applyDelete(r sink.Record) {
	e := r.Entity.Name
	row := DeletionRow(r)
	m.changelog[e] = append(m.changelog[e], row)
	if m.deletions[e] == nil {
		m.deletions[e] = map[int64]time.Time{}
	}
	if last, ok := m.deletions[e][r.ID]; !ok || r.Version.After(last) {
		m.deletions[e][r.ID] = r.Version
	}
	old, ok := m.tables[e][r.ID]
	switch {
	case ok && old[r.Entity.VersionField] != nil && old[r.Entity.VersionField].(time.Time).After(r.Version):
		// the object came back after this deletion
	case ok && old[sink.ColDeletedAt] != nil && !old[sink.ColDeletedAt].(time.Time).Before(r.Version):
		// a later deletion is applied already
	case m.Deletes.Hard():
		delete(m.tables[e], r.ID)
	case ok:
		for _, k := range markColumns {
			old[k] = row[k]
		}
	default:
		m.tables[e][r.ID] = maps.Clone(row)
	}
}

// markColumns are the columns a soft delete sets on an existing row.
var markColumns = []string{sink.ColDeletedAt, sink.ColDeletedReason, sink.ColMergedInto, "_kafka_partition", "_kafka_offset", "_kafka_timestamp"}

// applyVersion stores a version unless the row holds a newer one or the object was
// deleted at or after it.
func (m *Memory) applyVersion(r sink.Record) {
	e := r.Entity.Name
	m.addColumns(r.Schema)
	row := RowOf(r)
	m.changelog[e] = append(m.changelog[e], row)
	if del, ok := m.deletions[e][r.ID]; ok && !r.Version.After(del) {
		return
	}
	old, ok := m.tables[e][r.ID]
	if !ok || old[r.Entity.VersionField] == nil || r.Version.After(old[r.Entity.VersionField].(time.Time)) {
		m.tables[e][r.ID] = maps.Clone(row)
	}
}

// DeletionRow is the row a sink stores for a deletion r in the changelog (and, in soft
// mode, for an id it never saw): the id, the deletion columns and the Kafka columns.
func DeletionRow(r sink.Record) map[string]any {
	var into any
	if r.Delete.MergedInto != 0 {
		into = r.Delete.MergedInto
	}
	return map[string]any{
		catalog.Key: r.ID, sink.ColDeletedAt: r.Delete.At.UTC(), sink.ColDeletedReason: string(r.Delete.Reason),
		sink.ColMergedInto: into, "_kafka_partition": int64(r.Partition), "_kafka_offset": r.Offset,
		"_kafka_timestamp": r.Timestamp.UTC(),
	}
}

// Reset implements sink.Sink.
func (m *Memory) Reset(_ context.Context, next map[sink.TopicPartition]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for e := range m.tables {
		m.tables[e] = map[int64]map[string]any{}
	}
	m.changelog = map[string][]map[string]any{}
	m.deletions = map[string]map[int64]time.Time{}
	m.offsets = map[sink.TopicPartition]int64{}
	for k, v := range next {
		m.offsets[k] = v
	}
	return nil
}

// Close implements sink.Sink.
func (m *Memory) Close() error { return nil }

// Writes returns how many batches were written.
func (m *Memory) Writes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writes
}

// Rows returns the entity table, one map per row, every known column present.
func (m *Memory) Rows(e catalog.Entity) []map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []map[string]any
	for _, row := range m.tables[e.Name] {
		full := map[string]any{}
		for _, c := range m.columns[e.Name] {
			full[c] = row[c]
		}
		out = append(out, full)
	}
	return out
}

// Changelog returns the entity's changelog rows.
func (m *Memory) Changelog(e catalog.Entity) []map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]map[string]any(nil), m.changelog[e.Name]...)
}

// RowOf is the row a sink stores for r: every field by name plus the Kafka columns.
func RowOf(r sink.Record) map[string]any {
	row := make(map[string]any, len(r.Values)+3)
	for i, f := range r.Schema.Root.Fields {
		row[f.Name] = r.Values[i]
	}
	row["_kafka_partition"] = int64(r.Partition)
	row["_kafka_offset"] = r.Offset
	row["_kafka_timestamp"] = r.Timestamp.UTC()
	return row
}
