package sink

import (
	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// EntityRecords is the records of one entity within a batch.
type EntityRecords struct {
	Entity catalog.Entity
	// Records point into the batch's Records, in batch order: the versions.
	Records []*Record
	// Deletes point into the batch's Records, in batch order: the deletions
	// (Record.Delete set).
	Deletes []*Record
	// Schemas are the distinct schema versions (by fingerprint) of Records, in order of
	// first use.
	Schemas []*avrocodec.Schema
}

// GroupByEntity splits recs by entity (Record.Entity.Name), in order of each entity's
// first record. Every record lands in exactly one group, in its Records (a version) or
// its Deletes (a deletion), keeping its batch order; the groups point into recs (nothing
// is copied). A group may have deletions only (then no Records and no Schemas). An
// empty recs gives no groups.
func GroupByEntity(recs []Record) []EntityRecords {
	var out []EntityRecords
	index := map[string]int{}
	seen := map[string]map[uint64]bool{}
	for i := range recs {
		r := &recs[i]
		name := r.Entity.Name
		j, ok := index[name]
		if !ok {
			j = len(out)
			index[name] = j
			seen[name] = map[uint64]bool{}
			out = append(out, EntityRecords{Entity: r.Entity})
		}
		g := &out[j]
		if r.Delete != nil {
			g.Deletes = append(g.Deletes, r)
			continue
		}
		g.Records = append(g.Records, r)
		if !seen[name][r.Schema.Fingerprint] {
			seen[name][r.Schema.Fingerprint] = true
			g.Schemas = append(g.Schemas, r.Schema)
		}
	}
	return out
}
