package kafkaconn

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
)

const saslSecret = "hunter2-pa55"

// loadKafka loads the kafka section, as both binaries declare it, with exactly env set
// (on top of the process environment), in a subtest so that the variables do not leak
// into later calls. A file is one of the shipped configurations: only its kafka
// section is read (the binaries' other sections belong to other packages).
func loadKafka(t *testing.T, env map[string]string, file string, args ...string) (k Config, err error) {
	t.Helper()
	t.Run("", func(t *testing.T) {
		for name, v := range env {
			t.Setenv(name, v)
		}
		var s struct {
			Kafka Config `config:"kafka"`
		}
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		l := config.NewLoader(config.Section{Name: "kafka", Config: &s.Kafka})
		l.RegisterFlags(fs)
		if perr := fs.Parse(args); perr != nil {
			t.Fatal(perr)
		}
		err = l.Load(kafkaSection(t, file), fs)
		k = s.Kafka
	})
	return k, err
}

// kafkaSection returns a copy of the YAML file holding only its kafka section ("" for "").
func kafkaSection(t *testing.T, file string) string {
	t.Helper()
	if file == "" {
		return ""
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["kafka"] == nil {
		t.Fatalf("%s has no kafka section", file)
	}
	out, err := yaml.Marshal(map[string]any{"kafka": doc["kafka"]})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, t.TempDir(), filepath.Base(file), string(out))
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustNameKeys fails unless err names every key and never contains the SASL password.
func mustNameKeys(t *testing.T, err error, keys ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("invalid configuration accepted; want errors about %v", keys)
	}
	for _, k := range keys {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s:\n%v", k, err)
		}
	}
	if strings.Contains(err.Error(), saslSecret) {
		t.Errorf("error leaks the SASL password:\n%v", err)
	}
}

func TestKafkaSecurityDefaultsOff(t *testing.T) {
	k, err := loadKafka(t, nil, "../../configs/sink-duckdb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if k.TLS != (TLS{}) || k.SASL != (SASL{}) {
		t.Fatalf("security on by default: %+v", k)
	}
	k, err = loadKafka(t, map[string]string{"KAFKA_SASL_MECHANISM": "None"}, "")
	if err != nil || k.SASL.Mechanism != "" {
		t.Fatalf("mechanism none: %+v %v", k.SASL, err)
	}
}

func TestKafkaSecurityValid(t *testing.T) {
	dir := t.TempDir()
	ca := writeFile(t, dir, "ca.pem", "ca")
	cert := writeFile(t, dir, "cert.pem", "cert")
	key := writeFile(t, dir, "key.pem", "key")
	k, err := loadKafka(t, map[string]string{
		"KAFKA_TLS_ENABLED":     "true",
		"KAFKA_TLS_CA_FILE":     ca,
		"KAFKA_TLS_CERT_FILE":   cert,
		"KAFKA_TLS_KEY_FILE":    key,
		"KAFKA_TLS_SERVER_NAME": "kafka.internal",
		"KAFKA_SASL_MECHANISM":  "scram-sha-512",
		"KAFKA_SASL_USERNAME":   "sink",
		"KAFKA_SASL_PASSWORD":   saslSecret,
	}, "../../configs/sink-duckdb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := TLS{Enabled: true, CAFile: ca, CertFile: cert, KeyFile: key, ServerName: "kafka.internal"}
	if k.TLS != want {
		t.Fatalf("TLS = %+v, want %+v", k.TLS, want)
	}
	if k.SASL.Mechanism != SASLScramSHA512 || k.SASL.Username != "sink" || k.SASL.Password.Reveal() != saslSecret {
		t.Fatalf("SASL = %+v", k.SASL)
	}
	// The password never prints, whatever the verb or logger.
	var sb strings.Builder
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("cfg", "kafka", k, "pw", k.SASL.Password)
	slog.New(slog.NewTextHandler(&sb, nil)).Info("cfg", "kafka", k, "pw", k.SASL.Password)
	for _, s := range []string{fmt.Sprintf("%v", k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprint(k.SASL.Password), sb.String()} {
		if strings.Contains(s, saslSecret) {
			t.Fatalf("password printed: %s", s)
		}
	}

	// The password from a file; one trailing newline is not part of it, spaces are.
	pwFile := writeFile(t, dir, "pw", " "+saslSecret+"\n")
	k, err = loadKafka(t, map[string]string{
		"KAFKA_SASL_MECHANISM":     "PLAIN",
		"KAFKA_SASL_USERNAME":      "sink",
		"KAFKA_SASL_PASSWORD_FILE": pwFile,
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	if k.SASL.Mechanism != SASLPlain || k.SASL.Password.Reveal() != " "+saslSecret {
		t.Fatalf("SASL = %q %q", k.SASL.Mechanism, k.SASL.Password.Reveal())
	}
}

func TestKafkaSecurityAllErrorsAtOnce(t *testing.T) {
	dir := t.TempDir()
	cert := writeFile(t, dir, "cert.pem", "cert")
	_, err := loadKafka(t, map[string]string{
		"KAFKA_TLS_ENABLED":        "yes-please",
		"KAFKA_SASL_MECHANISM":     "GSSAPI",
		"KAFKA_SASL_PASSWORD_FILE": filepath.Join(dir, "missing"),
	}, "")
	mustNameKeys(t, err, "kafka.tls.enabled", "kafka.sasl.mechanism", "kafka.sasl.password_file")

	_, err = loadKafka(t, map[string]string{
		"KAFKA_TLS_ENABLED":    "true",
		"KAFKA_TLS_CA_FILE":    filepath.Join(dir, "nope.pem"),
		"KAFKA_TLS_CERT_FILE":  cert,
		"KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
	}, "")
	mustNameKeys(t, err, "kafka.tls.ca_file", "no such file", "kafka.tls.key_file", "kafka.sasl.username", "kafka.sasl.password")

	// Key without certificate; a directory is not a file; an empty password file.
	_, err = loadKafka(t, map[string]string{
		"KAFKA_TLS_ENABLED":        "true",
		"KAFKA_TLS_KEY_FILE":       cert,
		"KAFKA_TLS_CA_FILE":        dir,
		"KAFKA_SASL_MECHANISM":     "plain",
		"KAFKA_SASL_USERNAME":      "u",
		"KAFKA_SASL_PASSWORD_FILE": writeFile(t, dir, "empty", "\n"),
	}, "")
	mustNameKeys(t, err, "kafka.tls.cert_file", "kafka.tls.ca_file", "directory", "kafka.sasl.password_file", "is empty")

	// TLS files and SASL credentials without TLS or a mechanism are mistakes, not no-ops.
	_, err = loadKafka(t, map[string]string{
		"KAFKA_TLS_CA_FILE":     cert,
		"KAFKA_TLS_SERVER_NAME": "k",
		"KAFKA_SASL_USERNAME":   "u",
		"KAFKA_SASL_PASSWORD":   saslSecret,
	}, "")
	mustNameKeys(t, err, "kafka.tls.ca_file", "kafka.tls.server_name", "kafka.tls.enabled is false",
		"kafka.sasl.username", "kafka.sasl.password", "mechanism is none")

	// Environment and file at once.
	_, err = loadKafka(t, map[string]string{
		"KAFKA_SASL_MECHANISM":     "PLAIN",
		"KAFKA_SASL_USERNAME":      "u",
		"KAFKA_SASL_PASSWORD":      saslSecret,
		"KAFKA_SASL_PASSWORD_FILE": writeFile(t, dir, "pw", "x"),
	}, "")
	mustNameKeys(t, err, "kafka.sasl.password_file", "set only one")
}

// The password is refused from a config file or a flag (ps shows flags), and the refusal
// does not echo it.
func TestKafkaSASLPasswordOnlyFromEnvOrFile(t *testing.T) {
	env := map[string]string{"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "u"}
	_, err := loadKafka(t, env, "", "--kafka.sasl.password", saslSecret)
	mustNameKeys(t, err, "kafka.sasl.password", "KAFKA_SASL_PASSWORD")

	f := writeFile(t, t.TempDir(), "c.yaml", "kafka:\n  sasl:\n    password: "+saslSecret+"\n")
	_, err = loadKafka(t, env, f)
	mustNameKeys(t, err, "kafka.sasl.password", "not in a config file")

	// A flag that differs from the environment wins in viper, so it is refused too.
	_, err = loadKafka(t, map[string]string{"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "u",
		"KAFKA_SASL_PASSWORD": "from-env"}, "", "--kafka.sasl.password", saslSecret)
	mustNameKeys(t, err, "kafka.sasl.password")

	// The producer shares the keys and the checks: both binaries declare this section
	// type, here with the producer's shipped file.
	t.Run("producer", func(t *testing.T) {
		_, err := loadKafka(t, map[string]string{"KAFKA_SASL_MECHANISM": "SCRAM-SHA-999"}, "../../configs/producer.yaml")
		mustNameKeys(t, err, "kafka.sasl.mechanism")
	})
}

// An unknown mechanism is reported once, by its key; nothing is then required "with"
// it, and nothing set is called a mistake "without" one.
func TestKafkaSASLUnknownMechanismOnly(t *testing.T) {
	_, err := loadKafka(t, map[string]string{"KAFKA_SASL_MECHANISM": "GSSAPI", "KAFKA_SASL_PASSWORD": saslSecret}, "")
	mustNameKeys(t, err, "kafka.sasl.mechanism")
	if n := strings.Count(err.Error(), "\n") + 1; n != 1 {
		t.Errorf("%d errors, want only the mechanism's:\n%v", n, err)
	}
}
