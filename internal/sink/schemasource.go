package sink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// SchemaSource gives the writer schema of a Confluent wire-format record (first byte
// 0x00) by its Schema Registry id. It is typically a Schema Registry client.
//
// SchemaByID returns the schema text (Avro JSON). An id the source does not know (a
// registry's 404) must be reported with an error for which
// errors.Is(err, ErrUnknownSchemaID) holds: the record is then dead-lettered. An error
// matching ErrSchemaRegistryRefused stops the run (see Refusals). Every other error is
// transient (registry unreachable, 5xx): the runner retries with back-off for
// as long as its context lives and never dead-letters the record. UnknownIDs adapts a
// source whose own "unknown id" sentinel is a different error.
//
// The runner asks for each id once per process and caches the answer (including "unknown
// id"), so the source need not cache.
type SchemaSource interface {
	SchemaByID(ctx context.Context, id int) (string, error)
}

// UnknownIDs returns a SchemaSource answering like src, whose errors that match unknown
// (errors.Is) also match ErrUnknownSchemaID. It is how a registry client with its own
// sentinel (say schemaregistry.ErrUnknownID) plugs into Config.Schemas without package
// sink and the client depending on each other.
func UnknownIDs(src SchemaSource, unknown error) SchemaSource {
	return mappedErrors{src: src, from: unknown, to: ErrUnknownSchemaID}
}

// Refusals returns a SchemaSource answering like src, whose errors that match refused
// also match ErrSchemaRegistryRefused: the runner then stops with that error (exit 1)
// instead of retrying forever, e.g. on bad registry credentials.
func Refusals(src SchemaSource, refused error) SchemaSource {
	return mappedErrors{src: src, from: refused, to: ErrSchemaRegistryRefused}
}

// mappedErrors makes src's errors matching from also match to.
type mappedErrors struct {
	src      SchemaSource
	from, to error
}

func (m mappedErrors) SchemaByID(ctx context.Context, id int) (string, error) {
	text, err := m.src.SchemaByID(ctx, id)
	if err != nil && errors.Is(err, m.from) && !errors.Is(err, m.to) {
		return "", fmt.Errorf("%w: %w", m.to, err)
	}
	return text, err
}

// Back-off of a transient SchemaSource failure: doubling from schemaRetryBase up to
// schemaRetryMax between attempts, until the run's context ends.
const (
	schemaRetryBase = 200 * time.Millisecond
	schemaRetryMax  = 30 * time.Second
)

// writerSchema is the outcome of resolving one registry id for one entity: the schema,
// or the reason its records are dead-lettered (unknown id, a schema the sink cannot
// read or store).
type writerSchema struct {
	schema *avrocodec.Schema
	bad    error
}

// schemaCache holds what the runner resolved from Config.Schemas: each id's text is
// fetched once per process, and registered in the avrocodec.Registry once per entity
// (the same registry id may serve several subjects).
type schemaCache struct {
	mu    sync.Mutex
	texts map[uint32]textResult
	byKey map[schemaKey]writerSchema
	// retryBase is the first back-off (schemaRetryBase unless a test sets it).
	retryBase time.Duration
}

type textResult struct {
	text string
	err  error // wraps ErrUnknownSchemaID; transient errors are never cached
}

type schemaKey struct {
	entity string
	id     uint32
}

func newSchemaCache() *schemaCache {
	return &schemaCache{texts: map[uint32]textResult{}, byKey: map[schemaKey]writerSchema{}, retryBase: schemaRetryBase}
}

func (c *schemaCache) get(entity string, id uint32) (writerSchema, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ws, ok := c.byKey[schemaKey{entity, id}]
	return ws, ok
}

// resolveSchemas makes sure the writer schema of every Confluent wire-format record in
// fs is resolved before the records join the batch, so that building the batch needs no
// I/O. Transient source errors are retried with back-off until ctx ends (then ctx's
// error is returned); a record of the wire format while no source is configured is an
// error wrapping ErrNoSchemaRegistry. Values that are not of the wire format, or are too
// short for its header, are left to the decoder (which dead-letters what it cannot read).
func (r *Runner) resolveSchemas(ctx context.Context, fs kgo.Fetches) error {
	var err error
	fs.EachRecord(func(rec *kgo.Record) {
		if err != nil || rec.Attrs.IsControl() || len(rec.Value) == 0 || rec.Value[0] != avrocodec.ConfluentMagic {
			return
		}
		e, ok := r.topics[rec.Topic]
		if !ok {
			return
		}
		id, _, serr := avrocodec.SplitConfluent(rec.Value)
		if serr != nil {
			return
		}
		if _, ok := r.schemas.get(e.Name, id); ok {
			return
		}
		if r.cfg.Schemas == nil {
			err = fmt.Errorf("%w: record %s[%d]@%d is in the Confluent wire format (schema id %d); set SCHEMA_REGISTRY_URL (schema_registry.url) so the sink can fetch its writer schema",
				ErrNoSchemaRegistry, rec.Topic, rec.Partition, rec.Offset, id)
			return
		}
		err = r.resolveSchema(ctx, e, id)
	})
	return err
}

// resolveSchema fetches schema id (once per process) and registers it for entity e.
func (r *Runner) resolveSchema(ctx context.Context, e catalog.Entity, id uint32) error {
	c := r.schemas
	c.mu.Lock()
	tr, fetched := c.texts[id]
	c.mu.Unlock()
	if !fetched {
		text, err := r.fetchSchema(ctx, id)
		if err != nil && !errors.Is(err, ErrUnknownSchemaID) {
			return err // ctx ended while retrying, or the registry refused
		}
		tr = textResult{text: text, err: err}
		c.mu.Lock()
		c.texts[id] = tr
		c.mu.Unlock()
	}
	ws := writerSchema{bad: tr.err}
	if tr.err == nil {
		ws = r.registerSchema(e, id, tr.text)
	}
	c.mu.Lock()
	c.byKey[schemaKey{e.Name, id}] = ws
	c.mu.Unlock()
	return nil
}

// fetchSchema asks the source for id until it answers, says the id is unknown, or ctx
// ends.
func (r *Runner) fetchSchema(ctx context.Context, id uint32) (string, error) {
	wait := r.schemas.retryBase
	for attempt := 1; ; attempt++ {
		text, err := r.cfg.Schemas.SchemaByID(ctx, int(id))
		switch {
		case err == nil:
			r.cfg.Logger.Debug("writer schema fetched from the schema registry", "sink", r.cfg.Name, "schema_id", id)
			return text, nil
		case errors.Is(err, ErrUnknownSchemaID):
			return "", fmt.Errorf("schema id %d: %w", id, err)
		case errors.Is(err, ErrSchemaRegistryRefused):
			return "", fmt.Errorf("fetch schema id %d: %w", id, err)
		}
		r.cfg.Logger.Warn("schema registry unavailable; retrying", "sink", r.cfg.Name, "schema_id", id,
			"attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("fetch schema id %d: %w (last error: %v)", id, context.Cause(ctx), err)
		case <-t.C:
		}
		wait = min(2*wait, schemaRetryMax)
	}
}

// registerSchema parses a fetched schema as a version of entity e, in the runner's
// avrocodec.Registry (an embedded version with the same text is the same *Schema), and
// checks that a sink can store it. A schema that fails is a bad writer schema: its
// records are dead-lettered with the reason.
func (r *Runner) registerSchema(e catalog.Entity, id uint32, text string) writerSchema {
	s, err := r.reg.Register(e.Name, text)
	if err == nil {
		err = CheckSchema(e, s)
	}
	if err == nil {
		for _, name := range []string{catalog.Key, e.VersionField} {
			if f, _ := s.Root.Field(name); f.Type.Nullable {
				err = fmt.Errorf("%w: %s schema %016x: field %s must not be nullable", ErrIncompatibleSchema, e.Name, s.Fingerprint, name)
			}
		}
	}
	if err != nil {
		return writerSchema{bad: fmt.Errorf("schema id %d is not a readable %s schema: %w", id, e.Name, err)}
	}
	r.cfg.Logger.Info("writer schema resolved from the schema registry", "sink", r.cfg.Name, "entity", e.Name,
		"schema_id", id, "fingerprint", fmt.Sprintf("%016x", s.Fingerprint))
	return writerSchema{schema: s}
}

// decodeValue decodes a record value of entity e by its first byte: 0x00 is the
// Confluent wire format (its writer schema resolved beforehand by resolveSchemas),
// anything else goes to single-object decoding (C3 01), which rejects what it is not.
func (r *Runner) decodeValue(e catalog.Entity, value []byte) (*avrocodec.Schema, []any, error) {
	if len(value) == 0 || value[0] != avrocodec.ConfluentMagic {
		return r.reg.DecodeRow(value)
	}
	id, body, err := avrocodec.SplitConfluent(value)
	if err != nil {
		return nil, nil, err
	}
	ws, ok := r.schemas.get(e.Name, id)
	switch {
	case !ok:
		// resolveSchemas runs on every fetch before its records are batched.
		return nil, nil, fmt.Errorf("%w: schema id %d of %s was not resolved before decoding", errUnresolved, id, e.Name)
	case ws.bad != nil:
		return nil, nil, ws.bad
	}
	row, err := r.reg.DecodeRowBody(ws.schema, body)
	if err != nil {
		return nil, nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	return ws.schema, row, nil
}

// errUnresolved is a runner bug: a Confluent record reached the batch without its
// schema resolved. It stops the run rather than dead-letter a good record.
var errUnresolved = errors.New("internal error")
