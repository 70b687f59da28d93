package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

const saslSecret = "hunter2-pa55"

// loadConsumerKafka loads a consumer configuration with exactly env set (on top of the
// process environment), in a subtest so that the variables do not leak into later calls.
func loadConsumerKafka(t *testing.T, env map[string]string, file string, args ...string) (k Kafka, err error) {
	t.Helper()
	t.Run("", func(t *testing.T) {
		for name, v := range env {
			t.Setenv(name, v)
		}
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		l := NewLoader(ConsumerKeys())
		l.RegisterFlags(fs)
		if perr := fs.Parse(args); perr != nil {
			t.Fatal(perr)
		}
		var c Consumer
		c, err = LoadConsumer(l, file, fs)
		k = c.Kafka
	})
	return k, err
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
	k, err := loadConsumerKafka(t, nil, "../../configs/sink-duckdb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if k.TLS != (KafkaTLS{}) || k.SASL != (KafkaSASL{}) {
		t.Fatalf("security on by default: %+v", k)
	}
	k, err = loadConsumerKafka(t, map[string]string{"KAFKA_SASL_MECHANISM": "None"}, "")
	if err != nil || k.SASL.Mechanism != "" {
		t.Fatalf("mechanism none: %+v %v", k.SASL, err)
	}
}

func TestKafkaSecurityValid(t *testing.T) {
	dir := t.TempDir()
	ca := writeFile(t, dir, "ca.pem", "ca")
	cert := writeFile(t, dir, "cert.pem", "cert")
	key := writeFile(t, dir, "key.pem", "key")
	k, err := loadConsumerKafka(t, map[string]string{
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
	want := KafkaTLS{Enabled: true, CAFile: ca, CertFile: cert, KeyFile: key, ServerName: "kafka.internal"}
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
	k, err = loadConsumerKafka(t, map[string]string{
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
	_, err := loadConsumerKafka(t, map[string]string{
		"KAFKA_TLS_ENABLED":        "yes-please",
		"KAFKA_SASL_MECHANISM":     "GSSAPI",
		"KAFKA_SASL_PASSWORD_FILE": filepath.Join(dir, "missing"),
	}, "")
	mustNameKeys(t, err, "kafka.tls.enabled", "kafka.sasl.mechanism", "kafka.sasl.password_file")

	_, err = loadConsumerKafka(t, map[string]string{
		"KAFKA_TLS_ENABLED":    "true",
		"KAFKA_TLS_CA_FILE":    filepath.Join(dir, "nope.pem"),
		"KAFKA_TLS_CERT_FILE":  cert,
		"KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
	}, "")
	mustNameKeys(t, err, "kafka.tls.ca_file", "no such file", "kafka.tls.key_file", "kafka.sasl.username", "kafka.sasl.password")

	// Key without certificate; a directory is not a file; an empty password file.
	_, err = loadConsumerKafka(t, map[string]string{
		"KAFKA_TLS_ENABLED":        "true",
		"KAFKA_TLS_KEY_FILE":       cert,
		"KAFKA_TLS_CA_FILE":        dir,
		"KAFKA_SASL_MECHANISM":     "plain",
		"KAFKA_SASL_USERNAME":      "u",
		"KAFKA_SASL_PASSWORD_FILE": writeFile(t, dir, "empty", "\n"),
	}, "")
	mustNameKeys(t, err, "kafka.tls.cert_file", "kafka.tls.ca_file", "directory", "kafka.sasl.password_file", "is empty")

	// TLS files and SASL credentials without TLS or a mechanism are mistakes, not no-ops.
	_, err = loadConsumerKafka(t, map[string]string{
		"KAFKA_TLS_CA_FILE":     cert,
		"KAFKA_TLS_SERVER_NAME": "k",
		"KAFKA_SASL_USERNAME":   "u",
		"KAFKA_SASL_PASSWORD":   saslSecret,
	}, "")
	mustNameKeys(t, err, "kafka.tls.ca_file", "kafka.tls.server_name", "kafka.tls.enabled is false",
		"kafka.sasl.username", "kafka.sasl.password", "mechanism is none")

	// Environment and file at once.
	_, err = loadConsumerKafka(t, map[string]string{
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
	_, err := loadConsumerKafka(t, env, "", "--kafka.sasl.password", saslSecret)
	mustNameKeys(t, err, "kafka.sasl.password", "KAFKA_SASL_PASSWORD")

	f := writeFile(t, t.TempDir(), "c.yaml", "kafka:\n  sasl:\n    password: "+saslSecret+"\n")
	_, err = loadConsumerKafka(t, env, f)
	mustNameKeys(t, err, "kafka.sasl.password", "not in a config file")

	// A flag that differs from the environment wins in viper, so it is refused too.
	_, err = loadConsumerKafka(t, map[string]string{"KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "u",
		"KAFKA_SASL_PASSWORD": "from-env"}, "", "--kafka.sasl.password", saslSecret)
	mustNameKeys(t, err, "kafka.sasl.password")

	// The producer shares the keys and the checks.
	t.Run("producer", func(t *testing.T) {
		_, err := loadProducer(t, map[string]string{"GORGIAS_URI": goodURI, "KAFKA_SASL_MECHANISM": "SCRAM-SHA-999"}, nil, "")
		mustNameKeys(t, err, "kafka.sasl.mechanism")
	})
}
