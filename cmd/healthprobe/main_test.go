package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			w.Write([]byte("ok"))
		case "/slow":
			<-r.Context().Done()
		default:
			http.Error(w, "not ready: joining group", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	port := addr[strings.LastIndex(addr, ":"):]

	for _, c := range []struct {
		name   string
		env    *string
		args   []string
		code   int
		stderr string
	}{
		{"200", nil, []string{srv.URL + "/readyz"}, 0, ""},
		{"503", nil, []string{srv.URL + "/other"}, 1, "503 Service Unavailable not ready: joining group"},
		{"timeout", nil, []string{"--timeout", "100ms", srv.URL + "/slow"}, 1, "deadline exceeded"},
		{"refused", nil, []string{"http://127.0.0.1:1/readyz"}, 1, "refused"},
		{"from METRICS_LISTEN wildcard", ptr(port), []string{"--default-listen", ":1"}, 0, ""},
		{"from METRICS_LISTEN 0.0.0.0", ptr("0.0.0.0" + port), nil, 0, ""},
		{"default listen, other path", nil, []string{"--default-listen", addr, "--path", "/other"}, 1, "503"},
		{"empty METRICS_LISTEN is unset", ptr(""), []string{"--default-listen", addr}, 0, ""},
		{"metrics off", ptr("off"), []string{"--default-listen", addr}, 2, "metrics server is off"},
		{"nothing to probe", nil, nil, 2, "no URL given"},
		{"two URLs", nil, []string{"http://a", "http://b"}, 2, "at most one URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.env != nil {
				t.Setenv("METRICS_LISTEN", *c.env)
			} else {
				t.Setenv("METRICS_LISTEN", "") // restored after the test
				os.Unsetenv("METRICS_LISTEN")
			}
			var stderr strings.Builder
			if code := run(c.args, &stderr); code != c.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.stderr) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), c.stderr)
			}
		})
	}
}

func ptr(s string) *string { return &s }
