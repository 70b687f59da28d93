package bigquerysink

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/sinktest"
)

// TestRealBigQuery runs the conformance suite against real BigQuery when
// BIGQUERY_TEST_URI is set (bigquery://<project>?credentials_path=<key.json>&location=<loc>;
// without credentials_path, Application Default Credentials). Each case uses a new
// dataset gk_it_<random>, deleted with its tables afterwards. It needs BigQuery Data
// Editor and Job User on the project, and costs a few cents of DML.
func TestRealBigQuery(t *testing.T) {
	uri := os.Getenv("BIGQUERY_TEST_URI")
	if uri == "" {
		t.Skip("set BIGQUERY_TEST_URI=bigquery://<project>?credentials_path=<key.json>&location=<loc> to run against real BigQuery")
	}
	dest, err := ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	sinktest.Run(t, func(t *testing.T) sinktest.Target {
		var rb [4]byte
		_, _ = rand.Read(rb[:])
		cfg := Config{Dest: dest, Dataset: "gk_it_" + hex.EncodeToString(rb[:]), TopicPrefix: "conformance.", Logger: sinktest.Logger()}
		t.Cleanup(func() {
			s, err := Open(bg, cfg)
			if err != nil {
				t.Log(err)
				return
			}
			defer s.Close()
			if err := s.Client().Dataset(cfg.Dataset).DeleteWithContents(bg); err != nil {
				t.Logf("delete dataset %s: %v", cfg.Dataset, err)
			}
		})
		return sinktest.Target{
			Open: func(t testing.TB, deletes sink.DeleteMode) sink.Sink {
				cfg.Deletes = deletes
				s, err := Open(bg, cfg)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Rows:      reader(false),
			Changelog: reader(true),
			Form:      bqForm,
		}
	})
}
