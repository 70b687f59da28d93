package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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
	Name string
	// Group is the Kafka consumer group (default "<prefix>sink-<name>"). Its committed
	// offsets only serve lag monitoring: the sink's stored offsets are the truth.
	Group string
	// TopicPrefix of the entity topics (default "gorgias.").
	TopicPrefix string
	// Entities to consume (default all).
	Entities []catalog.Entity
	// BatchMaxRecords closes a batch at this many records (default 10,000).
	BatchMaxRecords int
	// BatchMaxBytes closes a batch at this many bytes of record values (default 16 MiB).
	BatchMaxBytes int
	// BatchMaxWait closes a non-empty batch this long after its first record (default 5 s).
	BatchMaxWait time.Duration
	// MemoryBudget bounds the bytes of fetched records held by the runner and the Kafka
	// client together (default 128 MiB): fetch sizes are derived from it, and every
	// partition is paused while a batch holds more than half of it.
	MemoryBudget int
	// Once makes Run return once every assigned partition has reached the end offsets
	// seen at start (last stable offsets).
	Once bool
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Metrics, if set, is told about every batch and dead letter.
	Metrics Observer
	// Hooks are added to the group consumer's Kafka client only (e.g. kprom metrics, which
	// serve one client each).
	Hooks []kgo.Hook
}

// Observer receives runner events, e.g. to export metrics. Methods must not block.
type Observer interface {
	BatchWritten(rowsPerTable map[string]int, ranges []Range, d time.Duration)
	DeadLettered(topic string, reason string)
	// Joined is called on every assignment of the consumer group (the sink is prepared
	// by then), with the partitions newly assigned, possibly none.
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
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

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

// Runner consumes the entity topics into one Sink. Create it with NewRunner; call Run
// once.
type Runner struct {
	cfg    Config
	sink   Sink
	reg    *avrocodec.Registry
	kopts  []kgo.Opt
	topics map[string]catalog.Entity

	// mu guards pos and serialises the sink between the poll loop and the group's
	// offset adjustment.
	mu  sync.Mutex
	pos map[TopicPartition]int64 // expected First of the next range; NoOffset if none stored
	// ends holds the end offset of each partition seen in the latest fetch (for Lag).
	ends map[TopicPartition]int64

	// hook, when set by tests, is called at each step; an error simulates a crash.
	hook func(step string) error
	// commits counts lag commits in flight, so that a --once run can let the last one
	// finish before it closes the client.
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
	r := &Runner{cfg: cfg, sink: s, reg: reg, kopts: kopts, topics: map[string]catalog.Entity{}, pos: map[TopicPartition]int64{}, ends: map[TopicPartition]int64{}}
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

// Run prepares the sink, joins the group and writes batches until ctx is cancelled (or,
// with Once, until caught up). On cancellation the pending batch is written or dropped
// whole, never in part, and Run returns nil. It does not close the sink.
func (r *Runner) Run(ctx context.Context) error {
	log := r.cfg.Logger.With("sink", r.cfg.Name)
	if err := r.sink.Prepare(ctx, r.cfg.Entities, r.reg.Schemas("")); err != nil {
		return fmt.Errorf("prepare %s sink: %w", r.cfg.Name, err)
	}
	adm, err := kadm.NewOptClient(r.kopts...)
	if err != nil {
		return fmt.Errorf("kafka admin client: %w", err)
	}
	defer adm.Close()
	if err := ensureDLQ(ctx, adm, DLQTopic(r.cfg.TopicPrefix)); err != nil {
		return r.stopErr(ctx, err)
	}
	var ends map[TopicPartition]int64
	if r.cfg.Once {
		if ends, err = endOffsets(ctx, adm, r.topicList()); err != nil {
			return r.stopErr(ctx, err)
		}
	}

	// Fetch sizes are compressed bytes; text decompresses to several times its size, and
	// the client keeps a decompressed fetch until it is polled empty.
	fetchMax := int32(max(min(r.cfg.MemoryBudget/16, 16<<20), 1<<20))
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, r.kopts...),
		kgo.ConsumerGroup(r.cfg.Group),
		kgo.ConsumeTopics(r.topicList()...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxBytes(fetchMax),
		kgo.FetchMaxPartitionBytes(max(fetchMax/4, 512<<10)),
		kgo.MaxConcurrentFetches(1),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AdjustFetchOffsetsFn(r.adjustOffsets),
		kgo.OnPartitionsRevoked(r.forget),
		kgo.OnPartitionsLost(r.forget),
		kgo.OnPartitionsAssigned(r.assigned),
		kgo.WithHooks(r.cfg.Hooks...),
	)...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	// With BlockRebalanceOnPoll, Close would wait for AllowRebalance forever after an
	// error between a poll and its write.
	defer cl.CloseAllowingRebalance()
	log.Info("sink runner started", "group", r.cfg.Group, "topics", r.topicList(), "once", r.cfg.Once)

	var (
		b       = newBatcher(r)
		paused  bool
		started bool // at least one assignment seen
	)
	for {
		if r.cfg.Once && b.empty() && r.caughtUp(ends, &started) {
			r.commits.Wait()
			log.Info("caught up with the end offsets seen at start")
			return nil
		}
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if b.empty() {
			if r.cfg.Once {
				pollCtx, cancel = context.WithTimeout(ctx, 500*time.Millisecond)
			}
		} else {
			pollCtx, cancel = context.WithDeadline(ctx, b.began.Add(r.cfg.BatchMaxWait))
		}
		fs := cl.PollRecords(pollCtx, r.cfg.BatchMaxRecords-b.count())
		cancel()
		if ctx.Err() != nil {
			// Stop: write what is pending (whole, atomically), then leave.
			if !b.empty() {
				wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				err := r.flush(wctx, cl, b)
				wcancel()
				if err != nil {
					return err
				}
			}
			cl.AllowRebalance()
			log.Info("sink runner stopping", "reason", context.Cause(ctx))
			return nil
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			if errors.Is(err, kerr.UnknownTopicOrPartition) {
				log.Debug("topic not there yet", "topic", t)
				return
			}
			ferr = fmt.Errorf("fetch %s[%d]: %w", t, p, err)
		})
		if ferr != nil {
			return ferr
		}
		fs.EachRecord(b.add)
		r.noteEnds(fs)
		if b.bytes >= r.cfg.MemoryBudget/2 && !paused {
			cl.PauseFetchTopics(r.topicList()...)
			paused = true
		}
		// With Once, a batch that reaches the end offsets is the last one: write it now
		// rather than wait out BatchMaxWait (a minute for BigQuery).
		last := r.cfg.Once && !b.empty() && r.batchReachesEnds(b, ends)
		if !b.empty() && (last || b.count() >= r.cfg.BatchMaxRecords || b.bytes >= r.cfg.BatchMaxBytes || time.Since(b.began) >= r.cfg.BatchMaxWait) {
			if err := r.flush(ctx, cl, b); err != nil {
				return err
			}
			if paused {
				cl.ResumeFetchTopics(r.topicList()...)
				paused = false
			}
		}
		if b.empty() {
			cl.AllowRebalance()
		}
	}
}

func (r *Runner) stopErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
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

// noteEnds records the end offset (last stable offset; read_committed) of every fetched
// partition and reports its lag behind it.
func (r *Runner) noteEnds(fs kgo.Fetches) {
	if r.cfg.Metrics == nil {
		return
	}
	lags := map[TopicPartition]int64{}
	r.mu.Lock()
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		tp := TopicPartition{p.Topic, p.Partition}
		end := p.LastStableOffset
		if end < 0 {
			end = p.HighWatermark
		}
		pos, ok := r.pos[tp]
		if p.Err != nil || !ok || end < 0 {
			return
		}
		if pos == NoOffset {
			pos = max(p.LogStartOffset, 0)
		}
		r.ends[tp] = end
		lags[tp] = max(end-pos, 0)
	})
	r.mu.Unlock()
	for tp, n := range lags {
		r.cfg.Metrics.Lag(tp, n)
	}
}

// batchReachesEnds reports whether every assigned partition, counting the pending
// batch, has reached ends.
func (r *Runner) batchReachesEnds(b *batcher, ends map[TopicPartition]int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pos) == 0 {
		return false
	}
	for tp, p := range r.pos {
		if rg, ok := b.ranges[tp]; ok {
			p = rg.Next
		}
		if end := ends[tp]; end > 0 && p < end {
			return false
		}
	}
	return true
}

// caughtUp reports whether every assigned partition reached ends.
func (r *Runner) caughtUp(ends map[TopicPartition]int64, started *bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pos) > 0 {
		*started = true
	}
	if !*started {
		return false
	}
	for tp, p := range r.pos {
		end := ends[tp]
		if end > 0 && p < end {
			return false
		}
	}
	return true
}

// flush decodes the batch, dead-letters undecodable records, writes the rest and the
// offsets to the sink atomically, then commits the offsets to the Kafka group for lag
// monitoring.
func (r *Runner) flush(ctx context.Context, cl *kgo.Client, b *batcher) error {
	start := time.Now()
	batch, dead := b.build()
	if len(dead) > 0 {
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
	}
	if err := r.step(stepBeforeWrite); err != nil {
		return err
	}
	r.mu.Lock()
	err := r.sink.Write(ctx, batch)
	lags := map[TopicPartition]int64{}
	if err == nil {
		for _, rg := range batch.Ranges {
			if _, ok := r.pos[rg.TopicPartition]; ok {
				r.pos[rg.TopicPartition] = rg.Next
			}
			if end, ok := r.ends[rg.TopicPartition]; ok {
				lags[rg.TopicPartition] = max(end-rg.Next, 0)
			}
		}
	}
	r.mu.Unlock()
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
	r.commits.Add(1)
	cl.CommitOffsets(ctx, commit, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
		defer r.commits.Done()
		if err != nil {
			r.cfg.Logger.Debug("lag offset commit failed", "err", err)
		}
	})
	rows := map[string]int{}
	for _, rec := range batch.Records {
		rows[rec.Entity.Table()]++
	}
	d := time.Since(start)
	r.cfg.Logger.Debug("batch written", "records", len(batch.Records), "dead", len(dead), "duration", d)
	if r.cfg.Metrics != nil {
		r.cfg.Metrics.BatchWritten(rows, batch.Ranges, d)
		for tp, n := range lags {
			r.cfg.Metrics.Lag(tp, n)
		}
	}
	b.reset()
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

// batcher accumulates fetched records until a batch closes.
type batcher struct {
	r      *Runner
	recs   []*kgo.Record
	ranges map[TopicPartition]*Range
	order  []TopicPartition
	bytes  int
	began  time.Time
}

func newBatcher(r *Runner) *batcher {
	return &batcher{r: r, ranges: map[TopicPartition]*Range{}}
}

func (b *batcher) empty() bool { return len(b.ranges) == 0 }
func (b *batcher) count() int  { return len(b.recs) }

func (b *batcher) add(rec *kgo.Record) {
	tp := TopicPartition{rec.Topic, rec.Partition}
	rg, ok := b.ranges[tp]
	if !ok {
		b.r.mu.Lock()
		first, known := b.r.pos[tp]
		b.r.mu.Unlock()
		if !known {
			first = NoOffset
		}
		rg = &Range{TopicPartition: tp, First: first}
		b.ranges[tp] = rg
		b.order = append(b.order, tp)
		if len(b.ranges) == 1 {
			b.began = time.Now()
		}
	}
	rg.Next = rec.Offset + 1
	if rec.Attrs.IsControl() {
		return // a transaction marker: it only moves the position
	}
	b.recs = append(b.recs, rec)
	b.bytes += len(rec.Value) + len(rec.Key)
}

func (b *batcher) reset() {
	b.recs = b.recs[:0]
	clear(b.ranges)
	b.order = b.order[:0]
	b.bytes = 0
}

// build decodes the records: the decodable ones become the batch, the others dead
// letters.
func (b *batcher) build() (Batch, []*kgo.Record) {
	var out Batch
	var dead []*kgo.Record
	out.Records = make([]Record, 0, len(b.recs))
	for _, rec := range b.recs {
		e, ok := b.r.topics[rec.Topic]
		if !ok {
			dead = append(dead, b.r.deadLetter(rec, "record from an unexpected topic"))
			continue
		}
		s, vals, err := b.r.reg.DecodeRow(rec.Value)
		if err == nil && s.Entity != e.Name {
			err = fmt.Errorf("schema %016x belongs to entity %s, not %s", s.Fingerprint, s.Entity, e.Name)
		}
		if err != nil {
			dead = append(dead, b.r.deadLetter(rec, err.Error()))
			continue
		}
		out.Records = append(out.Records, Record{
			Entity: e, Schema: s, Values: vals,
			ID: vals[s.Root.FieldIndex(catalog.Key)].(int64), Version: vals[s.Root.FieldIndex(e.VersionField)].(time.Time),
			Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp,
		})
	}
	for _, tp := range b.order {
		out.Ranges = append(out.Ranges, *b.ranges[tp])
	}
	return out, dead
}

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

// Replay resets the sink to the beginning of the topics (from zero) or to the first
// records at or after from, then consumes until caught up with the end offsets seen at
// start. The sink must not be written by anyone else meanwhile (stop its consumers
// first; a DuckDB file refuses a second writer anyway).
func Replay(ctx context.Context, cfg Config, s Sink, reg *avrocodec.Registry, kopts []kgo.Opt, from time.Time) error {
	cfg = cfg.withDefaults()
	r := NewRunner(cfg, s, reg, kopts)
	if err := s.Prepare(ctx, cfg.Entities, reg.Schemas("")); err != nil {
		return fmt.Errorf("prepare %s sink: %w", cfg.Name, err)
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
		return fmt.Errorf("list replay offsets: %w", err)
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
		return fmt.Errorf("reset %s sink: %w", cfg.Name, err)
	}
	cfg.Logger.Info("sink reset for replay", "sink", cfg.Name, "from", replayFrom(from), "partitions", len(next))
	r.cfg.Once = true
	return r.Run(ctx)
}

func replayFrom(t time.Time) string {
	if t.IsZero() {
		return "earliest"
	}
	return t.UTC().Format(time.RFC3339)
}
