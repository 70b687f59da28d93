package main

// The test destinations of the sinks in this build (sinks.go): the process tests run
// each. Adding a sink is one line here too.
import (
	_ "github.com/gorgias-kafka/gorgias-kafka/internal/testing/bigquerydest"
	_ "github.com/gorgias-kafka/gorgias-kafka/internal/testing/duckdbdest"
	_ "github.com/gorgias-kafka/gorgias-kafka/internal/testing/postgresdest"
)
