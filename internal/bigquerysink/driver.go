package bigquerysink

import (
	"context"
	"strings"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// BatchMaxWait is the BigQuery sink's batch wait when sink.batch_max_wait is auto: a
// minute bounds the load and DML jobs per day (see the README).
const BatchMaxWait = time.Minute

// CatchUpLag is the BigQuery sink's catch-up lag when sink.catchup_lag is auto: more
// than 50,000 records behind, batches grow to sink.catchup_max_bytes, so that a replay
// or a new sink spends few of the jobs a table may run per day (two per batch).
const CatchUpLag = 50_000

// The BigQuery sink serves bigquery:// destinations; its keys are bigquery.* (Config's
// tags).
func init() {
	sink.Register(sink.Driver[Config]{
		Name: "bigquery", Schemes: []string{"bigquery"}, BatchMaxWait: BatchMaxWait, CatchUpLag: CatchUpLag,
		Open: func(ctx context.Context, d sink.Dest, cfg Config) (sink.Sink, error) {
			dest, err := ParseURI(d.URI)
			if err != nil {
				return nil, err
			}
			cfg.Dest, cfg.Dataset, cfg.TopicPrefix, cfg.Deletes, cfg.Logger = dest, d.Schema, d.TopicPrefix, d.Deletes, d.Logger
			return Open(ctx, cfg)
		},
	})
}

// Validate checks that an endpoint override is an http(s) URL.
func (c *Config) Validate(report func(key, why string)) {
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		report("endpoint", "must be an http:// or https:// URL")
	}
}
