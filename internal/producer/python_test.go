package producer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// debianPython is Debian's interpreter, the one that sees python3-avro (installed by
// .ci/run); a python3 earlier on PATH may be another build without it.
const debianPython = "/usr/bin/python3"

// TestIndependentAvroDecoding has records produced to Kafka decoded by python3-avro, an
// implementation independent of goavro, against schemas/*.avsc, and compares values.
func TestIndependentAvroDecoding(t *testing.T) {
	requirePythonAvro(t)
	cfg := smallSim
	cfg.ExtraFields = true
	e := newEnv(t, cfg)
	e.mustRun(e.config())
	pythonDecodes(t, e, func(in string) *exec.Cmd {
		return exec.Command(debianPython, "testdata/decode_soe.py", "../../schemas", in)
	})
}

// TestIndependentConfluentDecoding is TestIndependentAvroDecoding with a registry:
// python3-avro fetches each writer schema by id over HTTP from the registry and decodes
// the Confluent wire-format values.
func TestIndependentConfluentDecoding(t *testing.T) {
	requirePythonAvro(t)
	reg, cl := newRegistry(t)
	cfg := smallSim
	cfg.ExtraFields = true
	e := newEnv(t, cfg)
	e.SchemaByID = cl.SchemaByID
	e.mustRun(e.config(func(c *Config) { c.Registry = cl }))
	pythonDecodes(t, e, func(in string) *exec.Cmd {
		return exec.Command(debianPython, "testdata/decode_confluent.py", reg.URL(), in)
	})
}

func requirePythonAvro(t *testing.T) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import avro.io").Run(); err != nil {
		t.Fatalf("%s cannot import avro (install Debian's python3-avro, as .ci/run does): %v", debianPython, err)
	}
}

// pythonDecodes has up to 150 records of each entity topic decoded by the command
// decoder(file of base64 values) and compares its JSON with the values decoded in Go.
func pythonDecodes(t *testing.T, e *env, decoder func(in string) *exec.Cmd) {
	t.Helper()
	for _, ent := range catalog.All() {
		recs := e.readTopic(ent)
		if len(recs) == 0 {
			t.Fatalf("%s: nothing produced", ent.Name)
		}
		recs = recs[:min(len(recs), 150)]
		var values []string
		var want []any
		for _, r := range recs {
			raw := r.raw
			values = append(values, base64.StdEncoding.EncodeToString(raw))
			want = append(want, plainValue(r.value))
		}
		in := filepath.Join(t.TempDir(), "records.json")
		b, _ := json.Marshal(values)
		if err := os.WriteFile(in, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := decoder(in)
		cmd.Stderr = &stderr
		outb, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: python decoder failed: %v: %s", ent.Name, err, stderr.String())
		}
		var got []any
		if err := json.Unmarshal(outb, &got); err != nil {
			t.Fatal(err)
		}
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		var wantNorm, gotNorm any
		_ = json.Unmarshal(wb, &wantNorm)
		_ = json.Unmarshal(gb, &gotNorm)
		w2, _ := json.Marshal(wantNorm)
		g2, _ := json.Marshal(gotNorm)
		if !bytes.Equal(w2, g2) {
			t.Fatalf("%s: python3-avro decoded different values\n go: %.600s\n py: %.600s", ent.Name, w2, g2)
		}
		t.Logf("%s: %d records decoded identically by python3-avro", ent.Name, len(recs))
	}
}

// plainValue turns goavro's native form into plain JSON-able values: unions unwrapped,
// timestamps as integer microseconds.
func plainValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, inner := range x {
				if isUnionBranch(k) {
					return plainValue(inner)
				}
			}
		}
		out := map[string]any{}
		for k, inner := range x {
			out[k] = plainValue(inner)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = plainValue(inner)
		}
		return out
	case time.Time:
		return x.UnixMicro()
	}
	return v
}

func isUnionBranch(k string) bool {
	switch k {
	case "string", "long", "int", "boolean", "double", "array", "long.timestamp-micros":
		return true
	}
	return len(k) > len("com.gorgias_kafka.") && k[:len("com.gorgias_kafka.")] == "com.gorgias_kafka."
}
