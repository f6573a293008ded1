package bolt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
)

// gateObserver holds the writer inside its first commit's report until
// released, so the test can queue requests that must all land in the next
// batch, and records every commit.
type gateObserver struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once

	mu      sync.Mutex
	commits [][2]int // events, requests
}

func (g *gateObserver) Appended([]string, time.Duration) {}
func (g *gateObserver) SubscriberFellBehind()            {}
func (g *gateObserver) Committed(events, requests int, _ time.Duration) {
	g.mu.Lock()
	g.commits = append(g.commits, [2]int{events, requests})
	g.mu.Unlock()
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
}

func events(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = eventstore.EventData{ID: uuid.New(), Type: "E", Data: []byte(`{}`)}
	}
	return out
}

// TestBatchValidatesInOrder queues appends that the writer takes into one
// transaction, and checks that each is validated against the ones before
// it in the same batch, and that a refused one does not disturb the others.
func TestBatchValidatesInOrder(t *testing.T) {
	gate := &gateObserver{entered: make(chan struct{}), release: make(chan struct{})}
	s, err := Open(t.TempDir(), Options{Observer: gate})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()

	go func() { _, _ = s.Append(ctx, "gate", eventstore.NoStream, events(1)...) }()
	<-gate.entered

	x := events(2)
	type call struct {
		name   string
		stream string
		exp    eventstore.ExpectedRevision
		events []eventstore.EventData
		delete bool
	}
	calls := []call{
		{name: "create x", stream: "x", exp: eventstore.NoStream, events: x},
		{name: "extend x, relying on the create in the same batch", stream: "x", exp: eventstore.Exact(1), events: events(1)},
		{name: "stale revision of x", stream: "x", exp: eventstore.Exact(1), events: events(1)},
		{name: "retry of the create", stream: "x", exp: eventstore.Any, events: x},
		{name: "create y", stream: "y", exp: eventstore.NoStream, events: events(1)},
		{name: "delete y, created in the same batch", stream: "y", exp: eventstore.Exact(0), delete: true},
		{name: "recreate y", stream: "y", exp: eventstore.NoStream, events: events(1)},
	}
	type outcome struct {
		res eventstore.AppendResult
		err error
	}
	outcomes := make([]outcome, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			if c.delete {
				outcomes[i].err = s.Delete(ctx, c.stream, c.exp)
				return
			}
			outcomes[i].res, outcomes[i].err = s.Append(ctx, c.stream, c.exp, c.events...)
		})
		// Queue them one at a time so their order in the batch is known.
		for len(s.requests) < i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	close(gate.release)
	wg.Wait()

	for i, o := range outcomes {
		name := calls[i].name
		switch i {
		case 2:
			var wev *eventstore.WrongExpectedVersionError
			if !errors.As(o.err, &wev) || wev.Actual != 2 {
				t.Fatalf("%s: %v, want wrong expected version with actual 2", name, o.err)
			}
		case 3:
			if o.err != nil || o.res.NextExpectedRevision != 1 {
				t.Fatalf("%s: %+v, %v; want idempotent success at revision 1", name, o.res, o.err)
			}
		case 6:
			if o.err != nil || o.res.NextExpectedRevision != 1 {
				t.Fatalf("%s: %+v, %v; want revision 1", name, o.res, o.err)
			}
		default:
			if o.err != nil {
				t.Fatalf("%s: %v", name, o.err)
			}
		}
	}
	gate.mu.Lock()
	defer gate.mu.Unlock()
	// The gate's own commit, then one commit of everything queued behind it:
	// events of x (2+1), y (1) and y again (1); five writes.
	if len(gate.commits) != 2 || gate.commits[1] != [2]int{5, 5} {
		t.Fatalf("commits %v, want the gate's and then one of 5 events in 5 writes", gate.commits)
	}
	xs, err := s.ReadStream(ctx, "x", eventstore.ReadStreamOptions{})
	if err != nil || len(xs) != 3 || xs[0].ID != x[0].ID {
		t.Fatalf("x holds %d events (%v), want the create and one extension", len(xs), err)
	}
}

// TestAbandonedRequestIsSkipped checks that a request whose caller gave up
// before the writer reached it writes nothing.
func TestAbandonedRequestIsSkipped(t *testing.T) {
	gate := &gateObserver{entered: make(chan struct{}), release: make(chan struct{})}
	s, err := Open(t.TempDir(), Options{Observer: gate})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	go func() { _, _ = s.Append(t.Context(), "gate", eventstore.NoStream, events(1)...) }()
	<-gate.entered

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "abandoned", eventstore.Any, events(1)...)
		done <- err
	}()
	for len(s.requests) < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned append: %v, want context.Canceled", err)
	}
	close(gate.release)
	// A later append through the same writer proves the batch was processed.
	if _, err := s.Append(t.Context(), "after", eventstore.Any, events(1)...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if _, err := s.ReadStream(t.Context(), "abandoned", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("abandoned stream: %v, want ErrStreamNotFound", err)
	}
}

// TestAppendManyAnswersEachAppendAsAppendWould hands the store, in one call,
// appends that open streams, continue one opened earlier in the same call,
// retry one already written, expect the wrong revision, and carry an event
// without an ID, and checks each answer and what the store holds.
func TestAppendManyAnswersEachAppendAsAppendWould(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	written := events(2)
	if _, err := s.Append(ctx, "done", eventstore.NoStream, written...); err != nil {
		t.Fatal(err)
	}
	a, b := events(2), events(1)
	out := s.AppendMany(ctx, []eventstore.AppendRequest{
		{Stream: "a", Expected: eventstore.NoStream, Events: a},
		{Stream: "done", Expected: eventstore.NoStream, Events: written},                     // a retry
		{Stream: "a", Expected: eventstore.Exact(1), Events: b},                              // after the first
		{Stream: "b", Expected: eventstore.StreamExists, Events: events(1)},                  // no such stream
		{Stream: "c", Expected: eventstore.Any, Events: []eventstore.EventData{{Type: "E"}}}, // no ID
	})
	if len(out) != 5 {
		t.Fatalf("%d outcomes, want 5", len(out))
	}
	if o := out[0]; o.Err != nil || o.Result.NextExpectedRevision != 1 || o.Result.Replayed {
		t.Errorf("opening a: %+v", o)
	}
	if o := out[1]; o.Err != nil || !o.Result.Replayed || o.Result.NextExpectedRevision != 1 {
		t.Errorf("the retry: %+v, want it replayed", o)
	}
	if o := out[2]; o.Err != nil || o.Result.NextExpectedRevision != 2 || o.Result.Position.Commit <= out[0].Result.Position.Commit {
		t.Errorf("continuing a: %+v after %+v", o, out[0])
	}
	if o := out[3]; !errors.Is(o.Err, eventstore.ErrWrongExpectedVersion) {
		t.Errorf("b: %+v, want a wrong expected version", o)
	}
	if o := out[4]; !errors.Is(o.Err, eventstore.ErrInvalidArgument) {
		t.Errorf("c: %+v, want an invalid argument", o)
	}
	all, err := s.ReadAll(ctx, eventstore.ReadAllOptions{From: eventstore.Start})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range all {
		got = append(got, e.Stream)
	}
	if want := []string{"done", "done", "a", "a", "a"}; !slices.Equal(got, want) {
		t.Errorf("streams of $all %v, want %v", got, want)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for i, o := range s.AppendMany(cancelled, []eventstore.AppendRequest{{Stream: "d", Expected: eventstore.Any, Events: events(1)}, {Stream: "e", Expected: eventstore.Any, Events: events(1)}}) {
		if !errors.Is(o.Err, context.Canceled) {
			t.Errorf("append %d with a cancelled context: %+v", i, o)
		}
	}
	s.Close()
	for i, o := range s.AppendMany(ctx, []eventstore.AppendRequest{{Stream: "d", Expected: eventstore.Any, Events: events(1)}}) {
		if !errors.Is(o.Err, eventstore.ErrClosed) {
			t.Errorf("append %d to a closed store: %+v", i, o)
		}
	}
}

// TestAppendManyKeepsTransactionsBounded hands the store more events in
// one call than a batch takes: they are committed in several transactions,
// none larger than two batches' worth.
func TestAppendManyKeepsTransactionsBounded(t *testing.T) {
	release := make(chan struct{})
	close(release)
	gate := &gateObserver{entered: make(chan struct{}), release: release}
	s, err := Open(t.TempDir(), Options{Observer: gate})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const perAppend = 1000
	appends := make([]eventstore.AppendRequest, 2*maxBatchEvents/perAppend+10)
	for i := range appends {
		appends[i] = eventstore.AppendRequest{Stream: fmt.Sprintf("s-%d", i), Expected: eventstore.NoStream, Events: events(perAppend)}
	}
	for i, o := range s.AppendMany(t.Context(), appends) {
		if o.Err != nil || o.Result.NextExpectedRevision != perAppend-1 {
			t.Fatalf("append %d: %+v", i, o)
		}
	}
	gate.mu.Lock()
	defer gate.mu.Unlock()
	total := 0
	for _, c := range gate.commits {
		total += c[0]
		if c[0] > 2*maxBatchEvents {
			t.Errorf("a commit of %d events, over twice the batch limit of %d", c[0], maxBatchEvents)
		}
	}
	if total != len(appends)*perAppend || len(gate.commits) < 2 {
		t.Errorf("%d commits of %d events in all, want several of %d", len(gate.commits), total, len(appends)*perAppend)
	}
}
