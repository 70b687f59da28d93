package deploy

import (
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
)

// TestMain removes the binaries the tests built (proctest.Build).
func TestMain(m *testing.M) { proctest.Main(m) }
