package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/continuum-care/continuum/bench/workload"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// Shapes of the append workloads, reported with the results.
const (
	// ConcurrentWriters append one event per call, each to its own patient
	// stream: many clinicians recording measures at once.
	ConcurrentWriters = 64
	// BatchWriters append BatchSize events per call, each to its own group
	// stream: imports and sessions' attendance.
	BatchWriters = 8
	// BatchSize is the number of events per append in the batch workload.
	BatchSize = 100
)

// appendWorkload is one run of concurrent writers, each owning one stream.
type appendWorkload struct {
	writers  int
	perCall  int
	prefix   string // the kind of stream each writer takes from the history
	duration time.Duration
}

// run starts the writers together, lets them append until the duration has
// passed, and returns durable events per second. Each append is encoded
// with the domain codec and carries the expected revision of the writer's
// stream, as the command layer's appends do.
func (w appendWorkload) run(ctx context.Context, store eventstore.Store, history *workload.History) (float64, error) {
	sources := make([]workload.Batch, w.writers)
	for i := range sources {
		sources[i] = history.NextOf(w.prefix)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		total    int
		firstErr error
	)
	start := time.Now()
	deadline := start.Add(w.duration)
	for _, source := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := w.write(ctx, store, source, deadline)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && firstErr == nil {
				firstErr = err
				cancel()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, firstErr
	}
	return perSecond(total, elapsed), nil
}

// write appends perCall events at a time until the deadline and returns how
// many events were acknowledged.
func (w appendWorkload) write(ctx context.Context, store eventstore.Store, source workload.Batch, deadline time.Time) (int, error) {
	sw := newStreamWriter(store, source)
	written := 0
	for written == 0 || time.Now().Before(deadline) {
		if err := sw.append(ctx, w.perCall); err != nil {
			return written, err
		}
		written += w.perCall
	}
	return written, nil
}

// streamWriter appends the events of one history stream to the store over
// and over, each append encoded with the domain codec and carrying the
// stream's expected revision, as the command layer's appends do.
type streamWriter struct {
	store    eventstore.Store
	source   workload.Batch
	expected eventstore.ExpectedRevision
	next     int // index into source.Events, cycling
	events   []domain.Event
	buf      []eventstore.EventData
}

func newStreamWriter(store eventstore.Store, source workload.Batch) *streamWriter {
	return &streamWriter{store: store, source: source, expected: eventstore.NoStream}
}

// append appends the next n events of the stream in one call.
func (w *streamWriter) append(ctx context.Context, n int) error {
	w.events = w.events[:0]
	for range n {
		w.events = append(w.events, w.source.Events[w.next%len(w.source.Events)])
		w.next++
	}
	var err error
	if w.buf, err = encodeEvents(w.buf[:0], w.events); err != nil {
		return err
	}
	res, err := w.store.Append(ctx, w.source.Stream, w.expected, w.buf...)
	if err != nil {
		return fmt.Errorf("append %d events: %w", n, err)
	}
	w.expected = eventstore.Exact(res.NextExpectedRevision)
	return nil
}
