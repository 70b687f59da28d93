package postgressink

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
)

// secret is a password with characters that need percent-encoding; its encoded form
// must not leak either.
const secret = "Pa55:w/rd@Secret%"

var secretEnc = url.QueryEscape(secret)

// noSecret fails when any form of the password shows in what.
func noSecret(t *testing.T, what string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, secret, secretEnc, url.PathEscape(secret), "Pa55") {
		if strings.Contains(what, s) {
			t.Fatalf("the password (%q) shows in %q", s, what)
		}
	}
}

func TestParseURI(t *testing.T) {
	enc := url.UserPassword("u", secret).String() // u:<encoded secret>
	for _, tc := range []struct {
		name      string
		uri       string
		cfgPW     config.Sensitive
		host      string
		port      uint16
		db, user  string
		password  string
		ignoredPW bool
		timeout   time.Duration
	}{
		{name: "ingestr form", uri: "postgresql://" + enc + "@db.example.com:6543/warehouse?sslmode=disable",
			host: "db.example.com", port: 6543, db: "warehouse", user: "u", password: secret, timeout: DefaultConnectTimeout},
		{name: "postgres scheme, default port", uri: "postgres://u:pw@localhost/d?sslmode=disable",
			host: "localhost", port: 5432, db: "d", user: "u", password: "pw", timeout: DefaultConnectTimeout},
		{name: "scheme in capitals", uri: "PostgreSQL://u:pw@h:1/d?sslmode=disable",
			host: "h", port: 1, db: "d", user: "u", password: "pw", timeout: DefaultConnectTimeout},
		{name: "password from configuration", uri: "postgresql://u@h:5432/d?sslmode=disable", cfgPW: secret,
			host: "h", port: 5432, db: "d", user: "u", password: secret, timeout: DefaultConnectTimeout},
		{name: "the URI's password wins", uri: "postgresql://u:uripw@h:5432/d?sslmode=disable", cfgPW: secret,
			host: "h", port: 5432, db: "d", user: "u", password: "uripw", ignoredPW: true, timeout: DefaultConnectTimeout},
		{name: "connect_timeout kept", uri: "postgresql://u:pw@h/d?sslmode=disable&connect_timeout=3",
			host: "h", port: 5432, db: "d", user: "u", password: "pw", timeout: 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := parseURI(tc.uri, tc.cfgPW)
			if err != nil {
				t.Fatal(err)
			}
			c := tg.conn
			if c.Host != tc.host || c.Port != tc.port || c.Database != tc.db || c.User != tc.user || c.Password != tc.password {
				t.Fatalf("got %s:%d/%s user %s password %q", c.Host, c.Port, c.Database, c.User, c.Password)
			}
			if tg.ignoredConfigPassword != tc.ignoredPW || c.ConnectTimeout != tc.timeout {
				t.Fatalf("ignored config password %v, connect timeout %s", tg.ignoredConfigPassword, c.ConnectTimeout)
			}
			if c.RuntimeParams["application_name"] != "gorgias-kafka" || c.RuntimeParams["temp_buffers"] == "" {
				t.Fatalf("session parameters %v", c.RuntimeParams)
			}
			noSecret(t, tg.shown, tc.password)
			if !strings.Contains(tg.shown, tc.host) {
				t.Fatalf("shown URI %q lacks the host", tg.shown)
			}
		})
	}
}

func TestParseURIErrorsHideThePassword(t *testing.T) {
	enc := url.UserPassword("u", secret).String()
	for _, tc := range []struct {
		name, uri, want string
	}{
		{"other scheme", "mysql://" + enc + "@h/d", "scheme must be postgresql"},
		{"key=value string", "host=h user=u password=" + secretEnc, "expected postgresql://"},
		{"bad port", "postgresql://" + enc + "@h:port" + secretEnc + "/d", "not a valid URL"},
		{"unencoded password", "postgresql://u:" + secret + "@h/d", ""},
		{"bad escape in the password", "postgresql://u:Pa55%zz" + secretEnc + "@h/d", "not a valid URL"},
		{"bad sslmode", "postgresql://" + enc + "@h/d?sslmode=nope", "sslmode"},
		{"unknown parameter", "postgresql://" + enc + "@h/d?sslmode=disable&sslcompression=" + secretEnc + "&port=x", "invalid port"},
		{"password in the query, bad sslmode", "postgresql://u@h/d?password=" + secretEnc + "&sslmode=nope", "sslmode"},
		{"path with two names", "postgresql://" + enc + "@h/d/x", "one database name"},
		{"opaque", "postgresql:" + enc + "@h/d", "expected postgresql://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseURI(tc.uri, secret)
			if err == nil {
				if tc.want == "" {
					return // net/url may make sense of it; nothing to leak then
				}
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrBadURI) {
				t.Fatalf("%v does not wrap ErrBadURI", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%q does not say %q", err, tc.want)
			}
			for _, form := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				noSecret(t, form)
			}
		})
	}
}

func TestRedactor(t *testing.T) {
	var r redactor
	r.add(secret)
	inner := errors.New("boom " + secretEnc + " and " + secret)
	err := r.err(fmt.Errorf("wrapped: %w", inner))
	noSecret(t, err.Error())
	if !errors.Is(err, inner) {
		t.Fatal("scrubbed error lost errors.Is")
	}
	if errors.Unwrap(err) != nil {
		t.Fatal("scrubbed error unwraps to the original")
	}
	plain := errors.New("nothing secret")
	if r.err(plain) != plain {
		t.Fatal("an error without secrets was replaced")
	}
}

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	good := dir + "/pw"
	empty := dir + "/empty"
	writeFile(t, good, secret+"\n")
	writeFile(t, empty, "\n")
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"nothing", Config{}, ""},
		{"password", Config{Password: secret}, ""},
		{"file", Config{PasswordFile: good}, ""},
		{"both", Config{Password: secret, PasswordFile: good}, "set only one"},
		{"empty file", Config{PasswordFile: empty}, "is empty"},
		{"missing file", Config{PasswordFile: dir + "/none"}, "cannot be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			tc.cfg.Validate(func(key, why string) { got = append(got, key+": "+why) })
			switch {
			case tc.want == "" && len(got) > 0:
				t.Fatalf("reported %v", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want) || !strings.HasPrefix(got[0], "password_file: ")):
				t.Fatalf("reported %v, want password_file: ...%s", got, tc.want)
			}
			for _, g := range got {
				noSecret(t, g)
			}
			noSecret(t, fmt.Sprintf("%v %+v %#v", tc.cfg, tc.cfg, tc.cfg))
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
