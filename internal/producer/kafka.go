package producer

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
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
	return create(1, map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"),
		"retention.ms":   kadm.StringPtr("-1"),
	}, stateTopic)
}

// readState reads the state topic to its last stable offset with read_committed and
// returns the newest state per entity. The caller must have initialised its
// transactional producer id first, so a dead predecessor's open transaction is aborted
// and the last stable offset is not held back by it.
func readState(ctx context.Context, opts []kgo.Opt, stateTopic string) (map[string]*EntityState, error) {
	adm, err := kadm.NewOptClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka admin client: %w", err)
	}
	defer adm.Close()
	ends, err := adm.ListCommittedOffsets(ctx, stateTopic)
	if err != nil {
		return nil, fmt.Errorf("list state topic offsets: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, stateTopic)
	if err != nil {
		return nil, fmt.Errorf("list state topic start offsets: %w", err)
	}
	want := map[int32]int64{}
	from := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			return
		}
		start := int64(0)
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok && s.Err == nil {
			start = s.Offset
		}
		if o.Offset > start {
			want[o.Partition] = o.Offset
			from[o.Partition] = kgo.NewOffset().At(start)
		}
	})
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("list state topic offsets: %w", err)
	}
	out := map[string]*EntityState{}
	if len(want) == 0 {
		return out, nil
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{stateTopic: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return nil, fmt.Errorf("state reader: %w", err)
	}
	defer cl.Close()
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read producer state: %w", err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("read %s[%d]: %w", t, p, err) })
		if ferr != nil {
			return nil, ferr
		}
		for _, r := range fs.Records() {
			if end, ok := want[r.Partition]; ok && r.Offset >= end-1 {
				delete(want, r.Partition)
			}
			if r.Attrs.IsControl() || r.Key == nil {
				continue
			}
			if r.Value == nil {
				delete(out, string(r.Key))
				continue
			}
			st, err := unmarshalState(string(r.Key), r.Value)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBadState, err)
			}
			out[string(r.Key)] = st
		}
	}
	return out, nil
}
