package main

import (
	"fmt"
	"strings"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
	"github.com/gorgias-kafka/gorgias-kafka/internal/kafkaconn"
	"github.com/gorgias-kafka/gorgias-kafka/internal/metrics"
	"github.com/gorgias-kafka/gorgias-kafka/internal/schemaregistry"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

// settings is the consumer's configuration: the common sections here, plus each
// registered sink's own section (sink.Sections), all declared by the packages that
// use them.
type settings struct {
	Dest    sink.Dest        `config:"dest"`
	Sink    sink.Config      `config:"sink"`
	Kafka   kafkaconn.Config `config:"kafka"`
	Metrics metrics.Config   `config:"metrics"`
	Log     config.Log       `config:"log"`
	// SchemaRegistry resolves the writer schemas of records in the Confluent wire
	// format; without a URL, only single-object encoded records are readable.
	SchemaRegistry schemaregistry.Config `config:"schema_registry"`
}

// newLoader returns the loader of every key of the consumer, with the consumer's own
// defaults of shared keys.
func newLoader(s *settings) *config.Loader {
	s.Kafka.ClientID = "gorgias-kafka-consumer"
	s.Metrics.Listen = ":9465"
	sections := []config.Section{
		{Name: "dest", Config: &s.Dest}, {Name: "sink", Config: &s.Sink}, {Name: "kafka", Config: &s.Kafka},
		{Name: "metrics", Config: &s.Metrics}, {Name: "log", Config: &s.Log},
		{Name: "schema_registry", Config: &s.SchemaRegistry},
	}
	for _, d := range sink.Sections() {
		sections = append(sections, config.Section{Name: d.Name, Config: d.Config})
	}
	return config.NewLoader(sections...)
}

// String describes the configuration with secrets redacted.
func (s settings) String() string {
	return fmt.Sprintf("dest=%s schema=%s sink=%s brokers=%s prefix=%q once=%v",
		config.RedactURI(s.Dest.URI), s.Dest.Schema, s.Sink.Name, strings.Join(s.Kafka.Brokers, ","), s.Kafka.TopicPrefix, s.Sink.Once)
}
