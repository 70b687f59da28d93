package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
)

// Kafka is the connection to the Kafka cluster, shared by producer and consumer.
type Kafka struct {
	// Brokers are the seed brokers (host:port).
	Brokers []string
	// ClientID names the client in broker logs and quotas.
	ClientID string
	// TopicPrefix prefixes every topic; one Gorgias account per prefix.
	TopicPrefix string
	// TLS encrypts (and optionally authenticates) the connections to the brokers.
	TLS KafkaTLS
	// SASL authenticates the client to the brokers.
	SASL KafkaSASL
}

// KafkaTLS configures TLS to the brokers. The files are PEM; they were readable when the
// configuration was loaded and are parsed by kafkaconn.Options.
type KafkaTLS struct {
	Enabled bool
	// CAFile holds the CA certificates that signed the brokers' certificates; empty:
	// the system's roots.
	CAFile string
	// CertFile and KeyFile are the client certificate for mutual TLS: both or neither.
	CertFile string
	KeyFile  string
	// ServerName is the name expected in the brokers' certificates; empty: the host of
	// each broker address.
	ServerName string
}

// SASL mechanisms accepted by kafka.sasl.mechanism (upper-cased).
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// KafkaSASL configures SASL authentication.
type KafkaSASL struct {
	// Mechanism is "" (no SASL), SASLPlain, SASLScramSHA256 or SASLScramSHA512.
	Mechanism string
	Username  string
	// Password comes from KAFKA_SASL_PASSWORD or kafka.sasl.password_file only.
	Password Sensitive
}

// Sensitive is a secret string. It prints as "***" through fmt (%v, %+v, %#v, %s), slog
// and text/JSON marshalling, so a configuration struct can be logged whole; Reveal
// returns the value.
type Sensitive string

// Reveal returns the secret itself.
func (s Sensitive) Reveal() string { return string(s) }

// String returns "***", or "" for an empty secret.
func (s Sensitive) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// GoString keeps %#v from printing the secret.
func (s Sensitive) GoString() string { return fmt.Sprintf("%q", s.String()) }

// LogValue keeps slog from printing the secret.
func (s Sensitive) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders from writing the secret.
func (s Sensitive) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// KafkaKeys are the keys of the Kafka connection, shared by both binaries.
func KafkaKeys(clientID string) []Key {
	return []Key{
		{Name: "kafka.brokers", Default: []string{"127.0.0.1:9092"}, Help: "Kafka seed brokers, comma-separated host:port"},
		{Name: "kafka.client_id", Default: clientID, Help: "Kafka client id"},
		{Name: "kafka.topic_prefix", Default: "gorgias.", Help: "prefix of every topic (one Gorgias account per prefix)"},
		{Name: "kafka.tls.enabled", Default: false, Help: "connect to the brokers over TLS"},
		{Name: "kafka.tls.ca_file", Default: "", Help: "PEM file of the CA certificates of the brokers (empty: the system's roots)"},
		{Name: "kafka.tls.cert_file", Default: "", Help: "PEM client certificate for mutual TLS (with kafka.tls.key_file)"},
		{Name: "kafka.tls.key_file", Default: "", Help: "PEM private key of kafka.tls.cert_file"},
		{Name: "kafka.tls.server_name", Default: "", Help: "name expected in the brokers' certificates (empty: each broker's host)"},
		{Name: "kafka.sasl.mechanism", Default: "", Help: "SASL mechanism: none, PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: none)"},
		{Name: "kafka.sasl.username", Default: "", Help: "SASL user name"},
		{Name: "kafka.sasl.password", Default: "", Secret: true, Help: "SASL password: set it only through the environment variable"},
		{Name: "kafka.sasl.password_file", Default: "", Help: "file holding the SASL password (one trailing newline is ignored)"},
	}
}

func loadKafka(l *Loader) Kafka {
	k := Kafka{Brokers: l.Strings("kafka.brokers"), ClientID: l.String("kafka.client_id"), TopicPrefix: l.String("kafka.topic_prefix")}
	if len(k.Brokers) == 0 {
		l.Problem("kafka.brokers", "at least one broker is required")
	}
	for _, b := range k.Brokers {
		if i := strings.LastIndex(b, ":"); i <= 0 || i == len(b)-1 {
			l.Problem("kafka.brokers", fmt.Sprintf("%q is not host:port", b))
		}
	}
	if k.TopicPrefix == "" || strings.ContainsAny(k.TopicPrefix, " /\\,") {
		l.Problem("kafka.topic_prefix", "must be non-empty and contain only letters, digits, '.', '_' and '-'")
	}
	k.TLS = loadKafkaTLS(l)
	k.SASL = loadKafkaSASL(l)
	return k
}

func loadKafkaTLS(l *Loader) KafkaTLS {
	t := KafkaTLS{
		Enabled:    l.Bool("kafka.tls.enabled"),
		CAFile:     l.String("kafka.tls.ca_file"),
		CertFile:   l.String("kafka.tls.cert_file"),
		KeyFile:    l.String("kafka.tls.key_file"),
		ServerName: l.String("kafka.tls.server_name"),
	}
	for _, f := range []struct{ key, path string }{{"kafka.tls.ca_file", t.CAFile}, {"kafka.tls.cert_file", t.CertFile}, {"kafka.tls.key_file", t.KeyFile}} {
		key, path := f.key, f.path
		if path == "" {
			continue
		}
		if !t.Enabled {
			l.Problem(key, "is set but kafka.tls.enabled is false")
		} else if why := unreadable(path); why != "" {
			l.Problem(key, why)
		}
	}
	if t.ServerName != "" && !t.Enabled {
		l.Problem("kafka.tls.server_name", "is set but kafka.tls.enabled is false")
	}
	if t.CertFile != "" && t.KeyFile == "" {
		l.Problem("kafka.tls.key_file", "is required when kafka.tls.cert_file is set")
	}
	if t.KeyFile != "" && t.CertFile == "" {
		l.Problem("kafka.tls.cert_file", "is required when kafka.tls.key_file is set")
	}
	return t
}

func loadKafkaSASL(l *Loader) KafkaSASL {
	var s KafkaSASL
	mechanismOK := true
	switch m := strings.ToUpper(l.String("kafka.sasl.mechanism")); m {
	case "", "NONE":
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		s.Mechanism = m
	default:
		l.Problem("kafka.sasl.mechanism", "must be none, PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
		mechanismOK = false
	}
	s.Username = l.String("kafka.sasl.username")

	// The password may come only from the environment (or a file): a value in a config
	// file or on the command line (visible in ps) is refused. Viper gives the flag
	// precedence over the environment, so a value that differs from the environment's
	// came from elsewhere. The value is not trimmed: spaces may be part of a password.
	const pwKey = "kafka.sasl.password"
	pw := ""
	if raw := l.raw(pwKey); raw != nil {
		pw = fmt.Sprint(raw)
	}
	envPW, inEnv := os.LookupEnv(l.keys[pwKey].Env())
	if pw != "" && (!inEnv || envPW != pw) {
		l.Problem(pwKey, "must be set only through the environment variable "+l.keys[pwKey].Env()+
			" or in the file named by kafka.sasl.password_file, not in a config file or flag")
		pw = ""
	}
	if file := l.String("kafka.sasl.password_file"); file != "" {
		b, err := os.ReadFile(file)
		switch {
		case pw != "":
			l.Problem("kafka.sasl.password_file", "is set together with "+l.keys[pwKey].Env()+": set only one")
		case err != nil:
			l.Problem("kafka.sasl.password_file", "cannot be read: "+pathErr(err))
		default:
			pw = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
			if pw == "" {
				l.Problem("kafka.sasl.password_file", "is empty")
			}
		}
	}
	s.Password = Sensitive(pw)

	if s.Mechanism == "" {
		for _, key := range []string{"kafka.sasl.username", pwKey, "kafka.sasl.password_file"} {
			if mechanismOK && l.String(key) != "" {
				l.Problem(key, "is set but kafka.sasl.mechanism is none")
			}
		}
		return KafkaSASL{}
	}
	if s.Username == "" {
		l.Problem("kafka.sasl.username", "is required with kafka.sasl.mechanism "+s.Mechanism)
	}
	if s.Password == "" && l.String("kafka.sasl.password_file") == "" && l.String(pwKey) == "" {
		l.Problem(pwKey, "is required with kafka.sasl.mechanism "+s.Mechanism+
			": set "+l.keys[pwKey].Env()+" or kafka.sasl.password_file")
	}
	return s
}

// unreadable returns why the file at path cannot be read, or "".
func unreadable(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "cannot be read: " + pathErr(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return "is a directory, not a file"
	}
	return ""
}

// pathErr drops the path from err (the value is already shown next to its key).
func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
