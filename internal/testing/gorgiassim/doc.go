// Package gorgiassim is a deterministic, in-process fake of the Gorgias
// REST API of one account, for tests and for running the pipeline locally.
//
// It serves, for every entity of the catalog (internal/catalog), the
// cursor-paginated list /api/<Resource> and its single objects, or, for a
// single-object entity, the bare object (GET /api/account), with the
// shapes, parameters, errors, headers and leaky-bucket rate limit of the
// real API as described in shared/reference/gorgias-api.md. The seeded data is a pure function of
// Config; Advance and the fine-grained mutators change it over sim time,
// and Objects returns the truth a destination should end up equal to.
//
// # Removals
//
// With Config.Deletes, Advance also removes objects as Gorgias does (see
// shared/reference/gorgias-api.md §6b), each with its event in
// /api/events: it trashes and untrashes tickets, marks and unmarks them
// as spam (states, not removals: the tickets stay listed), hard-deletes
// and merges tickets, deletes customers without tickets and merges
// customers, soft-deletes messages (deleted_datetime), deletes and merges
// tags, and now and then deletes a macro, team, view, widget or rule. A
// removed object leaves every list and its single-object endpoint answers
// 404; its id is never handed out again. Sim.Deleted says what went,
// when, why and under which event, and Changes.Removed what one Advance
// removed. Simplifications: a deleted or merged ticket's messages and
// survey stay listed with their ticket_id; other objects keep their
// copies of removed ones (tickets' and macros' tags, teams, rules' and
// messages' references, a merged customer in messages, surveys and phone
// calls), and calls planned on a ticket removed meanwhile still happen.
// The removals draw from their own random stream, so without the option
// the data is exactly what it is without this feature.
//
// Use it over HTTP with Handler (httptest.NewServer or cmd/gorgias-sim) or
// without sockets through RoundTripper.
//
// # Adding an entity
//
// Adding an entity is one generator plus the catalog entry (and its
// schema). The shared code derives everything else from the catalog:
// the list endpoint, the order_by choices (created_datetime, the sort
// field and, unless derived, the version field; asc and desc), keyset
// cursors, filters, single-object reads, Objects and IDs, Deny, the
// Changes of Advance, rate limiting, faults and stats.
//
// The modes of the catalog's endpoints are all served:
//
//   - Lists without order_by (catalog SortField empty, e.g. the
//     phone/voice-* resources) list oldest first by id and answer an
//     order_by with 400 (Invalid request parameters); their cursors are
//     still keyset positions (on the id).
//   - A generator may replace the derived order_by fields with its own
//     (genSpec.orderBy, e.g. custom fields' priority:asc|desc only); an
//     order field is a stamp or an int64 field. The default order is
//     created_datetime:desc where offered, else the first field ascending.
//   - Date filters (genSpec.ranges, e.g. events' created_datetime) take
//     <field>[gt|gte|lt|lte]=<time> in RFC 3339 with or without a fraction
//     or an offset, naive (UTC), with a space for the 'T', or a bare date;
//     anything else answers 400. A range on the order field narrows the
//     scanned index, so paging a large feed from a watermark stays cheap.
//     The catalog's SinceParam must be one of them.
//   - Passes: string-valued filters (genSpec.enums) keep the objects whose
//     string field of the same name has the value; a required one answers
//     400 without it (custom fields' object_type=Ticket|Customer), a value
//     outside the list 400 too. Boolean filters (genSpec.flags) keep the
//     objects whose stamp field is set ("true") or not ("false"), with a
//     default when absent (macros' archived, default false: archived macros
//     are listed only on request). Every catalog PassParam/PassValues must
//     be served one of these ways.
//   - Single objects (catalog Single, the account): the model has no id
//     (its one object is catalog.SingleKey for Objects and IDs); the
//     resource answers the bare object, nothing below it; Deny("account")
//     forbids it.
//
// Resources may span several path segments ("phone/voice-calls"): a path
// is routed to the longest served resource it starts with.
//
// A generator lives in gen_<entity>.go and registers itself from init
// with a genSpec: the catalog Name, a model struct (its JSON is the API's;
// it needs an int64 "id" and a stamp field for created_datetime and for
// each catalog field it is ordered on), where ids start, a salt for the
// timestamp form, and optionally filters (list parameters matched against
// an int64 field), a parent to nest single objects under, aliases, and the
// entities it relates to. Its seed method adds the initial objects (ids
// from table.newID, timestamps from mk inside Sim.seedSpan); its plan
// method schedules changes on Advance's batch (batch.sample, batch.at),
// which call table.add for new objects and table.changed after an edit,
// with stamps from Sim.stampAt. The smallest one:
//
//	func init() {
//		register(genSpec{
//			entity: "tags", model: tag{}, firstID: 310000, idGap: 20, salt: 0x5eed7a65,
//			make: func(s *Sim, t *table) generator { return &tagGen{s: s, t: t} },
//		})
//	}
//
//	type tag struct {
//		ID              int64  `json:"id"`
//		Name            string `json:"name"`
//		CreatedDatetime stamp  `json:"created_datetime"`
//		UpdatedDatetime stamp  `json:"updated_datetime"`
//	}
//
//	type tagGen struct {
//		s *Sim
//		t *table
//	}
//
//	func (g *tagGen) seed(r *rand.Rand) {
//		begin, _ := g.s.seedSpan()
//		for i := range 20 {
//			id := g.t.newID(r)
//			at := mk(begin.Add(time.Duration(i)*time.Hour), g.t.form(id))
//			g.t.add(&tag{ID: id, Name: "tag-" + strconv.Itoa(i), CreatedDatetime: at, UpdatedDatetime: at})
//		}
//	}
//
//	func (g *tagGen) plan(*batch) {} // tags never change
//
// New panics, naming the entity, when a catalog entity has no generator
// or its model lacks a field the catalog orders on; TestEveryCatalogEntityIsServed
// pages every catalog entity through the shared list endpoint.
//
// Relations stay inside the generators: tickets write their conversations
// through the messages generator, closing a ticket may open a survey, and
// messages are served under /api/tickets/{ticket_id}/messages/{id}; phone
// calls write their events and recordings as they go on. The events feed
// (/api/events) watches every table (Sim.watch): each object created or
// changed after seeding by an audited entity (tickets, messages,
// customers, surveys, users, tags...) gets its event, stamped just after
// the change; the seeded feed is drawn from the seeded history.
// Generators seed in catalog order from one shared random stream, and
// Advance plans them in catalog order from another, so a generator that
// draws random numbers changes the data of the entities after it (tests
// compare against Objects, never against fixed data). New generators go
// after the existing ones in catalog order, so the seeded data of the
// earlier entities stays byte-identical. Every Advance must change or add
// at least one object of every entity (with Config.Deletes, a removal
// counts): snapshot entities change content,
// append-only ones only get new objects, created no earlier than any
// listed before.
package gorgiassim
