package web

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// Performance of the live path, measured, never asserted (BENCHMARKS.md
// records the figures):
//
//	go test -run '^$' -bench 'AppendToFrame' -benchtime 300x ./web/
//	go test -run '^$' -bench 'IdleClients' ./web/

// benchClients is how many connected clients the latency benchmark holds.
const benchClients = 1000

// commitOf reads the commit part of a frame's position token without
// decoding the frame or allocating; 0 if the frame has none.
func commitOf(frame []byte) uint64 {
	const key = `"position":"`
	i := bytes.Index(frame, []byte(key))
	if i < 0 {
		return 0
	}
	var commit uint64
	for _, c := range frame[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		commit = commit*10 + uint64(c-'0')
	}
	return commit
}

// BenchmarkAppendToFrame measures, with benchClients census subscribers on
// loopback over the embedded store, the time from an append being
// acknowledged to each client receiving the websocket frame that shows it.
// Each iteration is one referral (which moves the census's pipeline); the
// next starts once every client has its frame, so this is latency at
// rest, not under saturation.
func BenchmarkAppendToFrame(b *testing.B) {
	store, err := bolt.Open(b.TempDir(), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st := newStackOn(b, store, func(c *Config) { c.Hub.SendBuffer = 256 })
	url := "ws" + strings.TrimPrefix(st.http.URL, "http") + "/ws"

	type arrival struct {
		commit uint64
		at     time.Time
	}
	arrivals := make([][]arrival, benchClients)
	var current atomic.Pointer[sync.WaitGroup]
	var readers sync.WaitGroup
	conns := make([]*websocket.Conn, benchClients)
	// The clients read into one reused buffer each, so the harness,
	// which shares the machine with the server, costs as little as it can.
	dialer := &websocket.Dialer{ReadBufferSize: 16 << 10, WriteBufferSize: 1024}
	for i := range conns {
		conn := dialCensus(b, dialer, url, st.auth.bearer(directorUser))
		conns[i] = conn
		readers.Add(1)
		go func() {
			defer readers.Done()
			readFrames(conn, func(frame []byte) {
				arrivals[i] = append(arrivals[i], arrival{commit: commitOf(frame), at: time.Now()})
				current.Load().Done()
			})
		}()
	}
	acks := map[uint64]time.Time{}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wg := &sync.WaitGroup{}
		wg.Add(benchClients)
		current.Store(wg)
		res, err := st.svc.Patient(ctx, commands.Meta{IdempotencyKey: "bench-" + strconv.Itoa(i)},
			domain.Refer{Patient: newPatientID("bench-patient-" + strconv.Itoa(i)), Source: domain.SourceSelf})
		acked := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		acks[res.Position.Commit] = acked
		wg.Wait()
	}
	b.StopTimer()
	for _, c := range conns {
		c.Close()
	}
	readers.Wait()

	var latencies []time.Duration
	frames := map[uint64]int{}
	for _, client := range arrivals {
		for _, a := range client {
			acked, ok := acks[a.commit]
			if !ok {
				b.Fatalf("a frame at commit %d matches no append", a.commit)
			}
			frames[a.commit]++
			latencies = append(latencies, max(a.at.Sub(acked), 0))
		}
	}
	reportLatencies(b, st, latencies, frames)
}

// idleClients is how many clients the memory benchmark holds.
const idleClients = 10000

// BenchmarkIdleClientsMemory measures the memory the server holds for
// idleClients connected websocket clients, each following the census, in
// a child process (their sockets then count against its file limit):
// the growth of the process's resident set and of the Go runtime's heap
// and stacks once they are all connected. Run it alone: a resident set
// never shrinks, so after another benchmark the growth reads too small.
func BenchmarkIdleClientsMemory(b *testing.B) {
	st := newStack(b)
	runtime.GC()
	rssBefore, goBefore := memoryInUse(b)

	_, lines := clientProcess(b, st, "TestIdleClientsHelper")
	for lines.Scan() && lines.Text() != "ready" {
	}
	if clients := st.server.HubStats().Clients; clients != idleClients {
		b.Fatalf("%d clients connected, want %d", clients, idleClients)
	}
	runtime.GC()
	rssAfter, goAfter := memoryInUse(b)
	b.ReportMetric(float64(rssAfter-rssBefore)/(1<<20), "rss-MiB")
	b.ReportMetric(float64(goAfter.heap-goBefore.heap)/(1<<20), "go-heap-MiB")
	b.ReportMetric(float64(goAfter.stacks-goBefore.stacks)/(1<<20), "go-stacks-MiB")
	b.ReportMetric(float64(rssAfter-rssBefore)/idleClients, "rss-bytes/client")
}

// goMemory is the Go runtime's heap in use and goroutine stacks, in bytes.
type goMemory struct{ heap, stacks uint64 }

// memoryInUse returns the process's resident set and the Go runtime's
// memory, in bytes.
func memoryInUse(b *testing.B) (rss uint64, goMem goMemory) {
	b.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			rss = kb << 10
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return rss, goMemory{heap: ms.HeapInuse, stacks: ms.StackInuse}
}

// TestIdleClientsHelper is the child process of BenchmarkIdleClientsMemory;
// it does nothing in a normal test run.
func TestIdleClientsHelper(t *testing.T) {
	url := os.Getenv(clientsURLEnv)
	if url == "" {
		t.Skip("only runs as the child of BenchmarkIdleClientsMemory")
	}
	dialer := &websocket.Dialer{HandshakeTimeout: time.Minute, ReadBufferSize: 1024, WriteBufferSize: 1024}
	for i := 0; i < idleClients; i++ {
		conn := dialCensus(t, dialer, url, os.Getenv(clientsAuthEnv))
		go func() {
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	fmt.Println("ready")
	select {} // held until the parent kills this process
}
