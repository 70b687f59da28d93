// Package schemaregistry talks to a Confluent-compatible Schema Registry (Confluent,
// Karapace, Apicurio's ccompat API, Redpanda) through franz-go's pkg/sr: it names the
// subject of a topic's value schema, registers Avro schemas and resolves schema ids to
// writer schemas, once per id per process. Its errors say which of three things
// happened — the registry refused (ErrRefused: fix the configuration or the schema),
// the registry does not know an id (ErrUnknownID: a bad record), or the registry could
// not be reached or failed (ErrUnavailable: retry) — and never contain the URL's
// credentials, the password or the token.
package schemaregistry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

// Sentinels, one per condition; every error of a Client wraps exactly one of them
// (and, after a caller's cancellation, its context error too).
var (
	// ErrRefused: the registry answered and refused the request (incompatible or
	// invalid schema, wrong credentials, forbidden, any other 4xx). Retrying the same
	// request will not help; the error quotes the registry's message.
	ErrRefused = errors.New("schema registry refused the request")
	// ErrUnknownID: the registry does not know the schema id (HTTP 404 with Confluent
	// error code 40403). A record framed with that id cannot be decoded.
	ErrUnknownID = errors.New("schema id unknown to the schema registry")
	// ErrUnavailable: the registry could not be reached, timed out, answered 5xx, 408
	// or 429, or sent an unreadable answer. Transient: retry with back-off.
	ErrUnavailable = errors.New("schema registry unavailable")
)

// defaultTimeout bounds a request when Config.Timeout is zero (a Config not loaded).
const defaultTimeout = 10 * time.Second

// Client registers and resolves Avro schemas in one registry. It is safe for
// concurrent use; SchemaByID results are cached for the life of the Client.
type Client struct {
	sr       *sr.Client
	strategy string
	log      *slog.Logger

	mu   sync.Mutex
	byID map[int]*lookup
}

// lookup is one id's resolution: done closes when schema or err is set. A failed
// lookup is removed from the cache so that the next caller asks again.
type lookup struct {
	done   chan struct{}
	schema string
	err    error
}

// New returns a Client for cfg, which must have passed Validate and have a URL
// (Config.Enabled). It makes no request; it fails, naming the key and file, when a TLS
// file cannot be read or holds no valid PEM. A nil log discards the debug line.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("schema_registry.url is empty: no registry configured")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("schema_registry.url must be an http(s) URL")
	}
	opts := []sr.ClientOpt{
		sr.URLs(strings.TrimRight(redact(u), "/")),
		sr.HTTPClient(&http.Client{Timeout: timeout}),
		sr.UserAgent("gorgias-kafka"),
	}
	user, pass := cfg.Username, cfg.Password.Reveal()
	if u.User != nil && user == "" { // a Config that skipped Validate
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	if user != "" || pass != "" {
		opts = append(opts, sr.BasicAuth(user, pass))
	}
	if cfg.Token != "" {
		opts = append(opts, sr.BearerToken(cfg.Token.Reveal()))
	}
	if u.Scheme == "https" {
		tc, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sr.DialTLSConfig(tc))
	}
	strategy := cfg.SubjectStrategy
	if strategy == "" {
		strategy = StrategyTopic
	}
	switch strategy {
	case StrategyTopic, StrategyRecord, StrategyTopicRecord:
	default:
		return nil, fmt.Errorf("schema_registry.subject_strategy %q: must be topic, record or topic_record", strategy)
	}
	rcl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry client: %w", err)
	}
	log.Debug("schema registry", "url", redact(u), "basic_auth", user != "", "bearer", cfg.Token != "",
		"mutual_tls", cfg.TLS.CertFile != "", "subject_strategy", strategy, "timeout", timeout)
	return &Client{sr: rcl, strategy: strategy, log: log, byID: map[int]*lookup{}}, nil
}

// redact returns u without user info as a string.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// tlsConfig builds the client TLS configuration: TLS 1.2 or later, the CA file's
// certificates as roots (else the system's), and the client certificate.
func tlsConfig(t TLS) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		b, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("schema_registry.tls.ca_file %s: %w", t.CAFile, err)
		}
		pool := x509.NewCertPool()
		n := 0
		for block, rest := pem.Decode(b); block != nil; block, rest = pem.Decode(rest) {
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("schema_registry.tls.ca_file %s: %w", t.CAFile, err)
			}
			pool.AddCert(cert)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("schema_registry.tls.ca_file %s: no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		if t.CertFile == "" || t.KeyFile == "" {
			return nil, errors.New("schema_registry.tls.cert_file and schema_registry.tls.key_file must be set together")
		}
		// LoadX509KeyPair's errors describe the problem without quoting the key.
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("schema_registry.tls.cert_file %s / schema_registry.tls.key_file %s: %w", t.CertFile, t.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Subject returns the subject under which the value schema schemaText of topic is
// registered and looked up, by the configured strategy: "<topic>-value" (topic),
// "<namespace>.<name>" (record) or "<topic>-<namespace>.<name>" (topic_record). The
// record strategies need schemaText to be a named Avro schema (a record, enum or fixed).
func (c *Client) Subject(topic, schemaText string) (string, error) {
	return subject(c.strategy, topic, schemaText)
}

func subject(strategy, topic, schemaText string) (string, error) {
	if strategy == StrategyTopic {
		if topic == "" {
			return "", errors.New("schema registry subject: empty topic")
		}
		return topic + "-value", nil
	}
	var s struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	}
	if err := json.Unmarshal([]byte(schemaText), &s); err != nil {
		return "", fmt.Errorf("schema registry subject (%s strategy): the schema is not a JSON object: %w", strategy, err)
	}
	if s.Name == "" {
		return "", fmt.Errorf("schema registry subject (%s strategy): the schema has no name", strategy)
	}
	full := s.Name
	if !strings.Contains(full, ".") && s.Namespace != "" {
		full = s.Namespace + "." + full
	}
	if strategy == StrategyRecord {
		return full, nil
	}
	if topic == "" {
		return "", errors.New("schema registry subject: empty topic")
	}
	return topic + "-" + full, nil
}

// Register registers the Avro schema schemaText under subject and returns its id;
// registering a schema the subject already has returns the id it has. A refusal
// (incompatible 409, invalid 422, 401/403, other 4xx) wraps ErrRefused and quotes the
// registry's message; no answer, a timeout or a 5xx wraps ErrUnavailable. It never
// changes the registry's compatibility setting.
func (c *Client) Register(ctx context.Context, subject, schemaText string) (int, error) {
	id, err := c.sr.RegisterSchema(ctx, subject, sr.Schema{Schema: schemaText, Type: sr.TypeAvro}, -1, -1)
	if err != nil {
		return 0, classify(ctx, fmt.Sprintf("registering the schema of subject %q", subject), err, false)
	}
	c.log.Debug("schema registered", "subject", subject, "id", id)
	return id, nil
}

// SchemaByID returns the writer schema text of id. Each id is fetched at most once per
// Client while it succeeds: concurrent callers of one id share one request, later
// callers get the cached text. Failures are not cached. An id the registry does not
// know wraps ErrUnknownID; no answer, a timeout or a 5xx wraps ErrUnavailable (retry;
// never a reason to dead-letter); a refusal such as wrong credentials wraps ErrRefused.
// A caller whose ctx ends stops waiting; the shared request goes on, bounded by the
// configured timeout, for the others.
func (c *Client) SchemaByID(ctx context.Context, id int) (string, error) {
	c.mu.Lock()
	l, ok := c.byID[id]
	if !ok {
		l = &lookup{done: make(chan struct{})}
		c.byID[id] = l
		go c.fetch(context.WithoutCancel(ctx), id, l)
	}
	c.mu.Unlock()
	select {
	case <-l.done:
		return l.schema, l.err
	case <-ctx.Done():
		return "", fmt.Errorf("schema registry: fetching schema id %d: %w", id, errors.Join(ErrUnavailable, ctx.Err()))
	}
}

// fetch resolves l, then drops it from the cache if it failed.
func (c *Client) fetch(ctx context.Context, id int, l *lookup) {
	s, err := c.sr.SchemaByID(ctx, id)
	if err != nil {
		l.err = classify(ctx, fmt.Sprintf("fetching schema id %d", id), err, true)
		c.mu.Lock()
		delete(c.byID, id)
		c.mu.Unlock()
	} else {
		l.schema = s.Schema
		c.log.Debug("schema fetched", "id", id)
	}
	close(l.done)
}

// classify wraps err, an error of the sr client, in the sentinel of its condition,
// with what was being done and the registry's message, never the URL.
func classify(ctx context.Context, doing string, err error, byID bool) error {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		msg := re.Message
		if msg == "" {
			msg = strings.TrimSpace(string(re.Raw))
		}
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		what := fmt.Sprintf("HTTP %d", re.StatusCode)
		if re.ErrorCode != 0 {
			what += fmt.Sprintf(", error code %d", re.ErrorCode)
		}
		var sentinel error
		switch {
		case byID && re.StatusCode == http.StatusNotFound && re.ErrorCode == sr.ErrSchemaNotFound.Code:
			sentinel = ErrUnknownID
		case re.StatusCode >= 500, re.StatusCode == http.StatusRequestTimeout, re.StatusCode == http.StatusTooManyRequests:
			sentinel = ErrUnavailable
		default:
			sentinel = ErrRefused
		}
		return fmt.Errorf("schema registry: %s: %w (%s): %s", doing, sentinel, what, msg)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("schema registry: %s: %w", doing, errors.Join(ErrUnavailable, cerr))
	}
	// Transport errors: the sr client quotes the request URL; *url.Error's inner error
	// names only the host (dial, TLS, timeout), never the user info or path.
	cause := "no answer"
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err.Error()
		if ue.Timeout() {
			cause = "timed out: " + cause
		}
	} else {
		cause = "unreadable answer"
	}
	return fmt.Errorf("schema registry: %s: %w: %s", doing, ErrUnavailable, cause)
}
