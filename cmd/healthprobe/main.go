// Command healthprobe is the health check of the container images, which have no shell
// or curl: it GETs a URL and exits 0 if the answer is 200 OK, 1 otherwise (the reason on
// stderr). It is built without cgo, so it runs in every image.
//
//	healthprobe [--timeout 3s] URL
//	healthprobe [--timeout 3s] [--path /readyz] --default-listen :9464
//
// Without a URL it probes the binary's own metrics server: the address in
// METRICS_LISTEN (the binaries' metrics.listen key; empty counts as unset, as for the
// binaries), else --default-listen, on 127.0.0.1 when the host part is empty or a
// wildcard. METRICS_LISTEN=off (server disabled) is an error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthprobe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 3*time.Second, "timeout of the request")
	path := fs.String("path", "/readyz", "path probed when no URL is given")
	defListen := fs.String("default-listen", "", "metrics address (host:port) used when no URL is given and METRICS_LISTEN is unset")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	url := fs.Arg(0)
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "healthprobe: want at most one URL")
		return 2
	}
	if url == "" {
		var err error
		if url, err = localURL(*defListen, *path); err != nil {
			fmt.Fprintln(stderr, "healthprobe:", err)
			return 2
		}
	}
	if err := probe(url, *timeout); err != nil {
		fmt.Fprintln(stderr, "healthprobe:", err)
		return 1
	}
	return 0
}

// localURL is the URL of path on the metrics server of this container.
func localURL(defListen, path string) (string, error) {
	listen := os.Getenv("METRICS_LISTEN")
	if listen == "" {
		listen = defListen
	}
	switch listen {
	case "off":
		return "", errors.New("no URL given and the metrics server is off (METRICS_LISTEN=off)")
	case "":
		return "", errors.New("no URL given and no metrics address (METRICS_LISTEN unset, no --default-listen)")
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("metrics address %q: %v", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}

func probe(url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", url, resp.Status, body)
	}
	return nil
}
