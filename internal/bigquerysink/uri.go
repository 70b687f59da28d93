package bigquerysink

import (
	"fmt"
	"net/url"
	"regexp"
)

// projectRe is what a Google Cloud project id may look like (plus the legacy
// "domain.com:project" form).
var projectRe = regexp.MustCompile(`^([a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)

// Destination is a parsed bigquery:// URI.
type Destination struct {
	Project string
	// CredentialsPath is a service-account key file; empty means Application Default
	// Credentials.
	CredentialsPath string
	// Location of the dataset and jobs, default "US".
	Location string
}

// ParseURI parses the ingestr form bigquery://<project>?credentials_path=<key.json>&location=<loc>.
// Its errors never repeat query values other than the two known keys.
func ParseURI(uri string) (Destination, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "bigquery" {
		return Destination{}, fmt.Errorf("%w: want bigquery://<project>?credentials_path=<key.json>&location=<location>", ErrBadURI)
	}
	d := Destination{Project: u.Host, Location: "US"}
	if d.Project == "" {
		d.Project = u.Opaque
	}
	if !projectRe.MatchString(d.Project) {
		return Destination{}, fmt.Errorf("%w: project %q is not a Google Cloud project id", ErrBadURI, d.Project)
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "credentials_path", "location":
		default:
			return Destination{}, fmt.Errorf("%w: unknown parameter %q (known: credentials_path, location)", ErrBadURI, k)
		}
	}
	d.CredentialsPath = q.Get("credentials_path")
	if l := q.Get("location"); l != "" {
		d.Location = l
	}
	return d, nil
}

// EndpointURL completes a BigQuery API endpoint override. A bare base URL, as emulators
// document theirs (http://127.0.0.1:9050), gets the REST API's path "/bigquery/v2/";
// any other path gets a trailing slash, which the Go client needs to join paths.
func EndpointURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: endpoint %q is not an http:// or https:// URL", ErrBadURI, raw)
	}
	switch {
	case u.Path == "" || u.Path == "/":
		u.Path = "/bigquery/v2/"
	case u.Path[len(u.Path)-1] != '/':
		u.Path += "/"
	}
	return u.String(), nil
}
