package config

import (
	"io"
	"log/slog"
	"strings"
)

// Log configures log/slog output (section log).
type Log struct {
	Level  slog.Level `config:"level" default:"info" help:"log level: debug, info, warn or error"`
	Format string     `config:"format" default:"text" help:"log format: text or json"`
}

// Validate accepts the formats Logger knows.
func (lg *Log) Validate(report func(key, why string)) {
	if lg.Format != "text" && lg.Format != "json" {
		report("format", "must be text or json")
	}
}

// Logger returns a slog logger writing to w in the configured format and level.
func (lg Log) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: lg.Level}
	if lg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OneLine joins a (possibly joined) error into one line, for the single stderr line a
// failing binary prints.
func OneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
