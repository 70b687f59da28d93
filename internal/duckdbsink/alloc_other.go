//go:build !linux || !cgo

package duckdbsink

// setAllocatorDecay is a no-op where DuckDB does not use its bundled jemalloc.
func setAllocatorDecay(int) error { return errNoJemalloc }
