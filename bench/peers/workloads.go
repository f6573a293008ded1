package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/hallgren/eventsourcing"
	"github.com/hallgren/eventsourcing/aggregate"
	"github.com/hallgren/eventsourcing/core"
	"github.com/hallgren/eventsourcing/eventstore/sql"

	"github.com/continuum-care/continuum/bench/workload"
	"github.com/continuum-care/continuum/domain"
)

// fillProgressEvery is how often (in events) the fill reports progress.
const fillProgressEvery = 1_000_000

// measureAppends runs the two append workloads on a fresh durable database.
func measureAppends(ctx context.Context, path string, duration time.Duration, res *result) error {
	es, err := openEventStore(path, true)
	if err != nil {
		return err
	}
	defer es.Close()
	history := workload.NewHistory(rand.Uint64()) // fresh streams every run

	logf("peer: %d writers saving 1 event each, durable, for %s", concurrentWriters, duration)
	if res.AppendConcurrentEPS, err = runWriters(ctx, es, history, concurrentWriters, 1, domain.PatientStreamPrefix, duration); err != nil {
		return err
	}
	logf("  %.0f events/s", res.AppendConcurrentEPS)
	logf("peer: %d writers saving %d events each, durable, for %s", batchWriters, batchSize, duration)
	if res.AppendBatchEPS, err = runWriters(ctx, es, history, batchWriters, batchSize, domain.GroupStreamPrefix, duration); err != nil {
		return err
	}
	logf("  %.0f events/s", res.AppendBatchEPS)
	return nil
}

// runWriters is continuum's append workload on the library: each writer owns
// one aggregate (stream) and saves perCall new events at a time, cycling
// through its stream's history, until the duration has passed.
func runWriters(ctx context.Context, es core.EventStore, history *workload.History, writers, perCall int, prefix string, duration time.Duration) (float64, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		total    int
		firstErr error
	)
	sources := make([]workload.Batch, writers)
	for i := range sources {
		sources[i] = history.NextOf(prefix)
	}
	start := time.Now()
	deadline := start.Add(duration)
	for _, source := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := newWriter(source)
			written := 0
			for err == nil && (written == 0 || time.Now().Before(deadline)) && ctx.Err() == nil {
				if err = w.save(es, perCall); err == nil {
					written += perCall
				}
			}
			mu.Lock()
			defer mu.Unlock()
			total += written
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, firstErr
	}
	return perSecond(total, elapsed), ctx.Err()
}

// writer saves the events of one history stream through an aggregate.
type writer struct {
	source workload.Batch
	next   int // index into source.Events, cycling
	track  func(data any, metadata map[string]any)
	commit func(es core.EventStore) error
}

// newWriter binds the stream to an aggregate of its kind. (The library's
// functions take its unexported aggregate interface, which only the concrete
// types satisfy, hence one closure pair per kind.)
func newWriter(source workload.Batch) (*writer, error) {
	w := &writer{source: source}
	var id string
	var setID func(string) error
	if pid, ok := strings.CutPrefix(source.Stream, domain.PatientStreamPrefix); ok {
		agg := &patient{}
		id, setID = pid, agg.SetID
		w.track = func(data any, metadata map[string]any) { aggregate.TrackChangeWithMetadata(agg, data, metadata) }
		w.commit = func(es core.EventStore) error { return aggregate.Save(es, agg) }
	} else if gid, ok := strings.CutPrefix(source.Stream, domain.GroupStreamPrefix); ok {
		agg := &group{}
		id, setID = gid, agg.SetID
		w.track = func(data any, metadata map[string]any) { aggregate.TrackChangeWithMetadata(agg, data, metadata) }
		w.commit = func(es core.EventStore) error { return aggregate.Save(es, agg) }
	} else {
		return nil, errors.New("a stream that is neither a patient's nor a group's")
	}
	if err := setID(id); err != nil {
		return nil, err
	}
	return w, nil
}

// save tracks the next n events of the stream on the aggregate and saves them
// in one call, which checks the aggregate's version like an expected
// revision. The metadata carries what continuum's envelope does.
func (w *writer) save(es core.EventStore, n int) error {
	for range n {
		e := w.source.Events[w.next%len(w.source.Events)]
		w.next++
		w.track(pointerTo(e), map[string]any{
			"occurredAt":     e.When(),
			"$correlationId": w.source.Stream,
		})
	}
	if err := w.commit(es); err != nil {
		return fmt.Errorf("save %d events: %w", n, err)
	}
	return nil
}

// measureReplay fills a database with the history and replays it three
// times, as continuum's benchmark does: through a projection that decodes
// every event into its type and folds it (the first read after the fill),
// then rows only (the store's share), then the projection again.
func measureReplay(ctx context.Context, path string, seed uint64, n int, res *result) error {
	logf("peer: filling %d events of history", n)
	var err error
	if res.FillEPS, err = fill(path, seed, n); err != nil {
		return err
	}
	logf("  %.0f events/s", res.FillEPS)

	es, err := openEventStore(path, true)
	if err != nil {
		return err
	}
	defer es.Close()

	logf("peer: replaying all events with typed decoding into a fold, first read after the fill")
	cold, err := replayTyped(ctx, es, n)
	if err != nil {
		return err
	}
	res.ReplayColdEPS = cold.perSecond

	logf("peer: reading all events without decoding")
	start := time.Now()
	raw, err := scanAll(ctx, es.All(0))
	if err != nil {
		return err
	}
	res.ReplayRawEPS = perSecond(raw, time.Since(start))
	logf("  %d events (%.0f events/s)", raw, res.ReplayRawEPS)

	logf("peer: replaying all events with typed decoding into a fold again")
	warm, err := replayTyped(ctx, es, n)
	if err != nil {
		return err
	}
	if warm.digest != cold.digest {
		return fmt.Errorf("two replays of the same history folded different facts (%s, %s)", cold.digest, warm.digest)
	}
	res.ReplayEvents, res.ReplayEPS, res.FoldDigest = warm.events, warm.perSecond, warm.digest
	return nil
}

// typedReplay is the outcome of one replay through a projection.
type typedReplay struct {
	events    int
	perSecond float64
	digest    string
}

// replayTyped runs a projection over every stored event, folding what the
// library decoded, and checks it folded the n events written.
func replayTyped(ctx context.Context, es *sql.SQLite, n int) (typedReplay, error) {
	var fold workload.Fold
	projection := eventsourcing.NewProjection(es.All(0), func(ev eventsourcing.Event) error {
		e, err := valueOf(ev.Data())
		if err != nil {
			return err
		}
		fold.Apply(e)
		return nil
	})
	start := time.Now()
	if r := projection.RunToEnd(ctx); r.Error != nil {
		return typedReplay{}, fmt.Errorf("projection: %w", r.Error)
	}
	took := time.Since(start)
	if fold.Events != n {
		return typedReplay{}, fmt.Errorf("the projection folded %d events of the %d written", fold.Events, n)
	}
	r := typedReplay{events: fold.Events, perSecond: perSecond(fold.Events, took), digest: fold.Digest()}
	logf("  %d events in %.2f s (%.0f events/s)", r.events, took.Seconds(), r.perSecond)
	return r, nil
}

// fill saves exactly n events of the history, a whole stream per Save, with
// syncs off: only the replay of this database is measured.
func fill(path string, seed uint64, n int) (float64, error) {
	es, err := openEventStore(path, false)
	if err != nil {
		return 0, err
	}
	defer es.Close()
	history := workload.NewHistory(seed)
	start := time.Now()
	reported := 0
	for written := 0; written < n; {
		b := history.Next()
		if len(b.Events) > n-written {
			b.Events = b.Events[:n-written]
		}
		w, err := newWriter(b)
		if err != nil {
			return 0, err
		}
		if err := w.save(es, len(b.Events)); err != nil {
			return 0, fmt.Errorf("fill: %w", err)
		}
		written += len(b.Events)
		if written-reported >= fillProgressEvery {
			reported = written
			logf("  filled %d of %d events (%.0f events/s)", written, n, perSecond(written, time.Since(start)))
		}
	}
	return perSecond(n, time.Since(start)), nil
}

// scanAll iterates every stored event through the library's store-level
// iterator (rows and their timestamps, no JSON), counting them.
func scanAll(ctx context.Context, fetch core.Fetcher) (int, error) {
	it, err := fetch()
	if err != nil {
		return 0, err
	}
	defer it.Close()
	n := 0
	for it.Next() {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if _, err := it.Value(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
