// Package kafkaconn turns the Kafka connection configuration into franz-go client
// options shared by the producer, the sinks and the tools.
package kafkaconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Options returns the kgo options that reach the cluster described by cfg: seed brokers,
// client id, TLS and SASL when configured, and a log adapter that forwards franz-go
// warnings and errors to log. It fails, naming the key and file, when a TLS file cannot
// be read or holds no valid PEM; errors never contain the SASL password.
func Options(cfg Config, log *slog.Logger) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
	}
	if cfg.TLS.Enabled {
		tc, err := TLSConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if m, err := Mechanism(cfg.SASL); err != nil {
		return nil, err
	} else if m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	if log != nil {
		opts = append(opts, kgo.WithLogger(logger{log}))
		if cfg.SASL.Mechanism == SASLPlain && !cfg.TLS.Enabled {
			log.Warn("kafka: SASL PLAIN without TLS sends the password unencrypted; set kafka.tls.enabled")
		}
		log.Debug("kafka connection", "brokers", cfg.Brokers, "tls", cfg.TLS.Enabled,
			"mutual_tls", cfg.TLS.CertFile != "", "sasl", cfg.SASL.Mechanism, "sasl_user", cfg.SASL.Username)
	}
	return opts, nil
}

// TLSConfig builds the client TLS configuration: TLS 1.2 or later, the CA file's
// certificates as roots (else the system's), the client certificate for mutual TLS and
// the expected server name (else kgo uses each broker's host).
func TLSConfig(t TLS) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pool, err := loadCAs(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file %s: %w", t.CAFile, err)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		if t.CertFile == "" || t.KeyFile == "" {
			return nil, errors.New("kafka.tls.cert_file and kafka.tls.key_file must be set together")
		}
		// LoadX509KeyPair's errors describe the problem without quoting the key.
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file %s / kafka.tls.key_file %s: %w", t.CertFile, t.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// loadCAs parses every PEM block of file as a certificate: a block that is not a valid
// certificate is an error (x509.CertPool.AppendCertsFromPEM would skip it silently).
func loadCAs(file string) (*x509.CertPool, error) {
	rest, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is %q, want CERTIFICATE", n+1, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}

// Mechanism returns the SASL mechanism of s, or nil when SASL is off (mechanism "").
func Mechanism(s SASL) (sasl.Mechanism, error) {
	pw := s.Password.Reveal()
	switch s.Mechanism {
	case "":
		return nil, nil
	case SASLPlain:
		return plain.Auth{User: s.Username, Pass: pw}.AsMechanism(), nil
	case SASLScramSHA256:
		return scram.Auth{User: s.Username, Pass: pw}.AsSha256Mechanism(), nil
	case SASLScramSHA512:
		return scram.Auth{User: s.Username, Pass: pw}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism %q: must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Mechanism)
}

// logger adapts slog to kgo.Logger, keeping franz-go's info chatter at debug.
type logger struct{ l *slog.Logger }

func (a logger) Level() kgo.LogLevel {
	if a.l.Enabled(context.Background(), slog.LevelDebug) {
		return kgo.LogLevelInfo
	}
	return kgo.LogLevelWarn
}

func (a logger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lv := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		lv = slog.LevelError
	case kgo.LogLevelWarn:
		lv = slog.LevelWarn
	}
	a.l.Log(context.Background(), lv, "kafka: "+msg, keyvals...)
}
