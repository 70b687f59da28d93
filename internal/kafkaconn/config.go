package kafkaconn

import (
	"fmt"
	"strings"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
)

// Config is the connection to the Kafka cluster, shared by producer and consumer
// (section kafka). Each binary sets its own ClientID default before loading.
type Config struct {
	// Brokers are the seed brokers (host:port).
	Brokers []string `config:"brokers" default:"127.0.0.1:9092" help:"Kafka seed brokers, comma-separated host:port"`
	// ClientID names the client in broker logs and quotas.
	ClientID string `config:"client_id" help:"Kafka client id"`
	// TopicPrefix prefixes every topic; one Gorgias account per prefix.
	TopicPrefix string `config:"topic_prefix" default:"gorgias." help:"prefix of every topic (one Gorgias account per prefix)"`
	// TLS encrypts (and optionally authenticates) the connections to the brokers.
	TLS TLS `config:"tls"`
	// SASL authenticates the client to the brokers.
	SASL SASL `config:"sasl"`
}

// TLS configures TLS to the brokers. The files are PEM; they were readable when the
// configuration was loaded and are parsed by Options.
type TLS struct {
	Enabled bool `config:"enabled" help:"connect to the brokers over TLS"`
	// CAFile holds the CA certificates that signed the brokers' certificates; empty:
	// the system's roots.
	CAFile string `config:"ca_file" help:"PEM file of the CA certificates of the brokers (empty: the system's roots)"`
	// CertFile and KeyFile are the client certificate for mutual TLS: both or neither.
	CertFile string `config:"cert_file" help:"PEM client certificate for mutual TLS (with kafka.tls.key_file)"`
	KeyFile  string `config:"key_file" help:"PEM private key of kafka.tls.cert_file"`
	// ServerName is the name expected in the brokers' certificates; empty: the host of
	// each broker address.
	ServerName string `config:"server_name" help:"name expected in the brokers' certificates (empty: each broker's host)"`
}

// SASL mechanisms accepted by kafka.sasl.mechanism (upper-cased).
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// SASL configures SASL authentication.
type SASL struct {
	// Mechanism is "" (no SASL), SASLPlain, SASLScramSHA256 or SASLScramSHA512.
	Mechanism string `config:"mechanism" help:"SASL mechanism: none, PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: none)"`
	Username  string `config:"username" help:"SASL user name"`
	// Password comes from KAFKA_SASL_PASSWORD or kafka.sasl.password_file only.
	Password     config.Sensitive `config:"password" secret:"true" env_only:"true" help:"SASL password: set it only through the environment variable"`
	PasswordFile string           `config:"password_file" help:"file holding the SASL password (one trailing newline is ignored)"`
}

// Validate checks the brokers and the topic prefix.
func (c *Config) Validate(report func(key, why string)) {
	if len(c.Brokers) == 0 {
		report("brokers", "at least one broker is required")
	}
	for _, b := range c.Brokers {
		if i := strings.LastIndex(b, ":"); i <= 0 || i == len(b)-1 {
			report("brokers", fmt.Sprintf("%q is not host:port", b))
		}
	}
	if c.TopicPrefix == "" || strings.ContainsAny(c.TopicPrefix, " /\\,") {
		report("topic_prefix", "must be non-empty and contain only letters, digits, '.', '_' and '-'")
	}
}

// Validate checks that the files are readable and only set with TLS enabled, and that
// a client certificate comes with its key.
func (t *TLS) Validate(report func(key, why string)) {
	for _, f := range []struct{ key, path string }{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
		if f.path == "" {
			continue
		}
		if !t.Enabled {
			report(f.key, "is set but kafka.tls.enabled is false")
		} else if why := config.Unreadable(f.path); why != "" {
			report(f.key, why)
		}
	}
	if t.ServerName != "" && !t.Enabled {
		report("server_name", "is set but kafka.tls.enabled is false")
	}
	if t.CertFile != "" && t.KeyFile == "" {
		report("key_file", "is required when kafka.tls.cert_file is set")
	}
	if t.KeyFile != "" && t.CertFile == "" {
		report("cert_file", "is required when kafka.tls.key_file is set")
	}
}

// Validate normalizes the mechanism, reads the password file into Password, and
// checks that a mechanism comes with its user and password and that nothing is set
// without one.
func (s *SASL) Validate(report func(key, why string)) {
	mechanismOK := true
	switch m := strings.ToUpper(strings.TrimSpace(s.Mechanism)); m {
	case "", "NONE":
		s.Mechanism = ""
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		s.Mechanism = m
	default:
		report("mechanism", "must be none, PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
		mechanismOK = false
	}
	given := s.Password != "" || s.PasswordFile != ""
	pw, why := config.SecretFile(s.Password, s.PasswordFile)
	if why != "" {
		report("password_file", strings.Replace(why, "the secret itself", "KAFKA_SASL_PASSWORD", 1))
	}
	s.Password = pw
	if s.Mechanism == "" || !mechanismOK { // none, or reported above: nothing to require
		if mechanismOK {
			for key, v := range map[string]string{"username": s.Username, "password": string(s.Password), "password_file": s.PasswordFile} {
				if v != "" {
					report(key, "is set but kafka.sasl.mechanism is none")
				}
			}
		}
		*s = SASL{}
		return
	}
	if s.Username == "" {
		report("username", "is required with kafka.sasl.mechanism "+s.Mechanism)
	}
	if !given {
		report("password", "is required with kafka.sasl.mechanism "+s.Mechanism+": set KAFKA_SASL_PASSWORD or kafka.sasl.password_file")
	}
}
