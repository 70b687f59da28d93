package sinktest

import (
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

func TestMemoryConformance(t *testing.T) {
	Run(t, func(t *testing.T) Target {
		m := NewMemory()
		return Target{
			Open:      func(_ testing.TB, deletes sink.DeleteMode) sink.Sink { m.Deletes = deletes; return m },
			Rows:      func(_ testing.TB, _ sink.Sink, e catalog.Entity) []map[string]any { return m.Rows(e) },
			Changelog: func(_ testing.TB, _ sink.Sink, e catalog.Entity) []map[string]any { return m.Changelog(e) },
		}
	})
}
