package gorgias

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Credentials identify one Gorgias account and the user whose REST API key is
// used. Every formatting path (String, GoString, Format for all fmt verbs,
// LogValue, MarshalJSON, MarshalText) redacts APIKey, so a Credentials value
// can be logged or printed safely.
type Credentials struct {
	Domain string // account subdomain, e.g. "acme" for acme.gorgias.com
	Email  string // Basic-auth user name: the e-mail of the key's owner
	APIKey string // Basic-auth password; never printed
}

const redacted = "***"

func (c Credentials) redactedKey() string {
	if c.APIKey == "" {
		return "<unset>"
	}
	return redacted
}

// String returns "domain (email, api_key=***)"; the key is never included.
func (c Credentials) String() string {
	return fmt.Sprintf("%s (%s, api_key=%s)", c.Domain, c.Email, c.redactedKey())
}

// GoString returns a Go-syntax-like representation with the key redacted, so
// %#v is safe.
func (c Credentials) GoString() string {
	return fmt.Sprintf("gorgias.Credentials{Domain:%q, Email:%q, APIKey:%q}", c.Domain, c.Email, c.redactedKey())
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q,
// %d, %x, ...) prints the redacted form and never the key.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(c.GoString()))
		return
	}
	if verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", c.String())
		return
	}
	_, _ = f.Write([]byte(c.String()))
}

// LogValue implements slog.LogValuer: a group of domain, email and a redacted
// api_key.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("domain", c.Domain),
		slog.String("email", c.Email),
		slog.String("api_key", c.redactedKey()),
	)
}

// MarshalJSON encodes the credentials with the key redacted, so dumping a
// configuration as JSON cannot leak it.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Domain string `json:"domain"`
		Email  string `json:"email"`
		APIKey string `json:"api_key"`
	}{c.Domain, c.Email, c.redactedKey()})
}

// MarshalText returns String(), so text/YAML encoders cannot leak the key.
func (c Credentials) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

const uriForm = "gorgias://<domain>?api_key=<key>&email=<email>"

// ParseURI parses the ingestr connection string
// gorgias://<domain>?api_key=<key>&email=<email>.
//
// The host may be the bare subdomain ("acme") or the full host name
// ("acme.gorgias.com"); both give Domain "acme" (lower-cased). Query values
// are percent-decoded; a literal '+' is kept as '+' (e-mail addresses and
// keys never contain spaces). Surrounding whitespace is trimmed. A missing
// domain, api_key or email gives an error wrapping ErrInvalidURI that names
// every missing part. Errors never echo the raw URI or the key.
func ParseURI(uri string) (Credentials, error) {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil {
		// url.Parse errors quote the whole URI, key included: do not wrap them.
		return Credentials{}, fmt.Errorf("%w: cannot parse it (percent-encode special characters in the values); expected %s",
			ErrInvalidURI, uriForm)
	}
	if !strings.EqualFold(u.Scheme, "gorgias") {
		return Credentials{}, fmt.Errorf("%w: scheme must be gorgias://; expected %s", ErrInvalidURI, uriForm)
	}
	if u.Opaque != "" {
		return Credentials{}, fmt.Errorf("%w: missing // after gorgias:; expected %s", ErrInvalidURI, uriForm)
	}
	if u.Fragment != "" || strings.HasSuffix(u.RawQuery, "#") {
		return Credentials{}, fmt.Errorf("%w: it contains '#'; percent-encode it as %%23", ErrInvalidURI)
	}
	params, err := parseQueryKeepPlus(u.RawQuery)
	if err != nil {
		return Credentials{}, err
	}
	c := Credentials{
		Domain: normalizeDomain(u.Hostname()),
		Email:  strings.TrimSpace(params["email"]),
		APIKey: strings.TrimSpace(params["api_key"]),
	}
	var missing []string
	if c.Domain == "" {
		missing = append(missing, "domain (the host part)")
	}
	if c.APIKey == "" {
		missing = append(missing, "api_key")
	}
	if c.Email == "" {
		missing = append(missing, "email")
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("%w: missing %s; expected %s", ErrInvalidURI, strings.Join(missing, ", "), uriForm)
	}
	if err := validateDomain(c.Domain); err != nil {
		return Credentials{}, fmt.Errorf("%w: %w", ErrInvalidURI, err)
	}
	return c, nil
}

// parseQueryKeepPlus decodes a raw query like url.ParseQuery but keeps '+'
// literally. It reports (without echoing values) duplicated or badly encoded
// api_key/email parameters. Other parameters are ignored.
func parseQueryKeepPlus(raw string) (map[string]string, error) {
	out := make(map[string]string, 2)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.PathUnescape(k)
		if err != nil {
			continue // an unknown, badly encoded parameter name: not ours
		}
		if key != "api_key" && key != "email" {
			continue
		}
		val, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("%w: the %s value is not validly percent-encoded", ErrInvalidURI, key)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%w: %s is given more than once", ErrInvalidURI, key)
		}
		out[key] = val
	}
	return out, nil
}

// normalizeDomain lower-cases a host and strips a ".gorgias.com" suffix.
func normalizeDomain(host string) string {
	h := strings.ToLower(strings.TrimSpace(host))
	h = strings.TrimSuffix(h, ".")
	h = strings.TrimSuffix(h, ".gorgias.com")
	return h
}

// validateDomain checks that d is a plausible subdomain label.
func validateDomain(d string) error {
	if d == "" {
		return fmt.Errorf("domain is required")
	}
	if len(d) > 63 {
		return fmt.Errorf("domain %q is longer than 63 characters", d[:63]+"...")
	}
	for i := 0; i < len(d); i++ {
		b := d[i]
		ok := b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' && i > 0 && i < len(d)-1
		if !ok {
			return fmt.Errorf("domain %q must be the account subdomain (letters, digits, inner hyphens), e.g. \"acme\" for acme.gorgias.com", d)
		}
	}
	return nil
}
