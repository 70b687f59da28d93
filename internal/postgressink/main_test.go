package postgressink

import (
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/pgtest"
)

// TestMain runs the tests against one throwaway PostgreSQL server (pgtest), stopped
// and removed at the end.
func TestMain(m *testing.M) { pgtest.Main(m) }
