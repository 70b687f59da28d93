package gorgiassim

import "time"

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
	// Deletes, when set, makes every Advance also remove and restore
	// objects as Gorgias does: trash, untrash, spam and hard-delete tickets,
	// merge tickets and customers, delete customers, soft-delete messages,
	// delete and merge tags, and now and then delete a macro, team, view,
	// widget or rule, each with its event (see Advance and Sim.Deleted).
	// Default false: Advance then never removes anything, and the data is
	// exactly what it is without the option.
	Deletes bool
	// Clock is the real clock, default time.Now. It drives the rate-limit
	// bucket and the passing of sim time (see Sim.Now).
	Clock func() time.Time
}

// withDefaults replaces every zero or invalid field by its default.
func (c Config) withDefaults() Config {
	c.accountDefaults()
	c.sizeDefaults()
	c.timeDefaults()
	return c
}

func (c *Config) accountDefaults() {
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
}

func (c *Config) sizeDefaults() {
	c.Customers = sizeDefault(c.Customers, 300)
	c.Tickets = sizeDefault(c.Tickets, 600)
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
	}
	c.SurveyShare = min(max(c.SurveyShare, 0), 1)
}

// sizeDefault is def for 0, 0 for a negative n, else n.
func sizeDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return max(n, 0)
}

func (c *Config) timeDefaults() {
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
}
