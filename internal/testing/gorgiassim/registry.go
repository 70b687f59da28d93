package gorgiassim

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// generator says how the objects of one catalog entity look when seeded
// and how they change. Everything else (list endpoint, order_by, cursors,
// filters, single-object reads, truth, change tracking, rate limit and
// faults) is shared code driven by the catalog entry and the genSpec.
type generator interface {
	// seed creates the entity's initial objects. Generators seed in catalog
	// order and share r, the seeding stream.
	seed(r *rand.Rand)
	// plan schedules the entity's share of one Advance batch on b.
	plan(b *batch)
}

// genSpec registers the generator of one catalog entity (see register).
type genSpec struct {
	// entity is the catalog Name the generator serves.
	entity string
	// model is a zero object of the entity (e.g. customer{}): a struct with
	// an int64 "id" field and a stamp field for created_datetime and for
	// each catalog datetime field the API sends. Objects are *model values.
	model any
	// firstID and idGap: ids start just above firstID, 1..idGap apart.
	firstID, idGap int64
	// salt picks each object's timestamp form (formFor).
	salt uint64
	// filters are list parameters that keep the objects whose int64 field
	// of the same name equals the parameter (e.g. "ticket_id").
	filters []string
	// enums are list parameters that keep the objects whose string field of
	// the same name equals the parameter, one of a fixed set of values
	// (e.g. custom fields' required "object_type"). A catalog PassParam
	// must be one.
	enums []enumFilter
	// flags are boolean list parameters that keep the objects whose stamp
	// field is set ("true") or not ("false"), with a default when the
	// parameter is absent (macros' "archived", default false: archived
	// macros are listed only on request). A catalog PassParam may be one.
	flags []flagFilter
	// ranges are stamp fields the list filters on with the parameters
	// <field>[gt], [gte], [lt] and [lte] (events' created_datetime). A
	// catalog SinceParam must be one of them.
	ranges []string
	// orderBy, when set, are the only order_by fields the list accepts
	// (each :asc and :desc), replacing the ones derived from the catalog
	// (see orderFields); the default order is the first one ascending.
	orderBy []string
	// parent, when set, serves single objects only under their parent's
	// path: /api/<parent resource>/{key}/<resource>/{id}.
	parent *nesting
	// aliases are extra names accepted by Objects, IDs and Deny.
	aliases []string
	// needs are the other entities (Name or Resource) the generator reads
	// or writes.
	needs []string
	// make builds the generator for one simulator; t is its entity's table.
	make func(s *Sim, t *table) generator
}

// enumFilter is a string-valued list parameter (see genSpec.enums).
type enumFilter struct {
	param    string   // the parameter and the string field it matches
	values   []string // the accepted values
	required bool     // a list request without it answers 400
}

// flagFilter is a boolean list parameter over a stamp field (see genSpec.flags).
type flagFilter struct {
	param string // the parameter
	stamp string // the stamp field: set means true
	dflt  bool   // the value when the parameter is absent
}

// nesting places single objects under a parent entity's path.
type nesting struct {
	entity string // parent's catalog Name or Resource
	key    string // int64 field holding the parent's id
}

// specs holds every registered generator, keyed by catalog Name.
var specs = map[string]genSpec{}

// register adds the generator of one entity; gen_<entity>.go files call it
// from init.
func register(spec genSpec) {
	if _, dup := specs[spec.entity]; dup {
		panic("gorgiassim: two generators for " + spec.entity)
	}
	specs[spec.entity] = spec
}

// buildTables serves every catalog entity with its registered generator.
func (s *Sim) buildTables() { s.serveEntities(catalog.All(), specs) }

// serveEntities makes one table per entity, in order, and the generators;
// it panics when an entity has no generator or one that does not fit its
// entry.
func (s *Sim) serveEntities(ents []catalog.Entity, specs map[string]genSpec) {
	s.byResource = make(map[string]*table)
	for _, e := range ents {
		spec, ok := specs[e.Name]
		if !ok {
			panic(fmt.Sprintf("gorgiassim: catalog entity %q has no simulator generator: "+
				"add internal/testing/gorgiassim/gen_%s.go that registers one (see doc.go)", e.Name, e.Name))
		}
		t := newTable(s, e, spec)
		s.tables = append(s.tables, t)
		s.byResource[e.Resource] = t
	}
	for _, t := range s.tables {
		s.checkRelations(t)
		t.gen = t.spec.make(s, t)
	}
}

// checkRelations panics when a generator relates to an entity that is not
// served.
func (s *Sim) checkRelations(t *table) {
	needs := slices.Clone(t.spec.needs)
	if t.spec.parent != nil {
		needs = append(needs, t.spec.parent.entity)
	}
	for _, n := range needs {
		if s.table(n) == nil {
			panic(fmt.Sprintf("gorgiassim: the generator of %q needs entity %q, which is not in the catalog", t.ent.Name, n))
		}
	}
}

// table returns the table of a resource or entity name (or alias), or nil.
func (s *Sim) table(name string) *table { return s.byResource[resolve(name)] }

// gen returns the generator of a resource or entity name; generators use
// it to reach the generators of related entities.
func (s *Sim) gen(name string) generator { return s.table(name).gen }

// modelType is the struct type of a spec's objects.
func (spec genSpec) modelType() reflect.Type { return reflect.TypeOf(spec.model) }
