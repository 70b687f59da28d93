// Package config loads the connector's configuration: defaults, then a YAML file, then
// environment variables, then command-line flags (viper), into typed structs.
//
// Every key has a default, an environment variable (the key upper-cased with dots as
// underscores: kafka.brokers → KAFKA_BROKERS) and a flag (--kafka.brokers). Values are
// parsed strictly: a bad value is reported, with its key, together with every other
// problem, never silently replaced. Secret values never appear in errors or String().
package config

import (
	"encoding"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Key declares one configuration key.
type Key struct {
	// Name is the dotted key, e.g. "kafka.brokers".
	Name string
	// Default is the value used when nothing else sets the key.
	Default any
	// Help is the one-line description used for flags and documentation.
	Help string
	// Secret keys are never echoed in errors or dumps.
	Secret bool
	// Alias is an extra, shorter flag name (e.g. "once" for producer.once).
	Alias string
	// Redact, if set, rewrites the value before it appears in an error (e.g. hides a
	// password inside a URI).
	Redact func(string) string
}

// Env returns the environment variable of the key.
func (k Key) Env() string { return strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_")) }

// Loader reads the keys of its sections through viper, converts them into the
// sections' structs and validates them, collecting every error.
type Loader struct {
	v           *viper.Viper
	keys        map[string]Key
	order       []string
	bindings    []binding
	validations []validation
	errs        []error
	rejected    map[string]bool // keys whose value was refused
}

// NewLoader returns a loader of the sections' keys, with their defaults set and their
// environment variables bound. It panics when two sections declare one key.
func NewLoader(sections ...Section) *Loader {
	v := viper.New()
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	l := &Loader{v: v, keys: map[string]Key{}, rejected: map[string]bool{}}
	for _, s := range sections {
		bs, vs := bind(s.Name+".", reflect.ValueOf(s.Config).Elem(), s.KnownOnly)
		for _, b := range bs {
			if _, dup := l.keys[b.key.Name]; dup {
				panic("config: key declared twice: " + b.key.Name)
			}
			l.keys[b.key.Name] = b.key
			l.order = append(l.order, b.key.Name)
			v.SetDefault(b.key.Name, b.key.Default)
			_ = v.BindEnv(b.key.Name, b.key.Env())
			if !s.KnownOnly {
				l.bindings = append(l.bindings, b)
			}
		}
		l.validations = append(l.validations, vs...)
	}
	sort.Strings(l.order)
	return l
}

// Keys returns every key, sorted by name.
func (l *Loader) Keys() []Key {
	out := make([]Key, 0, len(l.order))
	for _, n := range l.order {
		out = append(out, l.keys[n])
	}
	return out
}

// RegisterFlags adds one flag per key (--<key>, plus --<alias>) to fs. Flags are
// strings, parsed later like every other source.
func (l *Loader) RegisterFlags(fs *pflag.FlagSet) {
	for _, n := range l.order {
		k := l.keys[n]
		help := fmt.Sprintf("%s (env %s)", k.Help, k.Env())
		if b, ok := k.Default.(bool); ok {
			fs.Bool(n, b, help)
			if k.Alias != "" {
				fs.Bool(k.Alias, b, help)
			}
			continue
		}
		def := ""
		if !k.Secret {
			def = fmt.Sprint(k.Default)
			if s, ok := k.Default.([]string); ok {
				def = strings.Join(s, ",")
			}
		}
		fs.String(n, def, help)
		if k.Alias != "" {
			fs.String(k.Alias, def, help)
		}
	}
}

// Load reads the optional YAML file and the flags that were set on fs, fills every
// section and validates it. It returns every problem at once, joined; a missing file
// named explicitly is one of them.
func (l *Loader) Load(file string, fs *pflag.FlagSet) error {
	if err := l.read(file, fs); err != nil {
		return err
	}
	for _, b := range l.bindings {
		l.fill(b)
	}
	refused := maps.Clone(l.rejected)
	for _, val := range l.validations {
		val.v.Validate(func(key, why string) {
			// A refused value left a stand-in (zero) in its field: a report about the
			// key would be about the stand-in ("is required" after "invalid value").
			if !refused[val.prefix+key] {
				l.Problem(val.prefix+key, why)
			}
		})
	}
	return l.Err()
}

// read loads the file and the flags into viper.
func (l *Loader) read(file string, fs *pflag.FlagSet) error {
	if file != "" {
		if _, err := os.Stat(file); err != nil {
			return fmt.Errorf("config file: %w", err)
		}
		l.v.SetConfigFile(file)
		if err := l.v.ReadInConfig(); err != nil {
			return fmt.Errorf("config file %s: %w", file, err)
		}
		for _, k := range l.v.AllKeys() {
			if _, ok := l.keys[k]; !ok {
				l.errs = append(l.errs, fmt.Errorf("config file %s: unknown key %q", file, k))
			}
		}
	}
	if fs != nil {
		fs.Visit(func(f *pflag.Flag) {
			name := f.Name
			for n, k := range l.keys {
				if k.Alias == f.Name {
					name = n
				}
			}
			if _, ok := l.keys[name]; ok {
				l.v.Set(name, f.Value.String())
			}
		})
	}
	return nil
}

// envOnly refuses a secret that did not come from its environment variable (a config
// file, or a flag visible in ps). Viper gives a flag precedence over the environment,
// so a value that differs from the environment's came from elsewhere.
func (l *Loader) envOnly(k Key) {
	raw := l.rawString(k.Name)
	env, inEnv := os.LookupEnv(k.Env())
	if raw != "" && (!inEnv || env != raw) {
		l.Problem(k.Name, "must be set only through the environment variable "+k.Env()+
			" (or its _file key), not in a config file or flag")
		l.v.Set(k.Name, "")
	}
}

// WriteValues writes every loaded key with its environment variable and value, one
// per line (key, env, value, tab-separated; secret keys end with a fourth column
// "secret"), secret values as *** and URIs redacted.
func (l *Loader) WriteValues(w io.Writer) error {
	for _, b := range l.bindings {
		val := show(b.field)
		switch {
		case b.zero != "" && b.field.IsZero():
			val = b.zero
		case b.key.Secret && val != "":
			val = "***"
		case b.key.Redact != nil && val != "":
			val = b.key.Redact(val)
		}
		mark := ""
		if b.key.Secret {
			mark = "\tsecret"
		}
		if _, err := fmt.Fprintf(w, "%s\t%s\t%s%s\n", b.key.Name, b.key.Env(), val, mark); err != nil {
			return err
		}
	}
	return nil
}

// show renders a loaded field in the syntax of the environment.
func show(f reflect.Value) string {
	switch x := f.Interface().(type) {
	case []string:
		return strings.Join(x, ",")
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.Format(time.RFC3339)
	case encoding.TextMarshaler:
		b, _ := x.MarshalText()
		return string(b)
	}
	return fmt.Sprint(f.Interface())
}

// Set overrides a key (highest precedence), e.g. from a sub-command argument.
func (l *Loader) Set(key string, v any) { l.v.Set(key, v) }

func (l *Loader) bad(key string, raw any, why string) {
	l.rejected[key] = true
	if l.keys[key].Secret {
		l.errs = append(l.errs, fmt.Errorf("config key %s (env %s): invalid value: %s", key, l.keys[key].Env(), why))
		return
	}
	shown := fmt.Sprint(raw)
	if r := l.keys[key].Redact; r != nil {
		shown = r(shown)
	}
	l.errs = append(l.errs, fmt.Errorf("config key %s (env %s): invalid value %q: %s", key, l.keys[key].Env(), shown, why))
}

// Problem records a validation problem found by the caller about key.
func (l *Loader) Problem(key string, why string) {
	l.bad(key, l.raw(key), why)
}

// rawString returns the key's value untrimmed ("" when unset).
func (l *Loader) rawString(key string) string {
	if raw := l.raw(key); raw != nil {
		return fmt.Sprint(raw)
	}
	return ""
}

func (l *Loader) raw(key string) any {
	if _, ok := l.keys[key]; !ok {
		panic("config: undeclared key " + key)
	}
	return l.v.Get(key)
}

// String returns the key as a trimmed string.
func (l *Loader) String(key string) string {
	switch v := l.raw(key).(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	case []any, map[string]any:
		l.bad(key, v, "must be a single value")
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// Strings returns the key as a list: a YAML list, or a comma-separated string.
func (l *Loader) Strings(key string) []string {
	var parts []string
	switch v := l.raw(key).(type) {
	case []string:
		parts = v
	case []any:
		for _, x := range v {
			parts = append(parts, fmt.Sprint(x))
		}
	case string:
		parts = strings.Split(v, ",")
	case nil:
	default:
		parts = []string{fmt.Sprint(v)}
	}
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Int returns the key as an integer within [lo, hi].
func (l *Loader) Int(key string, lo, hi int64) int64 {
	raw := l.raw(key)
	var n int64
	switch v := raw.(type) {
	case int:
		n = int64(v)
	case int64:
		n = v
	case float64:
		if v != math.Trunc(v) {
			l.bad(key, raw, "must be an integer")
			return 0
		}
		n = int64(v)
	default:
		var err error
		n, err = strconv.ParseInt(strings.TrimSpace(fmt.Sprint(v)), 10, 64)
		if err != nil {
			l.bad(key, raw, "must be an integer")
			return 0
		}
	}
	if n < lo || n > hi {
		l.bad(key, raw, fmt.Sprintf("must be between %d and %d", lo, hi))
	}
	return n
}

// Bool returns the key as a boolean.
func (l *Loader) Bool(key string) bool {
	raw := l.raw(key)
	if b, ok := raw.(bool); ok {
		return b
	}
	b, err := strconv.ParseBool(strings.TrimSpace(fmt.Sprint(raw)))
	if err != nil {
		l.bad(key, raw, "must be true or false")
	}
	return b
}

// Duration returns the key as a duration (Go syntax, e.g. "20s", "168h") of at least min.
func (l *Loader) Duration(key string, min time.Duration) time.Duration {
	raw := l.raw(key)
	var d time.Duration
	switch v := raw.(type) {
	case time.Duration:
		d = v
	default:
		var err error
		d, err = time.ParseDuration(strings.TrimSpace(fmt.Sprint(v)))
		if err != nil {
			l.bad(key, raw, `must be a duration such as "30s" or "168h"`)
			return 0
		}
	}
	if d < min {
		l.bad(key, raw, fmt.Sprintf("must be at least %s", min))
	}
	return d
}

// Time returns the key as an optional time: "" is the zero time; otherwise RFC 3339
// ("2024-06-01T00:00:00Z") or a date ("2024-06-01", midnight UTC).
func (l *Loader) Time(key string) time.Time {
	if t, ok := l.raw(key).(time.Time); ok { // an unquoted YAML date or timestamp
		return t.UTC()
	}
	s := l.String(key)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	l.bad(key, s, `must be an RFC 3339 time ("2024-06-01T00:00:00Z") or a date ("2024-06-01")`)
	return time.Time{}
}

// Err returns every problem found so far, joined, or nil.
func (l *Loader) Err() error { return errors.Join(l.errs...) }
