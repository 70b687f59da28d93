package sink

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DLQTopic is the dead-letter topic of a topic prefix.
func DLQTopic(prefix string) string { return prefix + "_dlq" }

// Dead-letter record headers. The value and key are the original record's.
const (
	HeaderReason    = "dlq.reason"
	HeaderTopic     = "dlq.topic"
	HeaderPartition = "dlq.partition"
	HeaderOffset    = "dlq.offset"
	HeaderSink      = "dlq.sink"
)

// deadLetter is the dead-letter copy of rec, with the reason and its origin in headers.
func (r *Runner) deadLetter(rec *kgo.Record, reason string) *kgo.Record {
	return &kgo.Record{
		Topic: DLQTopic(r.cfg.TopicPrefix),
		Key:   rec.Key,
		Value: rec.Value,
		Headers: []kgo.RecordHeader{
			{Key: HeaderReason, Value: []byte(reason)},
			{Key: HeaderTopic, Value: []byte(rec.Topic)},
			{Key: HeaderPartition, Value: []byte(strconv.Itoa(int(rec.Partition)))},
			{Key: HeaderOffset, Value: []byte(strconv.FormatInt(rec.Offset, 10))},
			{Key: HeaderSink, Value: []byte(r.cfg.Name)},
		},
	}
}

// sendDeadLetters produces dead letters synchronously and reports each one.
func (r *Runner) sendDeadLetters(ctx context.Context, cl *kgo.Client, dead []*kgo.Record) error {
	if len(dead) == 0 {
		return nil
	}
	if err := cl.ProduceSync(ctx, dead...).FirstErr(); err != nil {
		return fmt.Errorf("dead-letter %d records: %w", len(dead), err)
	}
	for _, d := range dead {
		r.cfg.Logger.Warn("record dead-lettered", "topic", headerValue(d, HeaderTopic),
			"partition", headerValue(d, HeaderPartition), "offset", headerValue(d, HeaderOffset), "reason", headerValue(d, HeaderReason))
		if r.cfg.Metrics != nil {
			r.cfg.Metrics.DeadLettered(headerValue(d, HeaderTopic), headerValue(d, HeaderReason))
		}
	}
	return nil
}

func headerValue(rec *kgo.Record, key string) string {
	for _, h := range rec.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func ensureDLQ(ctx context.Context, adm *kadm.Client, topic string) error {
	resp, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{"retention.ms": kadm.StringPtr("-1")}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create dead-letter topic %s: %w", topic, err)
	}
	return nil
}
