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
