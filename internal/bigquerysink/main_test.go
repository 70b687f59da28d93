package bigquerysink

import (
	"flag"
	"os"
	"testing"
)

// TestMain raises the default test parallelism: the fault and crash matrices spend most
// of their time in the Go client's own retry back-off (1 s, not configurable), not on
// the CPU. An explicit -test.parallel wins.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "8")
	}
	os.Exit(m.Run())
}
