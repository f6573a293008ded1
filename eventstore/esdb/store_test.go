package esdb_test

import (
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/esdb"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/eventstore/storetest"
	"github.com/continuum-care/continuum/eventstore/wire"
)

// kurrentDBURLEnv names the environment variable holding the connection
// string of a real KurrentDB to run the conformance suite against.
const kurrentDBURLEnv = "KURRENTDB_URL"

// served is a backing store served by the wire server on a loopback port.
type served struct {
	backing eventstore.Store
	server  *wire.Server
	addr    string
	stopped chan struct{}
}

// serve starts a wire server for backing on addr ("127.0.0.1:0" for any
// free port) and stops it when the test ends, unless stopped earlier.
func serve(t testing.TB, backing eventstore.Store, addr string) *served {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	srv := &served{
		backing: backing,
		server:  wire.NewServer(backing, wire.WithLogger(slog.New(slog.DiscardHandler))),
		addr:    lis.Addr().String(),
		stopped: make(chan struct{}),
	}
	go func() {
		defer close(srv.stopped)
		_ = srv.server.Serve(lis)
	}()
	t.Cleanup(srv.stop)
	return srv
}

// stop stops the server and waits until it no longer serves.
func (srv *served) stop() {
	srv.server.Stop()
	<-srv.stopped
}

// connectionString is the adapter's connection string for the server.
func (srv *served) connectionString() string {
	return "esdb://" + srv.addr + "?tls=false"
}

// openStore opens the adapter on cs and closes it when the test ends.
func openStore(t testing.TB, cs string, opts ...esdb.Option) *esdb.Store {
	t.Helper()
	s, err := esdb.Open(cs, opts...)
	if err != nil {
		t.Fatalf("esdb.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformanceOverWireMemstore(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) eventstore.Store {
			backing := memstore.New()
			t.Cleanup(func() { _ = backing.Close() })
			return openStore(t, serve(t, backing, "127.0.0.1:0").connectionString())
		},
	})
}

// boltChain is one adapter's path to its data: the wire server and the bolt
// store it serves, in a data directory.
type boltChain struct {
	server  *served
	backing eventstore.Store
	dir     string
}

// close stops the server, then closes the store it serves. Both tolerate a
// second close from the test's cleanup.
func (c *boltChain) close() {
	c.server.stop()
	_ = c.backing.Close()
}

// boltHarness serves bolt stores and remembers each adapter's chain, so that
// Reopen can restart the whole chain on the same data directory.
type boltHarness struct {
	mu     sync.Mutex
	chains map[eventstore.Store]*boltChain
}

func (h *boltHarness) open(t *testing.T, dir string) eventstore.Store {
	t.Helper()
	backing, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open(%s): %v", dir, err)
	}
	chain := &boltChain{server: serve(t, backing, "127.0.0.1:0"), backing: backing, dir: dir}
	t.Cleanup(chain.close)
	s := openStore(t, chain.server.connectionString())
	h.mu.Lock()
	h.chains[s] = chain
	h.mu.Unlock()
	return s
}

func (h *boltHarness) reopen(t *testing.T, s eventstore.Store) eventstore.Store {
	t.Helper()
	h.mu.Lock()
	chain := h.chains[s]
	h.mu.Unlock()
	if chain == nil {
		t.Fatal("Reopen of a store this harness did not open")
	}
	_ = s.Close()
	chain.close()
	return h.open(t, chain.dir)
}

func TestConformanceOverWireBolt(t *testing.T) {
	h := &boltHarness{chains: make(map[eventstore.Store]*boltChain)}
	storetest.Run(t, storetest.Harness{
		New:    func(t *testing.T) eventstore.Store { return h.open(t, t.TempDir()) },
		Reopen: h.reopen,
	})
}

func TestConformanceKurrentDB(t *testing.T) {
	cs := os.Getenv(kurrentDBURLEnv)
	if cs == "" {
		t.Skipf("set %s to a KurrentDB connection string (e.g. esdb://localhost:2113?tls=false) to run the suite against a real server", kurrentDBURLEnv)
	}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) eventstore.Store { return openStore(t, cs) },
	})
}
