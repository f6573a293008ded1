package esdb

import (
	"context"
	"fmt"
	"sync"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/continuum-care/continuum/eventstore"
)

// pool lends esdbclient.Clients to calls, one call per client at a time.
//
// Why not one client shared by every call, as the client intends: the v4
// client funnels every call through one goroutine that owns the connection,
// over an unbuffered channel, and every call that meets an unavailable server
// asks that goroutine to rediscover it. When a rediscovery fails (the server
// stayed down longer than MaxDiscoverAttempts × DiscoveryInterval), the
// goroutine marks the client closed and exits for good, and every call then
// queued on the channel blocks forever — two subscriptions resuming together
// are enough. Closing the client to unblock them would race with their
// sends. With one call per client, the only call talking to that goroutine is
// the one it answers, failure included, so nothing can be left waiting; the
// pool retires a client once its connection is lost and makes a fresh one
// for the next call.
//
// A subscription needs the client only while it is opened; afterwards it
// streams over the client's gRPC connection without involving the client's
// goroutine. It pins the client, which keeps it open (and lendable to other
// calls) until the subscription ends.
type pool struct {
	config esdbclient.Configuration
	// slots holds one token per lent client; its capacity bounds the calls
	// in flight, and so the connections.
	slots chan struct{}

	mu     sync.Mutex
	closed bool
	// idle holds the clients ready to lend, most recently returned last.
	idle []*pooled
	// open counts the clients not yet closed.
	open int
	// drained is closed once the pool is closed and open reaches zero.
	drained     chan struct{}
	drainedOnce sync.Once
}

// pooled is one client of the pool.
type pooled struct {
	client *esdbclient.Client
	// leased is true while a call uses the client.
	leased bool
	// pins counts the subscriptions streaming over the client's connection.
	pins int
	// retired clients are lent no more and closed once unused.
	retired bool
	closed  bool
}

func newPool(config esdbclient.Configuration, size int) *pool {
	return &pool{config: config, slots: make(chan struct{}, size), drained: make(chan struct{})}
}

// lease waits for a free slot and lends an idle client, or a new one.
func (p *pool) lease(ctx context.Context) (*pooled, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		<-p.slots
		return nil, eventstore.ErrClosed
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		c.leased = true
		return c, nil
	}
	config := p.config
	client, err := esdbclient.NewClient(&config)
	if err != nil {
		<-p.slots
		return nil, fmt.Errorf("%w: esdb: %v", eventstore.ErrInvalidArgument, err)
	}
	p.open++
	return &pooled{client: client, leased: true}, nil
}

// giveBack ends the lease of c. pin keeps c open for a subscription opened
// during the lease, until unpin.
func (p *pool) giveBack(c *pooled, pin bool) {
	p.mu.Lock()
	c.leased = false
	if pin {
		c.pins++
	}
	if c.retired || p.closed {
		p.closeIfUnused(c)
	} else {
		p.idle = append(p.idle, c)
	}
	p.mu.Unlock()
	<-p.slots
}

// unpin ends a subscription's hold on c.
func (p *pool) unpin(c *pooled) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c.pins--
	if c.retired || p.closed {
		p.closeIfUnused(c)
	}
}

// retire stops lending c, whose connection is lost or whose client shut
// itself down; it is closed once no call or subscription uses it.
func (p *pool) retire(c *pooled) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !c.retired {
		c.retired = true
		for i, idle := range p.idle {
			if idle == c {
				p.idle = append(p.idle[:i], p.idle[i+1:]...)
				break
			}
		}
	}
	p.closeIfUnused(c)
}

// closeIfUnused closes c unless a call leases it or a subscription pins it.
// Closing an unleased client races with nothing: only a leaseholder talks to
// the client's connection goroutine. p.mu is held.
func (p *pool) closeIfUnused(c *pooled) {
	if c.closed || c.leased || c.pins > 0 {
		return
	}
	c.closed = true
	_ = c.client.Close()
	p.open--
	if p.closed && p.open == 0 {
		p.drainedOnce.Do(func() { close(p.drained) })
	}
}

// close stops lending, closes the idle clients now and the others once
// their calls and subscriptions end (the store's context ends them).
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	idle := p.idle
	p.idle = nil
	for _, c := range idle {
		p.closeIfUnused(c)
	}
	if p.open == 0 {
		p.drainedOnce.Do(func() { close(p.drained) })
	}
}
