// Package postgresdest is the PostgreSQL sink's test destination for the tests of the
// consumer binary: a fresh database on the test process's throwaway PostgreSQL server
// (pgtest), read back through the sink.
package postgresdest

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/postgressink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/pgtest"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

func init() { sinktest.RegisterDestination("postgres", New) }

// New creates a fresh database (dropped with the test) and returns it as a
// destination. The consumer gets the password through POSTGRES_PASSWORD, not the URI,
// the way a deployment passes it.
func New(t *testing.T, w *sinktest.World) *sinktest.Destination {
	srv := pgtest.Start(t)
	uri := srv.NewDatabase(t)
	return &sinktest.Destination{
		Env: []string{"DEST_URI=" + withoutPassword(t, uri), "POSTGRES_PASSWORD=" + pgtest.Password},
		Read: func(t *testing.T) sinktest.DestState {
			t.Helper()
			s, err := postgressink.Open(context.Background(), sink.Dest{URI: uri, Schema: "gorgias", Changelog: true, Logger: sinktest.Logger()}, postgressink.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			return sinktest.ReadState(t, s)
		},
		Batch: 500, MaxKill: 6, SubDelay: 150 * time.Millisecond,
	}
}

// withoutPassword drops the password from a postgresql:// URI.
func withoutPassword(t *testing.T, uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(u.User.Username())
	return u.String()
}
