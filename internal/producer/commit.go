package producer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/tombstone"
)

// commit publishes one page's records and the entity's new state in one transaction,
// and makes st the entity's committed state; fetched is when the page was received
// (see deletedAt.dropDeleted). Kafka work runs under a context that ignores
// cancellation (bounded by a timeout), so a stop request never leaves a page
// half-committed.
func (p *Producer) commit(ctx context.Context, e catalog.Entity, recs []*kgo.Record, st *EntityState, fetched time.Time) error {
	label := e.Name
	if slices.ContainsFunc(recs, tombstone.Is) {
		label += withTombstones
	}
	if err := p.step(stepBeforeProduce, label); err != nil {
		return err
	}
	val, err := st.marshal()
	if err != nil {
		return fmt.Errorf("encode %s state: %w", e.Name, err)
	}
	recs = append(recs, &kgo.Record{Topic: StateTopic(p.cfg.TopicPrefix), Key: []byte(e.Name), Value: val})
	p.commitMu.Lock()
	defer p.commitMu.Unlock()
	if p.broken != nil {
		return p.broken
	}
	recs = p.deleted.dropDeleted(recs, fetched)
	if err := p.transact(ctx, e, recs, label); err != nil {
		p.broken = err
		return err
	}
	p.deleted.note(recs, time.Now())
	p.setState(e.Name, st)
	return p.step(stepAfterCommit, label)
}

// transact runs one transaction: begin, produce recs, commit. Any error leaves the
// transactional client unusable for this run (Producer.broken). label names the
// transaction to the test hook.
func (p *Producer) transact(ctx context.Context, e catalog.Entity, recs []*kgo.Record, label string) error {
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if err := p.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction for %s: %w", e.Name, err)
	}
	if err := p.cl.ProduceSync(kctx, recs...).FirstErr(); err != nil {
		if aerr := p.cl.EndTransaction(kctx, kgo.TryAbort); aerr != nil {
			return fmt.Errorf("produce %s page: %w (abort also failed: %v)", e.Name, err, aerr)
		}
		return fmt.Errorf("produce %s page: %w", e.Name, err)
	}
	if err := p.step(stepAfterProduce, label); err != nil {
		return err
	}
	if err := p.cl.EndTransaction(kctx, kgo.TryCommit); err != nil {
		if errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
			errors.Is(err, kerr.OperationNotAttempted) || errors.Is(err, kerr.TransactionalIDAuthorizationFailed) {
			return fmt.Errorf("commit %s page: %w: %v", e.Name, ErrFenced, err)
		}
		return fmt.Errorf("commit %s page: %w", e.Name, err)
	}
	return nil
}
