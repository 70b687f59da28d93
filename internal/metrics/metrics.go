// Package metrics exports the producer's and the sinks' Prometheus metrics and serves
// them, with health endpoints, over HTTP:
//
//   - /metrics: Prometheus text format (every name starts with gorgias_kafka_; see
//     docs/observability.md);
//   - /healthz: 200 while the process serves HTTP;
//   - /readyz: 200 once the binary is ready (producer: reached Kafka, fenced older
//     instances and read its state; sink: prepared its tables and joined its consumer
//     group), 503 with the reason before that and after a fatal error.
//
// Producer and Sink implement the Observer interfaces of packages producer and sink,
// and export the metrics of the main Kafka client through franz-go's kprom plugin.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
)

// Namespace prefixes every metric name.
const Namespace = "gorgias_kafka"

// Health is a binary's readiness, served on /readyz. It starts not ready.
type Health struct {
	mu     sync.Mutex
	ready  bool
	reason string
}

// NewHealth returns a Health that is not ready, for reason.
func NewHealth(reason string) *Health { return &Health{reason: reason} }

// SetReady marks the binary ready.
func (h *Health) SetReady() {
	h.mu.Lock()
	h.ready, h.reason = true, ""
	h.mu.Unlock()
}

// SetNotReady marks the binary not ready, for reason (e.g. after a fatal error or while
// stopping).
func (h *Health) SetNotReady(reason string) {
	h.mu.Lock()
	h.ready, h.reason = false, reason
	h.mu.Unlock()
}

// Ready reports whether the binary is ready and, if not, why.
func (h *Health) Ready() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ready, h.reason
}

// base holds what the producer's and the sink's metrics share: the registry (Go and
// process collectors, readiness), the health and the kprom metrics of one Kafka client.
type base struct {
	// Registry holds every metric of the binary; serve it with Serve.
	Registry *prometheus.Registry
	// Health is the readiness served on /readyz.
	Health *Health
	kprom  *kprom.Metrics
}

func newBase(notReady string, constLabels prometheus.Labels) base {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h := NewHealth(notReady)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "ready", ConstLabels: constLabels,
		Help: "1 when the binary is ready (as /readyz answers 200), else 0.",
	}, func() float64 {
		if ok, _ := h.Ready(); ok {
			return 1
		}
		return 0
	}))
	opts := []kprom.Opt{
		kprom.Registerer(reg), kprom.Gatherer(reg), kprom.Subsystem("client"),
		kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Batches, kprom.Records,
			kprom.CompressedBytes, kprom.UncompressedBytes, kprom.ConsistentNaming),
		kprom.Histograms(kprom.RequestDurationE2E, kprom.RequestThrottled),
	}
	if len(constLabels) > 0 {
		opts = append(opts, kprom.WithStaticLabel(constLabels))
	}
	return base{Registry: reg, Health: h, kprom: kprom.NewMetrics(Namespace, opts...)}
}

// KafkaHooks returns the kprom hooks exporting gorgias_kafka_client_* metrics of one
// Kafka client (connections, bytes, produced and fetched records and batches, request
// latencies). kprom registers its metrics per client, so give them to one long-lived
// client only (producer.Config.Hooks, sink.Config.Hooks).
func (b *base) KafkaHooks() []kgo.Hook { return []kgo.Hook{b.kprom} }

// Handler serves /metrics from g and /healthz and /readyz from h.
func Handler(g prometheus.Gatherer, h *Health) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ok, reason := h.Ready(); !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", reason)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Server is the HTTP server of /metrics, /healthz and /readyz.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Serve listens on addr and serves Handler(g, h) until Close. An empty addr disables
// the server: it returns a nil *Server, whose methods do nothing.
func Serve(addr string, g prometheus.Gatherer, h *Health, log *slog.Logger) (*Server, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics server (metrics.listen %q): %w", addr, err)
	}
	s := &Server{
		srv:  &http.Server{Handler: Handler(g, h), ReadHeaderTimeout: 10 * time.Second},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && log != nil {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	if log != nil {
		log.Info("serving /metrics, /healthz and /readyz", "addr", ln.Addr().String())
	}
	return s, nil
}

// Addr is the address the server listens on ("" for a disabled server).
func (s *Server) Addr() string {
	if s == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops the server (waiting up to 2 s for requests in flight).
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
