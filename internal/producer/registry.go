package producer

import (
	"context"
	"fmt"
	"math"
)

// registerSchemas registers the current schema of every selected entity under its
// subject (by default "<topic>-value", TopicNameStrategy) and remembers its id, before
// anything is published; without Config.Registry it does nothing. A refusal (e.g. an
// incompatible schema, wrong credentials) or an unreachable registry fails the run with
// the registry client's error, which quotes the registry's answer and never its
// credentials.
//
// It never changes the registry's compatibility setting. Our schemas evolve additively
// (schemas/history/README.md: a new version only adds fields, each nullable with a
// default), which is exactly what BACKWARD — the registry default — requires: a reader
// with the new schema reads data written with the previous one. The test
// TestReleasedSchemasBackwardCompatible checks every released version against the one
// before it.
func (p *Producer) registerSchemas(ctx context.Context) error {
	if p.cfg.Registry == nil {
		return nil
	}
	ids := make(map[string]uint32, len(p.cfg.Entities))
	for _, e := range p.cfg.Entities {
		if err := p.step(stepRegister, e.Name); err != nil {
			return err
		}
		text := p.encoders[e.Name].Schema().Text
		topic := e.Topic(p.cfg.TopicPrefix)
		subject, err := p.cfg.Registry.Subject(topic, text)
		if err != nil {
			return fmt.Errorf("schema of %s: %w", e.Name, err)
		}
		id, err := p.cfg.Registry.Register(ctx, subject, text)
		if err != nil {
			return fmt.Errorf("schema of %s: %w", e.Name, err)
		}
		if id < 0 || id > math.MaxUint32 {
			return fmt.Errorf("schema of %s: registry id %d out of range", e.Name, id)
		}
		ids[e.Name] = uint32(id)
		p.cfg.Logger.Info("schema registered", "entity", e.Name, "subject", subject, "id", id)
	}
	p.schemaIDs = ids
	return nil
}
