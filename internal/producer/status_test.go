package producer

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/gorgiassim"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

func TestStatus(t *testing.T) {
	e := newEnv(t, gorgiassim.Config{Seed: 11, Customers: 60, Tickets: 80})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Nothing has run: one clear error.
	if _, err := ReadStatus(ctx, e.KOpts, e.Prefix, nil); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("status before any run: %v", err)
	}

	// Tickets and customers swept; the status shows their committed state, the others none.
	tickets, customers := testenv.Entity(t, "tickets"), testenv.Entity(t, "customers")
	e.mustRun(e.config(func(c *Config) { c.Entities = []catalog.Entity{tickets, customers} }))
	before := time.Now()
	st, err := ReadStatus(ctx, e.KOpts, e.Prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(catalog.All()) {
		t.Fatalf("%d entities in the status, want %d", len(st), len(catalog.All()))
	}
	byName := map[string]EntityStatus{}
	for _, s := range st {
		byName[s.Entity] = s
	}
	for _, ent := range []catalog.Entity{tickets, customers} {
		s := byName[ent.Name]
		// Sorted by their version: the watermark is the newest version in the account.
		var newest int64
		for _, o := range e.truth(ent) {
			newest = max(newest, o.Version)
		}
		if !s.Found || s.Watermark.UnixMicro() != newest || !s.Backfilled {
			t.Errorf("%s: status %+v, want watermark %v", ent.Name, s, time.UnixMicro(newest).UTC())
		}
		if n := int64(len(e.readTopic(ent))); s.Published != n {
			t.Errorf("%s: published %d, the topic holds %d records", ent.Name, s.Published, n)
		}
		if s.LastSweepEnd.IsZero() || s.LastSweepEnd.After(before) {
			t.Errorf("%s: last sweep end %v", ent.Name, s.LastSweepEnd)
		}
	}
	for _, name := range []string{"ticket_messages", "satisfaction_surveys"} {
		if s := byName[name]; s.Found || !s.Watermark.IsZero() || s.Published != 0 {
			t.Errorf("%s was not swept: %+v", name, s)
		}
	}

	var buf bytes.Buffer
	now := byName["tickets"].Watermark.Add(90 * time.Minute)
	if err := WriteStatus(&buf, st, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1+len(catalog.All()) || !strings.HasPrefix(lines[0], "ENTITY") {
		t.Fatalf("status output:\n%s", buf.String())
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 6 {
			t.Fatalf("line %q: %d columns", l, len(f))
		}
		s := byName[f[0]]
		switch {
		case f[0] == "tickets":
			if f[1] != s.Watermark.Format(time.RFC3339Nano) || f[2] != "1h30m0s" || f[3] != s.LastSweepEnd.Format(time.RFC3339) ||
				f[4] != strconv.FormatInt(s.Published, 10) || f[5] != "yes" {
				t.Errorf("tickets line %q, status %+v", l, s)
			}
		case s.Found:
			if f[1] == "none" || f[5] != "yes" {
				t.Errorf("line %q", l)
			}
		default:
			if f[1] != "none" || f[2] != "-" || f[3] != "none" || f[4] != "0" || f[5] != "no" {
				t.Errorf("line of an entity never swept: %q", l)
			}
		}
	}

	// A status naming the wrong prefix fails with one clear line.
	err = PrintStatus(ctx, &buf, e.KOpts, "nope.", nil)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "nope._producer_state") {
		t.Fatalf("wrong prefix: %v", err)
	}
}
