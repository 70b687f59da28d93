package duckdbsink

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// memLogEnv names the environment variable that, when set (to anything), makes the
// sink log its memory after every batch at warn level: DuckDB's duckdb_memory() tags
// and pragma_database_size(), Go's heap and the process's resident memory. A
// measuring aid for the replay benchmark (REPLAY_ENV=GK_DUCKDB_MEMLOG=1).
const memLogEnv = "GK_DUCKDB_MEMLOG"

var memLogOn = os.Getenv(memLogEnv) != ""

// memPhase is the step of Write running now, for the peak sampler.
var (
	memPhase   atomic.Value
	samplerOne sync.Once
)

// phaseTimes accumulates the time spent in each step of Write (by phase name, the
// entity stripped), for the log of memLogEnv.
var phaseTimes struct {
	sync.Mutex
	last  string
	since time.Time
	total map[string]time.Duration
}

// phase records the step of Write running now when memory logging is on, and adds the
// time since the previous call to the previous step.
func phase(p string) {
	if !memLogOn {
		return
	}
	memPhase.Store(p)
	now := time.Now()
	phaseTimes.Lock()
	defer phaseTimes.Unlock()
	if phaseTimes.total == nil {
		phaseTimes.total = map[string]time.Duration{}
	}
	if phaseTimes.last != "" {
		phaseTimes.total[phaseTimes.last] += now.Sub(phaseTimes.since)
	}
	name, _, _ := strings.Cut(p, " ")
	phaseTimes.last, phaseTimes.since = name, now
}

// phaseSummary returns the accumulated time per step, in seconds.
func phaseSummary() string {
	phaseTimes.Lock()
	defer phaseTimes.Unlock()
	var b strings.Builder
	for _, k := range []string{"groups", "stage", "keys", "fill", "flush", "offsets", "commit", "between"} {
		fmt.Fprintf(&b, " %s=%.2f", k, phaseTimes.total[k].Seconds())
	}
	return b.String()
}

// rssBytes returns the process's resident memory, or -1.
func rssBytes() int64 {
	st, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(st))
	if len(f) < 2 {
		return -1
	}
	p, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return -1
	}
	return p * int64(os.Getpagesize())
}

// samplePeaks polls the resident memory every few milliseconds and, at every new
// high (by 2 MiB or more), logs the Write step running and DuckDB's tags (read on a
// connection of its own).
func samplePeaks(db *sql.DB, log *slog.Logger) {
	var peak int64
	for {
		time.Sleep(5 * time.Millisecond)
		rss := rssBytes()
		if rss < peak+2<<20 {
			continue
		}
		peak = rss
		ph, _ := memPhase.Load().(string)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		tags, total := duckTags(context.Background(), db)
		log.Warn("mempeak", "rss", fmt.Sprintf("%.1f", float64(rss)/(1<<20)), "phase", ph,
			"go_heap_inuse", fmt.Sprintf("%.1f", float64(ms.HeapInuse)/(1<<20)),
			"go_sys", fmt.Sprintf("%.1f", float64(ms.Sys)/(1<<20)),
			"duck_total", fmt.Sprintf("%.1f", float64(total)/(1<<20)), "tags", tags,
			"rss_after_query", fmt.Sprintf("%.1f", float64(rssBytes())/(1<<20)))
	}
}

// querier is a *sql.DB or *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// duckTags returns DuckDB's non-zero memory tags in MiB, and their total in bytes.
func duckTags(ctx context.Context, q querier) (string, int64) {
	const mib = 1 << 20
	var b strings.Builder
	rows, err := q.QueryContext(ctx, `SELECT tag, memory_usage_bytes, temporary_storage_bytes
		FROM duckdb_memory() WHERE memory_usage_bytes > 0 OR temporary_storage_bytes > 0 ORDER BY tag`)
	if err != nil {
		return err.Error(), 0
	}
	defer rows.Close()
	var total int64
	for rows.Next() {
		var tag string
		var mem, tmp int64
		if err := rows.Scan(&tag, &mem, &tmp); err != nil {
			break
		}
		total += mem
		fmt.Fprintf(&b, " %s=%.1f", tag, float64(mem)/mib)
		if tmp > 0 {
			fmt.Fprintf(&b, "(tmp %.1f)", float64(tmp)/mib)
		}
	}
	return b.String(), total
}

// logMemory logs the memory figures described at memLogEnv, in MiB.
func (s *Sink) logMemory(ctx context.Context, records int) {
	const mib = 1 << 20
	samplerOne.Do(func() { go samplePeaks(s.db, s.log) })
	tags, total := duckTags(ctx, s.conn)
	var dbMem, wal string
	_ = s.conn.QueryRowContext(ctx, `SELECT memory_usage, wal_size FROM pragma_database_size()
		WHERE database_name = current_database()`).Scan(&dbMem, &wal)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := rssBytes()
	s.log.Warn("memlog", "records", records,
		"rss", fmt.Sprintf("%.1f", float64(rss)/mib),
		"go_heap_inuse", fmt.Sprintf("%.1f", float64(ms.HeapInuse)/mib),
		"go_sys", fmt.Sprintf("%.1f", float64(ms.Sys)/mib),
		"duck_total", fmt.Sprintf("%.1f", float64(total)/mib),
		"db_mem", dbMem, "wal", wal, "tags", tags, "phase_seconds", phaseSummary())
}
