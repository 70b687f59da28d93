// Package kafkaconn turns the Kafka connection configuration into franz-go client
// options shared by the producer, the sinks and the tools.
package kafkaconn

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/config"
)

// Options returns the kgo options that reach the cluster described by cfg: seed brokers,
// client id and a log adapter that forwards franz-go warnings and errors to log.
func Options(cfg config.Kafka, log *slog.Logger) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
	}
	if log != nil {
		opts = append(opts, kgo.WithLogger(logger{log}))
	}
	return opts, nil
}

// logger adapts slog to kgo.Logger, keeping franz-go's info chatter at debug.
type logger struct{ l *slog.Logger }

func (a logger) Level() kgo.LogLevel {
	if a.l.Enabled(context.Background(), slog.LevelDebug) {
		return kgo.LogLevelInfo
	}
	return kgo.LogLevelWarn
}

func (a logger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lv := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		lv = slog.LevelError
	case kgo.LogLevelWarn:
		lv = slog.LevelWarn
	}
	a.l.Log(context.Background(), lv, "kafka: "+msg, keyvals...)
}
