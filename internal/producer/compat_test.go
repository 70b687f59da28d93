package producer

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/schemas"
)

// TestReleasedSchemasBackwardCompatible checks that every released schema version
// (schemas/released.txt, in release order) is BACKWARD compatible with the one before
// it — the Schema Registry's default compatibility, which the producer registers
// under without changing it (see registerSchemas): a reader with the new schema reads
// data written with the old one because the new version only adds fields, each
// nullable with a null default, and keeps every old field with its type.
func TestReleasedSchemasBackwardCompatible(t *testing.T) {
	reg, err := avrocodec.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for entity, fps := range schemas.Released() {
		var prev *avrocodec.Schema
		for _, hex := range fps {
			fp, err := strconv.ParseUint(hex, 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			s, ok := reg.Lookup(fp)
			if !ok {
				t.Fatalf("%s: released fingerprint %s not embedded", entity, hex)
			}
			if prev != nil {
				if err := backwardCompatible(prev.Text, s.Text); err != nil {
					t.Errorf("%s %016x after %016x is not BACKWARD compatible: %v", entity, fp, prev.Fingerprint, err)
				}
			}
			prev = s
		}
		cur, err := schemas.Current(entity)
		if err != nil {
			t.Fatal(err)
		}
		if err := backwardCompatible(prev.Text, cur); err != nil {
			t.Errorf("%s: the current schema is not BACKWARD compatible with the last released one: %v", entity, err)
		}
		t.Logf("%s: %d released versions checked", entity, len(fps))
	}
}

// TestBackwardCompatibleChecker shows the check is not vacuous: an added nullable field
// with a null default passes; a removed field, a changed type or an added field without
// a default fails.
func TestBackwardCompatibleChecker(t *testing.T) {
	cur, err := schemas.Current("customers")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(fields []any) []any) string {
		var c map[string]any
		mustJSON(t, []byte(cur), &c)
		c["fields"] = f(c["fields"].([]any))
		b, _ := json.Marshal(c)
		return string(b)
	}
	added := func(field map[string]any) func([]any) []any {
		return func(fs []any) []any { // before _extra, which stays last
			return append(append(append([]any{}, fs[:len(fs)-1]...), field), fs[len(fs)-1])
		}
	}
	for _, tc := range []struct {
		name, text string
		ok         bool
	}{
		{"same", cur, true},
		{"added nullable with default", edit(added(map[string]any{"name": "loyalty", "type": []any{"null", "string"}, "default": nil})), true},
		{"added without default", edit(added(map[string]any{"name": "loyalty", "type": []any{"null", "string"}})), false},
		{"added required", edit(added(map[string]any{"name": "loyalty", "type": "string", "default": ""})), false},
		{"removed field", edit(func(fs []any) []any { return append([]any{}, fs[1:]...) }), false},
		{"changed type", edit(func(fs []any) []any {
			out := append([]any{}, fs...)
			f := map[string]any{}
			for k, v := range out[0].(map[string]any) {
				f[k] = v
			}
			f["type"] = "string"
			out[0] = f
			return out
		}), false},
	} {
		err := backwardCompatible(cur, tc.text)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// backwardCompatible reports why a reader with schema newText could not read data
// written with oldText under our evolution rule: every old field kept with the same
// type (nested records compared field by field), every added field nullable
// (["null", ...]) with a null default.
func backwardCompatible(oldText, newText string) error {
	var o, n map[string]any
	if err := json.Unmarshal([]byte(oldText), &o); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(newText), &n); err != nil {
		return err
	}
	return compatRecord(o, n, "")
}

func compatRecord(o, n map[string]any, at string) error {
	of, _ := o["fields"].([]any)
	nf, _ := n["fields"].([]any)
	newByName := map[string]map[string]any{}
	for _, f := range nf {
		m := f.(map[string]any)
		newByName[m["name"].(string)] = m
	}
	seen := map[string]bool{}
	for _, f := range of {
		m := f.(map[string]any)
		name := m["name"].(string)
		seen[name] = true
		nm, ok := newByName[name]
		if !ok {
			return fmt.Errorf("field %s%s removed", at, name)
		}
		if err := compatType(m["type"], nm["type"], at+name); err != nil {
			return err
		}
	}
	for _, f := range nf {
		m := f.(map[string]any)
		name := m["name"].(string)
		if seen[name] {
			continue
		}
		u, isUnion := m["type"].([]any)
		def, hasDefault := m["default"]
		if !isUnion || len(u) == 0 || u[0] != "null" || !hasDefault || def != nil {
			return fmt.Errorf("added field %s%s must be [\"null\", ...] with default null", at, name)
		}
	}
	return nil
}

func compatType(o, n any, at string) error {
	om, oRec := o.(map[string]any)
	nm, nRec := n.(map[string]any)
	if oRec && nRec && om["type"] == "record" && nm["type"] == "record" {
		return compatRecord(om, nm, at+".")
	}
	if oRec && nRec && om["type"] == "array" && nm["type"] == "array" {
		return compatType(om["items"], nm["items"], at+"[]")
	}
	ou, oU := o.([]any)
	nu, nU := n.([]any)
	if oU && nU && len(ou) == len(nu) {
		for i := range ou {
			if err := compatType(ou[i], nu[i], at); err != nil {
				return err
			}
		}
		return nil
	}
	if !reflect.DeepEqual(o, n) {
		ob, _ := json.Marshal(o)
		nb, _ := json.Marshal(n)
		return fmt.Errorf("field %s changed type %s → %s", strings.TrimSuffix(at, "."), ob, nb)
	}
	return nil
}
