package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// Config configures a Runner. Zero values take the documented defaults.
type Config struct {
	// Name identifies the sink (e.g. "duckdb"); it names the consumer group and appears
	// in dead-letter headers.
	Name string `config:"name" help:"sink name (consumer group <prefix>sink-<name>); default the destination's sink (duckdb, bigquery, postgres)"`
	// Group is the Kafka consumer group (default "<prefix>sink-<name>"). Its committed
	// offsets only serve lag monitoring: the sink's stored offsets are the truth.
	Group string `config:"group" help:"Kafka consumer group, for lag monitoring only (default <prefix>sink-<name>)"`
	// InstanceID makes a continuous runner a static member of the group (Kafka's
	// group.instance.id): a runner restarted with the same id gets its partitions back at
	// once instead of waiting for the dead member's session to time out. Each running
	// instance of one sink needs its own id; a second runner with the same id fences the
	// first. Empty means dynamic membership.
	InstanceID string `config:"instance_id" help:"static consumer-group membership id (group.instance.id) of a continuous consumer: a restart with the same id resumes at once; each running instance of one sink needs its own; default the sink name; none: dynamic membership"`
	// Deletes says how the destination applies deletions (tombstones): soft (default)
	// or hard. The consumer hands it to the destination as Dest.Deletes.
	Deletes DeleteMode `config:"deletes" default:"soft" help:"how deletions are applied: soft (the row stays with _deleted_at and _deleted_reason set) or hard (the row leaves the table); the changelog records both"`
	// TopicPrefix of the entity topics (default "gorgias.").
	TopicPrefix string
	// Entities to consume (default all).
	Entities catalog.Selection `config:"entities" default:"all" alias:"entities" help:"entities to consume, comma-separated, or all"`
	// BatchMaxRecords closes a batch at this many records (default 10,000).
	BatchMaxRecords int `config:"batch_max_records" default:"5000" min:"1" max:"10000000" help:"a batch closes at this many records"`
	// BatchMaxBytes closes a batch at this many bytes of record values (default 16 MiB).
	BatchMaxBytes int `config:"batch_max_bytes" default:"16777216" min:"1024" max:"17179869184" help:"a batch closes at this many bytes of record values"`
	// BatchMaxWait closes a non-empty batch this long after its first record (default 5 s).
	BatchMaxWait time.Duration `config:"batch_max_wait" default:"auto" zero:"auto" min:"10ms" help:"a non-empty batch closes this long after its first record; auto: the sink's own default (5s DuckDB and PostgreSQL, 1m BigQuery for its job quotas)"`
	// CatchUpLag is the lag, in records behind the partitions' end offsets in all, beyond
	// which the runner is catching up (a replay, a new sink, a long outage): its batches
	// then close at CatchUpMaxBytes (or BatchMaxWait) instead of BatchMaxRecords and
	// BatchMaxBytes, so that a destination with a cost per batch (a BigQuery job, a
	// DuckDB commit) takes the history in fewer, larger batches. Once caught up, batches
	// close on the steady-state limits again and stay fresh. Zero or less turns catching
	// up off; the consumer's auto (the zero value) is the sink's own default (see
	// Driver.CatchUpLag), and -1 is never.
	CatchUpLag int `config:"catchup_lag" default:"auto" zero:"auto" min:"-1" max:"1000000000000" help:"records behind the end offsets beyond which batches grow to catchup_max_bytes (a replay, a new sink, a long outage); auto: the sink's own default (BigQuery 50000; DuckDB and PostgreSQL never); -1: never"`
	// CatchUpMaxBytes closes a batch while catching up at this many bytes of keys and
	// values. It is at most half the memory budget (the most a batch holds before
	// fetching pauses); 0 means exactly that.
	CatchUpMaxBytes int `config:"catchup_max_bytes" default:"0" min:"0" max:"17179869184" help:"a batch closes at this many bytes while catching up; 0 or more than half of memory_budget: half of memory_budget"`
	// MemoryBudget bounds the bytes of fetched records held by the runner and the Kafka
	// client together (default 128 MiB): fetch sizes are derived from it, and every
	// partition is paused while a batch holds more than half of it.
	MemoryBudget int `config:"memory_budget" default:"33554432" min:"1048576" max:"1099511627776" help:"bytes of fetched records held at most; partitions pause beyond half of it"`
	// Once makes Run return nil only once every partition of every subscribed topic has
	// its stored offset at the end offset (last stable offset) listed at start. Such a
	// run does not join the consumer group: it assigns itself every partition directly
	// (the destination's offset check fences any concurrent writer), so partitions that
	// a dead group member still holds cannot hold it up.
	Once bool `config:"once" alias:"once" help:"consume every partition until its stored offset reaches the end offset seen at start, then exit 0 (3 if interrupted or stalled)"`
	// OnceStallTimeout bounds a Once run: when no partition's stored offset advanced for
	// this long while some are behind, Run returns ErrIncomplete (default 5 minutes).
	OnceStallTimeout time.Duration `config:"once_stall_timeout" default:"5m" min:"1s" help:"with --once or replay: give up (exit 3, naming the partitions behind) when nothing was stored for this long"`
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Metrics, if set, is told about every batch and dead letter.
	Metrics Observer
	// Hooks are added to the consumer's Kafka client only (e.g. kprom metrics, which
	// serve one client each).
	Hooks []kgo.Hook
	// Schemas gives the writer schema of records in the Confluent wire format (first
	// byte 0x00) by Schema Registry id; nil when no registry is configured, and then such
	// a record stops Run with an error wrapping ErrNoSchemaRegistry. Records in
	// single-object encoding (C3 01) never use it. Not a configuration key: the binary
	// sets it from the schema registry settings.
	Schemas SchemaSource `config:"-"`
}

// Observer receives runner events, e.g. to export metrics. Methods must not block.
type Observer interface {
	BatchWritten(rowsPerTable map[string]int, ranges []Range, d time.Duration)
	DeadLettered(topic string, reason string)
	// Joined is called on every assignment of the consumer group, or once with every
	// partition a Once run reads (the sink is prepared by then), with the partitions
	// newly assigned, possibly none.
	Joined(assigned []TopicPartition)
	// Released is called with the partitions revoked from or lost by this runner.
	Released(partitions []TopicPartition)
	// Lag reports a partition's end offset (last stable offset) seen in the latest fetch
	// minus the next offset written to the sink; called after fetches and batches.
	Lag(tp TopicPartition, lag int64)
}

func (c Config) withDefaults() Config {
	if c.TopicPrefix == "" {
		c.TopicPrefix = "gorgias."
	}
	if c.Name == "" {
		c.Name = "sink"
	}
	if c.Group == "" {
		c.Group = c.TopicPrefix + "sink-" + c.Name
	}
	if len(c.Entities) == 0 {
		c.Entities = catalog.All()
	}
	if c.BatchMaxRecords <= 0 {
		c.BatchMaxRecords = 10000
	}
	if c.BatchMaxBytes <= 0 {
		c.BatchMaxBytes = 16 << 20
	}
	if c.BatchMaxWait <= 0 {
		c.BatchMaxWait = 5 * time.Second
	}
	if c.MemoryBudget <= 0 {
		c.MemoryBudget = 128 << 20
	}
	if c.CatchUpMaxBytes <= 0 || c.CatchUpMaxBytes > c.MemoryBudget/2 {
		c.CatchUpMaxBytes = c.MemoryBudget / 2
	}
	if c.OnceStallTimeout <= 0 {
		c.OnceStallTimeout = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Runner consumes the entity topics into one Sink. Create it with NewRunner; call Run
// once.
type Runner struct {
	cfg    Config
	sink   Sink
	reg    *avrocodec.Registry
	kopts  []kgo.Opt
	topics map[string]catalog.Entity
	policy batchPolicy
	// schemas caches the writer schemas resolved through cfg.Schemas.
	schemas *schemaCache

	// mu guards pos and ends and serialises the sink between the poll loop and the
	// group's offset adjustment.
	mu  sync.Mutex
	pos map[TopicPartition]int64 // expected First of the next range; NoOffset if none stored
	// ends holds the end offset of each partition seen in the latest fetch (for Lag and
	// catching up).
	ends map[TopicPartition]int64

	// hook, when set by tests, is called at each step; an error simulates a crash.
	hook func(step string) error
	// commits counts lag commits in flight, so that a run can let the last one finish
	// before it closes the client.
	commits sync.WaitGroup
}

// Steps at which tests may simulate a crash through Runner.hook.
const (
	stepBeforeWrite = "before-write" // batch decoded and dead letters sent, nothing written
	stepAfterWrite  = "after-write"  // sink committed, Kafka lag offsets not committed
)

// NewRunner returns a runner for sink. kopts reach the cluster (brokers, security,
// tuning); the runner adds its consumer settings.
func NewRunner(cfg Config, s Sink, reg *avrocodec.Registry, kopts []kgo.Opt) *Runner {
	cfg = cfg.withDefaults()
	r := &Runner{cfg: cfg, sink: s, reg: reg, kopts: kopts, topics: map[string]catalog.Entity{},
		pos: map[TopicPartition]int64{}, ends: map[TopicPartition]int64{}, schemas: newSchemaCache(),
		policy: batchPolicy{MaxRecords: cfg.BatchMaxRecords, MaxBytes: cfg.BatchMaxBytes, MaxWait: cfg.BatchMaxWait,
			CatchUpLag: int64(cfg.CatchUpLag), CatchUpBytes: cfg.CatchUpMaxBytes}}
	for _, e := range cfg.Entities {
		r.topics[e.Topic(cfg.TopicPrefix)] = e
	}
	return r
}

func (r *Runner) step(name string) error {
	if r.hook == nil {
		return nil
	}
	return r.hook(name)
}

func (r *Runner) topicList() []string {
	out := make([]string, 0, len(r.cfg.Entities))
	for _, e := range r.cfg.Entities {
		out = append(out, e.Topic(r.cfg.TopicPrefix))
	}
	return out
}

// position is the stored next offset the runner expects for tp, and whether it reads tp.
func (r *Runner) position(tp TopicPartition) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pos[tp]
	return p, ok
}

// Run prepares the sink and writes batches until ctx is cancelled or, with Once, until
// every partition reached the end offsets listed at start.
//
// A continuous run joins the consumer group; on cancellation it writes the pending
// batch whole (or nothing of it), leaves the group at once and returns nil. A Once run
// returns nil only when every partition reached its end; when it is cancelled or
// stalls first it returns an error wrapping ErrIncomplete. It does not close the sink.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.sink.Prepare(ctx, r.cfg.Entities, r.reg.Schemas("")); err != nil {
		return r.stopErr(ctx, fmt.Errorf("prepare %s sink: %w", r.cfg.Name, err))
	}
	adm, err := kadm.NewOptClient(r.kopts...)
	if err != nil {
		return fmt.Errorf("kafka admin client: %w", err)
	}
	defer adm.Close()
	if err := ensureDLQ(ctx, adm, DLQTopic(r.cfg.TopicPrefix)); err != nil {
		return r.stopErr(ctx, err)
	}
	if r.cfg.Once {
		return r.runOnce(ctx, adm)
	}
	return r.runGroup(ctx, adm)
}

// stopErr turns an error caused by cancellation into a clean stop: nil for a continuous
// run, ErrIncomplete for a Once run.
func (r *Runner) stopErr(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if r.cfg.Once {
		return fmt.Errorf("%w (interrupted before reading started)", ErrIncomplete)
	}
	return nil
}

// consumerOpts are the Kafka options every run uses, plus extra.
func (r *Runner) consumerOpts(extra ...kgo.Opt) []kgo.Opt {
	// Fetch sizes are compressed bytes; text decompresses to several times its size, and
	// the client keeps a decompressed fetch until it is polled empty.
	fetchMax := int32(max(min(r.cfg.MemoryBudget/16, 16<<20), 1<<20))
	opts := append([]kgo.Opt{}, r.kopts...)
	opts = append(opts,
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxBytes(fetchMax),
		kgo.FetchMaxPartitionBytes(max(fetchMax/4, 512<<10)),
		kgo.MaxConcurrentFetches(1),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.WithHooks(r.cfg.Hooks...),
	)
	return append(opts, extra...)
}

// runOnce reads every partition that is behind, assigned directly, until each reached
// the end offset listed at start.
func (r *Runner) runOnce(ctx context.Context, adm *kadm.Client) error {
	log := r.cfg.Logger.With("sink", r.cfg.Name)
	g, err := r.loadGoal(ctx)
	if err != nil {
		return r.stopErr(ctx, err)
	}
	r.mu.Lock()
	for tp, p := range g {
		r.pos[tp] = p.Stored
	}
	r.mu.Unlock()
	assign := g.assignments()
	var tps []TopicPartition
	for t, ps := range assign {
		for p := range ps {
			tps = append(tps, TopicPartition{t, p})
		}
	}
	if r.cfg.Metrics != nil {
		r.cfg.Metrics.Joined(tps)
	}
	if len(tps) == 0 {
		log.Info("every partition is already at its end offset", "partitions", len(g))
		return nil
	}
	// A fetch long-polls on partitions that are drained while others, behind it, wait:
	// keep that short, a one-shot run has nothing else to wait for.
	cl, err := kgo.NewClient(r.consumerOpts(kgo.ConsumePartitions(assign), kgo.FetchMaxWait(500*time.Millisecond))...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer cl.Close()
	log.Info("sink runner started", "mode", "once", "partitions", len(g), "behind", len(tps))
	r.seedEnds(g)
	l := &loop{r: r, cl: cl, b: newBatcher(r), goal: g, stall: stallWatch{limit: r.cfg.OnceStallTimeout, last: time.Now()},
		commitLag: r.adminLagCommit(adm)}
	return l.run(ctx)
}

// runGroup consumes as a member of the sink's consumer group until ctx is cancelled,
// then leaves the group.
func (r *Runner) runGroup(ctx context.Context, adm *kadm.Client) error {
	log := r.cfg.Logger.With("sink", r.cfg.Name)
	opts := r.consumerOpts(
		kgo.ConsumerGroup(r.cfg.Group),
		kgo.ConsumeTopics(r.topicList()...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.AdjustFetchOffsetsFn(r.adjustOffsets),
		kgo.OnPartitionsRevoked(r.forget),
		kgo.OnPartitionsLost(r.forget),
		kgo.OnPartitionsAssigned(r.assigned),
	)
	if r.cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(r.cfg.InstanceID))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	log.Info("sink runner started", "mode", "group", "group", r.cfg.Group, "instance_id", r.cfg.InstanceID, "topics", r.topicList())
	l := &loop{r: r, cl: cl, b: newBatcher(r), commitLag: groupLagCommit}
	err = l.run(ctx)
	r.commits.Wait()
	// With BlockRebalanceOnPoll, Close would wait for AllowRebalance forever after an
	// error between a poll and its write.
	cl.CloseAllowingRebalance()
	if err == nil {
		r.leave(adm)
	}
	return err
}

// leave takes a stopped static member out of the group, so that the other members get
// its partitions now rather than after its session times out. (A dynamic member left
// when its client closed; a static one does not leave on its own, so that a restart
// takes its partitions back without a rebalance.) Runs that fail do not leave: the
// restarted instance takes over at once.
func (r *Runner) leave(adm *kadm.Client) {
	if r.cfg.InstanceID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := adm.LeaveGroup(ctx, kadm.LeaveGroup(r.cfg.Group).InstanceIDs(r.cfg.InstanceID).Reason("sink stopping"))
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		r.cfg.Logger.Warn("could not leave the consumer group; its partitions wait for the session timeout",
			"group", r.cfg.Group, "instance_id", r.cfg.InstanceID, "err", err)
		return
	}
	r.cfg.Logger.Info("left the consumer group", "group", r.cfg.Group, "instance_id", r.cfg.InstanceID)
}

// adjustOffsets seeks every assigned partition to the sink's stored next offset, or to
// the beginning of the topic when the sink has none: a new or rebuilt destination
// receives the whole history, whatever the group committed.
func (r *Runner) adjustOffsets(ctx context.Context, in map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stored, err := r.sink.Offsets(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s sink offsets: %w", r.cfg.Name, err)
	}
	for topic, parts := range in {
		for p := range parts {
			tp := TopicPartition{topic, p}
			if next, ok := stored[tp]; ok {
				in[topic][p] = kgo.NewOffset().At(next).WithEpoch(-1)
				r.pos[tp] = next
			} else {
				in[topic][p] = kgo.NewOffset().AtStart()
				r.pos[tp] = NoOffset
			}
		}
	}
	return in, nil
}

func (r *Runner) forget(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	r.mu.Lock()
	var tps []TopicPartition
	for t, ps := range lost {
		for _, p := range ps {
			delete(r.pos, TopicPartition{t, p})
			delete(r.ends, TopicPartition{t, p})
			tps = append(tps, TopicPartition{t, p})
		}
	}
	r.mu.Unlock()
	if r.cfg.Metrics != nil {
		r.cfg.Metrics.Released(tps)
	}
}

func (r *Runner) assigned(_ context.Context, _ *kgo.Client, added map[string][]int32) {
	if r.cfg.Metrics == nil {
		return
	}
	tps := []TopicPartition{}
	for t, ps := range added {
		for _, p := range ps {
			tps = append(tps, TopicPartition{t, p})
		}
	}
	r.cfg.Metrics.Joined(tps)
}

// seedEnds records the end offsets listed at the start of a run with a goal, so that
// its lag counts every partition before each was fetched once.
func (r *Runner) seedEnds(g goal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for tp, p := range g {
		r.ends[tp] = p.End
	}
}

// noteEnds records the end offset (last stable offset; read_committed) of every fetched
// partition and reports its lag behind it.
func (r *Runner) noteEnds(fs kgo.Fetches) {
	lags := map[TopicPartition]int64{}
	r.mu.Lock()
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		tp := TopicPartition{p.Topic, p.Partition}
		end := p.LastStableOffset
		if end < 0 {
			end = p.HighWatermark
		}
		if p.Err != nil || end < 0 {
			return
		}
		r.ends[tp] = end
		pos, ok := r.pos[tp]
		if !ok {
			return
		}
		if pos == NoOffset {
			pos = max(p.LogStartOffset, 0)
		}
		lags[tp] = max(end-pos, 0)
	})
	r.mu.Unlock()
	if r.cfg.Metrics == nil {
		return
	}
	for tp, n := range lags {
		r.cfg.Metrics.Lag(tp, n)
	}
}

// lagCommit reports written offsets to the consumer group, for lag monitoring only.
type lagCommit func(ctx context.Context, r *Runner, cl *kgo.Client, offsets map[string]map[int32]kgo.EpochOffset)

// groupLagCommit commits through the group member, asynchronously.
func groupLagCommit(ctx context.Context, r *Runner, cl *kgo.Client, offsets map[string]map[int32]kgo.EpochOffset) {
	r.commits.Add(1)
	cl.CommitOffsets(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
		defer r.commits.Done()
		if err != nil {
			r.cfg.Logger.Debug("lag offset commit failed", "err", err)
		}
	})
}

// adminLagCommit commits as a simple (memberless) consumer, which Kafka accepts while
// the group has no live members; otherwise the members' own commits serve.
func (r *Runner) adminLagCommit(adm *kadm.Client) lagCommit {
	return func(ctx context.Context, r *Runner, _ *kgo.Client, offsets map[string]map[int32]kgo.EpochOffset) {
		var offs kadm.Offsets
		for t, ps := range offsets {
			for p, eo := range ps {
				offs.Add(kadm.Offset{Topic: t, Partition: p, At: eo.Offset, LeaderEpoch: -1})
			}
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if resp, err := adm.CommitOffsets(cctx, r.cfg.Group, offs); err != nil || resp.Error() != nil {
			r.cfg.Logger.Debug("lag offset commit failed", "err", errors.Join(err, resp.Error()))
		}
	}
}

// flush decodes the batch, dead-letters undecodable records, writes the rest and the
// offsets to the sink atomically, then reports the offsets to the Kafka group for lag
// monitoring. The batch is reset only when it was written.
func (r *Runner) flush(ctx context.Context, cl *kgo.Client, b *batcher, commitLag lagCommit) error {
	start := time.Now()
	batch, dead, err := b.build()
	if err != nil {
		return err
	}
	if err := r.sendDeadLetters(ctx, cl, dead); err != nil {
		return err
	}
	if err := r.step(stepBeforeWrite); err != nil {
		return err
	}
	lags, err := r.write(ctx, batch)
	if err != nil {
		return fmt.Errorf("write batch to %s sink: %w", r.cfg.Name, err)
	}
	if err := r.step(stepAfterWrite); err != nil {
		return err
	}
	commit := map[string]map[int32]kgo.EpochOffset{}
	for _, rg := range batch.Ranges {
		if commit[rg.Topic] == nil {
			commit[rg.Topic] = map[int32]kgo.EpochOffset{}
		}
		commit[rg.Topic][rg.Partition] = kgo.EpochOffset{Epoch: -1, Offset: rg.Next}
	}
	commitLag(context.WithoutCancel(ctx), r, cl, commit)
	d := time.Since(start)
	r.cfg.Logger.Debug("batch written", "records", len(batch.Records), "dead", len(dead), "duration", d)
	if r.cfg.Metrics != nil {
		rows := map[string]int{}
		for _, rec := range batch.Records {
			rows[rec.Entity.Table()]++
		}
		r.cfg.Metrics.BatchWritten(rows, batch.Ranges, d)
		for tp, n := range lags {
			r.cfg.Metrics.Lag(tp, n)
		}
	}
	b.reset()
	return nil
}

// write stores the batch and advances the runner's positions; it returns the lag of each
// partition behind its latest seen end.
func (r *Runner) write(ctx context.Context, batch Batch) (map[TopicPartition]int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.sink.Write(ctx, batch); err != nil {
		return nil, err
	}
	lags := map[TopicPartition]int64{}
	for _, rg := range batch.Ranges {
		if _, ok := r.pos[rg.TopicPartition]; ok {
			r.pos[rg.TopicPartition] = rg.Next
		}
		if end, ok := r.ends[rg.TopicPartition]; ok {
			lags[rg.TopicPartition] = max(end-rg.Next, 0)
		}
	}
	return lags, nil
}

// Replay resets the sink to the beginning of the topics (from zero) or to the first
// records at or after from, then consumes until every partition reached the end offsets
// listed at that point (as Config.Once; ErrIncomplete if interrupted or stalled). The
// sink must not be written by anyone else meanwhile (stop its consumers first; a DuckDB
// file refuses a second writer anyway).
func Replay(ctx context.Context, cfg Config, s Sink, reg *avrocodec.Registry, kopts []kgo.Opt, from time.Time) error {
	cfg = cfg.withDefaults()
	cfg.Once = true
	r := NewRunner(cfg, s, reg, kopts)
	if err := s.Prepare(ctx, cfg.Entities, reg.Schemas("")); err != nil {
		return r.stopErr(ctx, fmt.Errorf("prepare %s sink: %w", cfg.Name, err))
	}
	adm, err := kadm.NewOptClient(kopts...)
	if err != nil {
		return fmt.Errorf("kafka admin client: %w", err)
	}
	defer adm.Close()
	var listed kadm.ListedOffsets
	if from.IsZero() {
		listed, err = adm.ListStartOffsets(ctx, r.topicList()...)
	} else {
		listed, err = adm.ListOffsetsAfterMilli(ctx, from.UnixMilli(), r.topicList()...)
	}
	if err != nil {
		return r.stopErr(ctx, fmt.Errorf("list replay offsets: %w", err))
	}
	next := map[TopicPartition]int64{}
	var lerr error
	listed.Each(func(o kadm.ListedOffset) {
		switch {
		case o.Partition < 0 || errors.Is(o.Err, kerr.UnknownTopicOrPartition):
		case o.Err != nil:
			lerr = fmt.Errorf("list replay offsets of %s[%d]: %w", o.Topic, o.Partition, o.Err)
		default:
			next[TopicPartition{o.Topic, o.Partition}] = o.Offset
		}
	})
	if lerr != nil {
		return lerr
	}
	if err := s.Reset(ctx, next); err != nil {
		return r.stopErr(ctx, fmt.Errorf("reset %s sink: %w", cfg.Name, err))
	}
	cfg.Logger.Info("sink reset for replay", "sink", cfg.Name, "from", replayFrom(from), "partitions", len(next))
	return r.Run(ctx)
}

func replayFrom(t time.Time) string {
	if t.IsZero() {
		return "earliest"
	}
	return t.UTC().Format(time.RFC3339)
}

// endOffsets lists the last stable offset of every partition of topics (missing topics
// have none).
func endOffsets(ctx context.Context, adm *kadm.Client, topics []string) (map[TopicPartition]int64, error) {
	listed, err := adm.ListCommittedOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	out := map[TopicPartition]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Partition >= 0 {
			out[TopicPartition{o.Topic, o.Partition}] = o.Offset
		}
	})
	return out, nil
}
