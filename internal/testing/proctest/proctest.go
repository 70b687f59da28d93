// Package proctest runs the project's real binaries as child processes in tests, so
// that tests can crash them the way production does (SIGKILL at a seeded random moment)
// and look at what a dead process leaves behind: group members still holding
// partitions, locked files, half-written transactions. Capture instead runs a main
// package's run function inside the test process, with its stdout and stderr captured.
//
// It is test support, not product code: only _test.go files import it.
package proctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

// Build compiles the main package in dir (a directory, e.g. "." for the package under
// test, or "../producer") without the race detector, once per test process, and returns
// the executable's path. The build cache makes repeated test runs cheap. Use Main as
// the package's TestMain to remove the executables.
func Build(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := built[abs]; ok {
		return bin
	}
	if buildDir == "" {
		if buildDir, err = os.MkdirTemp("", "proctest-bin-"); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(buildDir, filepath.Base(abs)+strconv.Itoa(len(built)))
	start := time.Now()
	cmd := exec.Command(goTool(), "build", "-o", bin, ".")
	cmd.Dir = abs
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", dir, err, out)
	}
	t.Logf("built %s in %s", filepath.Base(abs), time.Since(start).Round(time.Millisecond))
	built[abs] = bin
	return bin
}

// Main runs the tests of a package that uses Build, then removes the executables:
//
//	func TestMain(m *testing.M) { proctest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// atExit holds what AtExit registered, run by Cleanup.
var atExit []func()

// AtExit registers f to run once the package's tests are done (Main, or Cleanup), e.g.
// to stop a server that a test started for the whole process.
func AtExit(f func()) {
	buildMu.Lock()
	defer buildMu.Unlock()
	atExit = append(atExit, f)
}

// Cleanup runs what AtExit registered and removes the executables Build made. Main
// calls it after the tests.
func Cleanup() {
	buildMu.Lock()
	fs := atExit
	atExit = nil
	buildMu.Unlock()
	for _, f := range fs {
		f()
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
		buildDir = ""
		clear(built)
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// Seed returns the seed of a chaos test: CHAOS_SEED if set, else a fresh one. It logs
// the seed, so that a failure can be replayed with CHAOS_SEED=<seed>.
func Seed(t testing.TB) int64 {
	t.Helper()
	seed := time.Now().UnixNano() % 1_000_000
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("chaos seed %d (replay with CHAOS_SEED=%d)", seed, seed)
	return seed
}

// Rand returns a deterministic generator for seed. The seed is mixed first, so that
// neighbouring seeds (1, 2, 3) give unrelated first draws.
func Rand(seed int64) *rand.Rand {
	var key [32]byte
	for i := range 4 {
		x := uint64(seed) + uint64(i)*0x9e3779b97f4a7c15
		x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
		x = (x ^ x>>27) * 0x94d049bb133111eb
		x ^= x >> 31
		for j := range 8 {
			key[i*8+j] = byte(x >> (8 * j))
		}
	}
	return rand.New(rand.NewChaCha8(key))
}

// Proc is one running child process. Its stdout and stderr are captured together.
type Proc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	// set when done is closed
	code    int
	signal  syscall.Signal
	waitErr error
}

// Start runs bin with args. The child gets a minimal environment (PATH, HOME, TMPDIR)
// plus env ("KEY=value"), so settings of the developer's shell never leak in. The
// process is killed when the test ends, if it still runs.
func Start(t testing.TB, bin string, env []string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}, env...)
	out := &syncBuffer{cond: sync.NewCond(&sync.Mutex{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &Proc{t: t, name: filepath.Base(bin), cmd: cmd, out: out, done: make(chan struct{})}
	go p.wait()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.Kill()
		}
	})
	return p
}

func (p *Proc) wait() {
	err := p.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.signal = ws.Signal()
		}
		p.code = ee.ExitCode()
	default:
		p.waitErr = err
		p.code = -1
	}
	close(p.done)
	p.out.wake()
}

// PID is the child's process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Kill sends SIGKILL and waits until the process is gone.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout for the process to end and returns its exit code. If it
// has not ended by then, the test fails (with its output) and the process is killed:
// the bound only guards against a hang.
func (p *Proc) Wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
		p.t.Fatalf("%s did not exit within %s; output:\n%s", p.name, timeout, p.Tail(40))
	}
	if p.waitErr != nil {
		p.t.Fatalf("%s: %v", p.name, p.waitErr)
	}
	return p.code
}

// Output is everything the process wrote so far.
func (p *Proc) Output() string { return p.out.String() }

// Tail is the last n lines of the output.
func (p *Proc) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.Output(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Count is how many times s occurs in the output so far.
func (p *Proc) Count(s string) int { return strings.Count(p.Output(), s) }

// WaitOutput waits until s occurs at least n times in the output and reports whether
// it did before ctx ended or the process exited.
func (p *Proc) WaitOutput(ctx context.Context, s string, n int) bool {
	stop := context.AfterFunc(ctx, p.out.wake)
	defer stop()
	p.out.cond.L.Lock()
	defer p.out.cond.L.Unlock()
	for {
		if strings.Count(p.out.buf.String(), s) >= n {
			return true
		}
		if ctx.Err() != nil || p.Exited() {
			return false
		}
		p.out.cond.Wait()
	}
}

// String describes the process for failure messages.
func (p *Proc) String() string {
	if !p.Exited() {
		return fmt.Sprintf("%s (pid %d, running)", p.name, p.PID())
	}
	if p.signal != 0 {
		return fmt.Sprintf("%s (pid %d, killed by %s)", p.name, p.PID(), p.signal)
	}
	return fmt.Sprintf("%s (pid %d, exit %d)", p.name, p.PID(), p.code)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads, which wakes
// readers waiting for output.
type syncBuffer struct {
	cond *sync.Cond
	buf  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.cond.L.Lock()
	defer b.cond.L.Unlock()
	n, err := b.buf.Write(p)
	b.cond.Broadcast()
	return n, err
}

func (b *syncBuffer) String() string {
	b.cond.L.Lock()
	defer b.cond.L.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) wake() {
	b.cond.L.Lock()
	b.cond.Broadcast()
	b.cond.L.Unlock()
}
