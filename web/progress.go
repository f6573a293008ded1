package web

import (
	"context"
	"sync"

	"github.com/continuum-care/continuum/eventstore"
)

// progress tracks how far the projections have applied the log, so a
// command asked to wait (?wait=1) answers once its effect is visible. The
// position itself comes from the projections; progress only turns their
// change notifications into wake-ups.
type progress struct {
	current func() eventstore.Position

	mu      sync.Mutex
	changed chan struct{}
}

func newProgress(current func() eventstore.Position) *progress {
	return &progress{current: current, changed: make(chan struct{})}
}

// position is the position of the last event the projections applied.
func (p *progress) position() eventstore.Position { return p.current() }

// advanced wakes every waiter to look at the position again. It never
// blocks: it is called on the projections runner's goroutine.
func (p *progress) advanced() {
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// waitFor returns once the projections reached target, or ctx's error.
func (p *progress) waitFor(ctx context.Context, target eventstore.Position) error {
	for {
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()
		if !p.current().Less(target) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
