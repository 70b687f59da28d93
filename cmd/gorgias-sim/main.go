// Command gorgias-sim serves the Gorgias API simulator (internal/testing/gorgiassim)
// over HTTP, for running the producer locally without a Gorgias account.
//
//	go run ./cmd/gorgias-sim --addr 127.0.0.1:8089 --advance-every 10s
//
// It prints one line with the base URL and the matching gorgias:// URI,
// then serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
)

func main() {
	var cfg gorgiassim.Config
	addr := flag.String("addr", "127.0.0.1:8089", "listen address")
	flag.Int64Var(&cfg.Seed, "seed", 1, "data seed (same seed, same data)")
	flag.IntVar(&cfg.Customers, "customers", 300, "seeded customers")
	flag.IntVar(&cfg.Tickets, "tickets", 600, "seeded tickets")
	flag.IntVar(&cfg.RateLimit, "rate-limit", 40, "leaky-bucket capacity in requests (negative disables)")
	flag.DurationVar(&cfg.RateWindow, "rate-window", 20*time.Second, "time the bucket takes to drain rate-limit requests")
	flag.StringVar(&cfg.Domain, "domain", "acme", "account subdomain")
	flag.StringVar(&cfg.Email, "email", "sim@example.com", "accepted Basic-auth user (e-mail)")
	flag.StringVar(&cfg.APIKey, "api-key", "sim-api-key", "accepted Basic-auth password (API key)")
	flag.BoolVar(&cfg.ExtraFields, "extra-fields", false, "add unknown extra keys to every object")
	every := flag.Duration("advance-every", 0, "if set, call Advance(interval) this often: the sim clock then runs about twice as fast as the wall clock and data keeps changing")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, *addr, *every); err != nil {
		fmt.Fprintln(os.Stderr, "gorgias-sim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg gorgiassim.Config, addr string, every time.Duration) error {
	sim := gorgiassim.New(cfg)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("gorgias-sim: base URL http://%s/api  uri %s\n", ln.Addr(), ingestrURI(cfg))

	if every > 0 {
		go func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					ch := sim.Advance(every)
					slog.Info("advanced", "sim_time", ch.To, "customers", len(ch.Customers), "tickets", len(ch.Tickets),
						"messages", len(ch.Messages), "satisfaction_surveys", len(ch.SatisfactionSurveys))
				}
			}
		}()
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ingestrURI is gorgias://<domain>?api_key=...&email=... ('@' left readable).
func ingestrURI(cfg gorgiassim.Config) string {
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%40", "@") }
	return "gorgias://" + cfg.Domain + "?api_key=" + esc(cfg.APIKey) + "&email=" + esc(cfg.Email)
}
