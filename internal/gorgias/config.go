package gorgias

import (
	"net/url"
)

// Validate requires the account and checks the base URL (section gorgias).
func (c *Config) Validate(report func(key, why string)) {
	if c.Credentials == (Credentials{}) {
		report("uri", "is required ("+uriForm+")")
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			report("base_url", "must be an http(s) URL")
		}
	}
}

// UnmarshalText parses a gorgias:// URI as ParseURI does; an empty text is no account.
func (c *Credentials) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = Credentials{}
		return nil
	}
	creds, err := ParseURI(string(b))
	if err != nil {
		return err
	}
	*c = creds
	return nil
}
