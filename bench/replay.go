package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/continuum-care/continuum/bench/workload"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// Replay and fill tuning.
const (
	// readPageSize is how many events one ReadAll call returns: large enough
	// that a call's fixed cost vanishes, small enough to keep a few pages in
	// flight per decoder without much memory.
	readPageSize = 4096
	// fillWriters append the history concurrently, so the store's group
	// commit makes each fsync carry many streams' batches.
	fillWriters = 16
	// progressEvery is how often (in events) the fill reports progress.
	progressEvery = 1_000_000
)

// lastPosition returns the position of the last event in $all, or
// eventstore.Start for an empty store: a replay of what is written next
// starts after it.
func lastPosition(ctx context.Context, store eventstore.Store) (eventstore.Position, error) {
	evs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Max: 1})
	if err != nil {
		return eventstore.Start, fmt.Errorf("read the end of $all: %w", err)
	}
	if len(evs) == 0 {
		return eventstore.Start, nil
	}
	return evs[0].Position, nil
}

// fill appends exactly n events of the history with the given seed, whole
// streams at a time (a patient's stay, a group's twenty weeks), from
// fillWriters concurrent writers, and returns events per second. Expected
// revision Any lets a shared server that already holds an earlier run's
// streams take them again.
func fill(ctx context.Context, store eventstore.Store, seed uint64, n int, progress io.Writer) (float64, error) {
	batches := make(chan workload.Batch, fillWriters)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(batches)
		history := workload.NewHistory(seed)
		for left := n; left > 0; {
			b := history.Next()
			if len(b.Events) > left {
				b.Events = b.Events[:left]
			}
			left -= len(b.Events)
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		written  int
		reported int
		firstErr error
	)
	start := time.Now()
	for range fillWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []eventstore.EventData
			for b := range batches {
				var err error
				if buf, err = encodeEvents(buf[:0], b.Events); err == nil {
					_, err = store.Append(ctx, b.Stream, eventstore.Any, buf...)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("fill: %w", err)
					cancel()
				}
				written += len(b.Events)
				if written-reported >= progressEvery {
					reported = written
					fmt.Fprintf(progress, "  filled %d of %d events (%.0f events/s)\n", written, n, perSecond(written, time.Since(start)))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return perSecond(n, time.Since(start)), nil
}

// page is one ReadAll result, numbered so decoded pages can be folded in order.
type page struct {
	number int
	events []eventstore.RecordedEvent
}

// readPages reads $all after the given position to its end, page by page,
// handing each page to emit. Reads are inclusive, so each page starts at the
// last event already seen and skips it: that works on any store, whatever its
// positions look like.
func readPages(ctx context.Context, store eventstore.Store, after eventstore.Position, emit func(page) error) error {
	from := after
	for number := 0; ; number++ {
		evs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{From: from, Max: readPageSize})
		if err != nil {
			return fmt.Errorf("read $all: %w", err)
		}
		full := len(evs) == readPageSize
		for len(evs) > 0 && !after.Less(evs[0].Position) {
			evs = evs[1:]
		}
		if len(evs) == 0 {
			if full {
				return fmt.Errorf("read $all: a full page at %s brought nothing new", from)
			}
			return nil
		}
		if err := emit(page{number: number, events: evs}); err != nil {
			return err
		}
		after = evs[len(evs)-1].Position
		from = after
		if !full {
			return nil
		}
	}
}

// replayRaw reads $all after the given position without decoding anything:
// the store's share of a replay.
func replayRaw(ctx context.Context, store eventstore.Store, after eventstore.Position) (int, time.Duration, error) {
	start := time.Now()
	var events, bytes int
	err := readPages(ctx, store, after, func(p page) error {
		events += len(p.events)
		for i := range p.events {
			bytes += len(p.events[i].Data) // touch what a decoder would read
		}
		return nil
	})
	return events, time.Since(start), err
}

// decodedPage is a page turned into domain events.
type decodedPage struct {
	number int
	events []domain.Event
}

// replayTyped reads $all after the given position and folds every domain
// event into a workload.Fold, decoding with the domain codec. Reading,
// decoding and folding form a pipeline: one goroutine reads pages, one
// decoder per core decodes them, and the fold takes the decoded pages back
// in $all order, so the result is the same as a sequential replay's while
// every core decodes. Metadata is only peeked at for the schema version
// (domain.DecodeData), never parsed.
func replayTyped(ctx context.Context, store eventstore.Store, after eventstore.Position) (workload.Fold, time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	decoders := runtime.GOMAXPROCS(0)
	pages := make(chan page, 2*decoders)
	decoded := make(chan decodedPage, 2*decoders)
	errs := make(chan error, decoders+1)
	start := time.Now()

	// report hands a goroutine's outcome back; the first failure stops the
	// others, so the fold never waits for a page that will not come.
	report := func(err error) {
		if err != nil {
			cancel()
		}
		errs <- err
	}
	go func() {
		defer close(pages)
		report(readPages(ctx, store, after, func(p page) error {
			select {
			case pages <- p:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}))
	}()
	var wg sync.WaitGroup
	for range decoders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			report(decodePages(ctx, pages, decoded))
		}()
	}
	go func() {
		wg.Wait()
		close(decoded)
	}()

	var fold workload.Fold
	waiting := make(map[int][]domain.Event)
	next := 0
	for p := range decoded {
		waiting[p.number] = p.events
		for evs, ok := waiting[next]; ok; evs, ok = waiting[next] {
			delete(waiting, next)
			for _, e := range evs {
				fold.Apply(e)
			}
			next++
		}
	}
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return fold, elapsed, err
		}
	}
	if len(waiting) > 0 {
		return fold, elapsed, fmt.Errorf("replay: %d decoded pages never folded", len(waiting))
	}
	return fold, elapsed, ctx.Err()
}

// decodePages decodes pages until the channel closes. System events ($…)
// are not the domain's and are skipped.
func decodePages(ctx context.Context, pages <-chan page, decoded chan<- decodedPage) error {
	for p := range pages {
		out := make([]domain.Event, 0, len(p.events))
		for i := range p.events {
			e := &p.events[i]
			if e.IsSystem() {
				continue
			}
			ev, err := domain.DecodeData(e.Type, e.Data, e.Metadata)
			if err != nil {
				return fmt.Errorf("replay: decode the event at %s: %w", e.Position, err)
			}
			out = append(out, ev)
		}
		select {
		case decoded <- decodedPage{number: p.number, events: out}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// measureReplays fills the store with the history, then replays it three
// times: typed (the first read after the fill, paying for whatever of the
// store the operating system no longer keeps in memory), raw (the store's
// share), and typed again (store in memory: the figure the goal is judged
// on, where decoding is the cost). Both typed replays must fold the same facts.
func measureReplays(ctx context.Context, store eventstore.Store, cfg Config, progress io.Writer, res *StoreResult) error {
	name := res.Store
	after, err := lastPosition(ctx, store)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "%s: filling %d events of history\n", name, cfg.Events)
	if res.FillEPS, err = fill(ctx, store, historySeed, cfg.Events, progress); err != nil {
		return err
	}
	fmt.Fprintf(progress, "  %.0f events/s\n", res.FillEPS)

	fmt.Fprintf(progress, "%s: replaying $all with typed decoding into a fold, first read after the fill\n", name)
	cold, err := measureTyped(ctx, store, after, cfg.Events, progress)
	if err != nil {
		return err
	}
	res.ReplayColdEPS = cold.perSecond

	fmt.Fprintf(progress, "%s: reading $all without decoding\n", name)
	raw, rawTook, err := replayRaw(ctx, store, after)
	if err != nil {
		return err
	}
	res.ReplayRawEPS = perSecond(raw, rawTook)
	fmt.Fprintf(progress, "  %d events in %.2f s (%.0f events/s)\n", raw, rawTook.Seconds(), res.ReplayRawEPS)

	fmt.Fprintf(progress, "%s: replaying $all with typed decoding into a fold again\n", name)
	warm, err := measureTyped(ctx, store, after, cfg.Events, progress)
	if err != nil {
		return err
	}
	if warm.digest != cold.digest {
		return fmt.Errorf("two replays of the same history folded different facts (%s, %s)", cold.digest, warm.digest)
	}
	res.ReplayEvents, res.ReplayEPS, res.FoldDigest = warm.events, warm.perSecond, warm.digest
	return nil
}

// typedReplay is the outcome of one typed replay.
type typedReplay struct {
	events    int
	perSecond float64
	digest    string
}

// measureTyped runs one typed replay of what was written after the given
// position and checks it folded at least the written events.
func measureTyped(ctx context.Context, store eventstore.Store, after eventstore.Position, written int, progress io.Writer) (typedReplay, error) {
	fold, took, err := replayTyped(ctx, store, after)
	if err != nil {
		return typedReplay{}, err
	}
	if fold.Events < written {
		return typedReplay{}, fmt.Errorf("replay folded %d events of the %d written", fold.Events, written)
	}
	r := typedReplay{events: fold.Events, perSecond: perSecond(fold.Events, took), digest: fold.Digest()}
	fmt.Fprintf(progress, "  %d events in %.2f s (%.0f events/s)\n", r.events, took.Seconds(), r.perSecond)
	return r, nil
}
