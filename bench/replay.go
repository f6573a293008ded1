package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/continuum-care/continuum/bench/workload"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/projections/replay"
)

// Replay and fill tuning.
const (
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

// replayRaw reads $all after the given position without decoding anything:
// the store's share of a replay.
func replayRaw(ctx context.Context, store eventstore.Store, after eventstore.Position) (int, time.Duration, error) {
	start := time.Now()
	var events, bytes int
	err := replay.Pages(ctx, store, replay.Options{After: after}, func(_ int, page []eventstore.RecordedEvent) error {
		events += len(page)
		for i := range page {
			bytes += len(page[i].Data) // touch what a decoder would read
		}
		return nil
	})
	return events, time.Since(start), err
}

// replayTyped reads $all after the given position and folds every domain
// event into a workload.Fold, decoding with the domain codec on every core
// (projections/replay) and folding in $all order, so the result is the same
// as a sequential replay's. Metadata is only peeked at for the schema
// version (domain.DecodeData), never parsed.
func replayTyped(ctx context.Context, store eventstore.Store, after eventstore.Position) (workload.Fold, time.Duration, error) {
	var fold workload.Fold
	start := time.Now()
	err := replay.Run(ctx, store, replay.Options{After: after}, decodePage, func(events []domain.Event) {
		for _, e := range events {
			fold.Apply(e)
		}
	})
	return fold, time.Since(start), err
}

// decodePage decodes a page's domain events, skipping system events.
func decodePage(page []eventstore.RecordedEvent) ([]domain.Event, error) {
	out := make([]domain.Event, 0, len(page))
	for i := range page {
		e := &page[i]
		if e.IsSystem() {
			continue
		}
		ev, err := domain.DecodeData(e.Type, e.Data, e.Metadata)
		if err != nil {
			return nil, fmt.Errorf("replay: decode the event at %s: %w", e.Position, err)
		}
		out = append(out, ev)
	}
	return out, nil
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
