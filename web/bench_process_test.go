package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// clientsURLEnv tells the test binary, run again as a child, to act as a
// benchmark's websocket clients of the server at that URL; clientsAuthEnv
// carries the Authorization header they dial with.
const (
	clientsURLEnv  = "CONTINUUM_BENCH_CLIENTS_URL"
	clientsAuthEnv = "CONTINUUM_BENCH_CLIENTS_AUTH"
)

// clientProcess runs this test binary again as the clients of st, running
// only the test named, and answers the child's stdin and a scanner of its
// stdout. The child is killed when the benchmark ends.
func clientProcess(b *testing.B, st *stack, test string) (io.WriteCloser, *bufio.Scanner) {
	b.Helper()
	url := "ws" + strings.TrimPrefix(st.http.URL, "http") + "/ws"
	child := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	child.Env = append(os.Environ(), clientsURLEnv+"="+url, clientsAuthEnv+"="+st.auth.bearer(directorUser))
	stdin, err := child.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		child.Process.Kill()
		child.Wait()
	})
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	return stdin, lines
}

// dialCensus connects one client as the benchmarks' children do and
// reads its census snapshot.
func dialCensus(tb testing.TB, dialer *websocket.Dialer, url, auth string) *websocket.Conn {
	tb.Helper()
	conn, _, err := dialer.Dial(url, http.Header{"Authorization": {auth}})
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"subscribe":"census"}`)); err != nil {
		tb.Fatal(err)
	}
	if _, _, err := conn.ReadMessage(); err != nil { // the snapshot
		tb.Fatal(err)
	}
	return conn
}

// readFrames reads conn's frames, whole, into one reused buffer until
// the connection ends, handing each to fn (valid until fn returns): the
// benchmarks' clients share the machine with the server and cost as
// little as they can.
func readFrames(conn *websocket.Conn, fn func(frame []byte)) {
	buf := make([]byte, 16<<10)
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return
		}
		n := 0
		for {
			if n == len(buf) {
				buf = append(buf, make([]byte, len(buf))...)
			}
			m, err := r.Read(buf[n:])
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
		}
		fn(buf[:n])
	}
}

// reportLatencies reports the quantiles of append-to-frame latencies, one
// per frame and client, after checking that every client got exactly one
// frame for each append (frames counts them by the append's commit).
func reportLatencies(b *testing.B, st *stack, latencies []time.Duration, frames map[uint64]int) {
	b.Helper()
	if len(latencies) != b.N*benchClients || len(frames) != b.N {
		b.Fatalf("%d frames for %d appends and %d clients", len(latencies), b.N, benchClients)
	}
	for commit, n := range frames {
		if n != benchClients {
			b.Fatalf("%d frames for the append at commit %d, want one per client (%d)", n, commit, benchClients)
		}
	}
	slices.Sort(latencies)
	quantile := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(quantile(0.50), "p50-ms")
	b.ReportMetric(quantile(0.99), "p99-ms")
	b.ReportMetric(quantile(1), "max-ms")
	b.ReportMetric(float64(st.server.HubStats().Dropped), "dropped")
}

// BenchmarkAppendToFrameClientProcess is BenchmarkAppendToFrame with the
// benchClients clients in a process of their own, as browsers are: the
// server's scheduler then runs only the server, and each client process
// reads as its sockets become readable. Latency is measured on the wall
// clock both processes share: from the append's acknowledgement in the
// server's process to the frame's arrival in the client's.
func BenchmarkAppendToFrameClientProcess(b *testing.B) {
	store, err := bolt.Open(b.TempDir(), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st := newStackOn(b, store, func(c *Config) { c.Hub.SendBuffer = 256 })
	stdin, lines := clientProcess(b, st, "TestFrameClientsHelper")
	nextLine := func() string {
		if !lines.Scan() {
			b.Fatalf("the client process ended: %v", lines.Err())
		}
		return lines.Text()
	}
	if l := nextLine(); l != "ready" {
		b.Fatalf("client process: %q", l)
	}

	acks := map[uint64]int64{}
	ctx := context.Background()
	serverCPU := cpuTime(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := st.svc.Patient(ctx, commands.Meta{IdempotencyKey: "bench-" + strconv.Itoa(i)},
			domain.Refer{Patient: newPatientID("bench-patient-" + strconv.Itoa(i)), Source: domain.SourceSelf})
		acked := time.Now().UnixNano()
		if err != nil {
			b.Fatal(err)
		}
		acks[res.Position.Commit] = acked
		all := "all " + strconv.FormatUint(res.Position.Commit, 10)
		for l := nextLine(); l != all; l = nextLine() {
			if !strings.HasPrefix(l, "all ") {
				b.Fatalf("client process: %q", l)
			}
		}
	}
	b.StopTimer()
	serverCPU = cpuTime(b) - serverCPU
	stdin.Close()
	var latencies []time.Duration
	frames := map[uint64]int{}
	var clientCPU time.Duration
	for l := nextLine(); l != "done"; l = nextLine() {
		var commit uint64
		var at int64
		if _, err := fmt.Sscanf(l, "cpu %d", &at); err == nil {
			clientCPU = time.Duration(at)
			continue
		}
		if _, err := fmt.Sscanf(l, "arrival %d %d", &commit, &at); err != nil {
			continue // an "all" line of the last iteration
		}
		acked, ok := acks[commit]
		if !ok {
			b.Fatalf("a frame at commit %d matches no append", commit)
		}
		frames[commit]++
		latencies = append(latencies, time.Duration(max(at-acked, 0)))
	}
	reportLatencies(b, st, latencies, frames)
	// The CPU each frame costs, in system calls mostly: what bounds the
	// latency when server and clients share the machine's cores.
	n := float64(b.N * benchClients)
	b.ReportMetric(float64(serverCPU.Microseconds())/n, "server-cpu-µs/frame")
	b.ReportMetric(float64(clientCPU.Microseconds())/n, "client-cpu-µs/frame")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestFrameClientsHelper is the client process of
// BenchmarkAppendToFrameClientProcess: benchClients census subscribers.
// It prints "ready" once all hold their snapshot, "all <commit>" once
// every client has the frame of the append at that commit position,
// and, when its stdin closes, one "arrival <commit> <unix nanoseconds>"
// line per frame and client, "cpu <ns>" (the CPU it used while the parent
// appended) and "done". Each client reads every frame whole; what it
// does per frame allocates nothing: the time, the commit read in place,
// one counter shared by all clients (the parent appends only once every
// client has the previous frame, so the count reaching a multiple of
// benchClients means "all").
func TestFrameClientsHelper(t *testing.T) {
	url := os.Getenv(clientsURLEnv)
	if url == "" {
		t.Skip("only runs as the child of BenchmarkAppendToFrameClientProcess")
	}
	type arrival struct {
		commit uint64
		at     int64
	}
	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex
	var received atomic.Int64
	arrivals := make([][]arrival, benchClients)
	dialer := &websocket.Dialer{ReadBufferSize: 16 << 10, WriteBufferSize: 1024}
	conns := make([]*websocket.Conn, benchClients)
	for i := range conns {
		conns[i] = dialCensus(t, dialer, url, os.Getenv(clientsAuthEnv))
		arrivals[i] = make([]arrival, 0, 1024)
	}
	var readers sync.WaitGroup
	for i, conn := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			readFrames(conn, func(frame []byte) {
				at := time.Now().UnixNano()
				commit := commitOf(frame)
				arrivals[i] = append(arrivals[i], arrival{commit, at})
				if received.Add(1)%benchClients == 0 {
					outMu.Lock()
					fmt.Fprintf(out, "all %d\n", commit)
					out.Flush()
					outMu.Unlock()
				}
			})
		}()
	}
	fmt.Fprintln(out, "ready")
	out.Flush()
	started := cpuTime(t)
	io.Copy(io.Discard, os.Stdin) // until the parent is done appending
	used := cpuTime(t) - started
	for _, c := range conns {
		c.Close()
	}
	readers.Wait()
	outMu.Lock()
	defer outMu.Unlock()
	for _, client := range arrivals {
		for _, a := range client {
			fmt.Fprintf(out, "arrival %d %d\n", a.commit, a.at)
		}
	}
	fmt.Fprintf(out, "cpu %d\n", used)
	fmt.Fprintln(out, "done")
	out.Flush()
}
