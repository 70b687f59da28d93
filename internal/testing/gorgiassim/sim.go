package gorgiassim

import (
	"errors"
	"math/rand/v2"
	"sync"
	"time"
)

// Errors returned by the mutators (wrapped with the object id).
var (
	// ErrNotFound: no object of that resource has the id.
	ErrNotFound = errors.New("gorgiassim: no such object")
	// ErrNotDue: a survey cannot be sent because its should_send_datetime is
	// null or still after the sim clock (Gorgias never sends early).
	ErrNotDue = errors.New("gorgiassim: survey is not due")
	// ErrState: the change is not possible in the object's current state
	// (sending a sent survey, scoring an unsent one).
	ErrState = errors.New("gorgiassim: not possible in the object's current state")
	// ErrInvalid: an argument is out of range (a score outside 1..5).
	ErrInvalid = errors.New("gorgiassim: invalid argument")
)

// Streams of the random generators, all seeded by Config.Seed.
const (
	streamMutate = 0x243f6a8885a308d3 // Advance and the fine-grained mutators
	streamFaults = 0x13198a2e03707344 // fault draws
	streamSeed   = 0xa4093822299f31d0 // the seeded data set
	streamAudit  = 0x082efa98ec4e6c89 // events written as other objects change
	streamDelete = 0x452821e638d01377 // removals and restorations (Config.Deletes)
)

// Sim is a deterministic in-process fake of the Gorgias REST API of one
// account. All methods are safe for concurrent use.
type Sim struct {
	mu sync.Mutex

	cfg      Config
	clock0   time.Time     // Clock() at New
	advanced time.Duration // total of Advance
	last     time.Time     // latest stamp handed out; stamps strictly increase

	rng  *rand.Rand // mutations (Advance and the fine-grained mutators)
	frng *rand.Rand // fault draws

	tables     []*table          // one per catalog entity, in catalog order
	byResource map[string]*table // keyed by catalog Resource
	cs         *changeSet        // non-nil while Advance applies changes

	live     bool                                    // seeding is over: watchers see changes
	watchers []func(t *table, obj any, created bool) // see watch
	at       time.Time                               // time of the Advance change being applied
	del      *removals                               // nil unless Config.Deletes

	pools
	denied map[string]bool
	faults Faults
	bucket bucket
	stats  Stats
}

// New builds the simulator and seeds its data. Every invalid Config value
// is replaced by its default. New panics when an entity of the catalog has
// no generator (or a generator that does not fit its catalog entry): the
// message names the entity and what to add.
func New(cfg Config) *Sim {
	cfg = cfg.withDefaults()
	s := &Sim{
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(uint64(cfg.Seed), streamMutate)),
		frng:   rand.New(rand.NewPCG(uint64(cfg.Seed), streamFaults)),
		denied: make(map[string]bool),
		stats:  Stats{Paths: map[string]int{}, Statuses: map[int]int{}},
	}
	s.bucket = newBucket(cfg.RateLimit, cfg.RateWindow)
	s.buildTables()
	s.seed()
	if cfg.Deletes {
		s.del = newRemovals(s)
	}
	s.last = cfg.Start
	s.clock0 = cfg.Clock()
	s.live = true
	return s
}

// seed creates the initial data set: the account, then every entity's
// objects, generator by generator in catalog order, all drawn from one
// stream, so the same Config gives the same bytes.
func (s *Sim) seed() {
	r := rand.New(rand.NewPCG(uint64(s.cfg.Seed), streamSeed))
	s.pools = newPools(s.cfg)
	for _, t := range s.tables {
		t.gen.seed(r)
	}
}

// seedSpan is the interval every seeded timestamp lies in.
func (s *Sim) seedSpan() (begin, end time.Time) {
	return s.cfg.Start.Add(-s.cfg.History), s.cfg.Start
}

// Now returns the sim clock: Start + (Clock() - Clock() at New) + the total
// of all Advance calls. Timestamps written by mutators come from it.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Sim) now() time.Time {
	return s.cfg.Start.Add(s.cfg.Clock().Sub(s.clock0)).Add(s.advanced)
}

// watch makes fn see every object added (created) or changed after
// seeding, in any table, as it happens: the events feed is written this
// way. Generators call it from their make function.
func (s *Sim) watch(fn func(t *table, obj any, created bool)) {
	s.watchers = append(s.watchers, fn)
}

// observe tells the watchers about an added or changed object, unless a
// removal mutes them (see removals.quietly).
func (s *Sim) observe(t *table, obj any, created bool) {
	if !s.live || s.del.muting() {
		return
	}
	for _, fn := range s.watchers {
		fn(t, obj, created)
	}
}

// changeTime is the sim time of the change being made: the scheduled time
// of the Advance change being applied, else the sim clock.
func (s *Sim) changeTime() time.Time {
	if !s.at.IsZero() {
		return s.at
	}
	return s.now()
}
