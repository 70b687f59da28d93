package producer

// Validate checks that a bounded interval ends after it starts (section producer).
func (c *Config) Validate(report func(key, why string)) {
	if !c.IntervalStart.IsZero() && !c.IntervalEnd.IsZero() && !c.IntervalStart.Before(c.IntervalEnd) {
		report("interval_end", "must be after producer.interval_start")
	}
}

// Validate refuses a replication factor of 0 and a retention of 0 (section topics).
func (t *TopicConfig) Validate(report func(key, why string)) {
	if t.ReplicationFactor == 0 {
		report("replication_factor", "must be -1 or at least 1")
	}
	if t.RetentionMs == 0 {
		report("retention_ms", "must be -1 (forever) or positive")
	}
}
