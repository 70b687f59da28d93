package gorgiassim

import (
	"encoding/json"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Resource names accepted by Objects, IDs and Deny. They are the last path
// segment of the list endpoints (/api/<name>).
const (
	Customers           = "customers"
	Tickets             = "tickets"
	Messages            = "messages"
	SatisfactionSurveys = "satisfaction-surveys"
	Account             = "account" // only meaningful for Deny/Allow
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

// Config describes the simulated account. The zero value of every field
// selects its default, so Config{} is a complete, valid configuration.
type Config struct {
	// Domain, Email and APIKey are the account subdomain and the Basic-auth
	// credentials the simulator accepts. Defaults "acme", "sim@example.com",
	// "sim-api-key".
	Domain, Email, APIKey string
	// Seed drives every random choice. The same Seed and Config give
	// byte-identical seeded data, and the same sequence of calls (with the
	// same clock readings) gives identical later states. Default 1.
	Seed int64
	// Customers is the number of seeded customers, default 300; negative
	// means none (and then no tickets either).
	Customers int
	// Tickets is the number of seeded tickets, default 600; negative means none.
	Tickets int
	// MessagesPerTicket is the average number of messages per seeded ticket,
	// default 4; every ticket has between 1 and about 2.5 times the average
	// (1..10 for the default). Values below 1 mean 1.
	MessagesPerTicket float64
	// SurveyShare is the fraction of seeded tickets that have a satisfaction
	// survey, default 0.2 (at most one per ticket, only on closed tickets);
	// negative means none.
	SurveyShare float64
	// Start is the sim clock at New, default 2026-06-01T00:00:00Z.
	Start time.Time
	// History is how far back the seeded data reaches: every seeded
	// timestamp lies in [Start-History, Start], except scheduled ones
	// (should_send_datetime of unsent surveys, snooze_datetime) that may lie
	// after Start. Default 180 days.
	History time.Duration
	// RateLimit is the leaky-bucket capacity in requests, default 40;
	// negative disables rate limiting (and the call-limit header).
	RateLimit int
	// RateWindow is the time the bucket takes to drain RateLimit requests
	// (drained continuously), default 20s.
	RateWindow time.Duration
	// ExtraFields, when set, adds keys unknown to the documented shapes to
	// every object and to the customer embedded in tickets:
	// "x_sim_flag": true and "x_sim_info": {"a": 1}. They are part of the
	// truth returned by Objects too.
	ExtraFields bool
	// Clock is the real clock, default time.Now. It drives the rate-limit
	// bucket and the passing of sim time (see Sim.Now).
	Clock func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Domain == "" {
		c.Domain = "acme"
	}
	if c.Email == "" {
		c.Email = "sim@example.com"
	}
	if c.APIKey == "" {
		c.APIKey = "sim-api-key"
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Customers == 0 {
		c.Customers = 300
	} else if c.Customers < 0 {
		c.Customers = 0
	}
	if c.Tickets == 0 {
		c.Tickets = 600
	} else if c.Tickets < 0 {
		c.Tickets = 0
	}
	if c.Customers == 0 {
		c.Tickets = 0
	}
	if c.MessagesPerTicket == 0 {
		c.MessagesPerTicket = 4
	} else if c.MessagesPerTicket < 1 {
		c.MessagesPerTicket = 1
	}
	if c.SurveyShare == 0 {
		c.SurveyShare = 0.2
	} else if c.SurveyShare < 0 {
		c.SurveyShare = 0
	} else if c.SurveyShare > 1 {
		c.SurveyShare = 1
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	c.Start = c.Start.UTC().Truncate(time.Microsecond)
	if c.History <= 0 {
		c.History = 180 * 24 * time.Hour
	}
	if c.RateLimit == 0 {
		c.RateLimit = 40
	}
	if c.RateWindow <= 0 {
		c.RateWindow = 20 * time.Second
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

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

	customers, tickets, messages, surveys *store
	custByID                              map[int64]*customer
	ticketByID                            map[int64]*ticket
	msgByID                               map[int64]*message
	surveyByID                            map[int64]*survey
	msgsByTicket                          map[int64][]*message
	surveyByTicket                        map[int64]*survey
	nextID                                [4]int64 // customers, tickets, messages, surveys
	nextChannelID                         int64

	users   []personRef
	teams   []teamRef
	tags    []tagRef
	account []byte

	denied map[string]bool
	faults Faults
	bucket bucket
	stats  Stats
}

// New builds the simulator and seeds its data. It never fails: every
// invalid Config value is replaced by its default.
func New(cfg Config) *Sim {
	cfg = cfg.withDefaults()
	s := &Sim{
		cfg:            cfg,
		rng:            rand.New(rand.NewPCG(uint64(cfg.Seed), 0x243f6a8885a308d3)),
		frng:           rand.New(rand.NewPCG(uint64(cfg.Seed), 0x13198a2e03707344)),
		customers:      newStore(Customers),
		tickets:        newStore(Tickets),
		messages:       newStore(Messages),
		surveys:        newStore(SatisfactionSurveys),
		custByID:       make(map[int64]*customer),
		ticketByID:     make(map[int64]*ticket),
		msgByID:        make(map[int64]*message),
		surveyByID:     make(map[int64]*survey),
		msgsByTicket:   make(map[int64][]*message),
		surveyByTicket: make(map[int64]*survey),
		nextID:         [4]int64{350000000, 47000000, 123000000, 3400000},
		nextChannelID:  720000000,
		denied:         make(map[string]bool),
		stats:          Stats{Paths: map[string]int{}, Statuses: map[int]int{}},
	}
	s.bucket = bucket{limit: float64(cfg.RateLimit), perSec: float64(cfg.RateLimit) / cfg.RateWindow.Seconds()}
	s.seed()
	s.last = cfg.Start
	s.clock0 = cfg.Clock()
	return s
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

// stampAt turns a wanted change time into the stored timestamp of an object
// of form f. Stamps are strictly increasing across the whole simulator (so
// no change can ever land behind a value a client has already seen):
// t is moved to 1µs after the previous stamp if needed, and for whole-second
// objects rounded up to the next whole second.
func (s *Sim) stampAt(t time.Time, f tsForm) stamp {
	t = t.UTC().Truncate(time.Microsecond)
	if !t.After(s.last) {
		t = s.last.Add(time.Microsecond)
	}
	if f == formSeconds {
		if w := t.Truncate(time.Second); !w.Equal(t) {
			t = w.Add(time.Second)
		}
	}
	s.last = t
	return stamp{t: t, f: f}
}

// mk makes a seeded timestamp of form f (whole seconds are truncated).
func mk(t time.Time, f tsForm) stamp {
	t = t.UTC().Truncate(time.Microsecond)
	if f == formSeconds {
		t = t.Truncate(time.Second)
	}
	return stamp{t: t, f: f}
}

// canonical maps a resource name or alias to its canonical name, or "".
func canonical(res string) string {
	r := strings.ToLower(strings.Trim(res, "/ "))
	r = strings.TrimPrefix(r, "api/")
	switch r {
	case Customers, "customer":
		return Customers
	case Tickets, "ticket":
		return Tickets
	case Messages, "ticket_messages", "ticket-messages", "message":
		return Messages
	case SatisfactionSurveys, "satisfaction_surveys", "surveys", "survey":
		return SatisfactionSurveys
	case Account:
		return Account
	}
	return ""
}

func (s *Sim) storeFor(res string) *store {
	switch canonical(res) {
	case Customers:
		return s.customers
	case Tickets:
		return s.tickets
	case Messages:
		return s.messages
	case SatisfactionSurveys:
		return s.surveys
	}
	return nil
}

// Objects returns the truth: every object of the resource ("customers",
// "tickets", "messages", "satisfaction-surveys"; the entity names
// "ticket_messages" and "satisfaction_surveys" are accepted too) exactly as
// the list endpoint renders it now, without faults, sorted by id ascending.
// The slices are copies. An unknown resource gives nil.
func (s *Sim) Objects(resource string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeFor(resource)
	if st == nil {
		return nil
	}
	out := make([]json.RawMessage, len(st.all))
	for i, e := range st.all {
		out[i] = append(json.RawMessage(nil), e.render()...)
	}
	return out
}

// IDs returns the ids of every object of the resource (names as for
// Objects), ascending. An unknown resource gives nil.
func (s *Sim) IDs(resource string) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeFor(resource)
	if st == nil {
		return nil
	}
	out := make([]int64, len(st.all))
	for i, e := range st.all {
		out[i] = e.entryID()
	}
	return out
}

// Deny makes every later request to the resource's endpoints (list and
// single object; "account" for /api/account) answer 403, as for an API key
// whose role lacks the permission. Unknown names are ignored.
func (s *Sim) Deny(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := canonical(resource); r != "" {
		s.denied[r] = true
	}
}

// Allow undoes Deny.
func (s *Sim) Allow(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.denied, canonical(resource))
}

// Fault is one scripted answer, consumed by one request that passed the
// rate limiter.
type Fault struct {
	// Status, when non-zero, is answered instead of the real response, with
	// a JSON error body (e.g. 500, 502, 503, or 429).
	Status int
	// RetryAfter, when positive, is sent as the Retry-after header (seconds).
	RetryAfter int
	// Malformed truncates the body of a 200 answer so that it is not valid
	// JSON (a non-200 answer is sent unchanged).
	Malformed bool
	// Delay holds the answer back; a cancelled request context ends the wait
	// and nothing is answered.
	Delay time.Duration
}

// Faults configures failure injection. Requests throttled by the rate
// limiter (real 429s) never consume a fault.
type Faults struct {
	// ServerErrorRate is the fraction of requests answered 500, 502 or 503.
	ServerErrorRate float64
	// SlowRate is the fraction of requests delayed by SlowDelay before they
	// are answered (the request context is respected).
	SlowRate  float64
	SlowDelay time.Duration
	// MalformedRate is the fraction of 200 answers whose JSON body is
	// truncated (not applied to requests that got a server error).
	MalformedRate float64
	// Next is a queue of scripted faults, consumed one per request, in order;
	// while it is not empty the rates above are not applied.
	Next []Fault
}

// SetFaults replaces the fault configuration (including the Next queue,
// which is copied). The rate draws come from a generator seeded by
// Config.Seed, so the same request sequence sees the same faults.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Next = slices.Clone(f.Next)
	s.faults = f
}

// Stats are request counters since New.
type Stats struct {
	Requests      int // every request received
	OK            int // 2xx answers with a well-formed body
	Throttled429  int // 429s from the rate limiter (not injected ones)
	Injected5xx   int // injected 5xx answers
	InjectedOther int // injected non-5xx answers (e.g. a scripted 429)
	Malformed     int // answers with a truncated body
	Slow          int // delayed requests (including ones cancelled while waiting)
	// MaxLevel is the peak bucket level seen (requests in the bucket).
	MaxLevel float64
	// Paths counts requests per URL path, Statuses answers per status code.
	Paths    map[string]int
	Statuses map[int]int
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.MaxLevel = s.bucket.max
	st.Paths = maps.Clone(s.stats.Paths)
	st.Statuses = maps.Clone(s.stats.Statuses)
	return st
}

// Changes lists what an Advance call did.
type Changes struct {
	// From and To bound the sim-time interval (From, To] the changes were
	// spread over. Stamps of whole-second objects are rounded up and may
	// exceed To by less than a second.
	From, To time.Time
	// Ids of the objects created or modified, ascending, per resource.
	Customers, Tickets, Messages, SatisfactionSurveys []int64
}

// IDs returns the ids of one resource (names as for Sim.Objects).
func (c Changes) IDs(resource string) []int64 {
	switch canonical(resource) {
	case Customers:
		return c.Customers
	case Tickets:
		return c.Tickets
	case Messages:
		return c.Messages
	case SatisfactionSurveys:
		return c.SatisfactionSurveys
	}
	return nil
}

// Len is the total number of touched objects.
func (c Changes) Len() int {
	return len(c.Customers) + len(c.Tickets) + len(c.Messages) + len(c.SatisfactionSurveys)
}

// changeSet collects touched ids during a mutation; a nil *changeSet ignores them.
type changeSet struct {
	ids [4]map[int64]bool
}

func newChangeSet() *changeSet {
	cs := &changeSet{}
	for i := range cs.ids {
		cs.ids[i] = make(map[int64]bool)
	}
	return cs
}

const (
	kCustomer = iota
	kTicket
	kMessage
	kSurvey
)

func (cs *changeSet) add(kind int, id int64) {
	if cs != nil {
		cs.ids[kind][id] = true
	}
}

func (cs *changeSet) changes(from, to time.Time) Changes {
	sorted := func(m map[int64]bool) []int64 {
		out := slices.Sorted(maps.Keys(m))
		if out == nil {
			out = []int64{}
		}
		return out
	}
	return Changes{
		From: from, To: to,
		Customers:           sorted(cs.ids[kCustomer]),
		Tickets:             sorted(cs.ids[kTicket]),
		Messages:            sorted(cs.ids[kMessage]),
		SatisfactionSurveys: sorted(cs.ids[kSurvey]),
	}
}
