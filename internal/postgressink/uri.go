package postgressink

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
)

// DefaultConnectTimeout bounds connecting (DNS, TCP, TLS, authentication) when the URI
// has no connect_timeout parameter.
const DefaultConnectTimeout = 10 * time.Second

// sessionDefaults are the settings of the sink's session, unless the URI sets them
// (e.g. ?work_mem=16MB):
//   - application_name shows the sink in pg_stat_activity;
//   - temp_buffers holds a batch's temporary table in memory (the default 8MB makes a
//     batch of 10,000 ticket messages spill to files and read them back: the upsert
//     took half as long again); memory is only taken as the table fills;
//   - work_mem lets the upsert's DISTINCT ON sort a batch in memory (with the default
//     4MB, 10,000 ticket messages were sorted on disk, a fifth of the upsert's time);
//   - idle_in_transaction_session_timeout ends the session of a writer that stopped in
//     the middle of a batch (a frozen or partitioned consumer) so that it does not keep
//     the offsets rows locked from the consumer that took its partitions over; a
//     healthy batch is never idle in its transaction for more than moments.
var sessionDefaults = map[string]string{
	"application_name":                    "gorgias-kafka",
	"temp_buffers":                        "64MB",
	"work_mem":                            "64MB",
	"idle_in_transaction_session_timeout": "5min",
}

// target is a parsed destination: the pgx configuration, what may be shown of it, and
// the secrets that must never be.
type target struct {
	conn *pgx.ConnConfig
	// shown is the URI with its credentials hidden, for logs and errors.
	shown string
	// red scrubs the secrets out of error messages.
	red redactor
	// ignoredConfigPassword: the URI has a password, so postgres.password (or its
	// file) was not used.
	ignoredConfigPassword bool
}

// parseURI parses a postgresql:// or postgres:// destination URI as ingestr writes it
// (postgresql://user:password@host:port/dbname?sslmode=...). The password comes from
// the URI, else from password (postgres.password or its file), else from what pgx
// itself reads (PGPASSWORD, ~/.pgpass). Its errors wrap ErrBadURI and never contain the
// password: pgx's and net/url's messages can echo the URI, so they are scrubbed or
// replaced.
func parseURI(uri string, password config.Sensitive) (*target, error) {
	t := &target{}
	if password != "" {
		t.red.add(password.Reveal())
	}
	u, err := url.Parse(uri)
	if err != nil {
		// net/url quotes the URI, or a piece of it (an invalid escape, a bad port),
		// which may be part of the password: say what is wrong without echoing it.
		return nil, fmt.Errorf("%w: not a valid URL (percent-encode special characters of the user name and password, e.g. @ as %%40, : as %%3A, / as %%2F)",
			ErrBadURI)
	}
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			t.red.add(pw)
			t.red.add(rawPassword(uri)) // as written in the URI (percent-encoded)
		}
	}
	q := u.Query()
	for _, k := range []string{"password", "sslpassword"} {
		for _, v := range q[k] {
			t.red.add(v)
		}
	}
	// The URI is only shown (redacted) once it is known to be of the expected form.
	switch u.Scheme { // lower case: net/url folds it
	case "postgresql", "postgres":
	case "":
		return nil, fmt.Errorf("%w: expected postgresql://user:password@host:port/dbname", ErrBadURI)
	default:
		return nil, fmt.Errorf("%w: the scheme must be postgresql:// or postgres://, not %s://", ErrBadURI, u.Scheme)
	}
	if u.Opaque != "" || !strings.HasPrefix(strings.ToLower(uri), u.Scheme+"://") {
		return nil, fmt.Errorf("%w: expected postgresql://user:password@host:port/dbname", ErrBadURI)
	}
	t.shown = shownURI(*u)
	if strings.Contains(strings.TrimPrefix(u.Path, "/"), "/") {
		return nil, fmt.Errorf("%w: %s: the path must be one database name", ErrBadURI, t.shown)
	}
	// pgx only knows postgres:// and postgresql:// in lower case.
	uri = u.Scheme + uri[len(u.Scheme):]
	cfg, err := pgx.ParseConfig(uri)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadURI, t.shown, t.red.err(unwrapParse(err)))
	}
	_, uriHasPassword := u.User.Password()
	uriHasPassword = uriHasPassword || q.Has("password")
	switch {
	case uriHasPassword:
		t.ignoredConfigPassword = password != ""
	case password != "":
		cfg.Password = password.Reveal()
	}
	if cfg.Password != "" {
		t.red.add(cfg.Password) // e.g. from PGPASSWORD or ~/.pgpass
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	for k, v := range sessionDefaults {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	t.conn = cfg
	return t, nil
}

// shownParams are the query parameters whose values are shown in logs and errors;
// every other value (password, sslpassword, anything unknown) shows as xxxxx.
var shownParams = map[string]bool{
	"sslmode": true, "connect_timeout": true, "application_name": true, "target_session_attrs": true,
	"sslrootcert": true, "sslcert": true, "sslkey": true, "sslnegotiation": true, "search_path": true,
}

// shownURI returns the URI with its password and query values other than
// shownParams replaced by xxxxx, for logs and errors.
func shownURI(u url.URL) string {
	q := u.Query()
	for k, vs := range q {
		if !shownParams[k] {
			for i := range vs {
				vs[i] = "xxxxx"
			}
		}
	}
	u.RawQuery = q.Encode()
	u.Fragment, u.RawFragment = "", ""
	return u.Redacted()
}

// rawPassword returns the password part of the URI's user info as written.
func rawPassword(uri string) string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}

// unwrapParse drops pgx's "cannot parse `<connection string>`:" prefix (the string is
// already shown, redacted, by the caller).
func unwrapParse(err error) error {
	var pe interface{ Unwrap() error }
	if errors.As(err, &pe) && pe.Unwrap() != nil {
		msg := err.Error()
		if i := strings.Index(msg, "`: "); strings.HasPrefix(msg, "cannot parse `") && i > 0 {
			return errors.New(msg[i+3:])
		}
	}
	return err
}

// redactor replaces secrets in error messages by ***.
type redactor struct {
	secrets []string
}

func (r *redactor) add(secret string) {
	if secret == "" {
		return
	}
	for _, s := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
		if !contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scrub returns msg with every secret replaced by ***.
func (r *redactor) scrub(msg string) string {
	for _, s := range r.secrets {
		msg = strings.ReplaceAll(msg, s, "***")
	}
	return msg
}

// err returns err unchanged when its message holds no secret, else an error with the
// scrubbed message. That error answers errors.Is like err does (so sentinels such as
// context.Canceled still match), but has no Unwrap, so errors.As cannot reach (and
// print) the original.
func (r *redactor) err(err error) error {
	if err == nil || len(r.secrets) == 0 {
		return err
	}
	msg := err.Error()
	clean := r.scrub(msg)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, cause: err}
}

type scrubbedError struct {
	msg   string
	cause error
}

func (e *scrubbedError) Error() string { return e.msg }

// Is reports whether the original error matches target.
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.cause, target) }
