package config

import (
	"strings"
	"time"
)

// BigQuery tunes the BigQuery sink (dest.uri bigquery://...).
type BigQuery struct {
	// Endpoint overrides the API endpoint (a fake or an emulator) and disables
	// authentication; empty means the real BigQuery.
	Endpoint string
	// StagingExpiration expires per-batch staging tables a crash left behind.
	StagingExpiration time.Duration
	// MaxAttempts bounds the tries of one request or job.
	MaxAttempts int
}

// Default batch waits per destination, used when sink.batch_max_wait is "auto".
const (
	DuckDBBatchMaxWait   = 5 * time.Second
	BigQueryBatchMaxWait = time.Minute
)

// BigQueryKeys declares the keys of the BigQuery sink.
func BigQueryKeys() []Key {
	return []Key{
		{Name: "bigquery.endpoint", Default: "", Help: "BigQuery API endpoint override for a fake or an emulator, e.g. http://127.0.0.1:9050 (a URL without a path gets /bigquery/v2/; no authentication); empty: the real BigQuery"},
		{Name: "bigquery.staging_expiration", Default: "24h", Help: "expiration of per-batch staging tables left behind by a crash"},
		{Name: "bigquery.max_attempts", Default: 10, Help: "tries of one BigQuery request or job before the sink gives up"},
	}
}

// loadBigQuery reads the BigQuery keys.
func loadBigQuery(l *Loader) BigQuery {
	b := BigQuery{
		Endpoint:          l.String("bigquery.endpoint"),
		StagingExpiration: l.Duration("bigquery.staging_expiration", time.Hour),
		MaxAttempts:       int(l.Int("bigquery.max_attempts", 1, 100)),
	}
	if b.Endpoint != "" && !strings.HasPrefix(b.Endpoint, "http://") && !strings.HasPrefix(b.Endpoint, "https://") {
		l.Problem("bigquery.endpoint", "must be an http:// or https:// URL")
	}
	return b
}

// batchMaxWait reads sink.batch_max_wait: "auto" picks the destination's default
// (DuckDB 5s; BigQuery 1m, which bounds the load and DML jobs per day, see README).
func batchMaxWait(l *Loader, scheme string) time.Duration {
	if strings.EqualFold(strings.TrimSpace(l.String("sink.batch_max_wait")), "auto") {
		if scheme == "bigquery" {
			return BigQueryBatchMaxWait
		}
		return DuckDBBatchMaxWait
	}
	return l.Duration("sink.batch_max_wait", 10*time.Millisecond)
}
