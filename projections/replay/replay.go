// Package replay reads the whole of $all fast: one goroutine reads pages,
// one decoder per core decodes them, and the fold takes them back in log
// order, so a replay's result is the sequential fold's while every core
// decodes. The analysts' outcomes and the benchmarks replay through it.
package replay

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/continuum-care/continuum/eventstore"
)

// PageSize is how many events one read of $all returns: large enough that a
// read's fixed cost vanishes, small enough that the pages in flight stay a
// few megabytes.
const PageSize = 4096

// Options select what a replay reads.
type Options struct {
	// After is exclusive: Start replays everything.
	After eventstore.Position
	// Filter, if set, keeps only matching events (applied by the store).
	Filter *eventstore.Filter
	// Decoders is how many pages decode at once; 0 means GOMAXPROCS.
	Decoders int
}

// Pages reads $all after opts.After in pages and calls emit with each page
// and its number, in order, until the end of the log. Reads are inclusive,
// so each page after the first starts at the last event already seen and
// drops it, whatever the store's positions look like.
func Pages(ctx context.Context, store eventstore.Store, opts Options, emit func(number int, events []eventstore.RecordedEvent) error) error {
	return pages(ctx, store, opts, func(number int, events []eventstore.RecordedEvent, release func()) error {
		defer release()
		return emit(number, events)
	})
}

// pages is Pages handing each page over with its release: the events stay
// valid until release is called, which must happen once. A store that
// recycles its reads' storage (eventstore.RecyclingReader) reads the next
// pages into released ones.
func pages(ctx context.Context, store eventstore.Store, opts Options, emit func(number int, events []eventstore.RecordedEvent, release func()) error) error {
	read := func(o eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, func(), error) {
		evs, err := store.ReadAll(ctx, o)
		return evs, func() {}, err
	}
	if recycling, ok := store.(eventstore.RecyclingReader); ok {
		read = func(o eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, func(), error) {
			return recycling.ReadAllRecycled(ctx, o)
		}
	}
	from, after := opts.After, opts.After
	for number := 0; ; number++ {
		evs, release, err := read(eventstore.ReadAllOptions{From: from, Max: PageSize, Filter: opts.Filter})
		if err != nil {
			return fmt.Errorf("reading the log: %w", err)
		}
		full := len(evs) == PageSize
		for len(evs) > 0 && !after.Less(evs[0].Position) {
			evs = evs[1:]
		}
		if len(evs) == 0 {
			release()
			if full {
				return fmt.Errorf("reading the log: a full page at %s brought nothing new", from)
			}
			return nil
		}
		// Noted before emit: the page may be released, and read into,
		// before emit returns.
		after = evs[len(evs)-1].Position
		from = after
		if err := emit(number, evs, release); err != nil {
			return err
		}
		if !full {
			return nil
		}
	}
}

// Run replays $all: decode turns each page into a T on one of several
// goroutines, and fold receives the Ts one page at a time in log order on
// the calling goroutine. The first error of any stage stops the others.
func Run[T any](ctx context.Context, store eventstore.Store, opts Options, decode func([]eventstore.RecordedEvent) (T, error), fold func(T)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	decoders := opts.Decoders
	if decoders <= 0 {
		decoders = runtime.GOMAXPROCS(0)
	}
	type page struct {
		number  int
		events  []eventstore.RecordedEvent
		release func()
	}
	type decoded struct {
		number int
		value  T
	}
	queue := make(chan page, 2*decoders)
	out := make(chan decoded, 2*decoders)
	errs := make(chan error, decoders+1)
	// fail hands a stage's failure back and stops the others, so the fold
	// never waits for a page that will not come.
	fail := func(err error) {
		if err != nil {
			cancel()
			errs <- err
		}
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(queue)
		fail(pages(ctx, store, opts, func(number int, events []eventstore.RecordedEvent, release func()) error {
			select {
			case queue <- page{number, events, release}:
				return nil
			case <-ctx.Done():
				release()
				return ctx.Err()
			}
		}))
	}()
	var wg sync.WaitGroup
	for range decoders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range queue {
				v, err := decode(p.events)
				p.release()
				if err != nil {
					fail(err)
					return
				}
				select {
				case out <- decoded{p.number, v}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()

	waiting := map[int]T{}
	next := 0
	for d := range out {
		waiting[d.number] = d.value
		for v, ok := waiting[next]; ok; v, ok = waiting[next] {
			delete(waiting, next)
			fold(v)
			next++
		}
	}
	// Every stage has stopped sending once the reader is done too (the
	// decoders are, since out is closed).
	<-readerDone
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(waiting) > 0 {
		return fmt.Errorf("replay: %d decoded pages never folded", len(waiting))
	}
	return nil
}

// Recycler keeps the slices of folded pages for the decoders to fill
// again, so a replay of millions of events does not allocate, clear and
// collect a slice per page. A fold hands each page's slice back with Put
// once done with it; a decoder takes one with Get.
type Recycler[T any] struct {
	free chan []T
}

// NewRecycler returns a recycler holding as many slices as a replay has
// pages in flight.
func NewRecycler[T any]() *Recycler[T] {
	return &Recycler[T]{free: make(chan []T, 4*runtime.GOMAXPROCS(0))}
}

// Get returns a slice of n values: a recycled one, whose values are those
// of its last page, or a new one.
func (r *Recycler[T]) Get(n int) []T {
	var s []T
	select {
	case s = <-r.free:
	default:
	}
	return slices.Grow(s[:0], n)[:n]
}

// Put hands a slice back for a later page; one too many is dropped.
func (r *Recycler[T]) Put(s []T) {
	select {
	case r.free <- s:
	default:
	}
}
