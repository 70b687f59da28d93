package sink

import "strings"

// Validate checks the static membership id: Kafka accepts at most 249 characters of
// [a-zA-Z0-9._-] ("none" and empty are resolved by For).
func (c *Config) Validate(report func(key, why string)) {
	id := strings.TrimSpace(c.InstanceID)
	if id != "" && !strings.EqualFold(id, "none") &&
		(len(id) > 249 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "") {
		report("instance_id", "must be at most 249 characters of letters, digits, '.', '_' and '-'")
	}
}

// For completes a loaded runner configuration with what depends on the destination:
// the sink name (default: the destination's driver), the static membership id
// (default: the sink name; "none": dynamic membership), the batch wait and the catch-up
// lag when they are auto (the driver's defaults) and the topic prefix.
func (c Config) For(d Dest) Config {
	if c.Name == "" {
		c.Name = d.Name()
	}
	switch id := strings.TrimSpace(c.InstanceID); {
	case id == "":
		c.InstanceID = c.Name
	case strings.EqualFold(id, "none"):
		c.InstanceID = ""
	}
	if c.BatchMaxWait == 0 {
		c.BatchMaxWait = d.DefaultBatchMaxWait()
	}
	if c.CatchUpLag == 0 {
		c.CatchUpLag = d.DefaultCatchUpLag()
	}
	c.TopicPrefix = d.TopicPrefix
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	return c
}
