package gorgias

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Defaults applied by NewClient to zero Config fields.
const (
	DefaultRateLimit      = 40               // requests per window (API-key integrations)
	DefaultRateWindow     = 20 * time.Second // leaky-bucket window
	DefaultSafetyMargin   = 1
	DefaultMaxRetries     = 8
	DefaultMax429Retries  = 30
	DefaultBackoffBase    = time.Second
	DefaultBackoffMax     = 60 * time.Second
	DefaultRetryAfterMax  = 120 * time.Second
	DefaultRequestTimeout = 60 * time.Second
	DefaultPageLimit      = 100 // page size sent when ListParams.Limit is 0
	MaxPageLimit          = 100 // largest page size Gorgias accepts

	// CallLimitHeader carries "used/limit" of the account's bucket.
	CallLimitHeader = "X-Gorgias-Account-Api-Call-Limit"

	maxBodyBytes  = 64 << 20 // larger 2xx bodies are treated as malformed
	maxErrorBytes = 64 << 10 // how much of an error body is read
	maxSnippet    = 200      // error body characters quoted in errors
	max429Jitter  = 250 * time.Millisecond
)

// DefaultUserAgent returns "gorgias-kafka/<version>", the version being the
// main module's version from the build info ("dev" for local builds).
func DefaultUserAgent() string { return defaultUA() }

var defaultUA = sync.OnceValue(func() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "gorgias-kafka/" + v
})

// Config configures a Client. Zero values select the documented defaults;
// negative values are rejected by NewClient.
type Config struct {
	// Credentials of the account; Domain, Email and APIKey are required.
	Credentials Credentials `config:"uri" secret:"true" help:"Gorgias account as gorgias://<domain>?api_key=<key>&email=<email>"`
	// BaseURL overrides the API root, default "https://<domain>.gorgias.com/api".
	// Any http(s) URL is accepted, e.g. "http://127.0.0.1:8089" (a simulator)
	// or "https://proxy.example/gorgias/api": if its path does not end in
	// "/api", "/api" is appended, so both forms address the same root.
	// It must not carry user info, a query or a fragment.
	BaseURL string `config:"base_url" help:"override of https://<domain>.gorgias.com/api (proxies, simulator)"`
	// Transport sends the requests; nil uses a clone of http.DefaultTransport.
	// Tests pass an in-process RoundTripper.
	Transport http.RoundTripper
	// RateLimit is the account budget (bucket capacity) per RateWindow,
	// default 40. The limit reported in X-Gorgias-Account-Api-Call-Limit
	// replaces it as soon as a response carries one.
	RateLimit int `config:"rate_limit" default:"40" min:"1" max:"10000" help:"API requests allowed per window for the account"`
	// RateWindow is the time the bucket takes to drain completely, default
	// 20s (10s on Enterprise accounts).
	RateWindow time.Duration `config:"rate_window" default:"20s" min:"1s" help:"length of the rate-limit window"`
	// SafetyMargin is the number of requests kept free in the bucket, default 1.
	// It absorbs errors of the client's estimate of the bucket level (server
	// rounding, out-of-order answers, jitter of the delay before the server
	// admits a request); raise it if 429s still appear, e.g. when another
	// client uses the same account.
	SafetyMargin int
	// MaxRetries bounds retries of 5xx, timeouts, transport errors and
	// malformed bodies per request, default 8.
	MaxRetries int `config:"max_retries" default:"8" min:"0" max:"100" help:"retries of 5xx, timeouts and malformed answers"`
	// Max429Retries bounds consecutive 429 answers per request, default 30.
	Max429Retries int
	// BackoffBase and BackoffMax shape the full-jitter exponential back-off:
	// retry n sleeps a random duration in [0, min(BackoffMax, BackoffBase·2^(n-1))].
	// Defaults 1s and 60s.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// RetryAfterMax caps the wait taken from a 429's Retry-after, default 120s.
	RetryAfterMax time.Duration
	// RequestTimeout bounds one attempt (connect, headers and body), default 60s.
	RequestTimeout time.Duration `config:"request_timeout" default:"60s" min:"1s" help:"timeout of one API request"`
	// UserAgent defaults to DefaultUserAgent().
	UserAgent string
	// Logger receives debug lines per request and (rate-limited) warnings
	// about 429s and retries; nil uses slog.Default().
	Logger *slog.Logger
}

// Client is a Gorgias REST client for one account. It is safe for concurrent
// use; all callers share one rate-limit budget, so use a single Client per
// account. Printing a Client (any fmt verb, slog) never reveals the key.
type Client struct {
	domain string
	email  string
	sec    *secrets // behind a pointer: reflection-based printing shows only an address
	base   *url.URL // API root, path ends in "/api"
	hc     *http.Client
	ua     string
	log    *slog.Logger

	maxRetries, max429                    int
	backoffBase, backoffMax, retryAfterMx time.Duration
	reqTimeout                            time.Duration

	pacer   *pacer
	stats   *counters
	warnLog *logGate
}

type secrets struct {
	authHeader string // "Basic base64(email:key)"
	apiKey     string // only to scrub it from error bodies
}

// NewClient validates cfg, applies defaults and returns a ready Client.
// Errors wrap ErrInvalidConfig and never contain the key.
func NewClient(cfg Config) (*Client, error) {
	cr := cfg.Credentials
	domain := normalizeDomain(cr.Domain)
	if err := validateDomain(domain); err != nil {
		return nil, fmt.Errorf("%w: credentials: %w", ErrInvalidConfig, err)
	}
	email := strings.TrimSpace(cr.Email)
	if email == "" {
		return nil, fmt.Errorf("%w: credentials for %q: email is required", ErrInvalidConfig, domain)
	}
	if strings.ContainsAny(email, ":") || hasSpaceOrControl(email) {
		return nil, fmt.Errorf("%w: credentials for %q: email %q must not contain ':', spaces or control characters", ErrInvalidConfig, domain, email)
	}
	if cr.APIKey == "" {
		return nil, fmt.Errorf("%w: credentials for %q (%s): api key is required", ErrInvalidConfig, domain, email)
	}
	if hasSpaceOrControl(cr.APIKey) {
		return nil, fmt.Errorf("%w: credentials for %q (%s): api key contains whitespace or control characters", ErrInvalidConfig, domain, email)
	}
	base, err := resolveBaseURL(cfg.BaseURL, domain)
	if err != nil {
		return nil, err
	}
	c := &Client{
		domain: domain,
		email:  email,
		sec: &secrets{
			authHeader: "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+cr.APIKey)),
			apiKey:     cr.APIKey,
		},
		base:    base,
		ua:      cfg.UserAgent,
		log:     cfg.Logger,
		stats:   &counters{},
		warnLog: &logGate{every: 30 * time.Second},
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent()
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	var (
		limit, margin int
		window        time.Duration
		errs          []error
	)
	setInt := func(dst *int, name string, v, def int) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%w: %s must not be negative (got %d)", ErrInvalidConfig, name, v))
		}
		*dst = cmp.Or(v, def)
	}
	setDur := func(dst *time.Duration, name string, v, def time.Duration) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%w: %s must not be negative (got %s)", ErrInvalidConfig, name, v))
		}
		*dst = cmp.Or(v, def)
	}
	setInt(&limit, "RateLimit", cfg.RateLimit, DefaultRateLimit)
	setInt(&margin, "SafetyMargin", cfg.SafetyMargin, DefaultSafetyMargin)
	setInt(&c.maxRetries, "MaxRetries", cfg.MaxRetries, DefaultMaxRetries)
	setInt(&c.max429, "Max429Retries", cfg.Max429Retries, DefaultMax429Retries)
	setDur(&window, "RateWindow", cfg.RateWindow, DefaultRateWindow)
	setDur(&c.backoffBase, "BackoffBase", cfg.BackoffBase, DefaultBackoffBase)
	setDur(&c.backoffMax, "BackoffMax", cfg.BackoffMax, DefaultBackoffMax)
	setDur(&c.retryAfterMx, "RetryAfterMax", cfg.RetryAfterMax, DefaultRetryAfterMax)
	setDur(&c.reqTimeout, "RequestTimeout", cfg.RequestTimeout, DefaultRequestTimeout)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if margin >= limit {
		return nil, fmt.Errorf("%w: SafetyMargin %d must be smaller than RateLimit %d", ErrInvalidConfig, margin, limit)
	}
	if c.backoffMax < c.backoffBase {
		return nil, fmt.Errorf("%w: BackoffMax %s is smaller than BackoffBase %s", ErrInvalidConfig, c.backoffMax, c.backoffBase)
	}
	// An attempt ends within reqTimeout (plus the time to release it).
	c.pacer = newPacer(limit, window, margin, c.reqTimeout+time.Minute)

	rt := cfg.Transport
	if rt == nil {
		rt = http.DefaultTransport
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			t := dt.Clone()
			t.MaxIdleConnsPerHost = 16
			rt = t
		}
	}
	c.hc = &http.Client{Transport: rt}
	return c, nil
}

func hasSpaceOrControl(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return true
		}
	}
	return false
}

// resolveBaseURL applies the default and the "/api" suffix rule.
func resolveBaseURL(raw, domain string) (*url.URL, error) {
	if raw == "" {
		raw = "https://" + domain + ".gorgias.com/api"
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: BaseURL does not parse", ErrInvalidConfig)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: BaseURL must not contain user info (credentials go in Credentials)", ErrInvalidConfig)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: BaseURL %q must be an http or https URL", ErrInvalidConfig, u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: BaseURL %q has no host", ErrInvalidConfig, u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, fmt.Errorf("%w: BaseURL %q must not have a query or fragment", ErrInvalidConfig, u.Scheme+"://"+u.Host+u.Path)
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/api") {
		p += "/api"
	}
	u.Path, u.RawPath = p, ""
	return u, nil
}

// Domain returns the account subdomain (e.g. "acme").
func (c *Client) Domain() string { return c.domain }

// BaseURL returns the API root the client talks to (ends in "/api").
func (c *Client) BaseURL() string { return c.base.String() }

// String describes the client without secrets.
func (c Client) String() string {
	return fmt.Sprintf("gorgias.Client{domain=%s, email=%s, base=%s}", c.domain, c.email, c.base)
}

// Format implements fmt.Formatter: every verb prints String(), never a secret.
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer without secrets.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("domain", c.domain), slog.String("email", c.email), slog.String("base_url", c.base.String()))
}

// ListParams selects one page of a list endpoint.
type ListParams struct {
	// OrderBy is sent as order_by, e.g. "updated_datetime:desc". Empty omits
	// the parameter (voice-call endpoints accept none).
	OrderBy string
	// Limit is the page size, 1..100; 0 means 100.
	Limit int
	// Cursor is meta.next_cursor of the previous page; empty for page one.
	Cursor string
	// Query holds extra filters (e.g. trashed, ticket_id). limit, order_by and
	// cursor in it are ignored: the fields above win.
	Query url.Values
}

// Page is one decoded list page.
type Page struct {
	// Data holds the raw JSON objects, validated but undecoded. They are
	// capacity-limited sub-slices of the response body (no copy), so
	// appending to one never touches another; the body stays in memory while
	// any of them is referenced.
	Data []json.RawMessage
	// NextCursor is meta.next_cursor; "" on the last page (null or missing).
	NextCursor string
	// PrevCursor is meta.prev_cursor; "" when null or missing.
	PrevCursor string
	// ServerTime is the response's Date header in UTC; zero if absent or
	// unparseable.
	ServerTime time.Time
	// Received is the local clock when the response headers arrived.
	Received time.Time
}

// List fetches one page of GET <base>/<resource>, e.g. resource "tickets",
// "messages", "satisfaction-surveys" or "views/12/items". It always sends
// limit (default 100) and, when set, order_by, plus cursor when set, so
// every page of a walk repeats the same ordering. It paces itself against the
// account budget and retries as documented on Config; the returned error
// wraps one of the package's sentinels (or ctx's error) and names the
// account, method and path.
func (c *Client) List(ctx context.Context, resource string, p ListParams) (*Page, error) {
	resource, err := cleanResource(resource)
	if err != nil {
		return nil, fmt.Errorf("gorgias account %q: list: %w", c.domain, err)
	}
	limit := p.Limit
	if limit == 0 {
		limit = DefaultPageLimit
	}
	path := c.base.Path + "/" + resource
	if limit < 0 || limit > MaxPageLimit {
		return nil, fmt.Errorf("gorgias account %q: GET %s: %w: limit %d outside 1..%d", c.domain, path, ErrBadRequest, limit, MaxPageLimit)
	}
	q := make(url.Values, len(p.Query)+3)
	for k, v := range p.Query {
		switch k {
		case "limit", "order_by", "cursor":
		default:
			q[k] = v
		}
	}
	q.Set("limit", strconv.Itoa(limit))
	if p.OrderBy != "" {
		q.Set("order_by", p.OrderBy)
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	var page *Page
	err = c.do(ctx, resource, path, q.Encode(), func(r *response) error {
		pg, err := decodeList(r.body)
		if err != nil {
			return err
		}
		pg.Received = r.received
		pg.ServerTime = r.serverTime
		page = pg
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// Get fetches GET <base>/<resource> (a single object such as "account" or
// "tickets/42") and returns its body after checking it is valid JSON. Pacing,
// retries and errors are as for List.
func (c *Client) Get(ctx context.Context, resource string, query url.Values) (json.RawMessage, error) {
	resource, err := cleanResource(resource)
	if err != nil {
		return nil, fmt.Errorf("gorgias account %q: get: %w", c.domain, err)
	}
	var out json.RawMessage
	err = c.do(ctx, resource, c.base.Path+"/"+resource, query.Encode(), func(r *response) error {
		if !validJSON(r.body) {
			return fmt.Errorf("%w: body is not valid JSON (%d bytes)", ErrMalformedResponse, len(r.body))
		}
		out = r.body
		return nil
	})
	return out, err
}

// CheckCredentials calls GET <base>/account and returns nil on a 2xx answer.
// Wrong credentials give an error wrapping ErrUnauthorized or ErrForbidden
// whose message says what to fix; it never contains the key.
func (c *Client) CheckCredentials(ctx context.Context) error {
	return c.do(ctx, "account", c.base.Path+"/account", "", func(*response) error { return nil })
}

// cleanResource trims slashes (and a leading "api/") and rejects values that
// would change the URL's meaning.
func cleanResource(r string) (string, error) {
	r = strings.Trim(strings.TrimSpace(r), "/")
	r = strings.TrimPrefix(r, "api/")
	if r == "" {
		return "", fmt.Errorf("%w: empty resource", ErrBadRequest)
	}
	if strings.ContainsAny(r, "?#%\\ \t\r\n") || strings.Contains(r, "..") || strings.Contains(r, "//") {
		return "", fmt.Errorf("%w: invalid resource %q", ErrBadRequest, r)
	}
	return r, nil
}

// response is one HTTP answer, body read.
type response struct {
	status     int
	header     http.Header
	body       []byte
	received   time.Time
	serverTime time.Time
}

// do runs GET path?rawQuery with pacing and the retry policy, calling decode
// on 2xx answers; a decode error is treated as a malformed (retryable) answer.
func (c *Client) do(ctx context.Context, resource, path, rawQuery string, decode func(*response) error) error {
	u := *c.base
	u.Path = path
	u.RawQuery = rawQuery
	target := u.String()
	op := func() string { return fmt.Sprintf("gorgias account %q: GET %s", c.domain, path) }

	var (
		retries, throttles, attempts int
		lastErr                      error
	)
	for {
		attempts++
		adm, waited, err := c.pacer.acquire(ctx)
		c.stats.waitNanos.Add(int64(waited))
		if err != nil {
			return fmt.Errorf("%s: waiting for rate-limit budget: %w", op(), err)
		}
		c.stats.requests.Add(1)
		res, err := c.attempt(ctx, target)
		obs := observation{responded: res != nil}
		if res != nil {
			obs.used, obs.limit = parseCallLimit(res.header)
			obs.throttled = res.status == http.StatusTooManyRequests
			if obs.limit > 0 {
				c.stats.lastUsed.Store(int64(obs.used))
				c.stats.lastLimit.Store(int64(obs.limit))
			}
		}
		c.pacer.release(adm, obs)
		if c.log.Enabled(ctx, slog.LevelDebug) {
			attrs := []slog.Attr{slog.String("domain", c.domain), slog.String("path", path),
				slog.Duration("duration", time.Since(adm.sent)), slog.Int("attempt", attempts)}
			if res != nil {
				attrs = append(attrs, slog.Int("status", res.status))
			} else {
				attrs = append(attrs, slog.String("error", err.Error()))
			}
			if obs.limit > 0 {
				attrs = append(attrs, slog.String("call_limit", strconv.Itoa(obs.used)+"/"+strconv.Itoa(obs.limit)))
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "gorgias request", attrs...)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op(), context.Cause(ctx))
		}

		switch {
		case err != nil:
			var certErr *tls.CertificateVerificationError
			if errors.As(err, &certErr) {
				return fmt.Errorf("%s: %w", op(), err) // retrying cannot fix a certificate
			}
			lastErr = err
		case res.status == http.StatusTooManyRequests:
			c.stats.throttled.Add(1)
			throttles++
			if throttles > c.max429 {
				return fmt.Errorf("%s: %w: gave up after %d consecutive 429 answers", op(), ErrRateLimited, throttles)
			}
			ra := retryAfter(res.header)
			if ra > c.retryAfterMx {
				ra = c.retryAfterMx
			}
			c.pacer.block(time.Now().Add(ra))
			d := ra + rand.N(max429Jitter)
			c.note(ctx, "gorgias rate limited (429); waiting Retry-after", slog.String("path", path),
				slog.Duration("wait", d), slog.Int("consecutive", throttles))
			if err := sleep(ctx, d); err != nil {
				return fmt.Errorf("%s: waiting after 429: %w", op(), err)
			}
			c.stats.retryWaitNanos.Add(int64(d))
			continue
		case res.status >= 500 || res.status == http.StatusRequestTimeout:
			if res.status >= 500 {
				c.stats.serverErrors.Add(1)
			}
			lastErr = fmt.Errorf("%w: HTTP %d %s%s", ErrServerError, res.status, http.StatusText(res.status), c.snippet(res.body))
		case res.status >= 200 && res.status < 300:
			if err := decode(res); err != nil {
				lastErr = err
				break
			}
			return nil
		default:
			return c.statusError(resource, path, res)
		}

		throttles = 0
		retries++
		if retries > c.maxRetries {
			return fmt.Errorf("%s: %w after %d attempts: %w", op(), ErrRetriesExhausted, retries, lastErr)
		}
		c.stats.retries.Add(1)
		d := c.backoff(retries)
		c.note(ctx, "gorgias request failed; retrying", slog.String("path", path), slog.Int("retry", retries),
			slog.Duration("backoff", d), slog.String("cause", lastErr.Error()))
		if err := sleep(ctx, d); err != nil {
			return fmt.Errorf("%s: backing off after %w: %w", op(), lastErr, err)
		}
		c.stats.retryWaitNanos.Add(int64(d))
	}
}

// attempt sends one request under the per-attempt timeout and reads the body.
// A nil response comes with a descriptive error (timeout or transport).
func (c *Client) attempt(ctx context.Context, target string) (*response, error) {
	actx, cancel := context.WithTimeout(ctx, c.reqTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header = http.Header{
		"Authorization": {c.sec.authHeader},
		"Accept":        {"application/json"},
		"User-Agent":    {c.ua},
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(actx, err)
	}
	defer resp.Body.Close()
	res := &response{status: resp.StatusCode, header: resp.Header, received: time.Now()}
	if d := resp.Header.Get("Date"); d != "" {
		if t, err := http.ParseTime(d); err == nil {
			res.serverTime = t.UTC()
		}
	}
	limit := int64(maxErrorBytes)
	if res.status >= 200 && res.status < 300 {
		limit = maxBodyBytes
	}
	res.body, err = readBody(resp.Body, resp.ContentLength, limit)
	if err != nil {
		if errors.Is(err, errTooLarge) && limit == maxBodyBytes {
			return nil, fmt.Errorf("%w: body larger than %d bytes", ErrMalformedResponse, maxBodyBytes)
		}
		if !errors.Is(err, errTooLarge) {
			return nil, c.transportError(actx, fmt.Errorf("read body: %w", err))
		}
	}
	return res, nil
}

// transportError describes a failed attempt without the URL (the url.Error
// wrapper is dropped; the caller adds method and path).
func (c *Client) transportError(actx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("attempt timed out after %s: %w", c.reqTimeout, err)
	}
	return fmt.Errorf("transport error: %w", err)
}

var errTooLarge = errors.New("body too large")

// readBody reads at most limit bytes; longer bodies return what was read and
// errTooLarge. With a known Content-Length the buffer is allocated once.
func readBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	size := int64(4096)
	if contentLength >= 0 {
		size = min(contentLength, limit) + 1 // +1 to see EOF without growing
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf[:limit], errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// statusError builds the fail-fast error for a non-retryable status.
func (c *Client) statusError(resource, path string, res *response) error {
	return &APIError{
		Domain: c.domain, Email: c.email, Method: http.MethodGet, Path: path, Resource: resource,
		StatusCode: res.status, Message: c.apiMessage(res.body),
	}
}

// apiMessage extracts the API's error text from a body such as
// {"error":{"msg":"...","data":{...}}}, {"error":"..."} or {"message":"..."},
// falling back to the raw body; collapsed, truncated and key-scrubbed.
func (c *Client) apiMessage(body []byte) string {
	var env map[string]json.RawMessage
	msg := ""
	if json.Unmarshal(body, &env) == nil {
		if raw, ok := env["error"]; ok {
			var s string
			var obj map[string]json.RawMessage
			switch {
			case json.Unmarshal(raw, &s) == nil:
				msg = s
			case json.Unmarshal(raw, &obj) == nil:
				for _, k := range []string{"msg", "message"} {
					if json.Unmarshal(obj[k], &s) == nil && s != "" {
						msg = s
						break
					}
				}
				if d, ok := obj["data"]; ok && string(d) != "null" {
					msg = strings.TrimSpace(msg + " " + string(d))
				}
			}
		}
		if msg == "" {
			var s string
			if json.Unmarshal(env["message"], &s) == nil {
				msg = s
			}
		}
	}
	if msg == "" {
		msg = string(body)
	}
	return c.clean(msg)
}

// snippet returns ": <body excerpt>" for error messages, or "".
func (c *Client) snippet(body []byte) string {
	s := c.clean(string(body))
	if s == "" {
		return ""
	}
	return ": " + s
}

// clean collapses whitespace, scrubs the key and truncates to maxSnippet runes.
func (c *Client) clean(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if c.sec.apiKey != "" {
		s = strings.ReplaceAll(s, c.sec.apiKey, redacted)
	}
	if utf8.RuneCountInString(s) > maxSnippet {
		r := []rune(s)
		s = string(r[:maxSnippet]) + "..."
	}
	return s
}

// parseCallLimit reads "used/limit"; limit 0 means absent or unparseable.
func parseCallLimit(h http.Header) (used, limit int) {
	v := headerValue(h, CallLimitHeader)
	if v == "" {
		return 0, 0
	}
	a, b, ok := strings.Cut(strings.TrimSpace(v), "/")
	if !ok {
		return 0, 0
	}
	u, err1 := strconv.Atoi(strings.TrimSpace(a))
	l, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || l <= 0 || u < 0 {
		return 0, 0
	}
	return u, l
}

// headerValue looks a header up case-insensitively, also in maps that were
// filled without canonical keys.
func headerValue(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}

// retryAfter parses Retry-after (seconds, possibly fractional, or an HTTP
// date); absent or invalid gives 1s.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(headerValue(h, "Retry-After"))
	if v == "" {
		return time.Second
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 1e6 {
		return time.Duration(f * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
		return 0
	}
	return time.Second
}

// backoff returns the full-jitter delay before retry n (1-based).
func (c *Client) backoff(n int) time.Duration {
	ceil := c.backoffMax
	if n-1 < 32 {
		if d := c.backoffBase << (n - 1); d > 0 && d < ceil {
			ceil = d
		}
	}
	return rand.N(ceil + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// note logs a 429/retry event at warn, at most once per gate period, and at
// debug otherwise, so a storm does not flood the log.
func (c *Client) note(ctx context.Context, msg string, attrs ...slog.Attr) {
	level := slog.LevelDebug
	if c.warnLog.allow(time.Now()) {
		level = slog.LevelWarn
	}
	if !c.log.Enabled(ctx, level) {
		return
	}
	attrs = append(attrs, slog.String("domain", c.domain))
	c.log.LogAttrs(ctx, level, msg, attrs...)
}

type logGate struct {
	every time.Duration
	next  atomic.Int64 // unix nanos before which warnings are suppressed
}

func (g *logGate) allow(now time.Time) bool {
	n := now.UnixNano()
	nx := g.next.Load()
	if n < nx {
		return false
	}
	return g.next.CompareAndSwap(nx, n+int64(g.every))
}

// Stats is a snapshot of a Client's counters since it was created.
type Stats struct {
	Requests     int64         // HTTP attempts sent (including retries)
	Throttled    int64         // 429 answers received
	Retries      int64         // retries after 5xx, timeouts, transport errors, malformed bodies
	ServerErrors int64         // 5xx answers received
	LastUsed     int           // "used" of the last X-Gorgias-Account-Api-Call-Limit seen
	LastLimit    int           // "limit" of the last X-Gorgias-Account-Api-Call-Limit seen (0: none yet)
	WaitTime     time.Duration // time spent waiting for rate-limit budget (pacing), summed over callers
	RetryWait    time.Duration // total time slept for Retry-after and back-off
}

type counters struct {
	requests, throttled, retries, serverErrors atomic.Int64
	lastUsed, lastLimit                        atomic.Int64
	waitNanos, retryWaitNanos                  atomic.Int64
}

// Stats returns a snapshot of the counters; safe to call concurrently.
func (c *Client) Stats() Stats {
	s := c.stats
	return Stats{
		Requests:     s.requests.Load(),
		Throttled:    s.throttled.Load(),
		Retries:      s.retries.Load(),
		ServerErrors: s.serverErrors.Load(),
		LastUsed:     int(s.lastUsed.Load()),
		LastLimit:    int(s.lastLimit.Load()),
		WaitTime:     time.Duration(s.waitNanos.Load()),
		RetryWait:    time.Duration(s.retryWaitNanos.Load()),
	}
}
