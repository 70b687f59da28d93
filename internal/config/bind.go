package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Section binds the keys <Name>.<field key> to the tagged fields of Config, a pointer to
// a struct owned by the package that uses the settings. A field is a key when it has a
// `config:"name"` tag; a tagged struct field (other than time.Time and types with
// UnmarshalText) is a sub-section (kafka.tls.*). The other tags:
//
//	default:"5s"     the default, in the syntax of the environment (else the field's
//	                 value before loading, if not zero)
//	help:"..."       one line for flags and documentation
//	min:"1" max:"9"  bounds of integers, min of durations
//	alias:"once"     an extra flag name
//	secret:"true"    never echoed in errors, dumps or flag defaults
//	env_only:"true"  (secrets) refused from a config file or a flag
//	redact:"uri"     hide a URI's credentials when the value appears in an error
//	zero:"auto"      a word that stands for the zero value (durations)
//
// Supported field types: string, bool, signed integers, time.Duration, time.Time,
// []string, and any type whose pointer implements encoding.TextUnmarshaler. After
// loading, every struct of the section whose pointer has a method
// Validate(report func(key, why string)) is asked to check itself; it reports keys
// relative to its own section, and may complete derived values.
type Section struct {
	Name   string
	Config any
	// KnownOnly sections accept their keys (in files and the environment) but are
	// neither loaded nor validated, e.g. the account keys in `producer status`.
	KnownOnly bool
}

// Validator is a configuration struct that checks itself after loading.
type Validator interface {
	// Validate reports each problem with report(key relative to the struct's
	// section, why). It may complete derived values.
	Validate(report func(key, why string))
}

// binding is one key bound to a field.
type binding struct {
	key      Key
	field    reflect.Value
	min, max string
	zero     string
	envOnly  bool
}

// validation is one struct to validate after loading, under its section prefix.
type validation struct {
	prefix string
	v      Validator
}

var (
	durationType  = reflect.TypeOf(time.Duration(0))
	timeType      = reflect.TypeOf(time.Time{})
	unmarshalType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	marshalType   = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

// bind walks the struct v (addressable) and returns its keys under prefix ("kafka.").
func bind(prefix string, v reflect.Value, known bool) (bs []binding, vs []validation) {
	if val, ok := v.Addr().Interface().(Validator); ok && !known {
		vs = append(vs, validation{prefix: prefix, v: val})
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, ok := sf.Tag.Lookup("config")
		if !ok || name == "-" || !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		if sf.Type.Kind() == reflect.Struct && sf.Type != timeType && !reflect.PointerTo(sf.Type).Implements(unmarshalType) {
			sub := prefix + name + "."
			if name == "" { // inline: the struct's keys are the section's own
				sub = prefix
			}
			b, val := bind(sub, fv, known)
			bs, vs = append(bs, b...), append(vs, val...)
			continue
		}
		k := Key{
			Name: prefix + name, Help: sf.Tag.Get("help"), Alias: sf.Tag.Get("alias"),
			Secret: sf.Tag.Get("secret") == "true",
		}
		if sf.Tag.Get("redact") == "uri" {
			k.Redact = RedactURI
		}
		k.Default = defaultOf(sf, fv)
		bs = append(bs, binding{key: k, field: fv, min: sf.Tag.Get("min"), max: sf.Tag.Get("max"),
			zero: sf.Tag.Get("zero"), envOnly: sf.Tag.Get("env_only") == "true"})
	}
	return bs, vs
}

// defaultOf returns the field's default: its tag, else its current value if not zero.
// Booleans and lists keep their type (flags and file checks use it); the rest are
// strings in the environment's syntax.
func defaultOf(sf reflect.StructField, fv reflect.Value) any {
	tag, hasTag := sf.Tag.Lookup("default")
	switch {
	case sf.Type.Kind() == reflect.Bool:
		if hasTag {
			b, _ := strconv.ParseBool(tag)
			return b
		}
		return fv.Bool()
	case sf.Type == reflect.TypeOf([]string(nil)):
		if hasTag {
			return strings.Split(tag, ",")
		}
		return append([]string{}, fv.Interface().([]string)...)
	case hasTag:
		return tag
	case fv.IsZero() && (fv.Kind() < reflect.Int || fv.Kind() > reflect.Int64):
		return "" // zero integers and durations fall through to "0" and "0s"
	case fv.Type().Implements(marshalType):
		b, _ := fv.Interface().(encoding.TextMarshaler).MarshalText()
		return string(b)
	default:
		return fmt.Sprint(fv.Interface())
	}
}

// fill converts the loaded value of b into its field, recording problems in l.
func (l *Loader) fill(b binding) {
	name, f := b.key.Name, b.field
	if b.envOnly {
		l.envOnly(b.key)
	}
	if b.zero != "" && strings.EqualFold(l.String(name), b.zero) {
		f.Set(reflect.Zero(f.Type()))
		return
	}
	switch {
	case f.Type() == durationType:
		min, _ := time.ParseDuration(b.min)
		f.SetInt(int64(l.Duration(name, min)))
	case f.Type() == timeType:
		f.Set(reflect.ValueOf(l.Time(name)))
	case f.Addr().Type().Implements(unmarshalType):
		s := strings.Join(l.Strings(name), ",") // a YAML list or a comma-separated string
		if b.key.Secret {
			s = l.rawString(name) // spaces may be part of a secret
		}
		if err := f.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			l.bad(name, s, err.Error())
		}
	case f.Kind() == reflect.String:
		f.SetString(l.String(name))
	case f.Kind() == reflect.Bool:
		f.SetBool(l.Bool(name))
	case f.Kind() >= reflect.Int && f.Kind() <= reflect.Int64:
		lo, hi := intBounds(f.Type().Bits(), b.min, b.max)
		f.SetInt(l.Int(name, lo, hi))
	case f.Type() == reflect.TypeOf([]string(nil)):
		f.Set(reflect.ValueOf(l.Strings(name)))
	default:
		panic(fmt.Sprintf("config: key %s: unsupported field type %s", name, f.Type()))
	}
}

// intBounds returns the tag bounds, or the range of an integer of the given size.
func intBounds(bits int, min, max string) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if bits < 64 {
		lo, hi = -1<<(bits-1), 1<<(bits-1)-1
	}
	if n, err := strconv.ParseInt(min, 10, 64); err == nil {
		lo = n
	}
	if n, err := strconv.ParseInt(max, 10, 64); err == nil {
		hi = n
	}
	return lo, hi
}
