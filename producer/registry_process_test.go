package main

import (
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
)

// TestProcessRegistryUnreachable: with SCHEMA_REGISTRY_URL pointing at a closed port,
// the producer exits 1 with one line saying the registry is unreachable, without the
// password given in the URL or in SCHEMA_REGISTRY_PASSWORD.
func TestProcessRegistryUnreachable(t *testing.T) {
	bin := proctest.Build(t, ".")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	sim := gorgiassim.New(gorgiassim.Config{Seed: 1, Customers: 5, Tickets: 5})
	api := httptest.NewServer(sim.Handler())
	t.Cleanup(api.Close)
	for _, tc := range []struct{ name, url, password string }{
		{"url credentials", "http://reguser:url-s3cret@" + addr, ""},
		{"password variable", "http://" + addr, "env-s3cret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{
				"GORGIAS_URI=gorgias://acme?api_key=sim-api-key&email=sim@example.com",
				"GORGIAS_BASE_URL=" + api.URL + "/api",
				"KAFKA_BROKERS=127.0.0.1:1", "METRICS_LISTEN=off",
				"SCHEMA_REGISTRY_URL=" + tc.url, "SCHEMA_REGISTRY_TIMEOUT=2s",
			}
			if tc.password != "" {
				env = append(env, "SCHEMA_REGISTRY_USERNAME=reguser", "SCHEMA_REGISTRY_PASSWORD="+tc.password)
			}
			p := proctest.Start(t, bin, env, "--once")
			if code := p.Wait(runGuard); code != exitFailure {
				t.Fatalf("exit %d, want %d:\n%s", code, exitFailure, p.Tail(20))
			}
			lines := errLineRE.FindAllString(p.Output(), -1)
			if len(lines) != 1 || !strings.Contains(lines[0], "schema registry unavailable") {
				t.Fatalf("stderr error lines %q, want one saying the registry is unavailable:\n%s", lines, p.Tail(20))
			}
			if out := p.Output(); strings.Contains(out, "s3cret") {
				t.Fatalf("a secret in the output:\n%s", out)
			}
			t.Logf("%s", lines[0])
		})
	}
}
