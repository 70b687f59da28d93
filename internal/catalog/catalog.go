// Package catalog describes every Gorgias entity the connector moves, once.
//
// The producer, the Avro codec, the sinks and the tests all read these descriptions;
// adding an entity is one schemas/<name>.avsc file plus one entry in the entities list.
package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Mode is how the producer extracts an entity, chosen from what its list endpoint
// allows (its order_by values and filters). The README's entity table gives each
// entity's mode and the reason.
type Mode string

// The extraction modes.
const (
	// ByVersion: the list sorts newest first on the field that moves on every change
	// (SortField == VersionField); a sweep stops where earlier sweeps' coverage begins.
	ByVersion Mode = "incremental-by-version"
	// WithLookback: the list sorts on a creation time and objects change afterwards; a
	// sweep re-reads a lookback window below its start (VersionField is derived).
	WithLookback Mode = "incremental-with-lookback"
	// AppendOnly: objects never change once created; the list is walked oldest first
	// from the last watermark (server-filtered on SinceParam where the endpoint has
	// one), and each object is published once.
	AppendOnly Mode = "append-only"
	// Snapshot: a small reference list with no order that follows changes; it is read
	// in full on its own, longer interval, and an object is published when its content
	// differs from the last published one. Its version is the extraction time.
	Snapshot Mode = "snapshot"
)

// Entity describes one Gorgias object type and how it is extracted and stored.
type Entity struct {
	// Name is the stable entity name, used for the topic suffix, the table name, the
	// schema file name (schemas/<Name>.avsc) and the producer-state key.
	Name string
	// Resource is the API resource under the /api base, e.g. "satisfaction-surveys"; a
	// list endpoint, or a single object when Single is set.
	Resource string
	// Mode is how the entity is extracted.
	Mode Mode
	// SortField is the field the list is ordered on: newest first for ByVersion and
	// WithLookback (where the sweep stops on it), oldest first for AppendOnly and
	// Snapshot. Empty when the endpoint accepts no order_by (it then lists oldest
	// first). Only ByVersion, WithLookback and AppendOnly records must carry it, as a
	// datetime.
	SortField string
	// VersionField is the datetime field that identifies a version of an object. It is
	// always in the record: for Snapshot entities it is ExtractedField.
	VersionField string
	// DerivedVersion is true when the API does not send VersionField: it is then derived as
	// the latest of the object's *_datetime fields that is not after the extraction time.
	// Such entities sort on a field that does not move when the object changes, so their
	// sweeps re-read a lookback window.
	DerivedVersion bool
	// SinceParam, for AppendOnly entities, is the list filter that keeps objects
	// created at or after a time (e.g. "created_datetime[gte]"); empty when the
	// endpoint has none and every sweep reads the whole list.
	SinceParam string
	// PassParam and PassValues (comma-separated), when set, split one full read into
	// passes: the list is walked once per value, sent as PassParam (e.g. custom fields,
	// once per object_type). The passes together are the entity. See Passes.
	PassParam, PassValues string
	// Single is true when the resource is one object, not a list (the account).
	Single bool
	// Feed marks the account's events feed: the deletions its new events report (see
	// DeleteEvent and MergeEvent) are published with its pages.
	Feed bool
	// DeleteEvent and MergeEvent are the types of the feed's events that remove an
	// object of this entity: a hard delete of the event's object, and a merge of two
	// objects, one of which is gone afterwards (its detail endpoint answers 404). Empty
	// when no event reports it (Snapshot entities show deletions by disappearance).
	DeleteEvent, MergeEvent string
	// Scope is the Gorgias OAuth scope (and role right) reading the entity needs; a 403
	// names it.
	Scope string
	// Doc is a one-line description for docs and table comments.
	Doc string
}

// Pass is one walk of a list whose full read takes several (see Entity.Passes).
type Pass struct {
	// Param and Value are the query parameter that selects the pass's objects.
	Param, Value string
}

// Passes are the walks of one full read of the list: one per PassValues value, or a
// single pass without a parameter.
func (e Entity) Passes() []Pass {
	if e.PassParam == "" {
		return []Pass{{}}
	}
	var out []Pass
	for _, v := range strings.Split(e.PassValues, ",") {
		out = append(out, Pass{Param: e.PassParam, Value: v})
	}
	return out
}

// ExtractedField is the field holding the extraction time of every record, and the
// version of Snapshot entities: the content seen by the latest snapshot that saw it
// change.
const ExtractedField = "_extracted_at"

const createdField = "created_datetime"

// entities is the one list of entity descriptions (DESIGN §2).
var entities = []Entity{
	{
		Name: "customers", Resource: "customers", Mode: ByVersion, Scope: "customers:read",
		SortField: "updated_datetime", VersionField: "updated_datetime",
		DeleteEvent: "customer-deleted", MergeEvent: "customer-merged",
		Doc: "Gorgias customers (latest version per id)",
	},
	{
		Name: "tickets", Resource: "tickets", Mode: ByVersion, Scope: "tickets:read",
		SortField: "updated_datetime", VersionField: "updated_datetime",
		DeleteEvent: "ticket-deleted", MergeEvent: "ticket-merged",
		Doc: "Gorgias tickets (latest version per id)",
	},
	{
		Name: "ticket_messages", Resource: "messages", Mode: WithLookback, Scope: "tickets:read",
		SortField: createdField, VersionField: "updated_datetime", DerivedVersion: true,
		Doc: "Gorgias ticket messages (latest version per id; updated_datetime is derived)",
	},
	{
		Name: "satisfaction_surveys", Resource: "satisfaction-surveys", Mode: WithLookback, Scope: "satisfaction_survey:read",
		SortField: createdField, VersionField: "updated_datetime", DerivedVersion: true,
		Doc: "Gorgias satisfaction surveys (latest version per id; updated_datetime is derived)",
	},
	{
		Name: "users", Resource: "users", Mode: Snapshot, Scope: "users:read",
		SortField: createdField, VersionField: ExtractedField,
		Doc: "Gorgias users: the agents (latest content per id)",
	},
	{
		Name: "teams", Resource: "teams", Mode: Snapshot, Scope: "users:read",
		SortField: createdField, VersionField: ExtractedField,
		Doc: "Gorgias teams of agents (latest content per id)",
	},
	{
		Name: "tags", Resource: "tags", Mode: Snapshot, Scope: "tags:read",
		SortField: createdField, VersionField: ExtractedField,
		Doc: "Gorgias ticket tags (latest content per id)",
	},
	{
		Name: "macros", Resource: "macros", Mode: Snapshot, Scope: "macros:read",
		SortField: createdField, VersionField: ExtractedField,
		PassParam: "archived", PassValues: "false,true", // the list hides archived macros by default
		Doc: "Gorgias macros: canned replies and actions (latest content per id)",
	},
	{
		Name: "rules", Resource: "rules", Mode: Snapshot, Scope: "rules:read",
		SortField: createdField, VersionField: ExtractedField,
		Doc: "Gorgias rules: automations (latest content per id)",
	},
	{
		Name: "views", Resource: "views", Mode: Snapshot, Scope: "tickets:read",
		SortField: createdField, VersionField: ExtractedField,
		Doc: "Gorgias views: saved ticket lists (latest content per id)",
	},
	{
		Name: "integrations", Resource: "integrations", Mode: Snapshot, Scope: "integrations:read",
		SortField: createdField, VersionField: ExtractedField,
		Doc: "Gorgias integrations: HTTP and native (latest content per id)",
	},
	{
		Name: "jobs", Resource: "jobs", Mode: WithLookback, Scope: "jobs:read",
		SortField: createdField, VersionField: "updated_datetime", DerivedVersion: true,
		Doc: "Gorgias bulk jobs (latest version per id; updated_datetime is derived)",
	},
	{
		Name: "widgets", Resource: "widgets", Mode: Snapshot, Scope: "integrations:read",
		SortField: createdField, VersionField: ExtractedField,
		Doc: "Gorgias sidebar widgets (latest content per id)",
	},
	{
		Name: "custom_fields", Resource: "custom-fields", Mode: Snapshot, Scope: "custom_fields:read",
		SortField: "priority", VersionField: ExtractedField,
		PassParam: "object_type", PassValues: "Ticket,Customer",
		Doc: "Gorgias custom field definitions of tickets and customers (latest content per id)",
	},
	{
		Name: "events", Resource: "events", Mode: AppendOnly, Scope: "events:read",
		SortField: createdField, VersionField: createdField, SinceParam: createdField + "[gte]", Feed: true,
		Doc: "Gorgias events: the account's audit trail (one record per event)",
	},
	{
		Name: "voice_calls", Resource: "phone/voice-calls", Mode: Snapshot, Scope: "tickets:read",
		VersionField: ExtractedField,
		Doc:          "Gorgias phone calls (latest content per id)",
	},
	{
		Name: "voice_call_events", Resource: "phone/voice-call-events", Mode: AppendOnly, Scope: "tickets:read",
		VersionField: createdField,
		Doc:          "Gorgias phone call events (one record per event)",
	},
	{
		Name: "voice_call_recordings", Resource: "phone/voice-call-recordings", Mode: Snapshot, Scope: "tickets:read",
		VersionField: ExtractedField,
		Doc:          "Gorgias phone call recordings (latest content per id)",
	},
	{
		Name: "account", Resource: "account", Mode: Snapshot, Scope: "account:read", Single: true,
		VersionField: ExtractedField,
		Doc:          "the Gorgias account itself: one row, id 0 (the API sends no id)",
	},
}

// Key is the primary key field of every entity: the object's integer id.
const Key = "id"

// Endpoint is the API path of the entity's list endpoint, e.g. "/api/tickets".
func (e Entity) Endpoint() string { return "/api/" + e.Resource }

// OrderBy is the order_by parameter the producer sends: the sort field, newest first
// for ByVersion and WithLookback, oldest first otherwise; "" when the endpoint takes
// none.
func (e Entity) OrderBy() string {
	switch {
	case e.SortField == "":
		return ""
	case e.Mode == ByVersion || e.Mode == WithLookback:
		return e.SortField + ":desc"
	}
	return e.SortField + ":asc"
}

// SortIsVersion reports whether the list order is the version order, i.e. an edited
// object moves to the top of the list. Such entities need no lookback window.
func (e Entity) SortIsVersion() bool { return e.Mode == ByVersion }

// FullRead reports whether every sweep reads the entity's whole list: snapshots, and
// append-only lists the endpoint cannot filter. Such sweeps run on the producer's
// longer snapshot interval.
func (e Entity) FullRead() bool {
	return e.Mode == Snapshot || (e.Mode == AppendOnly && e.SinceParam == "")
}

// SingleKey is the id of the one record of a Single entity whose object has no id.
const SingleKey int64 = 0

// Topic is the Kafka topic of the entity for a topic prefix, e.g. "gorgias.tickets".
func (e Entity) Topic(prefix string) string { return prefix + e.Name }

// Table is the destination table name of the entity (without schema/dataset).
func (e Entity) Table() string { return e.Name }

// ChangelogTable is the name of the entity's optional append-only changelog table.
func (e Entity) ChangelogTable() string { return e.Name + "_changelog" }

// All returns every entity in catalog order. The slice is a copy.
func All() []Entity { return append([]Entity(nil), entities...) }

// Names returns the names of every entity in catalog order.
func Names() []string {
	out := make([]string, len(entities))
	for i, e := range entities {
		out[i] = e.Name
	}
	return out
}

// Lookup returns the entity called name, or an error listing the valid names.
func Lookup(name string) (Entity, error) {
	for _, e := range entities {
		if e.Name == name {
			return e, nil
		}
	}
	return Entity{}, fmt.Errorf("unknown entity %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// ByTopic returns the entity whose topic under prefix is topic.
func ByTopic(prefix, topic string) (Entity, bool) {
	for _, e := range entities {
		if e.Topic(prefix) == topic {
			return e, true
		}
	}
	return Entity{}, false
}

// Parse resolves a comma-separated list of entity names ("" or "all" means every
// entity). Duplicates are removed; the result follows catalog order. Unknown names are
// reported together in one error.
func Parse(list string) ([]Entity, error) {
	list = strings.TrimSpace(list)
	if list == "" || list == "all" {
		return All(), nil
	}
	want := map[string]bool{}
	var unknown []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, err := Lookup(n); err != nil {
			unknown = append(unknown, n)
			continue
		}
		want[n] = true
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown entities %s (valid: %s)", strings.Join(unknown, ", "), strings.Join(Names(), ", "))
	}
	var out []Entity
	for _, e := range entities {
		if want[e.Name] {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no entities in %q (valid: %s)", list, strings.Join(Names(), ", "))
	}
	return out, nil
}

// Selection is a configured list of entities: "all" or comma-separated names, in
// catalog order. Its zero value, like "all", selects every entity.
type Selection []Entity

// UnmarshalText parses a list as Parse does.
func (s *Selection) UnmarshalText(b []byte) error {
	ents, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = ents
	return nil
}

// MarshalText writes the names, comma-separated, or "all" for every entity.
func (s Selection) MarshalText() ([]byte, error) {
	if len(s) == 0 || len(s) == len(entities) {
		return []byte("all"), nil
	}
	names := make([]string, len(s))
	for i, e := range s {
		names[i] = e.Name
	}
	return []byte(strings.Join(names, ",")), nil
}
