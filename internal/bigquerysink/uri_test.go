package bigquerysink

import (
	"errors"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

func TestEndpointURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://127.0.0.1:9050", "http://127.0.0.1:9050/bigquery/v2/"},
		{"http://127.0.0.1:9050/", "http://127.0.0.1:9050/bigquery/v2/"},
		{"http://127.0.0.1:9050/bigquery/v2/", "http://127.0.0.1:9050/bigquery/v2/"},
		{"http://127.0.0.1:9050/bigquery/v2", "http://127.0.0.1:9050/bigquery/v2/"},
		{"https://proxy.example/bq/bigquery/v2", "https://proxy.example/bq/bigquery/v2/"},
	} {
		got, err := EndpointURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("EndpointURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"127.0.0.1:9050", "ftp://x/", "http://", "::"} {
		if _, err := EndpointURL(bad); !errors.Is(err, ErrBadURI) {
			t.Errorf("EndpointURL(%q) = %v, want ErrBadURI", bad, err)
		}
	}
}

// A bare base URL, as emulators document theirs, reaches the fake's REST API.
func TestBareEndpointReachesTheFake(t *testing.T) {
	srv := newFake(t)
	tg := newTarget(srv, "bare.")
	cfg := tg.config()
	cfg.Endpoint = srv.URL()
	s, err := Open(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Prepare(bg, catalog.All(), reg.Schemas("")); err != nil {
		t.Fatalf("Prepare through the bare endpoint %s: %v", srv.URL(), err)
	}
	if _, err := s.Offsets(bg); err != nil {
		t.Fatalf("Offsets through the bare endpoint %s: %v", srv.URL(), err)
	}
}
