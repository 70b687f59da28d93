package sink

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Dest is what every destination is opened with: the dest.* configuration keys, plus
// the wiring the consumer adds (the topic prefix and the logger).
type Dest struct {
	// URI names the destination, ingestr style; its scheme picks the driver
	// (duckdb:///gorgias.duckdb, bigquery://project?..., postgresql://user@host/db).
	URI string `config:"uri" default:"duckdb:///gorgias.duckdb" redact:"uri" help:"destination URI; its scheme picks the sink: duckdb:///file.duckdb, bigquery://<project>?..., postgresql://user@host:port/db"`
	// Schema is the target schema (DuckDB, PostgreSQL) or dataset (BigQuery).
	Schema string `config:"schema" default:"gorgias" help:"target schema (DuckDB, PostgreSQL) or dataset (BigQuery)"`
	// Changelog keeps an append-only <entity>_changelog table of every version.
	Changelog bool `config:"changelog" help:"also keep <entity>_changelog tables with every version"`

	// Deletes is how deletions are applied (sink.deletes; the zero value is SoftDelete).
	Deletes DeleteMode
	// TopicPrefix is the Kafka topic prefix (kafka.topic_prefix), for sinks that name
	// things after topics.
	TopicPrefix string
	// Logger receives the sink's logs; nil discards them.
	Logger *slog.Logger
}

// Validate reports a URI whose scheme no registered driver serves and a schema that is
// not a plain identifier. report takes the key relative to the dest section.
func (d Dest) Validate(report func(key, why string)) {
	if _, err := lookup(d.URI); err != nil {
		report("uri", err.Error())
	}
	if d.Schema == "" || strings.ContainsAny(d.Schema, " .\"`;") {
		report("schema", "must be a plain identifier")
	}
}

// Scheme returns the URI's scheme (lower case), or "" when the URI does not parse.
func (d Dest) Scheme() string {
	u, err := url.Parse(d.URI)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme)
}

// Driver describes one kind of destination to the sink layer, the way a database/sql
// driver does: the URI schemes it serves, its configuration section and its defaults.
// C is its configuration struct, whose fields carry `config`, `default` and `help` tags
// (see package config); the consumer loads it from the section named Name.
type Driver[C any] struct {
	// Name is the sink's name: its configuration section (e.g. "duckdb" for the keys
	// duckdb.*) and the default sink.name.
	Name string
	// Schemes are the URI schemes it serves, lower case ("postgresql", "postgres").
	Schemes []string
	// BatchMaxWait is the batch wait used when sink.batch_max_wait is auto.
	BatchMaxWait time.Duration
	// CatchUpLag is the catch-up lag used when sink.catchup_lag is auto (see
	// Config.CatchUpLag); 0: the sink never catches up by default.
	CatchUpLag int
	// Open opens the destination. It gets the configuration as loaded and validated.
	Open func(ctx context.Context, dest Dest, cfg C) (Sink, error)
}

// registered is a Driver with its configuration type erased.
type registered struct {
	name         string
	schemes      []string
	batchMaxWait time.Duration
	catchUpLag   int
	config       any // *C, loaded in place by the consumer
	open         func(ctx context.Context, dest Dest) (Sink, error)
}

var (
	mu      sync.RWMutex
	drivers = map[string]*registered{} // by name
)

// Register makes a driver available; a sink package calls it from init. It panics when
// a name or a scheme is registered twice, as database/sql.Register does.
func Register[C any](d Driver[C]) {
	mu.Lock()
	defer mu.Unlock()
	if d.Name == "" || len(d.Schemes) == 0 || d.Open == nil {
		panic("sink: Register needs a name, schemes and Open")
	}
	if _, dup := drivers[d.Name]; dup {
		panic("sink: Register called twice for " + d.Name)
	}
	for _, r := range drivers {
		for _, s := range d.Schemes {
			if slices.Contains(r.schemes, s) {
				panic(fmt.Sprintf("sink: scheme %s registered by %s and %s", s, r.name, d.Name))
			}
		}
	}
	cfg := new(C)
	drivers[d.Name] = &registered{
		name: d.Name, schemes: d.Schemes, batchMaxWait: d.BatchMaxWait, catchUpLag: d.CatchUpLag, config: cfg,
		open: func(ctx context.Context, dest Dest) (Sink, error) { return d.Open(ctx, dest, *cfg) },
	}
}

// Section is one driver's configuration section: the keys Name.* load into Config, a
// pointer to the driver's configuration struct.
type Section struct {
	Name   string
	Config any
}

// Sections returns the configuration section of every registered driver, by name. The
// consumer loads them (every key of every driver is known, so one shared environment
// file serves every sink); Open hands the loaded values to the chosen driver. Each call
// resets them to their zero value, so that a loader's defaults (see package config)
// never are what an earlier loader of the process loaded.
func Sections() []Section {
	mu.RLock()
	defer mu.RUnlock()
	var out []Section
	for _, r := range drivers {
		reflect.ValueOf(r.config).Elem().SetZero()
		out = append(out, Section{Name: r.name, Config: r.config})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Schemes lists every registered scheme, sorted.
func Schemes() []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for _, r := range drivers {
		out = append(out, r.schemes...)
	}
	sort.Strings(out)
	return out
}

// lookup returns the driver serving the URI's scheme.
func lookup(uri string) (*registered, error) {
	scheme := Dest{URI: uri}.Scheme()
	mu.RLock()
	defer mu.RUnlock()
	for _, r := range drivers {
		if slices.Contains(r.schemes, scheme) {
			return r, nil
		}
	}
	var all []string
	for _, r := range drivers {
		all = append(all, r.schemes...)
	}
	sort.Strings(all)
	if scheme == "" {
		return nil, fmt.Errorf("must be a URI starting with one of %s://", strings.Join(all, "://, "))
	}
	return nil, fmt.Errorf("no sink serves %s:// in this build (available: %s://)", scheme, strings.Join(all, "://, "))
}

// Name returns the name of the driver serving the destination's scheme ("" if none):
// the default sink name.
func (d Dest) Name() string {
	r, err := lookup(d.URI)
	if err != nil {
		return ""
	}
	return r.name
}

// DefaultBatchMaxWait returns the batch wait of the driver serving the destination
// (used when sink.batch_max_wait is auto), or 5 s.
func (d Dest) DefaultBatchMaxWait() time.Duration {
	if r, err := lookup(d.URI); err == nil && r.batchMaxWait > 0 {
		return r.batchMaxWait
	}
	return 5 * time.Second
}

// DefaultCatchUpLag returns the catch-up lag of the driver serving the destination (used
// when sink.catchup_lag is auto), or -1 (never).
func (d Dest) DefaultCatchUpLag() int {
	if r, err := lookup(d.URI); err == nil && r.catchUpLag > 0 {
		return r.catchUpLag
	}
	return -1
}

// Open opens the destination with the driver serving its URI's scheme and that
// driver's loaded configuration.
func Open(ctx context.Context, d Dest) (Sink, error) {
	r, err := lookup(d.URI)
	if err != nil {
		return nil, fmt.Errorf("destination: %v", err)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return r.open(ctx, d)
}
