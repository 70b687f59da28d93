package kafkaconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
)

const (
	topic   = "conn-test"
	secret  = "c0rrect-h0rse-pa55"
	wrongPW = "wr0ng-h0rse-pa55"
)

// cluster starts a one-broker kfake cluster with the topic and opts.
func cluster(t *testing.T, opts ...kfake.Opt) []string {
	t.Helper()
	return newCluster(t, opts...).ListenAddrs()
}

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(1, topic)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// fast keeps retries short: a failing handshake should fail the test in seconds.
var fast = []kgo.Opt{
	kgo.MetadataMinAge(50 * time.Millisecond),
	kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }),
	kgo.FetchMaxWait(100 * time.Millisecond),
}

// roundTrip produces one record with cfg's options and consumes it back.
func roundTrip(t *testing.T, cfg Config) {
	t.Helper()
	opts, err := Options(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	prod, err := kgo.NewClient(append(append(opts, fast...), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	val := "hello " + t.Name()
	if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte(val)}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	cons, err := kgo.NewClient(append(append(opts, fast...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	for {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume: %v", err)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			t.Fatalf("consume: %v", errs[0].Err)
		}
		for _, r := range fs.Records() {
			if string(r.Value) == val {
				return
			}
		}
	}
}

// connectErr returns the error of one metadata request through cfg's options (nil if it
// succeeded). kgo does not retry a failed Ping, so a refused handshake fails at once.
func connectErr(t *testing.T, cfg Config) error {
	t.Helper()
	return connectErrLog(t, cfg, nil)
}

func connectErrLog(t *testing.T, cfg Config, log *slog.Logger) error {
	t.Helper()
	opts, err := Options(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, fast...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

func TestSASLMechanisms(t *testing.T) {
	for _, mech := range []string{SASLPlain, SASLScramSHA256, SASLScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			c := newCluster(t, kfake.EnableSASL(), kfake.Superuser(mech, "gorgias", secret))
			cfg := Config{Brokers: c.ListenAddrs(), ClientID: "test", SASL: SASL{
				Mechanism: mech, Username: "gorgias", Password: secret}}
			roundTrip(t, cfg)

			// A wrong password is refused. kfake refuses by closing the connection, so
			// the client only sees EOF; the error holds no password.
			wrong := cfg
			wrong.SASL.Password = config.Sensitive(wrongPW)
			err := connectErr(t, wrong)
			if err == nil {
				t.Fatal("wrong password accepted")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), wrongPW) {
				t.Errorf("password leaked: %v", err)
			}

			// A real broker answers SASL_AUTHENTICATION_FAILED with a message instead: the
			// error says so and kgo logs it at error level through our logger, without
			// the password.
			c.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
				c.KeepControl()
				resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
				resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
				msg := "Authentication failed: Invalid username or password"
				resp.ErrorMessage = &msg
				return resp, nil, true
			})
			var logs strings.Builder
			err = connectErrLog(t, wrong, slog.New(slog.NewTextHandler(&logs, nil)))
			if err == nil || !strings.Contains(err.Error(), "SASL_AUTHENTICATION_FAILED") {
				t.Errorf("want a SASL_AUTHENTICATION_FAILED error, got %v", err)
			}
			if !strings.Contains(logs.String(), `level=ERROR msg="kafka: unable to initialize sasl"`) {
				t.Errorf("refused authentication not logged as an error:\n%s", logs.String())
			}
			for _, s := range []string{fmt.Sprint(err), logs.String()} {
				if strings.Contains(s, secret) || strings.Contains(s, wrongPW) {
					t.Errorf("password leaked: %s", s)
				}
			}

			if err := connectErr(t, Config{Brokers: cfg.Brokers, ClientID: "test"}); err == nil {
				t.Error("client without SASL accepted by a SASL cluster")
			}
		})
	}
}

// pki is a throwaway CA with server and client certificates, written as PEM files.
type pki struct {
	dir                            string
	ca                             *x509.Certificate
	caKey                          *ecdsa.PrivateKey
	caFile                         string
	serverCert                     tls.Certificate
	clientCertFile, clientKeyFile  string
	otherCAFile                    string
	namedServerCert                tls.Certificate // valid only for kafka.internal
	serverPool                     *x509.CertPool  // verifies client certificates
	untrustedClientCertFile, untrK string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	p.ca, p.caKey = selfSigned(t, "test CA")
	p.caFile = p.writePEM(t, "ca.pem", "CERTIFICATE", p.ca.Raw)
	p.serverPool = x509.NewCertPool()
	p.serverPool.AddCert(p.ca)

	p.serverCert = p.leaf(t, p.ca, p.caKey, "broker", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, x509.ExtKeyUsageServerAuth)
	p.namedServerCert = p.leaf(t, p.ca, p.caKey, "kafka.internal", []string{"kafka.internal"}, nil, x509.ExtKeyUsageServerAuth)
	client := p.leaf(t, p.ca, p.caKey, "gorgias-kafka", nil, nil, x509.ExtKeyUsageClientAuth)
	p.clientCertFile, p.clientKeyFile = p.writePair(t, "client", client)

	other, otherKey := selfSigned(t, "other CA")
	p.otherCAFile = p.writePEM(t, "other-ca.pem", "CERTIFICATE", other.Raw)
	rogue := p.leaf(t, other, otherKey, "rogue", nil, nil, x509.ExtKeyUsageClientAuth)
	p.untrustedClientCertFile, p.untrK = p.writePair(t, "rogue", rogue)
	return p
}

func selfSigned(t *testing.T, cn string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func (p *pki) leaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, dns []string, ips []net.IP, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func (p *pki) writePEM(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (p *pki) writePair(t *testing.T, name string, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return p.writePEM(t, name+".pem", "CERTIFICATE", c.Certificate[0]), p.writePEM(t, name+"-key.pem", "PRIVATE KEY", der)
}

func TestTLS(t *testing.T) {
	p := newPKI(t)

	t.Run("server certificate verified with the CA file", func(t *testing.T) {
		brokers := cluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{p.serverCert}}))
		cfg := Config{Brokers: brokers, ClientID: "test", TLS: TLS{Enabled: true, CAFile: p.caFile}}
		roundTrip(t, cfg)

		cfg.TLS.CAFile = p.otherCAFile
		err := connectErr(t, cfg)
		if err == nil || !strings.Contains(err.Error(), "unknown authority") {
			t.Fatalf("untrusted CA: want an unknown authority error, got %v", err)
		}
		// Without TLS the client cannot talk to a TLS listener.
		if err := connectErr(t, Config{Brokers: brokers, ClientID: "test"}); err == nil {
			t.Fatal("plaintext client accepted by a TLS listener")
		}
	})

	t.Run("server name", func(t *testing.T) {
		brokers := cluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{p.namedServerCert}}))
		cfg := Config{Brokers: brokers, ClientID: "test", TLS: TLS{Enabled: true, CAFile: p.caFile}}
		// The certificate does not name 127.0.0.1 ...
		if err := connectErr(t, cfg); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("certificate for another name accepted, or unclear error: %v", err)
		}
		// ... but the expected name can be configured.
		cfg.TLS.ServerName = "kafka.internal"
		roundTrip(t, cfg)
	})

	t.Run("mutual TLS with SCRAM", func(t *testing.T) {
		brokers := cluster(t,
			kfake.TLS(&tls.Config{Certificates: []tls.Certificate{p.serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.serverPool}),
			kfake.EnableSASL(), kfake.Superuser(SASLScramSHA512, "gorgias", secret))
		cfg := Config{Brokers: brokers, ClientID: "test",
			TLS:  TLS{Enabled: true, CAFile: p.caFile, CertFile: p.clientCertFile, KeyFile: p.clientKeyFile},
			SASL: SASL{Mechanism: SASLScramSHA512, Username: "gorgias", Password: secret}}
		roundTrip(t, cfg)

		noCert := cfg
		noCert.TLS.CertFile, noCert.TLS.KeyFile = "", ""
		if err := connectErr(t, noCert); err == nil {
			t.Fatal("client without certificate accepted by a broker that requires one")
		}
		rogue := cfg
		rogue.TLS.CertFile, rogue.TLS.KeyFile = p.untrustedClientCertFile, p.untrK
		if err := connectErr(t, rogue); err == nil {
			t.Fatal("client certificate from an untrusted CA accepted")
		}
	})
}

func TestTLSFileErrors(t *testing.T) {
	p := newPKI(t)
	garbage := filepath.Join(p.dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate\n"), 0o600)
	badBlock := p.writePEM(t, "bad-block.pem", "CERTIFICATE", []byte("junk"))
	keyDER, _ := os.ReadFile(p.clientKeyFile)

	for _, c := range []struct {
		name string
		tls  TLS
		want []string
	}{
		{"missing CA", TLS{CAFile: filepath.Join(p.dir, "nope.pem")}, []string{"kafka.tls.ca_file", "no such file"}},
		{"CA without PEM", TLS{CAFile: garbage}, []string{"kafka.tls.ca_file", "garbage.pem", "no PEM certificate"}},
		{"CA block not a certificate", TLS{CAFile: badBlock}, []string{"kafka.tls.ca_file", "PEM block 1"}},
		{"key given as CA", TLS{CAFile: p.clientKeyFile}, []string{"kafka.tls.ca_file", `"PRIVATE KEY", want CERTIFICATE`}},
		{"certificate without key", TLS{CertFile: p.clientCertFile}, []string{"kafka.tls.key_file"}},
		{"key of another certificate", TLS{CertFile: p.clientCertFile, KeyFile: p.untrK}, []string{"kafka.tls.cert_file", "kafka.tls.key_file", "does not match"}},
		{"key file is not PEM", TLS{CertFile: p.clientCertFile, KeyFile: garbage}, []string{"kafka.tls.key_file", "PEM"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.tls.Enabled = true
			_, err := Options(Config{Brokers: []string{"127.0.0.1:1"}, TLS: c.tls}, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), string(keyDER)) {
				t.Errorf("error quotes the private key: %v", err)
			}
		})
	}

	if _, err := Options(Config{Brokers: []string{"127.0.0.1:1"}, SASL: SASL{Mechanism: "GSSAPI"}}, nil); err == nil ||
		!strings.Contains(err.Error(), "kafka.sasl.mechanism") {
		t.Errorf("unknown mechanism: %v", err)
	}
}
