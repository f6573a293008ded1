package esdb

import (
	"context"
	"errors"
	"testing"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/continuum-care/continuum/eventstore"
)

// newTestPool returns a pool for a server nobody calls: clients connect
// lazily, so these tests never touch the network.
func newTestPool(t *testing.T, size int) *pool {
	t.Helper()
	config, err := esdbclient.ParseConnectionString("esdb://127.0.0.1:1?tls=false")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	config.Logger = esdbclient.NoopLogging()
	p := newPool(*config, size)
	t.Cleanup(p.close)
	return p
}

func mustLease(t *testing.T, p *pool) *pooled {
	t.Helper()
	c, err := p.lease(t.Context())
	if err != nil {
		t.Fatalf("lease: %v", err)
	}
	return c
}

func TestPoolReusesReturnedClients(t *testing.T) {
	p := newTestPool(t, 2)
	first := mustLease(t, p)
	second := mustLease(t, p)
	if first == second {
		t.Fatal("two leases at once share a client")
	}
	p.giveBack(second, false)
	if again := mustLease(t, p); again != second {
		t.Fatal("a returned client was not lent again")
	}
	if p.open != 2 {
		t.Fatalf("%d clients open, want 2", p.open)
	}
}

func TestPoolBoundsLeases(t *testing.T) {
	p := newTestPool(t, 2)
	first, second := mustLease(t, p), mustLease(t, p)
	if len(p.slots) != cap(p.slots) {
		t.Fatalf("%d of %d slots taken by 2 leases, want all", len(p.slots), cap(p.slots))
	}
	// Full: a lease now can only wait, here for a context already ended.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.lease(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("lease beyond the bound: %v, want the context's error", err)
	}
	p.giveBack(first, false)
	p.giveBack(second, true)
	if len(p.slots) != 0 {
		t.Fatalf("%d slots still taken after both leases ended, want 0 (a pin takes none)", len(p.slots))
	}
}

func TestPoolClosesRetiredClientsOnceUnused(t *testing.T) {
	tests := []struct {
		name string
		// use leaves c leased, pinned or neither before it is retired;
		// done ends that use.
		use  func(p *pool, c *pooled)
		done func(p *pool, c *pooled)
	}{
		{"idle", func(p *pool, c *pooled) { p.giveBack(c, false) }, func(*pool, *pooled) {}},
		{"leased", func(*pool, *pooled) {}, func(p *pool, c *pooled) { p.giveBack(c, false) }},
		{"pinned by a subscription", func(p *pool, c *pooled) { p.giveBack(c, true) }, func(p *pool, c *pooled) { p.unpin(c) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPool(t, 2)
			c := mustLease(t, p)
			tt.use(p, c)
			p.retire(c)
			inUse := c.leased || c.pins > 0
			if c.closed == inUse {
				t.Fatalf("retired client closed: %t, want %t (in use: %t)", c.closed, !inUse, inUse)
			}
			tt.done(p, c)
			if !c.closed {
				t.Fatal("retired client still open after its last use")
			}
			if next := mustLease(t, p); next == c {
				t.Fatal("a retired client was lent again")
			}
		})
	}
}

func TestPoolCloseWaitsForUsers(t *testing.T) {
	p := newTestPool(t, 3)
	idle, leased, pinned := mustLease(t, p), mustLease(t, p), mustLease(t, p)
	p.giveBack(idle, false)
	p.giveBack(pinned, true)
	p.close()
	if !idle.closed || leased.closed || pinned.closed {
		t.Fatalf("after close: idle closed %t, leased %t, pinned %t; want true, false, false", idle.closed, leased.closed, pinned.closed)
	}
	select {
	case <-p.drained:
		t.Fatal("drained while clients are in use")
	default:
	}
	p.giveBack(leased, false)
	p.unpin(pinned)
	select {
	case <-p.drained:
	default:
		t.Fatal("not drained after the last use ended")
	}
	if _, err := p.lease(context.Background()); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("lease after close: %v, want ErrClosed", err)
	}
}
