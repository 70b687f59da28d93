package duckdbsink

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// memLogEnv names the environment variable that, when set (to anything), makes the
// sink log its memory after every batch at warn level: DuckDB's duckdb_memory() tags
// and pragma_database_size(), Go's heap and the process's resident memory. A
// measuring aid for the replay benchmark (REPLAY_ENV=GK_DUCKDB_MEMLOG=1).
const memLogEnv = "GK_DUCKDB_MEMLOG"

var memLogOn = os.Getenv(memLogEnv) != ""

// logMemory logs the memory figures described at memLogEnv, in MiB.
func (s *Sink) logMemory(ctx context.Context, records int) {
	const mib = 1 << 20
	var b strings.Builder
	rows, err := s.conn.QueryContext(ctx, `SELECT tag, memory_usage_bytes, temporary_storage_bytes
		FROM duckdb_memory() WHERE memory_usage_bytes > 0 OR temporary_storage_bytes > 0 ORDER BY tag`)
	if err != nil {
		s.log.Warn("memlog", "err", err)
		return
	}
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
	rows.Close()
	var dbMem, wal string
	_ = s.conn.QueryRowContext(ctx, `SELECT memory_usage, wal_size FROM pragma_database_size()
		WHERE database_name = current_database()`).Scan(&dbMem, &wal)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := int64(-1)
	if st, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(st)); len(f) > 1 {
			if p, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				rss = p * int64(os.Getpagesize())
			}
		}
	}
	s.log.Warn("memlog", "records", records,
		"rss", fmt.Sprintf("%.1f", float64(rss)/mib),
		"go_heap_inuse", fmt.Sprintf("%.1f", float64(ms.HeapInuse)/mib),
		"go_sys", fmt.Sprintf("%.1f", float64(ms.Sys)/mib),
		"duck_total", fmt.Sprintf("%.1f", float64(total)/mib),
		"db_mem", dbMem, "wal", wal, "tags", b.String())
}
