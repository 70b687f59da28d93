package sinktest

import "github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"

// TopicRecord is one record of an entity topic, decoded (World.ReadTopic).
type TopicRecord = testenv.TopicRecord
