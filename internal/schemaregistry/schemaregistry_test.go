package schemaregistry

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
)

const (
	schemaV1 = `{"type":"record","name":"Ticket","namespace":"gorgias","fields":[{"name":"id","type":"long"}]}`
	schemaV2 = `{"type":"record","name":"Ticket","namespace":"gorgias","fields":[{"name":"id","type":"long"},{"name":"subject","type":["null","string"],"default":null}]}`
	secretPW = "s3cr3t-pa55"
	secretTK = "t0ken-xyz"
)

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	cl, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return cl
}

// noSecret fails when err's text contains any of the secrets.
func noSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(secrets, secretPW, secretTK) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains the secret %q", err, s)
		}
	}
}

// countIDs counts GET /schemas/ids/ requests, each delayed by delay.
func countIDs(reg *srfake.Registry, delay time.Duration) *atomic.Int64 {
	var n atomic.Int64
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/schemas/ids/") {
			n.Add(1)
			time.Sleep(delay)
		}
		return false
	})
	return &n
}

// answer makes every request matching method get status and body.
func answer(reg *srfake.Registry, method string, status int, body string) {
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != method {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
		return true
	})
}

func TestRegisterAndResolve(t *testing.T) {
	reg := srfake.New(srfake.WithGlobalCompat(sr.CompatBackward))
	defer reg.Close()
	cl := newClient(t, Config{URL: reg.URL()})
	ctx := context.Background()

	id1, err := cl.Register(ctx, "gorgias.tickets-value", schemaV1)
	if err != nil {
		t.Fatal(err)
	}
	again, err := cl.Register(ctx, "gorgias.tickets-value", schemaV1)
	if err != nil || again != id1 {
		t.Fatalf("same schema again: id %d, %v; want %d", again, err, id1)
	}
	id2, err := cl.Register(ctx, "gorgias.tickets-value", schemaV2)
	if err != nil || id2 == id1 {
		t.Fatalf("new version: id %d, %v; want an id other than %d", id2, err, id1)
	}
	if s, ok := reg.GetSchema("gorgias.tickets-value", 2); !ok || s.ID != id2 {
		t.Fatalf("registry has version 2 = %+v, %v; want id %d", s, ok, id2)
	}
	for id, want := range map[int]string{id1: schemaV1, id2: schemaV2} {
		got, err := cl.SchemaByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, `"Ticket"`) || strings.Contains(got, "subject") != strings.Contains(want, "subject") {
			t.Errorf("SchemaByID(%d) = %s; want %s", id, got, want)
		}
	}
}

func TestSchemaByIDCached(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	idA, _, err := reg.RegisterSchema("a-value", sr.Schema{Schema: schemaV1, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	idB, _, err := reg.RegisterSchema("b-value", sr.Schema{Schema: schemaV2, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	n := countIDs(reg, 100*time.Millisecond)
	cl := newClient(t, Config{URL: reg.URL()})
	ctx := context.Background()

	first, err := cl.SchemaByID(ctx, idA)
	if err != nil {
		t.Fatal(err)
	}
	second, err := cl.SchemaByID(ctx, idA)
	if err != nil || second != first {
		t.Fatalf("second call: %q, %v; want %q", second, err, first)
	}
	if got := n.Load(); got != 1 {
		t.Fatalf("two calls of one id made %d requests; want 1", got)
	}

	var wg sync.WaitGroup
	results := make([]string, 20)
	errs := make([]error, 20)
	for i := range 20 {
		wg.Go(func() { results[i], errs[i] = cl.SchemaByID(ctx, idB) })
	}
	wg.Wait()
	for i := range 20 {
		if errs[i] != nil || results[i] != results[0] || !strings.Contains(results[i], "subject") {
			t.Fatalf("caller %d: %q, %v", i, results[i], errs[i])
		}
	}
	if got := n.Load(); got != 2 {
		t.Fatalf("20 concurrent callers of a new id made %d requests; want 1", got-1)
	}
}

func TestSchemaByIDErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(reg *srfake.Registry)
		timeout time.Duration
		want    error
		quote   string // in the error's text
	}{
		{"unknown id", func(*srfake.Registry) {}, 0, ErrUnknownID, "40403"},
		{"503", func(reg *srfake.Registry) {
			answer(reg, http.MethodGet, 503, `{"error_code":50003,"message":"backend busy"}`)
		}, 0, ErrUnavailable, "backend busy"},
		{"500 not JSON", func(reg *srfake.Registry) { answer(reg, http.MethodGet, 500, "oops") }, 0, ErrUnavailable, "oops"},
		{"429", func(reg *srfake.Registry) { answer(reg, http.MethodGet, 429, "") }, 0, ErrUnavailable, "429"},
		{"404 without Confluent code is not an unknown id", func(reg *srfake.Registry) {
			answer(reg, http.MethodGet, 404, "<html>not found</html>")
		}, 0, ErrRefused, "not found"},
		{"forbidden", func(reg *srfake.Registry) {
			answer(reg, http.MethodGet, 403, `{"error_code":40301,"message":"User not authorized"}`)
		}, 0, ErrRefused, "User not authorized"},
		{"unreadable answer", func(reg *srfake.Registry) { answer(reg, http.MethodGet, 200, "{") }, 0, ErrUnavailable, "unreadable"},
		{"timeout", func(reg *srfake.Registry) {
			reg.Intercept(func(http.ResponseWriter, *http.Request) bool { time.Sleep(500 * time.Millisecond); return false })
		}, 100 * time.Millisecond, ErrUnavailable, "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := srfake.New()
			defer reg.Close()
			n := countIDs(reg, 0) // first: it sees every request
			tt.setup(reg)
			cl := newClient(t, Config{URL: reg.URL(), Timeout: tt.timeout})
			for range 2 { // a failure is not cached: the second call asks again
				_, err := cl.SchemaByID(context.Background(), 77)
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v; want %v", err, tt.want)
				}
				if !strings.Contains(err.Error(), tt.quote) || !strings.Contains(err.Error(), "77") {
					t.Errorf("err = %q; want it to quote %q and the id", err, tt.quote)
				}
				if strings.Contains(err.Error(), reg.URL()) {
					t.Errorf("err = %q quotes the URL", err)
				}
			}
			if n.Load() != 2 {
				t.Errorf("two failing calls made %d requests; want 2 (failures are not cached)", n.Load())
			}
		})
	}
}

func TestFailureThenSuccess(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	id, _, err := reg.RegisterSchema("a-value", sr.Schema{Schema: schemaV1, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	cl := newClient(t, Config{URL: reg.URL()})
	if _, err := cl.SchemaByID(context.Background(), id); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("registry down: %v; want ErrUnavailable", err)
	}
	down.Store(false)
	if s, err := cl.SchemaByID(context.Background(), id); err != nil || !strings.Contains(s, "Ticket") {
		t.Fatalf("registry back: %q, %v", s, err)
	}
}

func TestClosedServer(t *testing.T) {
	reg := srfake.New()
	u := strings.Replace(reg.URL(), "http://", "http://someone:"+secretPW+"@", 1)
	reg.Close()
	cfg := Config{URL: u, Timeout: time.Second}
	cfg.Validate(func(key, why string) { t.Fatalf("%s: %s", key, why) })
	if cfg.Username != "someone" || cfg.Password.Reveal() != secretPW || strings.Contains(cfg.URL, secretPW) {
		t.Fatalf("user info not moved out of the URL: %+v", cfg)
	}
	cl := newClient(t, cfg)
	_, err := cl.SchemaByID(context.Background(), 1)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("SchemaByID: %v; want ErrUnavailable", err)
	}
	noSecret(t, err, "someone")
	_, err = cl.Register(context.Background(), "x-value", schemaV1)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Register: %v; want ErrUnavailable", err)
	}
	noSecret(t, err, "someone")

	// The same with the user info left in the URL (a Config that skipped Validate).
	cl = newClient(t, Config{URL: u, Timeout: time.Second})
	_, err = cl.SchemaByID(context.Background(), 1)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("SchemaByID: %v; want ErrUnavailable", err)
	}
	noSecret(t, err, "someone")
}

func TestCallerCancelStopsWaiting(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	id, _, _ := reg.RegisterSchema("a-value", sr.Schema{Schema: schemaV1, Type: sr.TypeAvro})
	n := countIDs(reg, 300*time.Millisecond)
	cl := newClient(t, Config{URL: reg.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := cl.SchemaByID(ctx, id)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 250*time.Millisecond {
		t.Fatalf("cancelled caller: %v after %s", err, time.Since(start))
	}
	// The shared request went on and its answer is cached.
	if s, err := cl.SchemaByID(context.Background(), id); err != nil || !strings.Contains(s, "Ticket") {
		t.Fatalf("after the cancelled caller: %q, %v", s, err)
	}
	if n.Load() != 1 {
		t.Fatalf("%d requests; want 1", n.Load())
	}
}

func TestRegisterRefused(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(reg *srfake.Registry)
		schema string
		want   error
		quote  string
	}{
		{"incompatible", func(reg *srfake.Registry) {
			answer(reg, http.MethodPost, 409, `{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema for subject \"t-value\""}`)
		}, schemaV2, ErrRefused, "incompatible with an earlier schema"},
		{"invalid schema", func(*srfake.Registry) {}, `{"type":"record"`, ErrRefused, "invalid"},
		{"unauthorized", func(reg *srfake.Registry) {
			answer(reg, http.MethodPost, 401, `{"error_code":401,"message":"Unauthorized"}`)
		}, schemaV1, ErrRefused, "Unauthorized"},
		{"503", func(reg *srfake.Registry) { answer(reg, http.MethodPost, 503, "") }, schemaV1, ErrUnavailable, "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := srfake.New()
			defer reg.Close()
			tt.setup(reg)
			cl := newClient(t, Config{URL: reg.URL()})
			_, err := cl.Register(context.Background(), "t-value", tt.schema)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.quote) || !strings.Contains(err.Error(), "t-value") {
				t.Fatalf("err = %v; want %v quoting %q and the subject", err, tt.want, tt.quote)
			}
			if errors.Is(err, ErrUnknownID) {
				t.Errorf("a registration error is never ErrUnknownID: %v", err)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+secretPW))
	tests := []struct {
		name   string
		expect string
		cfg    Config
		ok     bool
	}{
		{"bearer", "Bearer " + secretTK, Config{Token: secretTK}, true},
		{"wrong bearer", "Bearer " + secretTK, Config{Token: "nope-" + secretTK}, false},
		{"no credentials", "Bearer " + secretTK, Config{}, false},
		{"basic", basic, Config{Username: "alice", Password: secretPW}, true},
		{"wrong basic password", basic, Config{Username: "alice", Password: "x" + secretPW}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := srfake.New(srfake.WithAuth(tt.expect))
			defer reg.Close()
			tt.cfg.URL = reg.URL()
			tt.cfg.Validate(func(key, why string) { t.Fatalf("%s: %s", key, why) })
			cl := newClient(t, tt.cfg)
			id, err := cl.Register(context.Background(), "t-value", schemaV1)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := cl.SchemaByID(context.Background(), id); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "uthoriz") {
				t.Fatalf("Register: %v; want ErrRefused quoting the registry", err)
			}
			noSecret(t, err)
			_, err = cl.SchemaByID(context.Background(), 1)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("SchemaByID: %v; want ErrRefused", err)
			}
			noSecret(t, err)
		})
	}
}

func TestTLS(t *testing.T) {
	reg := srfake.NewRegistry()
	srv := httptest.NewUnstartedServer(reg.Handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{URL: srv.URL, TLS: TLS{CAFile: ca}}
	cfg.Validate(func(key, why string) { t.Fatalf("%s: %s", key, why) })
	if _, err := newClient(t, cfg).Register(context.Background(), "t-value", schemaV1); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	// Without the CA, the system's roots do not trust the test server: unavailable.
	_, err := newClient(t, Config{URL: srv.URL}).Register(context.Background(), "t-value", schemaV1)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v", err)
	}
	// A CA file that is not PEM fails New, naming the key.
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not pem"), 0o600)
	if _, err := New(Config{URL: srv.URL, TLS: TLS{CAFile: bad}}, nil); err == nil || !strings.Contains(err.Error(), "schema_registry.tls.ca_file") {
		t.Fatalf("bad CA: %v", err)
	}
}

func TestSubject(t *testing.T) {
	noNS := `{"type":"record","name":"Ticket","fields":[]}`
	dotted := `{"type":"record","name":"acme.Ticket","namespace":"ignored","fields":[]}`
	tests := []struct {
		strategy, topic, schema, want string
		wantErr                       bool
	}{
		{"", "gorgias.tickets", schemaV1, "gorgias.tickets-value", false},
		{StrategyTopic, "gorgias.tickets", "not json: not needed", "gorgias.tickets-value", false},
		{StrategyRecord, "gorgias.tickets", schemaV1, "gorgias.Ticket", false},
		{StrategyRecord, "gorgias.tickets", noNS, "Ticket", false},
		{StrategyRecord, "gorgias.tickets", dotted, "acme.Ticket", false},
		{StrategyTopicRecord, "gorgias.tickets", schemaV1, "gorgias.tickets-gorgias.Ticket", false},
		{StrategyRecord, "t", `"string"`, "", true},
		{StrategyRecord, "t", `{"type":"record"}`, "", true},
		{StrategyTopic, "", schemaV1, "", true},
		{StrategyTopicRecord, "", schemaV1, "", true},
	}
	for _, tt := range tests {
		cl := newClient(t, Config{URL: "http://127.0.0.1:1", SubjectStrategy: tt.strategy})
		got, err := cl.Subject(tt.topic, tt.schema)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s Subject(%q, %s) = %q, %v; want %q (error: %v)", tt.strategy, tt.topic, tt.schema, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := New(Config{URL: "http://127.0.0.1:1", SubjectStrategy: "bogus"}, nil); err == nil {
		t.Error("New accepted an unknown strategy")
	}
	if _, err := New(Config{}, nil); err == nil {
		t.Error("New accepted an empty URL")
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pwFile := write("pw", secretPW+"\n")
	tokFile := write("tok", secretTK+"\n")
	empty := write("empty", "")
	pemFile := write("x.pem", "pem")
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name string
		cfg  Config
		want map[string]string // key -> part of why; empty map: valid
		// after Validate
		check func(t *testing.T, c Config)
	}{
		{"no registry", Config{}, nil, func(t *testing.T, c Config) {
			if c.SubjectStrategy != StrategyTopic || c.Enabled() {
				t.Errorf("got %+v", c)
			}
		}},
		{"settings without url", Config{Username: "u", Password: secretPW, Token: secretTK, TLS: TLS{CAFile: pemFile}},
			map[string]string{"username": "url is empty", "password": "url is empty", "token": "url is empty", "tls.ca_file": "url is empty"}, nil},
		{"plain http", Config{URL: "http://registry:8081"}, nil, nil},
		{"https with path", Config{URL: "https://registry.example.com/sr/"}, nil, nil},
		{"not http", Config{URL: "ftp://registry:8081"}, map[string]string{"url": "http:// or https://"}, nil},
		{"no scheme", Config{URL: "registry:8081"}, map[string]string{"url": "http:// or https://"}, nil},
		{"no host", Config{URL: "http://"}, map[string]string{"url": "no host"}, nil},
		{"query", Config{URL: "http://r:8081/?key=" + secretTK}, map[string]string{"url": "query"}, nil},
		{"unparsable with secret", Config{URL: "http://u:" + secretPW + "@r:80%zz"}, map[string]string{"url": "not a valid URL"}, nil},
		{"user info moves", Config{URL: "https://u:" + secretPW + "@r:8081"}, nil, func(t *testing.T, c Config) {
			if c.URL != "https://r:8081" || c.Username != "u" || c.Password.Reveal() != secretPW {
				t.Errorf("got URL %q user %q", c.URL, c.Username)
			}
		}},
		{"user info and username", Config{URL: "https://u:" + secretPW + "@r:8081", Username: "v"},
			map[string]string{"url": "set only one", "password": "required"}, nil},
		{"basic auth", Config{URL: "http://r", Username: "u", Password: secretPW}, nil, nil},
		{"password file", Config{URL: "http://r", Username: "u", PasswordFile: pwFile}, nil, func(t *testing.T, c Config) {
			if c.Password.Reveal() != secretPW {
				t.Error("password file not read into Password")
			}
		}},
		{"password and file", Config{URL: "http://r", Username: "u", Password: secretPW, PasswordFile: pwFile},
			map[string]string{"password_file": "SCHEMA_REGISTRY_PASSWORD"}, nil},
		{"password file missing", Config{URL: "http://r", Username: "u", PasswordFile: missing},
			map[string]string{"password_file": "cannot be read"}, nil},
		{"password file empty", Config{URL: "http://r", Username: "u", PasswordFile: empty},
			map[string]string{"password_file": "empty"}, nil},
		{"user without password", Config{URL: "http://r", Username: "u"}, map[string]string{"password": "SCHEMA_REGISTRY_PASSWORD"}, nil},
		{"password without user", Config{URL: "http://r", Password: secretPW}, map[string]string{"username": "required"}, nil},
		{"token", Config{URL: "http://r", Token: secretTK}, nil, nil},
		{"token file", Config{URL: "http://r", TokenFile: tokFile}, nil, func(t *testing.T, c Config) {
			if c.Token.Reveal() != secretTK {
				t.Error("token file not read into Token")
			}
		}},
		{"token and file", Config{URL: "http://r", Token: secretTK, TokenFile: tokFile},
			map[string]string{"token_file": "SCHEMA_REGISTRY_TOKEN"}, nil},
		{"token and basic", Config{URL: "http://r", Username: "u", Password: secretPW, Token: secretTK},
			map[string]string{"token": "set only one"}, nil},
		{"token file and basic file", Config{URL: "http://r", Username: "u", PasswordFile: pwFile, TokenFile: tokFile},
			map[string]string{"token": "set only one"}, nil},
		{"tls files", Config{URL: "https://r", TLS: TLS{CAFile: pemFile, CertFile: pemFile, KeyFile: pemFile}}, nil, nil},
		{"tls with http", Config{URL: "http://r", TLS: TLS{CAFile: pemFile}}, map[string]string{"tls.ca_file": "not https"}, nil},
		{"tls unreadable", Config{URL: "https://r", TLS: TLS{CAFile: missing, CertFile: dir, KeyFile: pemFile}},
			map[string]string{"tls.ca_file": "cannot be read", "tls.cert_file": "directory"}, nil},
		{"cert without key", Config{URL: "https://r", TLS: TLS{CertFile: pemFile}}, map[string]string{"tls.key_file": "required"}, nil},
		{"key without cert", Config{URL: "https://r", TLS: TLS{KeyFile: pemFile}}, map[string]string{"tls.cert_file": "required"}, nil},
		{"strategies", Config{URL: "http://r", SubjectStrategy: " Topic_Record "}, nil, func(t *testing.T, c Config) {
			if c.SubjectStrategy != StrategyTopicRecord {
				t.Errorf("strategy %q", c.SubjectStrategy)
			}
		}},
		{"bad strategy", Config{URL: "http://r", SubjectStrategy: "TopicNameStrategy"}, map[string]string{"subject_strategy": "topic, record or topic_record"}, nil},
		{"negative timeout", Config{URL: "http://r", Timeout: -time.Second}, map[string]string{"timeout": "positive"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			got := map[string]string{}
			c.Validate(func(key, why string) {
				if _, dup := got[key]; dup {
					t.Errorf("%s reported twice", key)
				}
				got[key] = why
				for _, s := range []string{secretPW, secretTK} {
					if strings.Contains(key+why, s) {
						t.Errorf("report %s: %s contains a secret", key, why)
					}
				}
			})
			for key, part := range tt.want {
				if !strings.Contains(got[key], part) {
					t.Errorf("%s: got %q; want it to say %q", key, got[key], part)
				}
			}
			for key, why := range got {
				if _, ok := tt.want[key]; !ok {
					t.Errorf("unexpected report %s: %s", key, why)
				}
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// load loads the schema_registry section as a binary declares it, with env set.
func load(t *testing.T, env map[string]string, args ...string) (c Config, values string, err error) {
	t.Helper()
	t.Run("", func(t *testing.T) {
		for name, v := range env {
			t.Setenv(name, v)
		}
		l := config.NewLoader(config.Section{Name: "schema_registry", Config: &c})
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		l.RegisterFlags(fs)
		if perr := fs.Parse(args); perr != nil {
			t.Fatal(perr)
		}
		err = l.Load("", fs)
		var b strings.Builder
		if werr := l.WriteValues(&b); werr != nil {
			t.Fatal(werr)
		}
		values = b.String()
	})
	return c, values, err
}

func TestLoad(t *testing.T) {
	c, values, err := load(t, map[string]string{
		"SCHEMA_REGISTRY_URL": "https://sr.example.com:8081", "SCHEMA_REGISTRY_USERNAME": "alice",
		"SCHEMA_REGISTRY_PASSWORD": secretPW, "SCHEMA_REGISTRY_SUBJECT_STRATEGY": "record",
		"SCHEMA_REGISTRY_TIMEOUT": "3s",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "https://sr.example.com:8081" || c.Username != "alice" || c.Password.Reveal() != secretPW ||
		c.SubjectStrategy != StrategyRecord || c.Timeout != 3*time.Second || !c.Enabled() {
		t.Fatalf("loaded %+v", c)
	}
	if strings.Contains(values, secretPW) || !strings.Contains(values, "schema_registry.url") {
		t.Fatalf("printed values:\n%s", values)
	}

	c, _, err = load(t, nil)
	if err != nil || c.Enabled() || c.SubjectStrategy != StrategyTopic || c.Timeout != 10*time.Second {
		t.Fatalf("defaults: %+v, %v", c, err)
	}

	// The password is refused from a flag; a URL's credentials never reach an error.
	_, _, err = load(t, map[string]string{"SCHEMA_REGISTRY_URL": "ftp://bob:" + secretTK + "@h"}, "--schema_registry.password="+secretPW)
	if err == nil || !strings.Contains(err.Error(), "schema_registry.password") || !strings.Contains(err.Error(), "schema_registry.url") {
		t.Fatalf("err = %v; want the password flag and the url refused", err)
	}
	noSecret(t, err)
}

// The section binds to keys and environment variables as the issue names them, and the
// password is refused from a flag or file (env_only).
func TestSecretsRedacted(t *testing.T) {
	c := Config{Password: secretPW, Token: secretTK}
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, secretPW) || strings.Contains(s, secretTK) {
		t.Fatalf("formatted config shows a secret: %s", s)
	}
	var _ config.Sensitive = c.Password
}
