package main

import (
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
)

// TestMain removes the consumer executables that the process-level tests built
// (proctest.Build) once every test has run.
func TestMain(m *testing.M) { proctest.Main(m) }
