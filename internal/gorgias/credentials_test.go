package gorgias

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		name    string
		uri     string
		want    Credentials
		wantErr []string // substrings of the error; nil means success
	}{
		{"plain domain", "gorgias://acme?api_key=" + testKey + "&email=sim@example.com",
			Credentials{"acme", "sim@example.com", testKey}, nil},
		{"full host", "gorgias://acme.gorgias.com?api_key=" + testKey + "&email=sim@example.com",
			Credentials{"acme", "sim@example.com", testKey}, nil},
		{"upper case host and scheme, trailing slash", "GORGIAS://Acme.Gorgias.com/?email=sim@example.com&api_key=" + testKey,
			Credentials{"acme", "sim@example.com", testKey}, nil},
		{"url-encoded values", "gorgias://acme?api_key=a%2Fb%3Dc%26d&email=sim%40example.com",
			Credentials{"acme", "sim@example.com", "a/b=c&d"}, nil},
		{"plus kept literally", "gorgias://acme?api_key=ab+cd&email=sim+test@example.com",
			Credentials{"acme", "sim+test@example.com", "ab+cd"}, nil},
		{"encoded plus", "gorgias://acme?api_key=k&email=sim%2Btest%40example.com",
			Credentials{"acme", "sim+test@example.com", "k"}, nil},
		{"extra params ignored, whitespace trimmed", "  gorgias://acme?foo=bar&api_key=" + testKey + "&email=sim@example.com  ",
			Credentials{"acme", "sim@example.com", testKey}, nil},
		{"missing domain", "gorgias://?api_key=" + testKey + "&email=sim@example.com", Credentials{}, []string{"missing domain"}},
		{"missing key", "gorgias://acme?email=sim@example.com", Credentials{}, []string{"missing api_key"}},
		{"empty key", "gorgias://acme?api_key=&email=sim@example.com", Credentials{}, []string{"missing api_key"}},
		{"missing email", "gorgias://acme?api_key=" + testKey, Credentials{}, []string{"missing email"}},
		{"missing everything", "gorgias://", Credentials{}, []string{"domain", "api_key", "email"}},
		{"wrong scheme", "https://acme?api_key=" + testKey + "&email=sim@example.com", Credentials{}, []string{"scheme must be gorgias://"}},
		{"no slashes", "gorgias:acme?api_key=" + testKey + "&email=e@x.io", Credentials{}, []string{"missing //"}},
		{"unparseable", "gorgias://ac me\x7f?api_key=" + testKey, Credentials{}, []string{"cannot parse"}},
		{"bad escape in key", "gorgias://acme?api_key=" + testKey + "%zz&email=e@x.io", Credentials{}, []string{"api_key value is not validly percent-encoded"}},
		{"hash in key", "gorgias://acme?api_key=" + testKey + "#frag&email=e@x.io", Credentials{}, []string{"'#'"}},
		{"duplicate key", "gorgias://acme?api_key=" + testKey + "&api_key=" + testKey + "&email=e@x.io", Credentials{}, []string{"more than once"}},
		{"bad domain", "gorgias://acme.example.com?api_key=" + testKey + "&email=e@x.io", Credentials{}, []string{"account subdomain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURI(tt.uri)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ParseURI: %v", err)
				}
				if got != tt.want {
					t.Fatalf("got %#v, want %#v (keys equal: %v)", got, tt.want, got.APIKey == tt.want.APIKey)
				}
				return
			}
			if err == nil {
				t.Fatalf("want error, got %v", got)
			}
			if !errors.Is(err, ErrInvalidURI) {
				t.Errorf("error %v does not wrap ErrInvalidURI", err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			assertNoSecret(t, "ParseURI error", err.Error())
			if strings.Contains(err.Error(), "gorgias://acme?") {
				t.Errorf("error echoes the raw URI: %v", err)
			}
		})
	}
}

func TestCredentialsNeverPrintKey(t *testing.T) {
	c := testCreds()
	cfg := Config{Credentials: c, BaseURL: "http://gorgias.test"}
	outs := map[string]string{
		"%v":     fmt.Sprintf("%v", c),
		"%+v":    fmt.Sprintf("%+v", c),
		"%#v":    fmt.Sprintf("%#v", c),
		"%s":     fmt.Sprintf("%s", c),
		"%q":     fmt.Sprintf("%q", c),
		"%d":     fmt.Sprintf("%d", c),
		"%x":     fmt.Sprintf("%x", c),
		"ptr":    fmt.Sprintf("%v %+v %#v", &c, &c, &c),
		"cfg":    fmt.Sprintf("%v %+v %#v", cfg, cfg, &cfg),
		"Sprint": fmt.Sprint(c, []Credentials{c}, map[string]Credentials{"a": c}),
	}
	j, err := json.Marshal(cfg.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	outs["json"] = string(j)
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("creds", "creds", c, "ptr", &c, "cfg", cfg)
	}
	outs["slog"] = buf.String()
	for name, s := range outs {
		assertNoSecret(t, name, s)
		if name != "%x" && !strings.Contains(s, testEmail) {
			t.Errorf("%s output %q lost the e-mail (redaction too broad?)", name, s)
		}
	}
	if got, want := c.String(), "acme (sim@example.com, api_key=***)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !strings.Contains(outs["slog"], "api_key=***") {
		t.Errorf("slog output lacks redacted api_key: %s", outs["slog"])
	}
}

func TestClientNeverPrintsKey(t *testing.T) {
	var logs logBuffer
	c := newTestClient(t, Config{Logger: debugLogger(&logs)})
	s := fmt.Sprintf("%v %+v %#v %s %v", c, c, c, c, *c)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("client", "c", c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("client", "c", c, "v", *c)
	assertNoSecret(t, "client print", s)
	assertNoSecret(t, "client log", logs.String())
	if !strings.Contains(s, "acme") {
		t.Errorf("client print lacks domain: %s", s)
	}
}

func TestNewClientValidation(t *testing.T) {
	good := testCreds()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" means success
		wantURL string
	}{
		{"defaults", Config{Credentials: good}, "", "https://acme.gorgias.com/api"},
		{"host override", Config{Credentials: good, BaseURL: "http://127.0.0.1:8089"}, "", "http://127.0.0.1:8089/api"},
		{"api override", Config{Credentials: good, BaseURL: "http://127.0.0.1:8089/api/"}, "", "http://127.0.0.1:8089/api"},
		{"prefix override", Config{Credentials: good, BaseURL: "https://proxy.example/gorgias"}, "", "https://proxy.example/gorgias/api"},
		{"domain normalized", Config{Credentials: Credentials{"ACME.gorgias.com", testEmail, testKey}}, "", "https://acme.gorgias.com/api"},
		{"no domain", Config{Credentials: Credentials{"", testEmail, testKey}}, "domain is required", ""},
		{"bad domain", Config{Credentials: Credentials{"a/b", testEmail, testKey}}, "account subdomain", ""},
		{"no email", Config{Credentials: Credentials{"acme", "", testKey}}, "email is required", ""},
		{"colon email", Config{Credentials: Credentials{"acme", "a:b@x.io", testKey}}, "must not contain ':'", ""},
		{"no key", Config{Credentials: Credentials{"acme", testEmail, ""}}, "api key is required", ""},
		{"key whitespace", Config{Credentials: Credentials{"acme", testEmail, testKey + "\n"}}, "whitespace", ""},
		{"bad scheme", Config{Credentials: good, BaseURL: "ftp://x/api"}, "http or https", ""},
		{"userinfo", Config{Credentials: good, BaseURL: "https://u:" + testKey + "@x/api"}, "user info", ""},
		{"query", Config{Credentials: good, BaseURL: "https://x/api?a=b"}, "query", ""},
		{"no host", Config{Credentials: good, BaseURL: "http:///api"}, "no host", ""},
		{"unparseable", Config{Credentials: good, BaseURL: "http://[::1"}, "does not parse", ""},
		{"negative", Config{Credentials: good, MaxRetries: -1, RequestTimeout: -1}, "MaxRetries must not be negative", ""},
		{"margin", Config{Credentials: good, RateLimit: 5, SafetyMargin: 5}, "SafetyMargin", ""},
		{"backoff", Config{Credentials: good, BackoffBase: 2e9, BackoffMax: 1e9}, "BackoffMax", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewClient: %v", err)
				}
				if c.BaseURL() != tt.wantURL {
					t.Errorf("BaseURL = %q, want %q", c.BaseURL(), tt.wantURL)
				}
				if c.Domain() != "acme" {
					t.Errorf("Domain = %q", c.Domain())
				}
				return
			}
			if err == nil {
				t.Fatal("want error")
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q: want ErrInvalidConfig mentioning %q", err, tt.wantErr)
			}
			assertNoSecret(t, "NewClient error", err.Error())
		})
	}
}
