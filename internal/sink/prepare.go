package sink

import (
	"fmt"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// EntitySchemas is one entity with the schema versions its tables must hold.
type EntitySchemas struct {
	Entity catalog.Entity
	// Schemas are the entity's schema versions, in the order they were given.
	Schemas []*avrocodec.Schema
}

// SchemasOf picks, for each entity, its schema versions among schemas (those whose
// Entity is the entity's name), as Sink.Prepare receives them. The result has one
// element per entity, in the order of entities, each with its schemas in the order of
// schemas. Schemas of entities not listed are ignored. An entity without any schema is
// an error naming the entity (and no result is returned, so a Prepare that calls it
// first changes nothing then).
func SchemasOf(entities []catalog.Entity, schemas []*avrocodec.Schema) ([]EntitySchemas, error) {
	out := make([]EntitySchemas, 0, len(entities))
	for _, e := range entities {
		var mine []*avrocodec.Schema
		for _, sc := range schemas {
			if sc.Entity == e.Name {
				mine = append(mine, sc)
			}
		}
		if len(mine) == 0 {
			return nil, fmt.Errorf("no schema given for entity %s (table %s)", e.Name, e.Table())
		}
		out = append(out, EntitySchemas{Entity: e, Schemas: mine})
	}
	return out, nil
}

// FreshSchemas returns the schema versions among schemas that known does not report
// (by fingerprint): those whose columns a sink has yet to make its tables hold. Order
// and repetitions of schemas are kept; known is called once per schema. A sink that
// knows nothing of the entity yet passes a known that always returns false.
func FreshSchemas(schemas []*avrocodec.Schema, known func(fingerprint uint64) bool) []*avrocodec.Schema {
	var fresh []*avrocodec.Schema
	for _, sc := range schemas {
		if !known(sc.Fingerprint) {
			fresh = append(fresh, sc)
		}
	}
	return fresh
}
