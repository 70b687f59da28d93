package main

// The sinks in this build: each registers its URI schemes and its configuration
// section with package sink. Adding a sink is one line here.
import (
	_ "github.com/gorgias-kafka/gorgias-kafka/internal/bigquerysink"
	_ "github.com/gorgias-kafka/gorgias-kafka/internal/duckdbsink"
	_ "github.com/gorgias-kafka/gorgias-kafka/internal/postgressink"
)
