package esdb_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/esdb"
	"github.com/continuum-care/continuum/eventstore/memstore"
)

// hangGuard turns a hang into a failure. It bounds waits for things that
// take well under a second when the adapter works (a resume after a restart
// includes one failed rediscovery of about a second); it asserts no latency.
const hangGuard = 30 * time.Second

// fastResume makes resumes quick so the tests spend little time waiting.
var fastResume = esdb.WithResumeBackoff(10*time.Millisecond, 200*time.Millisecond)

// resumeFailed is what the adapter logs when an attempt to resume a dropped
// subscription fails.
const resumeFailed = "esdb: resuming a subscription failed; retrying"

// logCounter is a slog.Handler counting records by message, so that a test
// can wait for the adapter to report what it is doing.
type logCounter struct {
	mu      sync.Mutex
	counts  map[string]int
	changed chan struct{}
}

func newLogCounter() *logCounter {
	return &logCounter{counts: make(map[string]int), changed: make(chan struct{}, 1)}
}

func (h *logCounter) Enabled(context.Context, slog.Level) bool { return true }

func (h *logCounter) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.counts[r.Message]++
	h.mu.Unlock()
	select {
	case h.changed <- struct{}{}:
	default:
	}
	return nil
}

func (h *logCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logCounter) WithGroup(string) slog.Handler      { return h }

// await waits until message was logged n times.
func (h *logCounter) await(t *testing.T, message string, n int) {
	t.Helper()
	deadline := time.After(hangGuard)
	for {
		h.mu.Lock()
		got := h.counts[message]
		h.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-h.changed:
		case <-deadline:
			t.Fatalf("%q logged %d times within %s, want %d", message, got, hangGuard, n)
		}
	}
}

// event returns a new event of stream number i, its payload naming it.
func event(i int) eventstore.EventData {
	id := uuid.New()
	return eventstore.EventData{
		ID:       id,
		Type:     "AttendanceRecorded",
		Data:     fmt.Appendf(nil, `{"n":%d}`, i),
		Metadata: fmt.Appendf(nil, `{"correlationId":%q}`, id),
	}
}

// collector reads a subscription on its own goroutine and keeps what it
// received, so a test can wait for a count without blocking on Recv.
type collector struct {
	mu       sync.Mutex
	events   []eventstore.RecordedEvent
	caughtUp int
	err      error
	changed  chan struct{}
}

func collect(t *testing.T, sub eventstore.Subscription, keep func(*eventstore.RecordedEvent) bool) *collector {
	t.Helper()
	c := &collector{changed: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			msg, err := sub.Recv()
			c.mu.Lock()
			switch {
			case err != nil:
				c.err = err
			case msg.CaughtUp:
				c.caughtUp++
			case msg.Event != nil && keep(msg.Event):
				c.events = append(c.events, *msg.Event)
			}
			c.mu.Unlock()
			select {
			case c.changed <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = sub.Close()
		<-done
	})
	return c
}

// await waits until the collector holds n events, failing on an error.
func (c *collector) await(t *testing.T, n int) {
	t.Helper()
	c.waitFor(t, fmt.Sprintf("%d events", n), func() bool { return len(c.events) >= n })
}

// awaitCaughtUp waits until the subscription has reported caught-up.
func (c *collector) awaitCaughtUp(t *testing.T) {
	t.Helper()
	c.waitFor(t, "caught-up", func() bool { return c.caughtUp > 0 })
}

// waitFor waits until done, evaluated under the collector's lock, holds;
// it fails on an error.
func (c *collector) waitFor(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.After(hangGuard)
	for {
		c.mu.Lock()
		ok, got, err := done(), len(c.events), c.err
		c.mu.Unlock()
		if ok {
			return
		}
		if err != nil {
			t.Fatalf("subscription ended after %d events, waiting for %s: %v", got, what, err)
		}
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("no %s within %s (%d events so far)", what, hangGuard, got)
		}
	}
}

// awaitEnd waits until the subscription ends and returns its error.
func (c *collector) awaitEnd(t *testing.T) error {
	t.Helper()
	deadline := time.After(hangGuard)
	for {
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return err
		}
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("subscription did not end within %s", hangGuard)
		}
	}
}

func (c *collector) snapshot() ([]eventstore.RecordedEvent, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]eventstore.RecordedEvent(nil), c.events...), c.caughtUp, c.err
}

// appendEach appends events one per append to backing, spreading them over
// streams, as the application would between a server stop and restart.
func appendEach(t *testing.T, backing eventstore.Store, streams []string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		stream := streams[i%len(streams)]
		if _, err := backing.Append(context.Background(), stream, eventstore.Any, event(i)); err != nil {
			t.Errorf("append %d to %s: %v", i, stream, err)
			return
		}
	}
}

func TestSubscriptionResumesAcrossServerRestart(t *testing.T) {
	tests := []struct {
		name      string
		streams   []string
		subscribe func(ctx context.Context, s eventstore.Store) (eventstore.Subscription, error)
		// written reads back, from the backing store, what the subscriber
		// must have received, in order.
		written func(t *testing.T, backing eventstore.Store) []eventstore.RecordedEvent
	}{
		{
			name:    "$all, filtered",
			streams: []string{"fault-a", "fault-b", "fault-c"},
			subscribe: func(ctx context.Context, s eventstore.Store) (eventstore.Subscription, error) {
				return s.SubscribeAll(ctx, eventstore.SubscribeAllOptions{
					From:   eventstore.Start,
					Filter: &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{"fault-"}},
				})
			},
			written: func(t *testing.T, backing eventstore.Store) []eventstore.RecordedEvent {
				events, err := backing.ReadAll(t.Context(), eventstore.ReadAllOptions{
					Filter: &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{"fault-"}},
				})
				if err != nil {
					t.Fatalf("read back: %v", err)
				}
				return events
			},
		},
		{
			name:    "stream",
			streams: []string{"fault-a"},
			subscribe: func(ctx context.Context, s eventstore.Store) (eventstore.Subscription, error) {
				return s.SubscribeStream(ctx, "fault-a", eventstore.SubscribeStreamOptions{From: eventstore.StreamStart})
			},
			written: func(t *testing.T, backing eventstore.Store) []eventstore.RecordedEvent {
				events, err := backing.ReadStream(t.Context(), "fault-a", eventstore.ReadStreamOptions{})
				if err != nil {
					t.Fatalf("read back: %v", err)
				}
				return events
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const past, perPhase = 20, 60
			backing := memstore.New()
			t.Cleanup(func() { _ = backing.Close() })
			// Noise in $all that the filter must keep out, before and after.
			appendEach(t, backing, []string{"other-1"}, 0, 5)
			appendEach(t, backing, tt.streams, 0, past)

			srv := serve(t, backing, "127.0.0.1:0")
			logs := newLogCounter()
			store := openStore(t, srv.connectionString(), fastResume, esdb.WithLogger(slog.New(logs)))
			sub, err := tt.subscribe(t.Context(), store)
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			got := collect(t, sub, func(e *eventstore.RecordedEvent) bool { return e.Stream != "other-1" })

			// Live appends while the subscription catches up.
			writer := make(chan struct{})
			go func() {
				defer close(writer)
				appendEach(t, backing, tt.streams, past, perPhase)
				appendEach(t, backing, []string{"other-1"}, 5, 5)
			}()
			got.await(t, past+perPhase/2)

			// Stop the server mid-stream; appends go on while it is down,
			// and it stays down until a resume has failed (a refused
			// connection, then a failed rediscovery on a fresh client).
			srv.stop()
			<-writer
			appendEach(t, backing, tt.streams, past+perPhase, perPhase)
			logs.await(t, resumeFailed, 1)

			// Restart on the same port over the same store, appending while
			// the subscription resumes.
			serve(t, backing, srv.addr)
			appendEach(t, backing, tt.streams, past+2*perPhase, perPhase)

			// A second caught-up would come right after the first; the
			// subscriber sees it before a later event.
			total := past + 3*perPhase
			got.awaitCaughtUp(t)
			appendEach(t, backing, tt.streams, total, 1)
			total++
			got.await(t, total)
			events, caughtUp, err := got.snapshot()
			if err != nil {
				t.Fatalf("subscription ended: %v", err)
			}
			want := tt.written(t, backing)
			if len(want) != total {
				t.Fatalf("backing store holds %d events, want %d", len(want), total)
			}
			if len(events) != len(want) {
				t.Fatalf("received %d events, want %d", len(events), len(want))
			}
			for i := range want {
				if events[i].ID != want[i].ID || events[i].Position != want[i].Position || events[i].Revision != want[i].Revision {
					t.Fatalf("event %d is %s at %s (revision %d), want %s at %s (revision %d)", i,
						events[i].ID, events[i].Position, events[i].Revision, want[i].ID, want[i].Position, want[i].Revision)
				}
			}
			if caughtUp != 1 {
				t.Fatalf("caught-up delivered %d times, want once", caughtUp)
			}
		})
	}
}

// freeAddress returns a loopback address nothing listens on.
func freeAddress(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

func TestCallsWithoutAServerAreUnavailable(t *testing.T) {
	// One discovery attempt: the default ten only make each call slower.
	store := openStore(t, "esdb://"+freeAddress(t)+"?tls=false&maxDiscoverAttempts=1&discoveryInterval=10")
	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"append", func(ctx context.Context) error {
			_, err := store.Append(ctx, "nowhere-1", eventstore.Any, event(0))
			return err
		}},
		{"read stream", func(ctx context.Context) error {
			_, err := store.ReadStream(ctx, "nowhere-1", eventstore.ReadStreamOptions{})
			return err
		}},
		{"read $all", func(ctx context.Context) error {
			_, err := store.ReadAll(ctx, eventstore.ReadAllOptions{})
			return err
		}},
		{"subscribe", func(ctx context.Context) error {
			_, err := store.SubscribeStream(ctx, "nowhere-1", eventstore.SubscribeStreamOptions{})
			return err
		}},
		{"delete", func(ctx context.Context) error { return store.Delete(ctx, "nowhere-1", eventstore.Any) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(t.Context()); !errors.Is(err, eventstore.ErrUnavailable) {
				t.Fatalf("error %v, want ErrUnavailable", err)
			}
		})
	}
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
		defer cancel()
		_, err := store.Append(ctx, "nowhere-1", eventstore.Any, event(0))
		if !errors.Is(err, eventstore.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want ErrUnavailable and context.DeadlineExceeded", err)
		}
	})
}

func TestCallsRecoverAfterAnOutage(t *testing.T) {
	backing := memstore.New()
	t.Cleanup(func() { _ = backing.Close() })
	srv := serve(t, backing, "127.0.0.1:0")
	store := openStore(t, srv.connectionString())
	if _, err := store.Append(t.Context(), "outage-1", eventstore.NoStream, event(0)); err != nil {
		t.Fatalf("append before the outage: %v", err)
	}

	srv.stop()
	// Concurrent calls during the outage: the first meets the dead
	// connection, the others a failing rediscovery. None may hang.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, err := store.Append(context.Background(), "outage-1", eventstore.Any, event(i+1))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("append during the outage: %v, want ErrUnavailable", err)
		}
	}

	serve(t, backing, srv.addr)
	if _, err := store.Append(t.Context(), "outage-1", eventstore.Exact(0), event(9)); err != nil {
		t.Fatalf("first append after the outage: %v", err)
	}
	events, err := store.ReadStream(t.Context(), "outage-1", eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatalf("read after the outage: %v", err)
	}
	if len(events) != 2 {
		t.Fatalf("stream holds %d events, want 2 (none written during the outage)", len(events))
	}
}

func TestCloseDuringAResumeEndsRecv(t *testing.T) {
	backing := memstore.New()
	t.Cleanup(func() { _ = backing.Close() })
	srv := serve(t, backing, "127.0.0.1:0")
	logs := newLogCounter()
	store, err := esdb.Open(srv.connectionString(), fastResume, esdb.WithLogger(slog.New(logs)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	subs := make([]*collector, 3)
	for i := range subs {
		sub, err := store.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{From: eventstore.Start})
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		subs[i] = collect(t, sub, func(*eventstore.RecordedEvent) bool { return true })
	}
	appendEach(t, backing, []string{"close-1"}, 0, 3)
	for _, c := range subs {
		c.await(t, 3)
	}

	// With the server gone the subscriptions keep trying to resume, all
	// at once, until the store closes.
	srv.stop()
	logs.await(t, resumeFailed, len(subs))
	if err := store.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i, c := range subs {
		if err := c.awaitEnd(t); !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("subscription %d ended with %v, want ErrClosed", i, err)
		}
	}
}

func TestTombstoneDuringAnOutageEndsTheSubscription(t *testing.T) {
	backing := memstore.New()
	t.Cleanup(func() { _ = backing.Close() })
	srv := serve(t, backing, "127.0.0.1:0")
	store := openStore(t, srv.connectionString(), fastResume)
	appendEach(t, backing, []string{"doomed-1"}, 0, 2)
	sub, err := store.SubscribeStream(t.Context(), "doomed-1", eventstore.SubscribeStreamOptions{From: eventstore.StreamStart})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	got := collect(t, sub, func(*eventstore.RecordedEvent) bool { return true })
	got.await(t, 2)

	srv.stop()
	if err := backing.Tombstone(t.Context(), "doomed-1", eventstore.Any); err != nil {
		t.Fatalf("tombstone: %v", err)
	}
	serve(t, backing, srv.addr)
	if err := got.awaitEnd(t); !errors.Is(err, eventstore.ErrStreamDeleted) {
		t.Fatalf("subscription ended with %v, want ErrStreamDeleted", err)
	}
}
