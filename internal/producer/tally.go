package producer

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// tally is what every sweep has, whatever its mode: its producer and entity, and the
// count of its pages and records, whose progress and end it logs. The sweeps of each
// mode embed it.
type tally struct {
	p   *Producer
	e   catalog.Entity
	log *slog.Logger

	pages, published int
	began, lastLog   time.Time
}

func (p *Producer) newTally(e catalog.Entity) tally {
	now := time.Now()
	return tally{p: p, e: e, log: p.cfg.Logger.With("entity", e.Name), began: now, lastLog: now}
}

// page counts a committed page of n records; position says where the sweep is, for the
// progress line.
func (t *tally) page(n int, position string) {
	t.published += n
	t.log.Debug("page committed", "page", t.pages, "records", n)
	if t.p.cfg.Metrics != nil {
		t.p.cfg.Metrics.PageCommitted(t.e.Name, n)
	}
	if now := time.Now(); now.Sub(t.lastLog) >= t.p.cfg.ProgressEvery {
		t.lastLog = now
		t.log.Info("sweep progress", "pages", t.pages, "records", t.published,
			"rate_per_s", fmt.Sprintf("%.1f", float64(t.published)/now.Sub(t.began).Seconds()),
			"position", position)
	}
}

// done logs the end of the sweep; next is the state committed with its last page and
// watermark what the sweep guarantees, for the log line.
func (t *tally) done(next *EntityState, watermark string) {
	t.log.Info("sweep done", "mode", t.e.Mode, "pages", t.pages, "records", t.published,
		"duration", time.Since(t.began).Round(time.Millisecond), "watermark", watermark)
	if t.p.cfg.Metrics != nil {
		t.p.cfg.Metrics.SweepDone(t.e.Name, watermarkTime(next.Watermark))
	}
}
