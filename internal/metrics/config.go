package metrics

import (
	"net"
	"strconv"
	"strings"
)

// Config is the HTTP server of a binary's Prometheus metrics (/metrics) and health
// endpoints (/healthz, /readyz), section metrics. Each binary sets its own default
// address before loading (":9464" producer, ":9465" consumer).
type Config struct {
	// Listen is the server's address (host:port, e.g. ":9464"); empty disables the
	// server (the key's value "off" too, since viper ignores an empty environment
	// variable).
	Listen string `config:"listen" help:"address of the HTTP server for /metrics, /healthz and /readyz (host:port; empty or off disables it)"`
}

// Validate turns "off" into "" and checks host:port.
func (c *Config) Validate(report func(key, why string)) {
	if c.Listen == "" || c.Listen == "off" {
		c.Listen = ""
		return
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		report("listen", `must be host:port, ":port", or empty or off (disabled)`)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		report("listen", "the port must be a number between 0 and 65535")
	}
	if strings.ContainsAny(host, " /") {
		report("listen", "the host must be a host name or an IP address")
	}
}
