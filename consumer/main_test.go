package main

import (
	"os"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/proctest"
)

// TestMain removes the consumer executables that the process-level tests built
// (proctest.Build) once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}
