// Package pgtest runs a throwaway PostgreSQL cluster for tests: real PostgreSQL from
// Debian's postgresql package (installed with apt-get when missing and possible), one
// server per test process, a fresh database per test.
//
// A package that uses it wraps its tests with Main, which stops the server and removes
// its files when the tests end (a TestMain that must run something else calls Stop
// after m.Run instead):
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		uri := pgtest.Start(t).NewDatabase(t) // postgresql://user:password@127.0.0.1:port/db
//		...
//	}
//
// The server listens on 127.0.0.1 (a free port) and on a unix socket in its temporary
// directory. The superuser "postgres" is trusted from 127.0.0.1 and the socket; the role
// User logs in with Password (scram-sha-256), so tests exercise password
// authentication. Durability is off (fsync, synchronous_commit, full_page_writes) for
// speed. As root, initdb and the server run as the operating system user postgres
// (PostgreSQL refuses to run as root).
//
// It is test support, not product code: only _test.go files import it.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
)

// User and Password are the password-authenticated role every database of NewDatabase
// belongs to. The password has characters that must be percent-encoded in a URI.
const (
	User     = "gorgias_test"
	Password = "s3cr:t/p@ss w%rd"
)

// Superuser is the trusted superuser of the cluster.
const Superuser = "postgres"

// Server is a running PostgreSQL cluster.
type Server struct {
	// Host and Port are where it listens (TCP).
	Host string
	Port int
	// Version is the server's major version, e.g. 15.
	Version int

	dir    string // temporary directory: data/, the socket, server.log
	cmd    *exec.Cmd
	exited chan struct{} // closed when the server process has exited
	dbSeq  atomic.Int64

	stopped bool // by Stop; guarded by mu
}

var (
	mu         sync.Mutex // guards shared's stop
	once       sync.Once
	shared     *Server
	sharedErr  error
	skipReason string
)

// Main runs the tests (m.Run), then Stop, and exits with the tests' code. Use it as
// the package's TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
	}
	os.Exit(code)
}

// Stop stops the shared server, if one was started, and removes its files. Call it
// after m.Run in a TestMain that does not use Main. Without either, the server still
// ends with the test process (it gets SIGQUIT when the process dies) and its files
// are removed by the next test process that starts one.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	if shared == nil || shared.stopped {
		return nil
	}
	shared.stopped = true
	return shared.stop()
}

// Start returns the shared server of the test process, starting it on first use. It
// skips the test when PostgreSQL is not installed and cannot be (no apt-get, or not
// root), and fails it when the server does not start.
func Start(tb testing.TB) *Server {
	tb.Helper()
	once.Do(func() {
		bin, reason, err := findBinaries()
		switch {
		case reason != "":
			skipReason = reason
		case err != nil:
			sharedErr = err
		default:
			shared, sharedErr = start(bin)
			// A package whose TestMain is proctest.Main stops the server after its
			// tests too (Main and Stop do it for the others).
			proctest.AtExit(func() { _ = Stop() })
		}
	})
	if skipReason != "" {
		tb.Skip("pgtest: " + skipReason)
	}
	if sharedErr != nil {
		tb.Fatalf("pgtest: %v", sharedErr)
	}
	mu.Lock()
	stopped := shared.stopped
	mu.Unlock()
	if stopped {
		tb.Fatal("pgtest: Start after Stop")
	}
	return shared
}

// URI returns the URI of database db for the password role.
func (s *Server) URI(db string) string {
	u := url.URL{Scheme: "postgresql", User: url.UserPassword(User, Password),
		Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// AdminURI returns the URI of database db for the (trusted) superuser.
func (s *Server) AdminURI(db string) string {
	u := url.URL{Scheme: "postgresql", User: url.User(Superuser),
		Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates a fresh database owned by User, named after the test (sanitised,
// made unique), drops it when the test ends, and returns its URI with user and
// password.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := dbName(tb.Name(), s.dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Admin(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" OWNER "+User); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Admin(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.URI(name)
}

// Admin runs statements as the superuser on database postgres.
func (s *Server) Admin(ctx context.Context, statements ...string) error {
	conn, err := pgx.Connect(ctx, s.AdminURI("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, q := range statements {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// dbName turns a test name into a database name: lower case letters, digits and _,
// at most 63 bytes, unique through seq.
func dbName(test string, seq int64) string {
	n := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(test), "_"), "_")
	suffix := fmt.Sprintf("_%d_%d", os.Getpid(), seq)
	if max := 63 - len(suffix) - 1; len(n) > max {
		n = n[len(n)-max:] // the end of a sub-test name says the most
	}
	return "t" + n + suffix
}

// findBinaries returns the directory of initdb and postgres. When they are missing it
// installs Debian's postgresql package if apt-get is there and this is root; reason
// says why tests must skip (nothing installed and no way to install).
func findBinaries() (dir, reason string, err error) {
	if d := lookBinaries(); d != "" {
		return d, "", nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", "PostgreSQL is not installed (no initdb/postgres found) and there is no apt-get to install it", nil
	}
	if os.Geteuid() != 0 {
		return "", "PostgreSQL is not installed (no initdb/postgres found) and only root can apt-get install postgresql", nil
	}
	install := func(args ...string) ([]byte, error) {
		cmd := exec.Command("apt-get", append([]string{"-o", "DPkg::Lock::Timeout=300"}, args...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	out, ierr := install("install", "-y", "--no-install-recommends", "postgresql")
	if ierr != nil { // maybe the package lists are stale or missing
		if uout, uerr := install("update"); uerr != nil {
			return "", "", fmt.Errorf("apt-get update: %v\n%s", uerr, tail(uout))
		}
		if out, ierr = install("install", "-y", "--no-install-recommends", "postgresql"); ierr != nil {
			return "", "", fmt.Errorf("apt-get install postgresql: %v\n%s", ierr, tail(out))
		}
	}
	if d := lookBinaries(); d != "" {
		return d, "", nil
	}
	return "", "", errors.New("apt-get installed postgresql but initdb/postgres are still not found")
}

// lookBinaries finds a directory holding initdb and postgres: Debian's
// /usr/lib/postgresql/<version>/bin (newest first), pg_config --bindir, or PATH.
func lookBinaries() string {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() {
				return false
			}
		}
		return true
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if has(d) {
			return d
		}
	}
	return ""
}

func versionOf(bindir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(bindir)), 64)
	return v
}

// ownerFile names, in a server's directory, the file holding the PID of the test
// process that owns it.
const ownerFile = "owner.pid"

// removeStale removes the directories of servers whose test process and server are
// both gone (a test binary killed before Main could clean up).
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "pgtest-*"))
	for _, d := range dirs {
		if alive(filepath.Join(d, ownerFile)) || alive(filepath.Join(d, "data", "postmaster.pid")) {
			continue
		}
		if st, err := os.Stat(d); err == nil && time.Since(st.ModTime()) > time.Minute {
			os.RemoveAll(d)
		}
	}
}

// alive reports whether the PID on the first line of file is a running process; a
// missing or unreadable file counts as not alive.
func alive(file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return false
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// start initialises a cluster in a new temporary directory and starts its server.
func start(bin string) (*Server, error) {
	removeStale()
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		if cred, err = postgresUser(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := command(cred, filepath.Join(bin, "initdb"), "-D", data, "-U", Superuser, "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, tail(out))
	}
	hba := "local all all trust\n" +
		"host all " + Superuser + " 127.0.0.1/32 trust\n" +
		"host all all 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(filepath.Join(data, "pg_hba.conf"), int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	// A free port can be taken between probing and binding: try a few.
	for attempt := 0; ; attempt++ {
		s, err := launch(bin, dir, cred)
		if err == nil {
			return s, nil
		}
		if attempt == 2 || !strings.Contains(err.Error(), "could not bind") {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// launch starts the server on a free port and waits until it accepts connections, then
// creates the password role.
func launch(bin, dir string, cred *syscall.Credential) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := command(cred, filepath.Join(bin, "postgres"), "-D", filepath.Join(dir, "data"),
		"-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=60", "-c", "log_min_messages=warning")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Should the test process die without stopping it, the server gets SIGQUIT
	// (immediate shutdown) instead of running on. The signal follows the death of the
	// thread that started the server, so that thread stays locked to the goroutine
	// that waits for the server, as long as the server runs.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	s := &Server{Host: "127.0.0.1", Port: port, dir: dir, cmd: cmd, exited: make(chan struct{})}
	started := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	if err := s.waitReady(60 * time.Second); err != nil {
		s.kill()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pw := strings.ReplaceAll(Password, "'", "''")
	if err := s.Admin(ctx, "CREATE ROLE "+User+" LOGIN CREATEDB PASSWORD '"+pw+"'"); err != nil {
		s.kill()
		return nil, fmt.Errorf("create role: %w", err)
	}
	return s, nil
}

// waitReady connects until the server answers, it exits, or timeout passes.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, s.AdminURI("postgres"))
		if err == nil {
			err = conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int / 10000").Scan(&s.Version)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited during start-up (%v); server log:\n%s", s.cmd.ProcessState, s.logTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %s: %v; server log:\n%s", timeout, last, s.logTail())
		}
	}
}

// stop shuts the server down by its PID (SIGINT: fast shutdown; SIGKILL if it has not
// exited after 30 s) and removes its directory.
func (s *Server) stop() error {
	var errs []error
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		errs = append(errs, fmt.Errorf("signal postgres: %w", err))
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		errs = append(errs, errors.New("postgres did not stop within 30 s of SIGINT; killed"))
		s.kill()
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// kill sends SIGKILL and waits for the process to be reaped.
func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	return tail(b)
}

// command builds a command that runs as cred's user when cred is set (as root: the
// process itself, not a runuser wrapper, so its PID is the server's own).
func command(cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	return cmd
}

// postgresUser returns the credentials of the operating system user postgres.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the user postgres: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last lines of out (at most 4 KiB).
func tail(out []byte) string {
	out = bytes.TrimSpace(out)
	if len(out) > 4096 {
		out = out[len(out)-4096:]
	}
	return string(out)
}
