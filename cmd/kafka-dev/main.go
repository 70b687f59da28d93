// Command kafka-dev runs an embedded Kafka-protocol broker (franz-go's kfake) on
// 127.0.0.1 for development and local runs, persisted in a data directory. It is not a
// production Kafka: use Apache Kafka (see docker-compose.yml) for that.
//
//	kafka-dev [--port 9092] [--data-dir ./data/kafka]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 9092, "port to listen on (127.0.0.1 only)")
	dir := flag.String("data-dir", "./data/kafka", "directory the broker persists its log to")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "kafka-dev:", err)
		os.Exit(1)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(*port), kfake.DataDir(*dir),
		kfake.BrokerConfigs(map[string]string{"log.cleaner.backoff.ms": "60000"}))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafka-dev:", err)
		os.Exit(1)
	}
	fmt.Printf("kafka-dev: broker on %s, data in %s\n", c.ListenAddrs()[0], *dir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	c.Close()
}
