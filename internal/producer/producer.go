// Package producer publishes new and changed Gorgias objects to Kafka, exactly once.
//
// For each entity it sweeps the Gorgias list endpoint newest first and, per page, commits
// the page's new object versions (Avro, one topic per entity, keyed by id) together with
// the entity's progress state (a JSON record in the compacted <prefix>_producer_state
// topic) in one Kafka transaction. The state describes exactly which object versions
// have been published (see Segment), so a crash at any point, followed by a restart,
// neither loses nor duplicates a version.
package producer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/gorgias"
)

// Lister reads the Gorgias API: one page of a list endpoint, or one object.
// *gorgias.Client implements it; it must be safe for concurrent use (entity sweeps run
// concurrently) and pace every caller under one account budget.
type Lister interface {
	List(ctx context.Context, resource string, p gorgias.ListParams) (*gorgias.Page, error)
	Get(ctx context.Context, resource string, query url.Values) (json.RawMessage, error)
}

// Config configures a Producer. Zero values take the documented defaults.
type Config struct {
	// Domain is the Gorgias account, written to every record's _domain.
	Domain string
	// TopicPrefix prefixes every topic (default "gorgias.").
	TopicPrefix string
	// Entities to sweep, in order (default all).
	Entities catalog.Selection `config:"entities" default:"all" alias:"entities" help:"entities to sweep, comma-separated, or all"`
	// Topics says how missing topics are created.
	Topics TopicConfig `config:"-"`
	// TransactionalID of the Kafka producer (default "<prefix>producer"). Two producers
	// with the same id fence each other: the newer one wins.
	TransactionalID string `config:"transactional_id" help:"Kafka transactional id (default <prefix>producer)"`
	// Lookback is how far behind the newest created_datetime the sweeps of messages and
	// surveys re-read, to see objects that changed after creation (default 7 days).
	Lookback time.Duration `config:"lookback" default:"168h" help:"window re-read for messages and surveys, which change after creation"`
	// IntervalStart and IntervalEnd, when set, bound the versions a run publishes
	// (inclusive), like ingestr's --interval-start/--interval-end.
	IntervalStart time.Time `config:"interval_start" alias:"interval-start" help:"publish only versions at or after this time (RFC 3339 or date)"`
	IntervalEnd   time.Time `config:"interval_end" alias:"interval-end" help:"publish only versions at or before this time (RFC 3339 or date)"`
	// PollInterval is the pause between two sweeps of an entity in continuous mode
	// (default 1 minute).
	PollInterval time.Duration `config:"poll_interval" default:"1m" min:"1s" help:"pause between sweeps in continuous mode"`
	// SnapshotInterval is the pause between two sweeps of an entity read in full
	// (snapshots, and append-only lists without a date filter) in continuous mode
	// (default 15 minutes), so that reference data never eats the ticket budget.
	SnapshotInterval time.Duration `config:"snapshot_interval" default:"15m" min:"1s" help:"pause between full reads of snapshot entities in continuous mode"`
	// AppendLookback is the window below the newest creation time published that the
	// sweeps of append-only entities (events) re-read, to catch objects committed late
	// (default 5 minutes).
	AppendLookback time.Duration `config:"append_lookback" default:"5m" help:"window re-read for append-only entities (events), for objects committed late"`
	// Concurrency is how many entity sweeps run at once (default 8). They share the
	// account's rate-limit budget; more sweeps use it while others wait on the network.
	Concurrency int `config:"concurrency" default:"8" min:"1" max:"64" help:"entity sweeps run at once, sharing the account's rate-limit budget"`
	// Once makes Run return after one sweep of each entity; stopped before every sweep
	// finished, Run returns ErrIncomplete instead of nil.
	//
	// IntervalStart and IntervalEnd bound only entities extracted by version or with a
	// lookback; interval runs skip snapshot and append-only entities (a snapshot
	// publishes what is current, an event log is read once, in order).
	Once bool `config:"once" alias:"once" help:"sweep each entity once, then exit"`
	// PageSize is the list limit (default and maximum 100).
	PageSize int
	// ClockSkew is subtracted from the Gorgias server time to get a sweep's AsOf for
	// entities with a derived version (default 5 s).
	ClockSkew time.Duration `config:"clock_skew" default:"5s" help:"allowance for clock skew between Gorgias servers"`
	// MaxSegments caps the covered segments kept per entity (default 32). Only interval
	// runs reaching further back than the last MaxSegments sweeps of messages or surveys
	// can then re-publish a version already published.
	MaxSegments int
	// ProgressEvery is the interval of progress log lines during a sweep (default 10 s).
	ProgressEvery time.Duration `config:"progress_every" default:"10s" min:"100ms" help:"interval of progress log lines during a sweep"`
	// Logger receives progress and lifecycle lines (default slog.Default()).
	Logger *slog.Logger
	// Metrics, if set, is told about every page and sweep.
	Metrics Observer
	// Hooks are added to the transactional Kafka client only (e.g. kprom metrics, which
	// serve one client each); the short-lived admin and state clients do not get them.
	Hooks []kgo.Hook
	// Registry, when set, is the Schema Registry: Run registers each entity's current
	// schema before anything else and every value is written in the Confluent wire
	// format (0x00, 4-byte schema id, Avro body). Nil: single-object encoding.
	Registry Registrar `config:"-"`
}

// Registrar registers value schemas in a Confluent-compatible Schema Registry.
// *schemaregistry.Client implements it.
type Registrar interface {
	// Subject names the subject of topic's value schema schemaText.
	Subject(topic, schemaText string) (string, error)
	// Register registers schemaText under subject and returns its id (the existing id
	// when the subject already has the schema).
	Register(ctx context.Context, subject, schemaText string) (int, error)
}

// Observer receives producer events, e.g. to export metrics. Methods must not block.
type Observer interface {
	// StateLoaded is called once Run has reached Kafka, fenced older instances and read
	// the state: with each entity's committed watermark (zero if none yet).
	StateLoaded(watermarks map[string]time.Time)
	// PageCommitted is called after each page's transaction committed.
	PageCommitted(entity string, records int)
	// SweepDone is called when a sweep finished, with the entity's committed watermark
	// (zero if none yet; interval-bounded sweeps do not move it).
	SweepDone(entity string, watermark time.Time)
}

func (c Config) withDefaults() Config {
	if c.TopicPrefix == "" {
		c.TopicPrefix = "gorgias."
	}
	if len(c.Entities) == 0 {
		c.Entities = catalog.All()
	}
	c.Topics = c.Topics.withDefaults()
	if c.TransactionalID == "" {
		c.TransactionalID = c.TopicPrefix + "producer"
	}
	if c.Lookback == 0 {
		c.Lookback = 7 * 24 * time.Hour
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Minute
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = 15 * time.Minute
	}
	if c.AppendLookback == 0 {
		c.AppendLookback = 5 * time.Minute
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.PageSize <= 0 || c.PageSize > 100 {
		c.PageSize = 100
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = 5 * time.Second
	}
	if c.MaxSegments == 0 {
		c.MaxSegments = 32
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Producer sweeps Gorgias and publishes to Kafka. Create it with New and call Run once.
type Producer struct {
	cfg      Config
	api      Lister
	kopts    []kgo.Opt
	encoders map[string]*avrocodec.Encoder
	// states is each entity's committed state; statesMu guards the map, as sweeps of
	// different entities run concurrently.
	statesMu sync.Mutex
	states   map[string]*EntityState
	// schemaIDs is each entity's registry schema id (with Config.Registry, after setup).
	schemaIDs map[string]uint32

	cl *kgo.Client // transactional client, live during Run
	// commitMu gives the transactional client to one page's transaction at a time.
	commitMu sync.Mutex
	// broken is the failure of a transaction, after which no other is begun this run
	// (guarded by commitMu).
	broken error
	// deleted is when this run committed each tombstone (guarded by commitMu).
	deleted deletedAt

	// hook, when set by tests, is called at each step; an error simulates a crash there.
	hook func(step, entity string) error
}

// New validates cfg and returns a Producer that will reach Kafka with kopts (seed
// brokers, security and client tuning; the producer adds its transactional settings).
func New(cfg Config, api Lister, kopts []kgo.Opt) (*Producer, error) {
	cfg = cfg.withDefaults()
	if cfg.Domain == "" {
		return nil, errors.New("producer: Domain is required")
	}
	if !cfg.IntervalStart.IsZero() && !cfg.IntervalEnd.IsZero() && !cfg.IntervalStart.Before(cfg.IntervalEnd) {
		return nil, fmt.Errorf("producer: interval start %s must be before interval end %s",
			cfg.IntervalStart.Format(time.RFC3339), cfg.IntervalEnd.Format(time.RFC3339))
	}
	p := &Producer{cfg: cfg, api: api, kopts: kopts, encoders: map[string]*avrocodec.Encoder{}, deleted: deletedAt{}}
	for _, e := range cfg.Entities {
		enc, err := avrocodec.NewEncoder(e)
		if err != nil {
			return nil, err
		}
		p.encoders[e.Name] = enc
	}
	return p, nil
}

// Run sets up topics, fences older instances, loads the state and sweeps until ctx is
// cancelled (continuous mode) or every entity was swept once (Config.Once). Entities
// are swept concurrently (see Config.Concurrency).
//
// Cancelling ctx stops Run cleanly: the pages being committed finish, nothing is
// half-written, and a later run continues where this one stopped. In continuous mode
// Run then returns nil. With Config.Once, Run returns nil only when every entity
// finished its sweep; stopped before that, at any point (setup, a fetch, a rate-limit
// wait), it returns an error wrapping ErrIncomplete that names the entities not
// finished. An entity whose own sweep failed (*EntityError, e.g. a 403 for a scope the
// key lacks) stops alone and Run returns ErrEntityFailed naming it, once the others
// are done. Any other failure (ErrFenced, a failed commit) stops every sweep and is
// returned.
func (p *Producer) Run(ctx context.Context) error {
	out, err := p.run(ctx)
	if err != nil && !cancelled(ctx, err) {
		return err
	}
	if out != nil {
		if err := out.err(); err != nil {
			return err
		}
	}
	if ctx.Err() == nil {
		return nil
	}
	p.cfg.Logger.Info("producer stopping", "reason", context.Cause(ctx))
	var pending []catalog.Entity
	for _, e := range p.cfg.Entities {
		if out == nil || !out.swept[e.Name] {
			pending = append(pending, e)
		}
	}
	return p.stopped(ctx, pending)
}

// Stopped is what Run returns when ctx is cancelled before Run starts (e.g. during a
// credentials check preceding it): nil in continuous mode, a clean stop; with
// Config.Once an error wrapping ErrIncomplete that names every entity.
func (p *Producer) Stopped(ctx context.Context) error {
	return p.stopped(ctx, p.cfg.Entities)
}

// stopped is the result of a run cancelled with the entities of pending (in catalog
// order) not finished.
func (p *Producer) stopped(ctx context.Context, pending []catalog.Entity) error {
	if !p.cfg.Once || len(pending) == 0 {
		return nil
	}
	names := make([]string, len(pending))
	for i, e := range pending {
		names[i] = e.Name
	}
	reason := "interrupted"
	if c := context.Cause(ctx); c != nil {
		reason = c.Error()
	}
	return fmt.Errorf("%w (%s): %s not swept", ErrIncomplete, reason, strings.Join(names, ", "))
}

// cancelled reports whether err was caused by the cancellation of ctx.
func cancelled(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, ctx.Err()) || errors.Is(err, context.Cause(ctx)))
}

// run does Run's work: the setup, then the sweeps, whose outcome it returns.
func (p *Producer) run(ctx context.Context) (*outcome, error) {
	defer func() {
		if p.cl != nil {
			p.cl.Close()
		}
	}()
	if err := p.setup(ctx); err != nil {
		return nil, err
	}
	return p.sweepAll(ctx), nil
}

// setup registers the schemas (with a registry), creates missing topics, starts the
// transactional client (fencing any older instance; run closes it) and loads the state.
func (p *Producer) setup(ctx context.Context) error {
	log := p.cfg.Logger
	if err := p.registerSchemas(ctx); err != nil {
		return err
	}
	var topics []string
	for _, e := range p.cfg.Entities {
		topics = append(topics, e.Topic(p.cfg.TopicPrefix))
	}
	stateTopic := StateTopic(p.cfg.TopicPrefix)

	if err := p.step(stepTopics, ""); err != nil {
		return err
	}
	adm, err := kadm.NewOptClient(p.kopts...)
	if err != nil {
		return fmt.Errorf("kafka admin client: %w", err)
	}
	err = ensureTopics(ctx, adm, p.cfg.Topics, topics, stateTopic)
	if err == nil {
		if lerr := raiseStateLimit(ctx, adm, stateTopic); lerr != nil {
			log.Warn("the state topic keeps its record size limit: snapshots of very long lists may fail to commit", "err", lerr)
		}
	}
	adm.Close()
	if err != nil {
		return err
	}

	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, p.kopts...),
		kgo.TransactionalID(p.cfg.TransactionalID),
		kgo.TransactionTimeout(60*time.Second),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerBatchMaxBytes(stateMaxBytes+1<<20),
		kgo.WithHooks(p.cfg.Hooks...),
	)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	p.cl = cl
	// Initialising the producer id fences any older instance and aborts its open
	// transaction, so the state read below is final.
	if err := p.step(stepInit, ""); err != nil {
		return err
	}
	if _, _, err := cl.ProducerID(ctx); err != nil {
		return fmt.Errorf("init transactional producer %q: %w", p.cfg.TransactionalID, err)
	}
	if err := p.step(stepReadState, ""); err != nil {
		return err
	}
	p.states, err = readState(ctx, p.kopts, stateTopic)
	if err != nil {
		return err
	}
	for _, e := range p.cfg.Entities {
		st := p.states[e.Name]
		if st == nil {
			st = &EntityState{Entity: e.Name}
			p.states[e.Name] = st
		}
		log.Info("producer state loaded", "entity", e.Name, "backfilled", st.Backfilled,
			"segments", len(st.Segments), "published", st.Published, "watermark", fmtMicros(st.Watermark))
	}
	if p.cfg.Metrics != nil {
		wm := map[string]time.Time{}
		for _, e := range p.cfg.Entities {
			wm[e.Name] = watermarkTime(p.states[e.Name].Watermark)
		}
		p.cfg.Metrics.StateLoaded(wm)
	}
	return nil
}

// States returns a copy of the current state of each entity (after Run has loaded it).
func (p *Producer) States() map[string]EntityState {
	p.statesMu.Lock()
	defer p.statesMu.Unlock()
	out := map[string]EntityState{}
	for k, v := range p.states {
		out[k] = *v.clone()
	}
	return out
}

// state is the committed state of entity. Only entity's own sweep replaces it.
func (p *Producer) state(entity string) *EntityState {
	p.statesMu.Lock()
	defer p.statesMu.Unlock()
	return p.states[entity]
}

// setState records st as the committed state of entity.
func (p *Producer) setState(entity string, st *EntityState) {
	p.statesMu.Lock()
	defer p.statesMu.Unlock()
	p.states[entity] = st
}

// watermarkTime converts a state watermark to a time; zero when there is none.
func watermarkTime(us int64) time.Time {
	if us == 0 || us == minTime || us == maxTime {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func fmtMicros(us int64) string {
	if us == 0 || us == minTime || us == maxTime {
		return "none"
	}
	return time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
}
