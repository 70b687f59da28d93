package producer

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TopicConfig says how the producer creates missing topics.
type TopicConfig struct {
	// Partitions of each entity topic (default 3).
	Partitions int32 `config:"partitions" default:"3" min:"1" max:"10000" help:"partitions of entity topics created by the producer"`
	// ReplicationFactor of every topic; -1 means the broker default (default -1).
	ReplicationFactor int16 `config:"replication_factor" default:"-1" min:"-1" max:"32" help:"replication factor of created topics (-1: broker default)"`
	// RetentionMs of entity topics; -1 keeps records forever so history can be replayed
	// (default -1).
	RetentionMs int64 `config:"retention_ms" default:"-1" min:"-1" help:"retention of entity topics in ms (-1: forever, so history can be replayed)"`
}

func (t TopicConfig) withDefaults() TopicConfig {
	if t.Partitions == 0 {
		t.Partitions = 3
	}
	if t.ReplicationFactor == 0 {
		t.ReplicationFactor = -1
	}
	if t.RetentionMs == 0 {
		t.RetentionMs = -1
	}
	return t
}

// stateMaxBytes is the largest state record the state topic accepts.
const stateMaxBytes = 16 << 20

// StateTopic is the compacted topic holding the producer's per-entity progress.
func StateTopic(prefix string) string { return prefix + "_producer_state" }

// ensureTopics creates the entity topics and the state topic when they are missing.
// Existing topics are left as they are.
func ensureTopics(ctx context.Context, adm *kadm.Client, tc TopicConfig, entityTopics []string, stateTopic string) error {
	existing, err := adm.ListTopics(ctx, append(entityTopics, stateTopic)...)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	create := func(parts int32, cfg map[string]*string, topic string) error {
		if d, ok := existing[topic]; ok && d.Err == nil {
			return nil
		}
		resp, err := adm.CreateTopic(ctx, parts, tc.ReplicationFactor, cfg, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", topic, err)
		}
		return nil
	}
	retention := strconv.FormatInt(tc.RetentionMs, 10)
	for _, t := range entityTopics {
		if err := create(tc.Partitions, map[string]*string{
			"cleanup.policy": kadm.StringPtr("delete"),
			"retention.ms":   kadm.StringPtr(retention),
		}, t); err != nil {
			return err
		}
	}
	// A snapshot entity's state holds ~15 bytes per object (contentSet): room for about
	// a million objects.
	return create(1, map[string]*string{
		"cleanup.policy":    kadm.StringPtr("compact"),
		"retention.ms":      kadm.StringPtr("-1"),
		"max.message.bytes": kadm.StringPtr(strconv.Itoa(stateMaxBytes)),
	}, stateTopic)
}

// raiseStateLimit sets max.message.bytes of an existing state topic to stateMaxBytes
// when it is lower (a topic created before snapshot entities existed has the broker's
// 1 MB default). The caller logs a failure and goes on: only snapshot lists of more
// than ~60,000 objects need it.
func raiseStateLimit(ctx context.Context, adm *kadm.Client, stateTopic string) error {
	rcs, err := adm.DescribeTopicConfigs(ctx, stateTopic)
	if err != nil {
		return fmt.Errorf("describe %s: %w", stateTopic, err)
	}
	rc, err := rcs.On(stateTopic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return fmt.Errorf("describe %s: %w", stateTopic, err)
	}
	for _, c := range rc.Configs {
		if c.Key == "max.message.bytes" && c.Value != nil {
			if n, err := strconv.Atoi(*c.Value); err == nil && n >= stateMaxBytes {
				return nil
			}
		}
	}
	resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: kadm.StringPtr(strconv.Itoa(stateMaxBytes))}}, stateTopic)
	if err == nil {
		var r kadm.AlterConfigsResponse
		if r, err = resp.On(stateTopic, nil); err == nil {
			err = r.Err
		}
	}
	if err != nil {
		return fmt.Errorf("raise max.message.bytes of %s: %w", stateTopic, err)
	}
	return nil
}
