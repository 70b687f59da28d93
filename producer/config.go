package main

import (
	"fmt"
	"strings"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
	"github.com/gorgias-kafka/gorgias-kafka/internal/kafkaconn"
	"github.com/gorgias-kafka/gorgias-kafka/internal/metrics"
	"github.com/gorgias-kafka/gorgias-kafka/internal/producer"
	"github.com/gorgias-kafka/gorgias-kafka/internal/schemaregistry"
)

// settings is the producer's configuration, every section declared by the package
// that uses it.
type settings struct {
	Gorgias  gorgias.Config       `config:"gorgias"`
	Producer producer.Config      `config:"producer"`
	Topics   producer.TopicConfig `config:"topics"`
	Kafka    kafkaconn.Config     `config:"kafka"`
	Metrics  metrics.Config       `config:"metrics"`
	Log      config.Log           `config:"log"`
	// SchemaRegistry, when its URL is set, is where the producer registers each
	// entity's schema; values are then written in the Confluent wire format.
	SchemaRegistry schemaregistry.Config `config:"schema_registry"`
}

// newLoader returns the loader of every key of the producer, with the producer's own
// defaults of shared keys. With accountOptional (producer status) the gorgias keys are
// accepted but neither loaded nor required.
func newLoader(s *settings, accountOptional bool) *config.Loader {
	s.Kafka.ClientID = "gorgias-kafka-producer"
	s.Metrics.Listen = ":9464"
	return config.NewLoader(
		config.Section{Name: "gorgias", Config: &s.Gorgias, KnownOnly: accountOptional},
		config.Section{Name: "producer", Config: &s.Producer},
		config.Section{Name: "topics", Config: &s.Topics},
		config.Section{Name: "kafka", Config: &s.Kafka},
		config.Section{Name: "metrics", Config: &s.Metrics},
		config.Section{Name: "log", Config: &s.Log},
		config.Section{Name: "schema_registry", Config: &s.SchemaRegistry},
	)
}

// String describes the configuration with secrets redacted.
func (s settings) String() string {
	var names []string
	for _, e := range s.Producer.Entities {
		names = append(names, e.Name)
	}
	return fmt.Sprintf("account=%s base_url=%s brokers=%s prefix=%q entities=%s once=%v schema_registry=%s",
		s.Gorgias.Credentials, s.Gorgias.BaseURL, strings.Join(s.Kafka.Brokers, ","), s.Kafka.TopicPrefix,
		strings.Join(names, ","), s.Producer.Once, config.RedactURI(s.SchemaRegistry.URL))
}
