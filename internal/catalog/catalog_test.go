package catalog

import (
	"strings"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/schemas"
)

func TestEveryEntityHasSchema(t *testing.T) {
	for _, e := range All() {
		if _, err := schemas.Current(e.Name); err != nil {
			t.Errorf("entity %s: %v", e.Name, err)
		}
	}
}

func TestDesignTable(t *testing.T) {
	// DESIGN §2, row for row.
	want := map[string][3]string{
		"customers":             {"/api/customers", "updated_datetime:desc", "updated_datetime"},
		"tickets":               {"/api/tickets", "updated_datetime:desc", "updated_datetime"},
		"ticket_messages":       {"/api/messages", "created_datetime:desc", "created_datetime"},
		"satisfaction_surveys":  {"/api/satisfaction-surveys", "created_datetime:desc", "created_datetime"},
		"users":                 {"/api/users", "created_datetime:asc", "created_datetime"},
		"teams":                 {"/api/teams", "created_datetime:asc", "created_datetime"},
		"tags":                  {"/api/tags", "created_datetime:asc", "created_datetime"},
		"macros":                {"/api/macros", "created_datetime:asc", "created_datetime"},
		"rules":                 {"/api/rules", "created_datetime:asc", "created_datetime"},
		"views":                 {"/api/views", "created_datetime:asc", "created_datetime"},
		"integrations":          {"/api/integrations", "created_datetime:asc", "created_datetime"},
		"jobs":                  {"/api/jobs", "created_datetime:desc", "created_datetime"},
		"widgets":               {"/api/widgets", "created_datetime:asc", "created_datetime"},
		"custom_fields":         {"/api/custom-fields", "priority:asc", "priority"},
		"events":                {"/api/events", "created_datetime:asc", "created_datetime"},
		"voice_calls":           {"/api/phone/voice-calls", "", ""},
		"voice_call_events":     {"/api/phone/voice-call-events", "", ""},
		"voice_call_recordings": {"/api/phone/voice-call-recordings", "", ""},
		"account":               {"/api/account", "", ""},
	}
	if len(All()) != len(want) {
		t.Fatalf("catalog has %d entities, want %d", len(All()), len(want))
	}
	for _, e := range All() {
		w, ok := want[e.Name]
		if !ok {
			t.Fatalf("unexpected entity %s", e.Name)
		}
		got := [3]string{e.Endpoint(), e.OrderBy(), e.SortField}
		if got != w {
			t.Errorf("%s: got %v want %v", e.Name, got, w)
		}
		incremental := e.Mode == ByVersion || e.Mode == WithLookback
		if incremental && e.SortIsVersion() == e.DerivedVersion {
			t.Errorf("%s: SortIsVersion and DerivedVersion must differ", e.Name)
		}
		if e.Mode == Snapshot && (e.VersionField != ExtractedField || e.DerivedVersion || !e.FullRead()) {
			t.Errorf("%s: a snapshot is versioned by %s and read in full", e.Name, ExtractedField)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"", strings.Join(Names(), ","), ""},
		{"all", strings.Join(Names(), ","), ""},
		{"tickets, customers,tickets", "customers,tickets", ""},
		{"events,account", "events,account", ""},
		{"tickets,bogus,nope", "", "unknown entities bogus, nope"},
		{",", "", "no entities"},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		var names []string
		for _, e := range got {
			names = append(names, e.Name)
		}
		if strings.Join(names, ",") != tc.want {
			t.Errorf("Parse(%q) = %v, want %s", tc.in, names, tc.want)
		}
	}
}

func TestTopicRoundTrip(t *testing.T) {
	for _, e := range All() {
		got, ok := ByTopic("gorgias.", e.Topic("gorgias."))
		if !ok || got.Name != e.Name {
			t.Errorf("ByTopic(%s) = %v %v", e.Topic("gorgias."), got.Name, ok)
		}
	}
	if _, ok := ByTopic("gorgias.", "other.tickets"); ok {
		t.Error("ByTopic matched a foreign prefix")
	}
}
