package avrocodec

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/schemas"
)

const ticketJSON = `{
  "id": 47423971, "uri": "/api/tickets/47423971/", "external_id": null, "language": "en",
  "status": "open", "priority": "normal", "channel": "email", "via": "email",
  "from_agent": false, "spam": null,
  "customer": {"id": 358036840, "email": "jane@example.com", "name": "Jane Doe", "firstname": "Jane",
               "lastname": "Doe", "meta": {"name_set_via": "email"}, "x_nested_new": 5},
  "assignee_user": null, "assignee_user_id": null,
  "assignee_team": {"id": 12, "name": "Support", "decoration": {"emoji": {"id": "ok"}}},
  "assignee_team_id": 12, "subject": "Where is my order?", "excerpt": "Hi, ...",
  "integrations": [{"name": "shop", "address": "shop@x", "type": "email"}],
  "meta": {"b": 1, "a": [1, 2]},
  "tags": [{"id": 1, "name": "vip", "uri": "/api/tags/1/", "decoration": {"color": "#fff"}}, "not-an-object"],
  "custom_fields": null, "messages_count": "three", "is_unread": true,
  "created_datetime": "2024-06-20T07:39:36.514848+00:00",
  "opened_datetime": "2024-11-01T10:59:29+00:00",
  "last_received_message_datetime": "2019-11-16T15:59:41.966927",
  "last_message_datetime": "not a date",
  "updated_datetime": "2024-06-21T08:00:00.000001+00:00",
  "closed_datetime": null, "snooze_datetime": null, "trashed_datetime": null,
  "brand_new_field": {"k": "v"}
}`

func mustEntity(t testing.TB, name string) catalog.Entity {
	t.Helper()
	e, err := catalog.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func encodeDecode(t *testing.T, entity, obj string, m Meta) (Record, map[string]any) {
	t.Helper()
	enc, err := NewEncoder(mustEntity(t, entity))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := enc.Encode([]byte(obj), m, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	d, err := reg.Decode(rec.Value)
	if err != nil {
		t.Fatal(err)
	}
	if d.Schema.Entity != entity {
		t.Fatalf("decoded entity %s, want %s", d.Schema.Entity, entity)
	}
	return rec, d.Value
}

func union(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, x := range m {
			return x
		}
	}
	return v
}

func TestTicketRoundTrip(t *testing.T) {
	extracted := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	rec, v := encodeDecode(t, "tickets", ticketJSON, Meta{Domain: "acme", ExtractedAt: extracted})
	if rec.ID != 47423971 {
		t.Fatalf("id %d", rec.ID)
	}
	wantUpdated := time.Date(2024, 6, 21, 8, 0, 0, 1000, time.UTC)
	if !rec.Sort.Equal(wantUpdated) || !rec.Version.Equal(wantUpdated) {
		t.Fatalf("sort %v version %v", rec.Sort, rec.Version)
	}
	checks := map[string]any{
		"id":                             int64(47423971),
		"status":                         "open",
		"spam":                           nil,
		"is_unread":                      true,
		"messages_count":                 nil, // "three" is not an integer: kept in _extra
		"created_datetime":               time.Date(2024, 6, 20, 7, 39, 36, 514848000, time.UTC),
		"opened_datetime":                time.Date(2024, 11, 1, 10, 59, 29, 0, time.UTC),
		"last_received_message_datetime": time.Date(2019, 11, 16, 15, 59, 41, 966927000, time.UTC),
		"last_message_datetime":          nil,
		"meta":                           `{"b":1,"a":[1,2]}`,
		"_domain":                        "acme",
		"_extracted_at":                  extracted,
	}
	for k, want := range checks {
		got := union(v[k])
		if ts, ok := got.(time.Time); ok {
			if !ts.Equal(want.(time.Time)) {
				t.Errorf("%s = %v, want %v", k, ts, want)
			}
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
	cust := union(v["customer"]).(map[string]any)
	if union(cust["email"]) != "jane@example.com" || union(cust["meta"]) != `{"name_set_via":"email"}` {
		t.Errorf("customer = %v", cust)
	}
	tags := union(v["tags"]).([]any)
	if len(tags) != 1 || union(tags[0].(map[string]any)["name"]) != "vip" {
		t.Errorf("tags = %v", tags)
	}
	var extra map[string]json.RawMessage
	if err := json.Unmarshal([]byte(union(v["_extra"]).(string)), &extra); err != nil {
		t.Fatal(err)
	}
	wantExtra := map[string]string{
		"brand_new_field":       `{"k":"v"}`,
		"customer.x_nested_new": `5`,
		"messages_count":        `"three"`,
		"last_message_datetime": `"not a date"`,
		"tags[1]":               `"not-an-object"`,
	}
	if len(extra) != len(wantExtra) {
		t.Errorf("_extra = %s", union(v["_extra"]))
	}
	for k, want := range wantExtra {
		if string(extra[k]) != want {
			t.Errorf("_extra[%s] = %s, want %s", k, extra[k], want)
		}
	}
}

func TestDerivedVersion(t *testing.T) {
	survey := `{"id": 3416057, "body_text": "great", "created_datetime": "2026-01-01T00:00:00+00:00",
	  "customer_id": 1, "meta": null, "score": 5, "scored_datetime": %s, "sent_datetime": "2026-01-02T00:00:00+00:00",
	  "should_send_datetime": "2026-01-05T00:00:00+00:00", "ticket_id": 2, "uri": "/api/satisfaction-surveys/3416057/"}`
	tests := []struct {
		name   string
		scored string
		asOf   time.Time
		want   time.Time
	}{
		{"future should_send ignored", `null`, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"should_send counts once passed", `null`, time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)},
		{"scored later wins", `"2026-01-07T00:00:00.5+00:00"`, time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 7, 0, 0, 0, 500000000, time.UTC)},
		{"no cap", `null`, time.Time{}, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, v := encodeDecode(t, "satisfaction_surveys", fmt.Sprintf(survey, tc.scored), Meta{Domain: "acme", ExtractedAt: tc.asOf, AsOf: tc.asOf})
			if !rec.Version.Equal(tc.want) {
				t.Fatalf("version %v, want %v", rec.Version, tc.want)
			}
			if got := v["updated_datetime"].(time.Time); !got.Equal(tc.want) {
				t.Fatalf("updated_datetime %v, want %v", got, tc.want)
			}
			if !rec.Sort.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("sort %v", rec.Sort)
			}
			if union(v["score"]) != int64(5) {
				t.Fatalf("score %v", v["score"])
			}
		})
	}
}

func TestInvalidObjects(t *testing.T) {
	enc, err := NewEncoder(mustEntity(t, "customers"))
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range []string{
		`{"id": 1`,
		`[1,2]`,
		`{"email": "a@b"}`,
		`{"id": "abc", "updated_datetime": "2024-01-01T00:00:00+00:00"}`,
		`{"id": 1, "updated_datetime": null}`,
		`{"id": 1, "updated_datetime": "yesterday"}`,
	} {
		_, err := enc.Encode([]byte(obj), Meta{Domain: "acme"}, nil)
		if !errors.Is(err, ErrInvalidObject) {
			t.Errorf("Encode(%s) err = %v, want ErrInvalidObject", obj, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := NewEncoder(mustEntity(t, "customers"))
	rec, err := enc.Encode([]byte(`{"id": 1, "updated_datetime": "2024-01-01T00:00:00+00:00"}`), Meta{Domain: "acme"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	unknown := append([]byte{}, rec.Value...)
	unknown[5] ^= 0xff
	tests := []struct {
		name  string
		value []byte
		want  error
	}{
		{"not soe", []byte(`{"id":1}`), ErrNotSingleObject},
		{"empty", nil, ErrNotSingleObject},
		{"unknown fingerprint", unknown, ErrUnknownSchema},
		{"truncated", rec.Value[:len(rec.Value)-3], ErrCorruptRecord},
		{"trailing bytes", append(append([]byte{}, rec.Value...), 0, 0, 0, 0), ErrCorruptRecord},
	}
	for _, tc := range tests {
		if _, err := reg.Decode(tc.value); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := reg.Decode(rec.Value); err != nil {
		t.Fatalf("good record: %v", err)
	}
}

// TestReleasedSchemasResolve guards the promise that every released schema version stays
// readable: released.txt lists them, and each must be embedded (current or history/).
func TestReleasedSchemasResolve(t *testing.T) {
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	released := schemas.Released()
	for entity, fps := range released {
		for _, fp := range fps {
			var n uint64
			if _, err := fmt.Sscanf(fp, "%x", &n); err != nil {
				t.Fatalf("bad fingerprint %q", fp)
			}
			s, ok := reg.Lookup(n)
			if !ok || s.Entity != entity {
				t.Errorf("released schema %s %s is not embedded; restore it under schemas/history/", entity, fp)
			}
		}
	}
	for _, e := range catalog.All() {
		text, err := schemas.Current(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := goavro.NewCodec(text)
		if err != nil {
			t.Fatal(err)
		}
		fp := fmt.Sprintf("%016x", c.Rabin)
		found := false
		for _, r := range released[e.Name] {
			found = found || r == fp
		}
		if !found {
			t.Errorf("current schema of %s is not listed; add this line to schemas/released.txt:\n%s %s", e.Name, e.Name, fp)
		}
	}
}

func TestSchemaKinds(t *testing.T) {
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range reg.Schemas("") {
		for _, name := range []string{"id", "_domain", "_extracted_at", "_extra"} {
			if _, ok := s.Root.Field(name); !ok {
				t.Errorf("%s schema %016x lacks %s", s.Entity, s.Fingerprint, name)
			}
		}
		if !strings.Contains(s.Canonical(), `"name":"id"`) {
			t.Errorf("canonical form of %s: %s", s.Entity, s.Canonical())
		}
	}
	tk, _ := reg.Schemas("tickets")[0].Root.Field("customer")
	if tk.Type.Kind != KindRecord || !tk.Type.Nullable {
		t.Errorf("ticket customer kind %v nullable %v", tk.Type.Kind, tk.Type.Nullable)
	}
	meta, _ := reg.Schemas("tickets")[0].Root.Field("meta")
	if meta.Type.Kind != KindJSON {
		t.Errorf("ticket meta kind %v", meta.Type.Kind)
	}
}

// FuzzEncode: any input either encodes to a record that decodes with its writer schema,
// or fails with ErrInvalidObject; it never panics.
func FuzzEncode(f *testing.F) {
	f.Add([]byte(ticketJSON))
	f.Add([]byte(`{"id": 1, "updated_datetime": "2024-01-01T00:00:00+00:00", "tags": [1, {"id": "x"}], "customer": []}`))
	f.Add([]byte(`{"id": 1, "updated_datetime": "2024-01-01T00:00:00+00:00", "meta": {"a": tru}}`))
	f.Add([]byte(`{"id": 1, "updated_datetime": "2024-01-01T00:00:00+00:00", "subj\u0065ct": "\u00e9\"x"}`))
	enc, err := NewEncoder(mustEntity(f, "tickets"))
	if err != nil {
		f.Fatal(err)
	}
	reg, err := NewRegistry()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rec, err := enc.Encode(in, Meta{Domain: "acme"}, nil)
		if err != nil {
			if !errors.Is(err, ErrInvalidObject) {
				t.Fatalf("error %v does not wrap ErrInvalidObject", err)
			}
			return
		}
		if _, err := reg.Decode(rec.Value); err != nil {
			t.Fatalf("encoded record does not decode: %v (input %q)", err, in)
		}
	})
}

// DecodeRow must agree with goavro's decoding of the same bytes, field for field.
func TestDecodeRowMatchesGoavro(t *testing.T) {
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := NewEncoder(mustEntity(t, "tickets"))
	rec, err := enc.Encode([]byte(ticketJSON), Meta{Domain: "acme", ExtractedAt: time.Unix(1700000000, 123000).UTC()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := reg.Decode(rec.Value)
	if err != nil {
		t.Fatal(err)
	}
	s, row, err := reg.DecodeRow(rec.Value)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range s.Root.Fields {
		want := plain(d.Value[f.Name])
		got := row[i]
		if fmt.Sprintf("%#v", normalize(got)) != fmt.Sprintf("%#v", normalize(want)) {
			t.Errorf("field %s: DecodeRow %#v, goavro %#v", f.Name, got, want)
		}
	}
	if _, _, err := reg.DecodeRow(rec.Value[:len(rec.Value)-2]); !errors.Is(err, ErrCorruptRecord) {
		t.Errorf("truncated: %v", err)
	}
	if _, _, err := reg.DecodeRow(append(append([]byte{}, rec.Value...), 1)); !errors.Is(err, ErrCorruptRecord) {
		t.Errorf("trailing: %v", err)
	}
}

// plain unwraps goavro unions recursively.
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, inner := range x {
				if k == "string" || k == "long" || k == "boolean" || k == "double" || k == "array" ||
					k == "long.timestamp-micros" || strings.HasPrefix(k, "com.gorgias_kafka.") {
					return plain(inner)
				}
			}
		}
		out := map[string]any{}
		for k, inner := range x {
			out[k] = plain(inner)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = plain(inner)
		}
		return out
	}
	return v
}

func normalize(v any) any {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestContent: the content hash ignores the extraction time and the JSON formatting,
// and changes with any field.
func TestContent(t *testing.T) {
	enc, err := NewEncoder(mustEntity(t, "customers"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hash := func(obj string, extracted time.Time) uint64 {
		t.Helper()
		r, err := enc.Encode([]byte(obj), Meta{Domain: "acme", ExtractedAt: extracted}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.Content
	}
	base := hash(`{"id": 1, "name": "Ann", "updated_datetime": "2024-01-01T00:00:00+00:00", "created_datetime": "2024-01-01T00:00:00+00:00"}`, at)
	for _, tc := range []struct {
		name, obj string
		extracted time.Time
		same      bool
	}{
		{"later extraction", `{"id": 1, "name": "Ann", "updated_datetime": "2024-01-01T00:00:00+00:00", "created_datetime": "2024-01-01T00:00:00+00:00"}`, at.Add(time.Hour), true},
		{"other key order and spacing", `{"created_datetime":"2024-01-01T00:00:00","name":"Ann","id":1,"updated_datetime":"2024-01-01T00:00:00.000000+00:00"}`, at, true},
		{"changed field", `{"id": 1, "name": "Bob", "updated_datetime": "2024-01-01T00:00:00+00:00", "created_datetime": "2024-01-01T00:00:00+00:00"}`, at, false},
		{"unknown field", `{"id": 1, "name": "Ann", "x": 1, "updated_datetime": "2024-01-01T00:00:00+00:00", "created_datetime": "2024-01-01T00:00:00+00:00"}`, at, false},
	} {
		if got := hash(tc.obj, tc.extracted); (got == base) != tc.same {
			t.Errorf("%s: content equal = %v, want %v", tc.name, got == base, tc.same)
		}
	}
}
