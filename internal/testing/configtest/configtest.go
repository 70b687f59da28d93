// Package configtest checks the shipped YAML configuration files against the keys the
// binaries declare.
package configtest

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
)

// Judge decides a key whose shipped value may differ from its default (e.g. an
// example destination URI): handled reports whether it judges k at all, why is the
// problem ("" if none).
type Judge func(k config.Key, value string) (why string, handled bool)

// CheckFile fails t unless the YAML file holds exactly keys, each with its default
// (or a value judge accepts).
func CheckFile(t *testing.T, file string, keys []config.Key, judge Judge) {
	t.Helper()
	got := Read(t, file)
	var missing []string
	for _, k := range keys {
		v, ok := got[k.Name]
		if !ok {
			missing = append(missing, k.Name)
			continue
		}
		delete(got, k.Name)
		if judge != nil {
			if why, handled := judge(k, v); handled {
				if why != "" {
					t.Errorf("%s: %s = %s: %s", file, k.Name, v, why)
				}
				continue
			}
		}
		if v != Flat(k.Default) {
			t.Errorf("%s: %s = %s, default is %s", file, k.Name, v, Flat(k.Default))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s lacks %v", file, missing)
	}
	for k := range got {
		t.Errorf("%s has key %s, which is not one of the keys it should list", file, k)
	}
}

// Read returns the leaves of a YAML file under their dotted keys (kafka.tls.enabled),
// each value as Flat writes it.
func Read(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string]string{}
	flatten(doc, "", out)
	return out
}

func flatten(m map[string]any, prefix string, into map[string]string) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(sub, prefix+k+".", into)
			continue
		}
		into[prefix+k] = Flat(v)
	}
}

// Flat writes a YAML value or a key's default in the environment's syntax: lists
// comma-separated.
func Flat(v any) string {
	switch x := v.(type) {
	case []any:
		var s []string
		for _, e := range x {
			s = append(s, Flat(e))
		}
		return strings.Join(s, ",")
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}
