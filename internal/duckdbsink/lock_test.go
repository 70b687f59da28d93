package duckdbsink

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/testenv"
)

// holdEnv names the file TestHoldFile keeps open when the test binary runs as the
// helper process of TestLockedAcrossProcesses.
const holdEnv = "DUCKDBSINK_HOLD_FILE"

func TestLockedInProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "locked.duckdb")
	s, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	// The same file under another spelling is the same file.
	other := filepath.Join(filepath.Dir(path), ".", "locked.duckdb")
	s2, err := Open(ctx, Config{Path: other})
	if !errors.Is(err, sink.ErrLocked) {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), other) {
		t.Errorf("error does not name the file: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
}

func TestLockedAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a helper process")
	}
	path := filepath.Join(t.TempDir(), "shared.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldFile$")
	cmd.Env = append(os.Environ(), holdEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	ready := false
	for sc.Scan() {
		if sc.Text() == "ready" {
			ready = true
			break
		}
	}
	if !ready {
		t.Fatal("helper process did not open the file")
	}
	s, err := Open(context.Background(), Config{Path: path})
	if err == nil {
		s.Close()
		t.Fatal("Open of a file held by another process succeeded")
	}
	if !errors.Is(err, sink.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open = %v, want ErrLocked naming %s", err, path)
	}
	t.Log(err)
}

// TestHoldFile is the helper process of TestLockedAcrossProcesses: it opens the file,
// says "ready", and holds it until its stdin closes.
func TestHoldFile(t *testing.T) {
	path := os.Getenv(holdEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	os.Stdout.WriteString("ready\n")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
}

// crashEnv names the file TestCrashHelper writes to before exiting without Close.
const crashEnv = "DUCKDBSINK_CRASH_FILE"

// A process that dies after committed batches (no Close, nothing checkpointed) leaves
// them all behind: rows and offsets come back from the WAL on the next Open, and the
// next batch continues from the stored offset.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a helper process")
	}
	path := filepath.Join(t.TempDir(), "crash.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if _, err := os.Stat(path + ".wal"); err != nil {
		t.Fatalf("no WAL left by the crashed process: %v", err)
	}
	f := newFixture(t)
	s := f.openSink(t, Config{Path: path, Changelog: true})
	ctx := context.Background()
	e := testenv.Entity(t, "tickets")
	offs, err := s.Offsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := offs[sink.TopicPartition{Topic: e.Topic(topicPrefix)}]; got != 300 {
		t.Fatalf("stored offset %d after the crash, want 300", got)
	}
	rows, err := s.Rows(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 300 {
		t.Fatalf("%d rows after the crash, want 300", len(rows))
	}
	for i, r := range f.recs[e.Name][:300] {
		if diffRow(t, rows[i], wantRow(r)) {
			break
		}
	}
	if err := s.Write(ctx, batchOf(300, f.recs[e.Name][300:400]...)); err != nil {
		t.Fatal(err)
	}
}

// TestCrashHelper is the helper process of TestCrashRecovery: it writes three batches
// and exits without closing the sink.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	f := newFixture(t)
	s, err := Open(context.Background(), Config{Path: path, Changelog: true, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Prepare(context.Background(), catalog.All(), f.Reg.Schemas("")); err != nil {
		t.Fatal(err)
	}
	recs := f.recs["tickets"]
	for i := range 3 {
		first := int64(i * 100)
		if i == 0 {
			first = sink.NoOffset
		}
		if err := s.Write(context.Background(), batchOf(first, recs[i*100:(i+1)*100]...)); err != nil {
			t.Fatal(err)
		}
	}
	os.Exit(0)
}
