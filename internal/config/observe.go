package config

import (
	"net"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

// Observe configures the HTTP server of a binary's Prometheus metrics (/metrics) and
// health endpoints (/healthz, /readyz).
type Observe struct {
	// Listen is the server's address (host:port, e.g. ":9464"); empty disables the server
	// (the key's value "off" too).
	Listen string
}

// ObserveKeys are the observability keys; listen is the default address of the binary
// (":9464" for the producer, ":9465" for the consumer).
func ObserveKeys(listen string) []Key {
	return []Key{
		{Name: "metrics.listen", Default: listen, Help: "address of the HTTP server for /metrics, /healthz and /readyz (host:port; empty or off disables it)"},
	}
}

func loadObserve(l *Loader) Observe {
	o := Observe{Listen: l.String("metrics.listen")}
	if o.Listen == "" || o.Listen == "off" {
		// "off" because viper ignores an empty environment variable.
		o.Listen = ""
		return o
	}
	host, port, err := net.SplitHostPort(o.Listen)
	if err != nil {
		l.Problem("metrics.listen", `must be host:port, ":port", or empty or off (disabled)`)
		return o
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		l.Problem("metrics.listen", "the port must be a number between 0 and 65535")
	}
	if strings.ContainsAny(host, " /") {
		l.Problem("metrics.listen", "the host must be a host name or an IP address")
	}
	return o
}

// LoadProducerStatus loads what `producer status` needs: the Kafka connection, logging
// and the entities. Unlike LoadProducer it does not require the Gorgias account.
func LoadProducerStatus(l *Loader, file string, fs *pflag.FlagSet) (Producer, error) {
	if err := l.Load(file, fs); err != nil {
		return Producer{}, err
	}
	var p Producer
	p.Kafka = loadKafka(l)
	p.Log = loadLog(l)
	if ents, err := catalog.Parse(strings.Join(l.Strings("producer.entities"), ",")); err != nil {
		l.Problem("producer.entities", err.Error())
	} else {
		p.Entities = ents
	}
	return p, l.Err()
}
