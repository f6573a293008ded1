package reliability

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/wire"
)

// Shape of the store-outage test.
const (
	outageWorkers = 4
	// outageLoad is how long the load runs before the cut and after the
	// restore; outageLength how long the store stays away.
	outageLoad        = time.Second
	outageLength      = 3 * time.Second
	outageLoadShort   = 300 * time.Millisecond
	outageLengthShort = time.Second
	// failFastDeadline is how long a command may take to be refused while
	// the store is away: a refusal, not a hang (the adapter gives up on
	// an unreachable store after about a second; the HTTP server's own
	// write timeout is 30 s).
	failFastDeadline = 5 * time.Second
)

// wireServer serves a store with the EventStoreDB protocol on one loopback
// address, and can be cut off and brought back on the same address.
type wireServer struct {
	t     *testing.T
	store eventstore.Store
	addr  string
	srv   *wire.Server
	done  chan error
}

// startWire serves store on a free loopback port.
func startWire(t *testing.T, store eventstore.Store) *wireServer {
	t.Helper()
	w := &wireServer{t: t, store: store, addr: "127.0.0.1:0"}
	w.restore()
	t.Cleanup(func() {
		if w.srv != nil {
			w.cut()
		}
	})
	return w
}

// cut stops the server at once: every connection and call in flight is
// closed, and the address refuses new connections.
func (w *wireServer) cut() {
	w.srv.Stop()
	<-w.done
	w.srv = nil
}

// restore serves again on the same address.
func (w *wireServer) restore() {
	w.t.Helper()
	var lis net.Listener
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for {
		if lis, err = net.Listen("tcp", w.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		w.t.Fatalf("serving the store again on %s: %v", w.addr, err)
	}
	w.addr = lis.Addr().String()
	w.srv = wire.NewServer(w.store, wire.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	w.done = make(chan error, 1)
	go func() { w.done <- w.srv.Serve(lis) }()
}

// url is the connection string serve --store takes.
func (w *wireServer) url() string { return "esdb://" + w.addr + "?tls=false" }

// TestStoreOutage runs serve against an EventStoreDB-protocol server (the
// wire server over an embedded store) and cuts that server off under
// load: while it is away /readyz says so and every command is refused
// with 503 within the request deadline, never left hanging; once it is
// back the server is ready again, a command waited for is projected (the
// subscription resumed), nothing acknowledged is lost and the census
// equals a rebuild from zero.
func TestStoreOutage(t *testing.T) {
	loadFor, downFor := outageLoad, outageLength
	if testing.Short() {
		loadFor, downFor = outageLoadShort, outageLengthShort
	}
	backing, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backing.Close() })
	store := startWire(t, backing)
	srv := startServer(t, serverOptions{dataDir: t.TempDir(), storeURL: store.url()})
	srv.waitReady()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	load := startWorkload(ctx, srv.api, outageWorkers)
	time.Sleep(loadFor)
	ackedBefore := len(load.acksSoFar())

	store.cut()
	cutAt := time.Now()
	reason := srv.waitReadiness(http.StatusServiceUnavailable)
	if !strings.Contains(reason, "event store") {
		t.Errorf("/readyz while the store is away says %q; want the store named", reason)
	}
	noticed := time.Since(cutAt)

	probes, slowest := 0, time.Duration(0)
	for time.Since(cutAt) < downFor {
		started := time.Now()
		probeCtx, probeDone := context.WithTimeout(ctx, failFastDeadline)
		r, _, err := srv.api.command(probeCtx, "/api/patients", map[string]any{"source": "self"})
		probeDone()
		took := time.Since(started)
		slowest = max(slowest, took)
		probes++
		if err != nil {
			t.Fatalf("a command while the store is away did not answer within %s: %v", failFastDeadline, err)
		}
		if e, _ := r.refusal(); r.status != http.StatusServiceUnavailable || e.Code != "store_unavailable" || e.Message == "" {
			t.Fatalf("a command while the store is away: status %d, body %s; want 503 store_unavailable", r.status, r.body)
		}
	}

	store.restore()
	restoredAt := time.Now()
	srv.waitReadiness(http.StatusOK)
	recovered := time.Since(restoredAt)
	r, a, err := srv.api.command(ctx, "/api/patients?wait=1", map[string]any{"source": "self"})
	if err != nil || r.status != http.StatusCreated || !a.Projected {
		t.Fatalf("a command after the store came back: %v, status %d, %s; want 201, projected", err, r.status, r.body)
	}
	time.Sleep(loadFor)
	cancel()
	acked := load.stop(t)
	if n := load.unanswered(); n > 0 {
		t.Errorf("%d requests of the load got no answer within %s; the server must answer, store or no store", n, requestTimeout)
	}

	checked := checkAcks(t, backing, acked)
	served, at := srv.api.census(t)
	compareCensus(t, "after the outage", served, rebuildCensus(t, backing, at, served))
	t.Logf("outcomes: %s", load.summary())
	t.Logf("store away for %s: /readyz noticed in %s; %d probe commands all 503 (slowest %s, slowest of all %d requests %s); ready again %s after the store came back",
		downFor.Round(time.Millisecond), noticed.Round(time.Millisecond), probes, slowest.Round(time.Millisecond),
		load.requests(), load.slowestAnswer().Round(time.Millisecond), recovered.Round(time.Millisecond))
	t.Logf("%d commands acknowledged before the cut, %d in all; %d checked in the log; census at %s equals a rebuild from zero",
		ackedBefore, len(acked), checked, at)
}
