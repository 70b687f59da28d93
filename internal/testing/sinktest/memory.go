package sinktest

import (
	"context"
	"sync"

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
		m.columns[s.Entity] = []string{"_kafka_partition", "_kafka_offset", "_kafka_timestamp"}
		have["_kafka_partition"], have["_kafka_offset"], have["_kafka_timestamp"] = true, true, true
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
	for _, r := range b.Records {
		m.addColumns(r.Schema)
		row := RowOf(r)
		if m.tables[r.Entity.Name] == nil {
			m.tables[r.Entity.Name] = map[int64]map[string]any{}
		}
		m.changelog[r.Entity.Name] = append(m.changelog[r.Entity.Name], row)
		old, ok := m.tables[r.Entity.Name][r.ID]
		if !ok || newer(row, old, r.Entity.VersionField) {
			m.tables[r.Entity.Name][r.ID] = row
		}
	}
	for _, rg := range b.Ranges {
		m.offsets[rg.TopicPartition] = rg.Next
	}
	m.writes++
	return nil
}

func newer(row, old map[string]any, versionField string) bool {
	a, b := row[versionField].(interface{ UnixMicro() int64 }), old[versionField].(interface{ UnixMicro() int64 })
	return a.UnixMicro() > b.UnixMicro()
}

// Reset implements sink.Sink.
func (m *Memory) Reset(_ context.Context, next map[sink.TopicPartition]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for e := range m.tables {
		m.tables[e] = map[int64]map[string]any{}
	}
	m.changelog = map[string][]map[string]any{}
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
