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

// Entity describes one Gorgias object type and how it is extracted and stored.
type Entity struct {
	// Name is the stable entity name, used for the topic suffix, the table name, the
	// schema file name (schemas/<Name>.avsc) and the producer-state key.
	Name string
	// Resource is the API list resource under the /api base, e.g. "satisfaction-surveys".
	Resource string
	// SortField is the datetime field the list is ordered on, newest first, and on which a
	// sweep stops.
	SortField string
	// VersionField is the datetime field that identifies a version of an object. It always
	// exists in the record.
	VersionField string
	// DerivedVersion is true when the API does not send VersionField: it is then derived as
	// the latest of the object's *_datetime fields that is not after the extraction time.
	// Such entities sort on a field that does not move when the object changes, so their
	// sweeps re-read a lookback window.
	DerivedVersion bool
	// Doc is a one-line description for docs and table comments.
	Doc string
}

// entities is the one list of entity descriptions (DESIGN §2).
var entities = []Entity{
	{
		Name: "customers", Resource: "customers",
		SortField: "updated_datetime", VersionField: "updated_datetime",
		Doc: "Gorgias customers (latest version per id)",
	},
	{
		Name: "tickets", Resource: "tickets",
		SortField: "updated_datetime", VersionField: "updated_datetime",
		Doc: "Gorgias tickets (latest version per id)",
	},
	{
		Name: "ticket_messages", Resource: "messages",
		SortField: "created_datetime", VersionField: "updated_datetime", DerivedVersion: true,
		Doc: "Gorgias ticket messages (latest version per id; updated_datetime is derived)",
	},
	{
		Name: "satisfaction_surveys", Resource: "satisfaction-surveys",
		SortField: "created_datetime", VersionField: "updated_datetime", DerivedVersion: true,
		Doc: "Gorgias satisfaction surveys (latest version per id; updated_datetime is derived)",
	},
}

// Key is the primary key field of every entity: the object's integer id.
const Key = "id"

// Endpoint is the API path of the entity's list endpoint, e.g. "/api/tickets".
func (e Entity) Endpoint() string { return "/api/" + e.Resource }

// OrderBy is the order_by parameter the producer sends: the sort field, newest first.
func (e Entity) OrderBy() string { return e.SortField + ":desc" }

// SortIsVersion reports whether the list order is the version order, i.e. an edited
// object moves to the top of the list. Such entities need no lookback window.
func (e Entity) SortIsVersion() bool { return !e.DerivedVersion && e.SortField == e.VersionField }

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
