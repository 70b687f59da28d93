package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
)

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

// UnmarshalText stores the secret as given (not trimmed: spaces may be part of it).
func (s *Sensitive) UnmarshalText(b []byte) error {
	*s = Sensitive(b)
	return nil
}

// SecretFile resolves a secret that may come from its own key or from a file named by
// a _file key: it returns the secret, or why it cannot (both set, unreadable, empty).
// One trailing newline of the file is ignored.
func SecretFile(value Sensitive, file string) (Sensitive, string) {
	if file == "" {
		return value, ""
	}
	if value != "" {
		return value, "is set together with the secret itself: set only one"
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "cannot be read: " + PathError(err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", "is empty"
	}
	return Sensitive(pw), ""
}

// Unreadable returns why the file at path cannot be read, or "".
func Unreadable(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "cannot be read: " + PathError(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return "is a directory, not a file"
	}
	return ""
}

// PathError drops the path from err (the value is already shown next to its key).
func PathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// RedactURI hides credentials in a destination URI (user info and query values other
// than location and credentials_path).
func RedactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "<unparseable URI>"
	}
	if u.User != nil {
		u.User = url.User("***")
	}
	q := u.Query()
	for k := range q {
		if k != "location" && k != "credentials_path" && k != "sslmode" {
			q.Set(k, "***")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
