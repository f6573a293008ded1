package bolt

import "github.com/google/uuid"

// eventRef locates a written event.
type eventRef struct {
	stream   uint64
	revision uint64
	seq      uint64
}

// recentEvents remembers where the most recent event IDs were written.
//
// KurrentDB answers idempotency for appends with Any or StreamExists from a
// bounded in-memory cache of committed event IDs, not from the whole log
// (its docs warn that idempotence is not guaranteed there), because indexing
// every random UUID on disk would cost a random page write per event. This
// store does the same, and additionally warms the cache from the tail of $all
// at Open so a client retrying across a restart still gets idempotency.
// Appends with an exact revision or NoStream never need it: they compare IDs
// with the events in the stream itself.
//
// Two generations of maps bound it: when the current one holds half the
// window it becomes the previous one and the old previous one is dropped, so
// between half the window and the whole window of the latest IDs are
// remembered, at the cost of one map insert per event.
//
// Only the writer goroutine uses it, so it has no lock.
type recentEvents struct {
	generation int
	current    map[uuid.UUID]eventRef
	previous   map[uuid.UUID]eventRef
}

func newRecentEvents(window int) *recentEvents {
	generation := max(window/2, 0)
	return &recentEvents{generation: generation, current: make(map[uuid.UUID]eventRef, generation)}
}

func (c *recentEvents) lookup(id uuid.UUID) (eventRef, bool) {
	if ref, ok := c.current[id]; ok {
		return ref, true
	}
	ref, ok := c.previous[id]
	return ref, ok
}

func (c *recentEvents) add(id uuid.UUID, ref eventRef) {
	if c.generation == 0 {
		return
	}
	if len(c.current) >= c.generation {
		c.previous, c.current = c.current, make(map[uuid.UUID]eventRef, c.generation)
	}
	c.current[id] = ref
}
