package schemaregistry

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
)

// Subject name strategies accepted by schema_registry.subject_strategy; they are
// Confluent's TopicNameStrategy, RecordNameStrategy and TopicRecordNameStrategy.
const (
	// StrategyTopic names the subject "<topic>-value".
	StrategyTopic = "topic"
	// StrategyRecord names the subject "<namespace>.<name>" of the record schema.
	StrategyRecord = "record"
	// StrategyTopicRecord names the subject "<topic>-<namespace>.<name>".
	StrategyTopicRecord = "topic_record"
)

// Config is the Schema Registry connection (section schema_registry, environment
// SCHEMA_REGISTRY_*). An empty URL means no registry: values keep the single-object
// encoding. Authentication is either basic (Username with Password or PasswordFile) or
// a bearer token (Token or TokenFile), never both; secrets come only from the
// environment or from files, and after Validate the secret fields hold the secret
// whichever way it was given.
type Config struct {
	// URL is the registry's base URL (http or https); empty: no registry. User info in
	// the URL (https://user:pass@host) is moved into Username and Password by Validate,
	// so the URL kept afterwards never carries credentials.
	URL string `config:"url" redact:"uri" help:"Confluent-compatible Schema Registry base URL, http(s)://host:port (empty: no registry, values use Avro single-object encoding)"`
	// Username is the basic-auth user; it requires a password.
	Username string `config:"username" help:"Schema Registry basic-auth user (password from SCHEMA_REGISTRY_PASSWORD or schema_registry.password_file)"`
	// Password comes from SCHEMA_REGISTRY_PASSWORD or PasswordFile only.
	Password config.Sensitive `config:"password" secret:"true" env_only:"true" help:"Schema Registry basic-auth password: set it only through the environment variable"`
	// PasswordFile holds the basic-auth password (one trailing newline is ignored).
	PasswordFile string `config:"password_file" help:"file holding the Schema Registry basic-auth password (one trailing newline is ignored)"`
	// Token is a bearer token, from SCHEMA_REGISTRY_TOKEN or TokenFile only.
	Token config.Sensitive `config:"token" secret:"true" env_only:"true" help:"Schema Registry bearer token: set it only through the environment variable"`
	// TokenFile holds the bearer token (one trailing newline is ignored).
	TokenFile string `config:"token_file" help:"file holding the Schema Registry bearer token (one trailing newline is ignored)"`
	// TLS is the trust and client certificate for an https URL.
	TLS TLS `config:"tls"`
	// SubjectStrategy is StrategyTopic, StrategyRecord or StrategyTopicRecord.
	SubjectStrategy string `config:"subject_strategy" default:"topic" help:"subject of a topic's value schema: topic (<topic>-value), record (<namespace>.<name>) or topic_record (<topic>-<namespace>.<name>)"`
	// Timeout bounds each HTTP request to the registry (connect, send, answer).
	Timeout time.Duration `config:"timeout" default:"10s" min:"100ms" help:"time limit of one request to the Schema Registry"`
}

// TLS configures https to the registry (keys schema_registry.tls.*). The files are PEM;
// Validate checks they are readable and New parses them. TLS is used whenever the URL
// is https, with the system's roots when CAFile is empty.
type TLS struct {
	// CAFile holds the CA certificates that signed the registry's certificate; empty:
	// the system's roots.
	CAFile string `config:"ca_file" help:"PEM file of the CA certificates of the Schema Registry (empty: the system's roots)"`
	// CertFile and KeyFile are the client certificate for mutual TLS: both or neither.
	CertFile string `config:"cert_file" help:"PEM client certificate for mutual TLS to the Schema Registry (with schema_registry.tls.key_file)"`
	KeyFile  string `config:"key_file" help:"PEM private key of schema_registry.tls.cert_file"`
}

// Enabled reports whether a registry is configured (URL set).
func (c Config) Enabled() bool { return c.URL != "" }

// Validate checks every rule and completes the derived values: the URL is http(s)
// without path query or fragment surprises (user info moves into Username/Password),
// basic auth and bearer token exclude each other, each secret comes from its variable
// or its file (read here into Password / Token), the TLS files are readable, set only
// with an https URL, and a certificate comes with its key; the strategy is one of the
// three. With no URL nothing else may be set. No report quotes a secret.
func (c *Config) Validate(report func(key, why string)) {
	c.SubjectStrategy = strings.ToLower(strings.TrimSpace(c.SubjectStrategy))
	switch c.SubjectStrategy {
	case StrategyTopic, StrategyRecord, StrategyTopicRecord:
	case "":
		c.SubjectStrategy = StrategyTopic
	default:
		report("subject_strategy", "must be topic, record or topic_record")
	}

	pw, why := config.SecretFile(c.Password, c.PasswordFile)
	if why != "" {
		report("password_file", strings.Replace(why, "the secret itself", "SCHEMA_REGISTRY_PASSWORD", 1))
	}
	c.Password = pw
	tok, why := config.SecretFile(c.Token, c.TokenFile)
	if why != "" {
		report("token_file", strings.Replace(why, "the secret itself", "SCHEMA_REGISTRY_TOKEN", 1))
	}
	c.Token = tok

	https := false
	c.URL = strings.TrimSpace(c.URL)
	if c.URL == "" {
		for key, v := range map[string]string{
			"username": c.Username, "password": string(c.Password), "password_file": c.PasswordFile,
			"token": string(c.Token), "token_file": c.TokenFile,
			"tls.ca_file": c.TLS.CAFile, "tls.cert_file": c.TLS.CertFile, "tls.key_file": c.TLS.KeyFile,
		} {
			if v != "" {
				report(key, "is set but schema_registry.url is empty")
			}
		}
		return
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		// url.Parse quotes the input, which may hold credentials: say only what is wrong.
		report("url", "is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		report("url", "must start with http:// or https://")
	case u.Host == "":
		report("url", "has no host")
	case u.RawQuery != "" || u.Fragment != "":
		report("url", "must not have a query or a fragment")
	default:
		https = u.Scheme == "https"
		if u.User != nil {
			if c.Username != "" || c.Password != "" {
				report("url", "carries credentials and schema_registry.username or the password is set too: set only one")
			} else {
				c.Username = u.User.Username()
				p, _ := u.User.Password()
				c.Password = config.Sensitive(p)
			}
			u.User = nil
			c.URL = u.String()
		}
	}

	basic := c.Username != "" || c.Password != ""
	if basic && c.Token != "" {
		report("token", "is set together with basic auth (schema_registry.username / password): set only one")
	}
	if c.Username != "" && c.Password == "" && c.PasswordFile == "" {
		report("password", "is required with schema_registry.username: set SCHEMA_REGISTRY_PASSWORD or schema_registry.password_file")
	}
	if c.Password != "" && c.Username == "" {
		report("username", "is required with a Schema Registry password")
	}

	for _, f := range []struct{ key, path string }{{"tls.ca_file", c.TLS.CAFile}, {"tls.cert_file", c.TLS.CertFile}, {"tls.key_file", c.TLS.KeyFile}} {
		if f.path == "" {
			continue
		}
		if err == nil && !https {
			report(f.key, "is set but schema_registry.url is not https")
		} else if why := config.Unreadable(f.path); why != "" {
			report(f.key, why)
		}
	}
	if c.TLS.CertFile != "" && c.TLS.KeyFile == "" {
		report("tls.key_file", "is required when schema_registry.tls.cert_file is set")
	}
	if c.TLS.KeyFile != "" && c.TLS.CertFile == "" {
		report("tls.cert_file", "is required when schema_registry.tls.key_file is set")
	}
	if c.Timeout < 0 {
		report("timeout", fmt.Sprintf("must be positive, not %s", c.Timeout))
	}
}
