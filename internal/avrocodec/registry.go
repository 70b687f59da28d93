// Package avrocodec turns Gorgias JSON objects into Avro records in single-object
// encoding, and decodes such records back by schema fingerprint.
//
// Writers always use the current schema of an entity (schemas/<entity>.avsc); readers
// resolve the writer schema of each record from every released version (schemas.All),
// because goavro has no schema resolution: a record is only ever decoded with its exact
// writer schema, and a decode that leaves bytes over is an error.
package avrocodec

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/linkedin/goavro/v2"

	"github.com/gorgias-kafka/gorgias-kafka/schemas"
)

// Schema is one parsed schema version.
type Schema struct {
	// Entity is the entity the schema belongs to.
	Entity string
	// Fingerprint is the CRC-64-AVRO (Rabin) fingerprint of the canonical form, as written
	// after the C3 01 marker (little-endian).
	Fingerprint uint64
	// Text is the full schema JSON, including attributes the canonical form drops.
	Text string
	// Root is the parsed type tree of the record.
	Root *Type

	codec *goavro.Codec
}

func newSchema(entity, text string) (*Schema, error) {
	root, err := ParseSchema(text)
	if err != nil {
		return nil, err
	}
	c, err := goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("goavro: %w", err)
	}
	return &Schema{Entity: entity, Fingerprint: c.Rabin, Text: text, Root: root, codec: c}, nil
}

// Canonical returns the schema's Parsing Canonical Form.
func (s *Schema) Canonical() string { return s.codec.CanonicalSchema() }

// Registry maps fingerprints to schema versions. It is safe for concurrent use.
type Registry struct {
	mu   sync.RWMutex
	byFP map[uint64]*Schema
}

// NewRegistry returns a registry holding every embedded schema version (current and
// history).
func NewRegistry() (*Registry, error) {
	r := &Registry{byFP: map[uint64]*Schema{}}
	for _, s := range schemas.All() {
		if _, err := r.Register(s.Entity, s.Text); err != nil {
			return nil, fmt.Errorf("schema file %s: %w", s.File, err)
		}
	}
	return r, nil
}

// Register adds a schema version and returns it. Registering the same text twice is a
// no-op; two entities sharing a fingerprint is an error.
func (r *Registry) Register(entity, text string) (*Schema, error) {
	s, err := newSchema(entity, text)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.byFP[s.Fingerprint]; ok {
		if old.Entity != entity {
			return nil, fmt.Errorf("fingerprint %016x already belongs to entity %s", s.Fingerprint, old.Entity)
		}
		return old, nil
	}
	r.byFP[s.Fingerprint] = s
	return s, nil
}

// Lookup returns the schema with fingerprint fp.
func (r *Registry) Lookup(fp uint64) (*Schema, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.byFP[fp]
	return s, ok
}

// Schemas returns every registered schema of entity ("" for all), ordered by fingerprint.
func (r *Registry) Schemas(entity string) []*Schema {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Schema
	for _, s := range r.byFP {
		if entity == "" || s.Entity == entity {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Fingerprint < out[j].Fingerprint })
	return out
}

// Decoded is one decoded record.
type Decoded struct {
	// Schema is the writer schema of the record.
	Schema *Schema
	// Value is the record in goavro's native form: a map of field name to value, where a
	// nullable field holds nil or a one-entry map {branch: value}, timestamps are
	// time.Time in UTC and arrays are []any.
	Value map[string]any
}

// Fingerprint returns the schema fingerprint of a single-object encoded value.
func Fingerprint(value []byte) (uint64, error) {
	if len(value) < 10 || value[0] != 0xC3 || value[1] != 0x01 {
		return 0, ErrNotSingleObject
	}
	return binary.LittleEndian.Uint64(value[2:10]), nil
}

// Decode decodes a single-object encoded value with its exact writer schema. It fails
// with ErrNotSingleObject, ErrUnknownSchema or ErrCorruptRecord (including when bytes are
// left over after the record).
func (r *Registry) Decode(value []byte) (Decoded, error) {
	fp, err := Fingerprint(value)
	if err != nil {
		return Decoded{}, err
	}
	s, ok := r.Lookup(fp)
	if !ok {
		return Decoded{}, fmt.Errorf("%w %016x", ErrUnknownSchema, fp)
	}
	native, rest, err := s.codec.NativeFromBinary(value[10:])
	if err != nil {
		return Decoded{}, fmt.Errorf("%w: %s schema %016x: %v", ErrCorruptRecord, s.Entity, fp, err)
	}
	if len(rest) != 0 {
		return Decoded{}, fmt.Errorf("%w: %s schema %016x: %d bytes left over", ErrCorruptRecord, s.Entity, fp, len(rest))
	}
	m, ok := native.(map[string]any)
	if !ok {
		return Decoded{}, fmt.Errorf("%w: %s schema %016x: not a record", ErrCorruptRecord, s.Entity, fp)
	}
	return Decoded{Schema: s, Value: m}, nil
}
