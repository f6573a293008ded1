package reliability

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain removes the server binary the process-level tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

// binaryEnv names a prebuilt continuum binary to test instead of building
// one, e.g. a release candidate.
const binaryEnv = "CONTINUUM_BINARY"

// continuumBinary builds cmd/continuum once per run of the test binary: the
// tests kill it with real signals, which a server in the test's own process
// could not survive. The build cache makes it quick after the first time.
func continuumBinary(t testing.TB) string {
	t.Helper()
	if path := os.Getenv(binaryEnv); path != "" {
		return path
	}
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("building the server needs the go command: %w", err)
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "continuum-reliability-"); buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "continuum")
		out, err := exec.Command(goTool, "build", "-o", buildPath, "github.com/continuum-care/continuum/cmd/continuum").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/continuum: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serverOptions are the serve flags a test varies.
type serverOptions struct {
	// dataDir is required: the store (unless storeURL), keys, snapshot.
	dataDir string
	// storeURL, when set, runs on an EventStoreDB-protocol server.
	storeURL string
	// minFreeBytes, when set, lowers the free space serve requires, for
	// data directories on small test file systems.
	minFreeBytes uint64
}

// startupTimeout bounds the wait for a child to print its address; it
// covers replaying the log and seeding the catalog.
const startupTimeout = 60 * time.Second

// server is a `continuum serve` child process.
type server struct {
	t   *testing.T
	cmd *exec.Cmd
	// base is the HTTP root, e.g. http://127.0.0.1:34567.
	base string
	// log is the child's standard error: its structured log lines.
	log *lockedBuffer
	api *apiClient

	exited  chan struct{}
	exitErr error // set before exited is closed
}

// startServer runs `continuum serve` on a free loopback port and returns
// once it listens (not necessarily ready: see waitReady). The process is
// killed at cleanup if the test has not stopped it.
func startServer(t *testing.T, opts serverOptions) *server {
	t.Helper()
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", opts.dataDir, "--tz", "UTC",
		"--admin-password-file", adminPasswordFile(t)}
	if opts.storeURL != "" {
		args = append(args, "--store", opts.storeURL)
	}
	if opts.minFreeBytes > 0 {
		args = append(args, "--min-free-bytes", strconv.FormatUint(opts.minFreeBytes, 10))
	}
	s := &server{t: t, log: &lockedBuffer{}, exited: make(chan struct{})}
	stdout := &lockedBuffer{}
	s.cmd = exec.Command(continuumBinary(t), args...)
	s.cmd.Stdout, s.cmd.Stderr = stdout, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		if s.running() {
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	deadline := time.After(startupTimeout)
	for {
		if _, rest, ok := strings.Cut(stdout.String(), "serving on "); ok {
			if line, _, ok := strings.Cut(rest, "\n"); ok {
				s.base = strings.TrimSuffix(line, "/")
				break
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("serve exited before listening (%v):\n%s", s.exitErr, s.log.String())
		case <-deadline:
			t.Fatalf("serve did not listen within %s:\n%s", startupTimeout, s.log.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	s.api = newAPIClient(s.base)
	return s
}

// running reports whether the child has not exited yet.
func (s *server) running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// kill ends the child with SIGKILL, as a power cut or the OOM killer
// would, and waits until it is gone (its file locks released).
func (s *server) kill() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// shutdownTimeout bounds a graceful stop: serve drains requests for at
// most 5 s, then writes the snapshot and closes the stores.
const shutdownTimeout = 30 * time.Second

// terminate asks the child to stop with SIGTERM and returns its exit
// error (nil for a clean stop). A child that does not stop in time is
// killed and the test fails: a stop must never hang.
func (s *server) terminate() error {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.exitErr
	case <-time.After(shutdownTimeout):
		s.kill()
		s.t.Fatalf("serve did not stop within %s of SIGTERM:\n%s", shutdownTimeout, s.log.String())
		return nil
	}
}

// readyTimeout bounds the wait for /readyz after a start or a recovery.
const readyTimeout = 60 * time.Second

// waitReady waits for /readyz to answer 200 (see waitReadiness) and gets
// the client its credentials.
func (s *server) waitReady() {
	s.t.Helper()
	s.waitReadiness(http.StatusOK)
	if s.api.auth == nil {
		roles := credentials(s.t, s)
		s.api.auth, s.api.admin = roles.clinician, roles.admin
	}
}

// waitReadiness polls /readyz until it answers status and returns its
// reason, failing the test after readyTimeout or if the child exits.
func (s *server) waitReadiness(status int) string {
	s.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		got, reason, err := s.api.readiness()
		if err == nil && got == status {
			return reason
		}
		if !s.running() {
			s.t.Fatalf("serve exited (%v) while the test waited for /readyz to answer %d:\n%s", s.exitErr, status, s.log.String())
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("/readyz did not answer %d within %s (last: %d %q, %v):\n%s", status, readyTimeout, got, reason, err, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
