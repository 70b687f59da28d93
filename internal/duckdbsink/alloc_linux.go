//go:build linux && cgo

package duckdbsink

/*
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

// DuckDB's Linux builds allocate through a bundled jemalloc whose symbols carry the
// duckdb_je_ prefix. The reference is weak so that a build without it links and the
// helper reports -1.
extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen) __attribute__((weak));

// gk_set_decay sets jemalloc's dirty and muzzy decay times (ms) for every arena, and
// as the default of arenas created later. It returns 0, -1 without jemalloc, or the
// first mallctl error.
static int gk_set_decay(long ms) {
	if (duckdb_je_mallctl == NULL) {
		return -1;
	}
	ssize_t v = ms;
	int rc = duckdb_je_mallctl("arenas.dirty_decay_ms", NULL, NULL, &v, sizeof(v));
	if (rc == 0) {
		rc = duckdb_je_mallctl("arenas.muzzy_decay_ms", NULL, NULL, &v, sizeof(v));
	}
	if (rc != 0) {
		return rc;
	}
	unsigned n = 0;
	size_t sz = sizeof(n);
	rc = duckdb_je_mallctl("arenas.narenas", &n, &sz, NULL, 0);
	if (rc != 0) {
		return rc;
	}
	char name[64];
	for (unsigned i = 0; i < n; i++) {
		// Arenas not created yet refuse the call; they take the default set above.
		snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", i);
		duckdb_je_mallctl(name, NULL, NULL, &v, sizeof(v));
		snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", i);
		duckdb_je_mallctl(name, NULL, NULL, &v, sizeof(v));
	}
	return 0;
}
*/
import "C"

import "fmt"

// setAllocatorDecay makes DuckDB's allocator (jemalloc) return freed pages to the
// operating system after ms milliseconds (0: at once) instead of its default of about
// a second, process-wide.
func setAllocatorDecay(ms int) error {
	switch rc := C.gk_set_decay(C.long(ms)); rc {
	case 0:
		return nil
	case -1:
		return errNoJemalloc
	default:
		return fmt.Errorf("jemalloc mallctl: error %d", int(rc))
	}
}
