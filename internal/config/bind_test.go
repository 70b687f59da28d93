package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// flavors is a list-valued TextUnmarshaler, like catalog.Selection: "all" or a
// comma-separated subset of a, b, c.
type flavors []string

func (f *flavors) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "" || s == "all" {
		*f = flavors{"a", "b", "c"}
		return nil
	}
	var out flavors
	for _, x := range strings.Split(s, ",") {
		if x != "a" && x != "b" && x != "c" {
			return fmt.Errorf("unknown flavor (want a, b or c)")
		}
		out = append(out, x)
	}
	*f = out
	return nil
}

func (f flavors) MarshalText() ([]byte, error) { return []byte(strings.Join(f, ",")), nil }

// pin is a secret TextUnmarshaler whose error does not quote the value.
type pin string

func (p *pin) UnmarshalText(b []byte) error {
	if strings.Trim(string(b), "0123456789") != "" {
		return errors.New("must be digits only")
	}
	*p = pin(b)
	return nil
}

// sub is a nested section (bt.sub.*) that records what its Validate saw.
type sub struct {
	Name  string `config:"name" default:"in"`
	Count int    `config:"count" default:"1" min:"1" max:"5"`
	seen  string
}

func (s *sub) Validate(report func(key, why string)) {
	s.seen = s.Name
	if s.Name == "bad" {
		report("name", "is bad")
	}
}

// inline's keys are its parent's own (config:"").
type inline struct {
	Extra string `config:"extra"`
}

func (in *inline) Validate(report func(key, why string)) {
	if in.Extra == "bad" {
		report("extra", "is bad")
	}
}

// testConf exercises every supported field type.
type testConf struct {
	S      string        `config:"s" default:"def" help:"a string"`
	B      bool          `config:"b" help:"a bool"`
	BT     bool          `config:"bt" default:"true"`
	I      int           `config:"i" default:"5" min:"1" max:"10"`
	I8     int8          `config:"i8"`
	I64    int64         `config:"i64" default:"-1" min:"-1"`
	D      time.Duration `config:"d" default:"1s" min:"100ms"`
	W      time.Duration `config:"w" default:"auto" zero:"auto" min:"10ms"`
	T      time.Time     `config:"t"`
	L      []string      `config:"l" default:"a,b"`
	F      flavors       `config:"f" default:"all"`
	Once   bool          `config:"once" alias:"one"`
	Short  string        `config:"long_name" alias:"short"`
	Token  string        `config:"token" secret:"true" default:"tok-default-s3cr3t"`
	Pin    pin           `config:"pin" secret:"true"`
	PW     Sensitive     `config:"password" secret:"true" env_only:"true"`
	URI    string        `config:"uri" redact:"uri"`
	Preset string        `config:"preset"`
	Sub    sub           `config:"sub"`
	In     inline        `config:""`

	Ignored string // no tag: not a key
	Dash    string `config:"-"`

	derived string
	report  string // Validate reports this key relative to bt, when set
}

func (c *testConf) Validate(report func(key, why string)) {
	c.derived = "from " + c.S
	if c.report != "" {
		report(c.report, "was reported")
	}
}

// loadT loads one section "bt" of a testConf from env (set for the subtest), an
// optional file (YAML text) and args; it returns the struct, the loader and Load's error.
func loadT(t *testing.T, env map[string]string, yaml string, args ...string) (*testConf, *Loader, error) {
	t.Helper()
	c := &testConf{Preset: "preset-value"}
	return loadInto(t, c, env, yaml, args...)
}

func loadInto(t *testing.T, c *testConf, env map[string]string, yaml string, args ...string) (*testConf, *Loader, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	file := ""
	if yaml != "" {
		file = filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l := NewLoader(Section{Name: "bt", Config: c})
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	l.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c, l, l.Load(file, fs)
}

func TestBindTypes(t *testing.T) {
	date := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		env  map[string]string
		yaml string
		args []string
		// check returns what is wrong with c, or "".
		check func(c *testConf) string
		// errs are substrings the error must hold (the key and the reason); none: no error.
		errs []string
	}{
		{name: "defaults", check: func(c *testConf) string {
			want := testConf{S: "def", BT: true, I: 5, I64: -1, D: time.Second, L: []string{"a", "b"},
				F: flavors{"a", "b", "c"}, Token: "tok-default-s3cr3t", Preset: "preset-value", Sub: sub{Name: "in", Count: 1, seen: "in"},
				derived: "from def"}
			if !reflect.DeepEqual(*c, want) {
				return fmt.Sprintf("got %+v\nwant %+v", *c, want)
			}
			return ""
		}},
		{name: "string trimmed", env: map[string]string{"BT_S": "  x  "}, check: func(c *testConf) string { return wantEq(c.S, "x") }},
		{name: "bool env", env: map[string]string{"BT_B": "true", "BT_BT": "0"}, check: func(c *testConf) string {
			return wantEq(fmt.Sprint(c.B, c.BT), "true false")
		}},
		{name: "bool yaml", yaml: "bt:\n  b: true\n  bt: false\n", check: func(c *testConf) string {
			return wantEq(fmt.Sprint(c.B, c.BT), "true false")
		}},
		{name: "bool bad", env: map[string]string{"BT_B": "maybe"}, errs: []string{"bt.b", "BT_B", `"maybe"`, "must be true or false"}},
		{name: "int env", env: map[string]string{"BT_I": " 7 ", "BT_I8": "-128", "BT_I64": "9000000000"}, check: func(c *testConf) string {
			return wantEq(fmt.Sprint(c.I, c.I8, c.I64), "7 -128 9000000000")
		}},
		{name: "int yaml", yaml: "bt:\n  i: 10\n  i64: -1\n", check: func(c *testConf) string { return wantEq(fmt.Sprint(c.I, c.I64), "10 -1") }},
		{name: "int below min", env: map[string]string{"BT_I": "0"}, errs: []string{"bt.i", `"0"`, "must be between 1 and 10"}},
		{name: "int above max", yaml: "bt:\n  i: 11\n", errs: []string{"bt.i", "must be between 1 and 10"}},
		{name: "int below tag min", env: map[string]string{"BT_I64": "-2"}, errs: []string{"bt.i64", "must be between -1 and"}},
		{name: "int range of its size", env: map[string]string{"BT_I8": "200"}, errs: []string{"bt.i8", "must be between -128 and 127"}},
		{name: "int not a number", env: map[string]string{"BT_I": "five"}, errs: []string{"bt.i", `"five"`, "must be an integer"}},
		{name: "int fraction in yaml", yaml: "bt:\n  i: 2.5\n", errs: []string{"bt.i", "must be an integer"}},
		{name: "duration", env: map[string]string{"BT_D": "250ms"}, check: func(c *testConf) string { return wantEq(c.D.String(), "250ms") }},
		{name: "duration yaml", yaml: "bt:\n  d: 168h\n", check: func(c *testConf) string { return wantEq(c.D.String(), "168h0m0s") }},
		{name: "duration below min", env: map[string]string{"BT_D": "50ms"}, errs: []string{"bt.d", `"50ms"`, "must be at least 100ms"}},
		{name: "duration bad", env: map[string]string{"BT_D": "soon"}, errs: []string{"bt.d", `"soon"`, "must be a duration"}},
		{name: "zero auto default", check: func(c *testConf) string { return wantEq(c.W.String(), "0s") }},
		{name: "zero auto any case", env: map[string]string{"BT_W": "AUTO"}, check: func(c *testConf) string { return wantEq(c.W.String(), "0s") }},
		{name: "zero auto set", env: map[string]string{"BT_W": "2s"}, check: func(c *testConf) string { return wantEq(c.W.String(), "2s") }},
		{name: "zero auto min", env: map[string]string{"BT_W": "5ms"}, errs: []string{"bt.w", "must be at least 10ms"}},
		{name: "time date", env: map[string]string{"BT_T": "2024-06-01"}, check: func(c *testConf) string { return wantEq(c.T, date) }},
		{name: "time RFC 3339 to UTC", env: map[string]string{"BT_T": "2024-06-01T02:00:00+02:00"}, check: func(c *testConf) string { return wantEq(c.T, date) }},
		{name: "time yaml quoted", yaml: "bt:\n  t: \"2024-06-01\"\n", check: func(c *testConf) string { return wantEq(c.T, date) }},
		{name: "time yaml unquoted date", yaml: "bt:\n  t: 2024-06-01\n", check: func(c *testConf) string { return wantEq(c.T, date) }},
		{name: "time yaml unquoted timestamp", yaml: "bt:\n  t: 2024-06-01T02:00:00+02:00\n", check: func(c *testConf) string { return wantEq(c.T, date) }},
		{name: "time bad", env: map[string]string{"BT_T": "yesterday"}, errs: []string{"bt.t", `"yesterday"`, "RFC 3339"}},
		{name: "list yaml", yaml: "bt:\n  l: [x, \" y \"]\n", check: func(c *testConf) string { return wantEq(c.L, []string{"x", "y"}) }},
		{name: "list yaml comma string", yaml: "bt:\n  l: \"x, y\"\n", check: func(c *testConf) string { return wantEq(c.L, []string{"x", "y"}) }},
		{name: "list env comma string", env: map[string]string{"BT_L": "x, y,,z"}, check: func(c *testConf) string { return wantEq(c.L, []string{"x", "y", "z"}) }},
		{name: "list flag", args: []string{"--bt.l", "p,q"}, check: func(c *testConf) string { return wantEq(c.L, []string{"p", "q"}) }},
		{name: "unmarshaler env", env: map[string]string{"BT_F": "c, a"}, check: func(c *testConf) string { return wantEq(c.F, flavors{"c", "a"}) }},
		{name: "unmarshaler yaml list", yaml: "bt:\n  f: [b, c]\n", check: func(c *testConf) string { return wantEq(c.F, flavors{"b", "c"}) }},
		{name: "unmarshaler bad", env: map[string]string{"BT_F": "a,z"}, errs: []string{"bt.f", `"a,z"`, "unknown flavor"}},
		{name: "secret unmarshaler", env: map[string]string{"BT_PIN": "1234"}, check: func(c *testConf) string { return wantEq(string(c.Pin), "1234") }},
		{name: "sensitive keeps spaces", env: map[string]string{"BT_PASSWORD": " pw "}, check: func(c *testConf) string { return wantEq(c.PW.Reveal(), " pw ") }},
		{name: "nested section", env: map[string]string{"BT_SUB_NAME": "n", "BT_SUB_COUNT": "5"}, check: func(c *testConf) string {
			return wantEq(fmt.Sprintf("%s %d", c.Sub.Name, c.Sub.Count), "n 5")
		}},
		{name: "nested section bounds", yaml: "bt:\n  sub:\n    count: 6\n", errs: []string{"bt.sub.count", "must be between 1 and 5"}},
		{name: "inline section", env: map[string]string{"BT_EXTRA": "e"}, check: func(c *testConf) string { return wantEq(c.In.Extra, "e") }},
		{name: "single value wanted", yaml: "bt:\n  s: [x, y]\n", errs: []string{"bt.s", "must be a single value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := loadT(t, tc.env, tc.yaml, tc.args...)
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if why := tc.check(c); why != "" {
					t.Fatal(why)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want an error with %q", tc.errs)
			}
			for _, s := range tc.errs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q:\n%v", s, err)
				}
			}
		})
	}
}

func wantEq(got, want any) string {
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("got %#v, want %#v", got, want)
	}
	return ""
}

func TestBindPrecedence(t *testing.T) {
	const file = "bt:\n  s: file\n  i: 2\n  once: false\n"
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		args       []string
		want       string // S, I, Once
	}{
		{name: "default", want: "def 5 false"},
		{name: "file over default", yaml: file, want: "file 2 false"},
		{name: "env over file", yaml: file, env: map[string]string{"BT_S": "env", "BT_I": "3", "BT_ONCE": "true"}, want: "env 3 true"},
		{name: "flag over env", yaml: file, env: map[string]string{"BT_S": "env", "BT_I": "3", "BT_ONCE": "true"},
			args: []string{"--bt.s", "flag", "--bt.i", "4", "--bt.once=false"}, want: "flag 4 false"},
		{name: "flag set to empty", env: map[string]string{"BT_S": "env"}, args: []string{"--bt.s", ""}, want: " 5 false"},
		{name: "unset flags do not count", yaml: file, args: []string{"--bt.d", "2s"}, want: "file 2 false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := loadT(t, tc.env, tc.yaml, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(c.S, " ", c.I, " ", c.Once); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBindFlags(t *testing.T) {
	c := &testConf{}
	l := NewLoader(Section{Name: "bt", Config: c})
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	l.RegisterFlags(fs)
	for name, def := range map[string]string{
		"bt.s": "def", "bt.b": "false", "bt.bt": "true", "bt.i": "5", "bt.l": "a,b", "bt.w": "auto", "bt.sub.count": "1",
		"one": "false", "short": "", "bt.long_name": "",
		"bt.token": "", // a secret's default is not shown
	} {
		f := fs.Lookup(name)
		if f == nil {
			t.Errorf("no flag --%s", name)
			continue
		}
		if f.DefValue != def {
			t.Errorf("--%s default %q, want %q", name, f.DefValue, def)
		}
	}
	if f := fs.Lookup("bt.s"); f == nil || !strings.Contains(f.Usage, "a string") || !strings.Contains(f.Usage, "BT_S") {
		t.Errorf("usage of --bt.s: %+v", f)
	}
	for _, name := range []string{"bt.ignored", "bt.dash", "bt.derived", "bt", "bt.sub", "bt.in"} {
		if fs.Lookup(name) != nil {
			t.Errorf("unexpected flag --%s", name)
		}
	}
	if fs.Lookup("bt.extra") == nil {
		t.Error("inline key bt.extra has no flag")
	}

	// Alias flags set their key; a boolean alias needs no value.
	c, _, err := loadT(t, nil, "", "--one", "--short", "via-alias")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Once || c.Short != "via-alias" {
		t.Fatalf("aliases not applied: once=%v long_name=%q", c.Once, c.Short)
	}
	// Flags that belong to no key (e.g. --config) are ignored by the loader.
	fs = pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("config", "", "")
	l = NewLoader(Section{Name: "bt", Config: &testConf{}})
	l.RegisterFlags(fs)
	if err := fs.Parse([]string{"--config", "x"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Load("", fs); err != nil {
		t.Fatal(err)
	}
}

func TestBindKeys(t *testing.T) {
	l := NewLoader(Section{Name: "bt", Config: &testConf{Preset: "p"}}, Section{Name: "aa", Config: &sub{}})
	var names []string
	byName := map[string]Key{}
	for _, k := range l.Keys() {
		names = append(names, k.Name)
		byName[k.Name] = k
	}
	if !slices.IsSorted(names) {
		t.Errorf("keys not sorted: %v", names)
	}
	want := []string{"aa.count", "aa.name", "bt.b", "bt.bt", "bt.d", "bt.extra", "bt.f", "bt.i", "bt.i64", "bt.i8", "bt.l",
		"bt.long_name", "bt.once", "bt.password", "bt.pin", "bt.preset", "bt.s", "bt.sub.count", "bt.sub.name", "bt.t",
		"bt.token", "bt.uri", "bt.w"}
	if !slices.Equal(names, want) {
		t.Fatalf("keys\n%v\nwant\n%v", names, want)
	}
	for name, def := range map[string]any{
		"bt.s": "def", "bt.b": false, "bt.bt": true, "bt.i": "5", "bt.l": []string{"a", "b"}, "bt.t": "", "bt.w": "auto",
		"bt.preset": "p", // the value before loading, when no tag says otherwise
		"aa.name":   "in",
	} {
		if got := byName[name].Default; !reflect.DeepEqual(got, def) {
			t.Errorf("%s default %#v, want %#v", name, got, def)
		}
	}
	if k := byName["bt.sub.count"]; k.Env() != "BT_SUB_COUNT" {
		t.Errorf("env of bt.sub.count: %s", k.Env())
	}
	if !byName["bt.token"].Secret || !byName["bt.password"].Secret || byName["bt.s"].Secret {
		t.Error("secret marks wrong")
	}
	if byName["bt.uri"].Redact == nil || byName["bt.once"].Alias != "one" || byName["bt.s"].Help != "a string" {
		t.Error("redact, alias or help not bound")
	}
}

func TestBindUnknownKeysInFile(t *testing.T) {
	_, _, err := loadT(t, map[string]string{"BT_I": "99"}, "bt:\n  s: x\n  typo: 1\n  sub:\n    nmae: y\nother:\n  k: 1\n")
	if err == nil {
		t.Fatal("unknown keys accepted")
	}
	for _, s := range []string{`unknown key "bt.typo"`, `unknown key "bt.sub.nmae"`, `unknown key "other.k"`, "bt.i"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %s:\n%v", s, err)
		}
	}
	// A file named explicitly must exist.
	l := NewLoader(Section{Name: "bt", Config: &testConf{}})
	if err := l.Load(filepath.Join(t.TempDir(), "missing.yaml"), nil); err == nil || !strings.Contains(err.Error(), "config file") {
		t.Fatalf("missing file: %v", err)
	}
	// A file that is not YAML.
	f := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(f, []byte("bt: [unclosed\n"), 0o600)
	if err := NewLoader(Section{Name: "bt", Config: &testConf{}}).Load(f, nil); err == nil || !strings.Contains(err.Error(), f) {
		t.Fatalf("bad YAML: %v", err)
	}
}

const secret = "s3cr3t-Value"

func TestBindSecretsNeverShown(t *testing.T) {
	// Values rejected by the loader and by Validate, from every source.
	for _, tc := range []struct {
		name string
		env  map[string]string
		yaml string
		args []string
		c    *testConf
		key  string
	}{
		{name: "secret unmarshaler rejects", env: map[string]string{"BT_PIN": secret}, key: "bt.pin"},
		{name: "validate reports a secret", env: map[string]string{"BT_TOKEN": secret}, c: &testConf{report: "token"}, key: "bt.token"},
		{name: "env only from file", yaml: "bt:\n  password: " + secret + "\n", key: "bt.password"},
		{name: "env only from flag", args: []string{"--bt.password", secret}, key: "bt.password"},
		{name: "redacted URI", env: map[string]string{"BT_URI": "pg://u:" + secret + "@h/db?password=" + secret}, c: &testConf{report: "uri"}, key: "bt.uri"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			if c == nil {
				c = &testConf{}
			}
			_, l, err := loadInto(t, c, tc.env, tc.yaml, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("want an error naming %s: %v", tc.key, err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the secret:\n%v", err)
			}
			var sb strings.Builder
			if err := l.WriteValues(&sb); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(sb.String(), secret) {
				t.Fatalf("WriteValues shows the secret:\n%s", sb.String())
			}
		})
	}

	// Accepted secrets print as ***, an empty one as nothing; URIs lose their credentials.
	c, l, err := loadT(t, map[string]string{"BT_TOKEN": secret, "BT_PASSWORD": secret, "BT_PIN": "4711",
		"BT_URI": "pg://u:" + secret + "@h/db?sslmode=off&password=" + secret}, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Token != secret || c.PW.Reveal() != secret {
		t.Fatalf("secrets not loaded: %q %q", c.Token, c.PW.Reveal())
	}
	vals := values(t, l)
	for key, want := range map[string]string{"bt.token": "***", "bt.password": "***", "bt.pin": "***",
		"bt.uri": "pg://%2A%2A%2A@h/db?password=%2A%2A%2A&sslmode=off"} {
		if got := vals[key]; got != want {
			t.Errorf("%s shown as %q, want %q", key, got, want)
		}
	}
	_, l, err = loadT(t, map[string]string{"BT_TOKEN": ""}, "", "--bt.token", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := values(t, l)["bt.token"]; got != "" {
		t.Errorf("empty secret shown as %q", got)
	}
}

// values returns WriteValues' value column by key, checking each line's key and
// environment variable.
func values(t *testing.T, l *Loader) map[string]string {
	t.Helper()
	var sb strings.Builder
	if err := l.WriteValues(&sb); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(sb.String(), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || f[1] != (Key{Name: f[0]}).Env() {
			t.Fatalf("WriteValues line %q: want key, env, value", line)
		}
		out[f[0]] = f[2]
	}
	return out
}

func TestBindWriteValues(t *testing.T) {
	_, l, err := loadT(t, map[string]string{"BT_T": "2024-06-01", "BT_F": "b,a", "BT_D": "90s"}, "")
	if err != nil {
		t.Fatal(err)
	}
	vals := values(t, l)
	for key, want := range map[string]string{"bt.s": "def", "bt.b": "false", "bt.bt": "true", "bt.i": "5", "bt.i64": "-1",
		"bt.d": "1m30s", "bt.w": "auto", "bt.t": "2024-06-01T00:00:00Z", "bt.l": "a,b", "bt.f": "b,a", "bt.sub.name": "in",
		"bt.extra": "", "bt.preset": "preset-value"} {
		if got, ok := vals[key]; !ok || got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if len(vals) != len(l.Keys()) {
		t.Errorf("WriteValues wrote %d keys, the loader has %d", len(vals), len(l.Keys()))
	}
	// What WriteValues prints loads back to the same values.
	env := map[string]string{}
	for _, k := range l.Keys() {
		if v := vals[k.Name]; v != "" && !k.Secret {
			env[k.Env()] = v
		}
	}
	t.Run("round trip", func(t *testing.T) {
		_, l2, err := loadT(t, env, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := values(t, l2); !reflect.DeepEqual(got, vals) {
			t.Fatalf("round trip:\n%v\nwant\n%v", got, vals)
		}
	})
}

func TestBindEnvOnly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    map[string]string
		yaml   string
		args   []string
		wantPW string
		errs   []string
	}{
		{name: "environment", env: map[string]string{"BT_PASSWORD": "pw"}, wantPW: "pw"},
		{name: "file", yaml: "bt:\n  password: pw\n",
			errs: []string{"bt.password", "must be set only through the environment variable BT_PASSWORD", "not in a config file or flag"}},
		{name: "flag", args: []string{"--bt.password", "pw"}, errs: []string{"bt.password", "BT_PASSWORD"}},
		{name: "flag other than env", env: map[string]string{"BT_PASSWORD": "env"}, args: []string{"--bt.password", "pw"},
			errs: []string{"bt.password", "not in a config file"}},
		{name: "env over file", env: map[string]string{"BT_PASSWORD": "pw"}, yaml: "bt:\n  password: other\n", wantPW: "pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := loadT(t, tc.env, tc.yaml, tc.args...)
			if len(tc.errs) == 0 {
				if err != nil || c.PW.Reveal() != tc.wantPW {
					t.Fatalf("password %q, %v", c.PW.Reveal(), err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, s := range tc.errs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q:\n%v", s, err)
				}
			}
			if strings.Contains(err.Error(), "pw\"") || c.PW != "" {
				t.Errorf("refused value shown or kept: %q\n%v", c.PW.Reveal(), err)
			}
		})
	}
}

func TestBindValidate(t *testing.T) {
	// Every struct of a section validates itself after loading, with keys relative to
	// its own section; the reports come back under their full key.
	t.Run("reports", func(t *testing.T) {
		_, _, err := loadInto(t, &testConf{report: "s"}, map[string]string{"BT_SUB_NAME": "bad", "BT_EXTRA": "bad"}, "")
		if err == nil {
			t.Fatal("accepted")
		}
		for _, s := range []string{`config key bt.s (env BT_S): invalid value "def": was reported`,
			`config key bt.sub.name (env BT_SUB_NAME): invalid value "bad": is bad`,
			`config key bt.extra (env BT_EXTRA): invalid value "bad": is bad`} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error lacks %s:\n%v", s, err)
			}
		}
	})
	// Validate sees the loaded values, and may complete derived ones.
	t.Run("sees loaded values", func(t *testing.T) {
		c, _, err := loadT(t, map[string]string{"BT_S": "x", "BT_SUB_NAME": "y"}, "")
		if err != nil {
			t.Fatal(err)
		}
		if c.derived != "from x" || c.Sub.seen != "y" {
			t.Fatalf("Validate ran before loading: derived %q, seen %q", c.derived, c.Sub.seen)
		}
	})
	// A key whose value was refused is not reported again: Validate saw a stand-in.
	t.Run("refused values", func(t *testing.T) {
		_, _, err := loadInto(t, &testConf{report: "i"}, map[string]string{"BT_I": "x"}, "")
		if err == nil || strings.Contains(err.Error(), "was reported") || !strings.Contains(err.Error(), "bt.i") {
			t.Fatalf("want only the refusal of bt.i: %v", err)
		}
		_, _, err = loadInto(t, &testConf{report: "password"}, nil, "bt:\n  password: x\n")
		if err == nil || strings.Contains(err.Error(), "was reported") || !strings.Contains(err.Error(), "not in a config file") {
			t.Fatalf("want only the refusal of bt.password: %v", err)
		}
	})
	// A key a Validate reports must exist.
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "bt.nokey") {
				t.Errorf("report of an undeclared key: %v", r)
			}
		}()
		loadInto(t, &testConf{report: "nokey"}, nil, "")
	}()
}

func TestBindKnownOnly(t *testing.T) {
	t.Setenv("ACCT_COUNT", "not-a-number")
	t.Setenv("BT_S", "loaded")
	acct := &sub{Name: "bad"} // would fail its Validate, and its count
	c := &testConf{}
	l := NewLoader(Section{Name: "acct", Config: acct, KnownOnly: true}, Section{Name: "bt", Config: c})
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	l.RegisterFlags(fs)
	if fs.Lookup("acct.name") == nil {
		t.Error("a known-only key has no flag")
	}
	if err := fs.Parse([]string{"--acct.count", "99"}); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(f, []byte("acct:\n  name: x\n  count: 0\nbt:\n  i: 3\n"), 0o600)
	if err := l.Load(f, fs); err != nil {
		t.Fatalf("known-only keys not accepted: %v", err)
	}
	if acct.Name != "bad" || acct.Count != 0 || acct.seen != "" {
		t.Fatalf("known-only section loaded or validated: %+v", *acct)
	}
	if c.S != "loaded" || c.I != 3 {
		t.Fatalf("other section not loaded: %+v", *c)
	}
	if !slices.ContainsFunc(l.Keys(), func(k Key) bool { return k.Name == "acct.count" }) {
		t.Error("Keys lacks the known-only keys")
	}
	if _, ok := values(t, l)["acct.name"]; ok {
		t.Error("WriteValues shows a known-only key")
	}
}

func TestBindDuplicateKeyPanics(t *testing.T) {
	type twice struct {
		A   string `config:"a"`
		Sub struct {
			B string `config:"b"`
		} `config:"x"`
	}
	type clash struct {
		B string `config:"x.b"`
	}
	for _, tc := range []struct {
		name     string
		sections []Section
		key      string
	}{
		{name: "same section twice", sections: []Section{{Name: "s", Config: &twice{}}, {Name: "s", Config: &twice{}}}, key: "s.a"},
		{name: "nested clash", sections: []Section{{Name: "s", Config: &twice{}}, {Name: "s", Config: &clash{}}}, key: "s.x.b"},
		{name: "known-only too", sections: []Section{{Name: "s", Config: &twice{}, KnownOnly: true}, {Name: "s", Config: &twice{}}}, key: "s.a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "declared twice: "+tc.key) {
					t.Fatalf("panic %v, want key declared twice: %s", r, tc.key)
				}
			}()
			NewLoader(tc.sections...)
		})
	}
}

func TestBindAllErrorsAtOnce(t *testing.T) {
	_, _, err := loadInto(t, &testConf{report: "uri"}, map[string]string{
		"BT_B": "maybe", "BT_I": "0", "BT_I8": "x", "BT_D": "soon", "BT_W": "1ms", "BT_T": "later", "BT_F": "z",
		"BT_PIN": "abc", "BT_SUB_NAME": "bad", "BT_SUB_COUNT": "9", "BT_EXTRA": "bad",
	}, "bt:\n  typo: 1\n  password: "+secret+"\n")
	if err == nil {
		t.Fatal("accepted")
	}
	keys := []string{`"bt.typo"`, "bt.b ", "bt.i ", "bt.i8 ", "bt.d ", "bt.w ", "bt.t ", "bt.f ", "bt.pin ", "bt.password ",
		"bt.sub.name ", "bt.sub.count ", "bt.extra ", "bt.uri "}
	for _, k := range keys {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s:\n%v", k, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(keys) {
		t.Errorf("%d errors, want one per key (%d):\n%v", n, len(keys), err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the secret:\n%v", err)
	}
}
