package duckdbsink

import (
	"fmt"
	"net/url"
	"strings"
)

// ParseURI parses a destination URI in ingestr's form and returns the DuckDB file path:
// duckdb:///relative/path.duckdb (three slashes) gives a path relative to the working
// directory ("relative/path.duckdb"), duckdb:////abs/path.duckdb (four slashes) an
// absolute one ("/abs/path.duckdb"). Percent-escapes in the path are decoded. Any other
// form, a host part, a query or fragment, or an empty path fails with an error wrapping
// ErrBadURI that shows the expected forms.
func ParseURI(uri string) (path string, err error) {
	const forms = "expected duckdb:///relative/path.duckdb or duckdb:////absolute/path.duckdb"
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || !strings.EqualFold(scheme, "duckdb") {
		return "", fmt.Errorf("%w %q: scheme must be duckdb:// (%s)", ErrBadURI, uri, forms)
	}
	if !strings.HasPrefix(rest, "/") {
		return "", fmt.Errorf("%w %q: a host part is not allowed (%s)", ErrBadURI, uri, forms)
	}
	if strings.ContainsAny(rest, "?#") {
		return "", fmt.Errorf("%w %q: query and fragment are not supported (%s)", ErrBadURI, uri, forms)
	}
	p, err := url.PathUnescape(rest[1:])
	if err != nil {
		return "", fmt.Errorf("%w %q: %v (%s)", ErrBadURI, uri, err, forms)
	}
	if p == "" || p == "/" || strings.HasSuffix(p, "/") {
		return "", fmt.Errorf("%w %q: empty file name (%s)", ErrBadURI, uri, forms)
	}
	return p, nil
}
