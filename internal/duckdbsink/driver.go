package duckdbsink

import (
	"context"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// BatchMaxWait is the DuckDB sink's batch wait when sink.batch_max_wait is auto.
const BatchMaxWait = 5 * time.Second

// The DuckDB sink serves duckdb:// destinations; its keys are duckdb.* (Config's tags).
func init() {
	sink.Register(sink.Driver[Config]{
		Name: "duckdb", Schemes: []string{"duckdb"}, BatchMaxWait: BatchMaxWait,
		Open: func(ctx context.Context, d sink.Dest, cfg Config) (sink.Sink, error) {
			path, err := ParseURI(d.URI)
			if err != nil {
				return nil, err
			}
			cfg.Path, cfg.Schema, cfg.Changelog, cfg.Deletes, cfg.Logger = path, d.Schema, d.Changelog, d.Deletes, d.Logger
			return Open(ctx, cfg)
		},
	})
}
