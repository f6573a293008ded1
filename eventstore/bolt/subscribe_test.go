package bolt_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// countingObserver counts what the store reports.
type countingObserver struct {
	appended   atomic.Int64
	events     atomic.Int64
	commits    atomic.Int64
	fellBehind atomic.Int64
}

func (o *countingObserver) Appended(types []string, _ time.Duration) {
	o.appended.Add(1)
}

func (o *countingObserver) Committed(events, _ int, _ time.Duration) {
	o.commits.Add(1)
	o.events.Add(int64(events))
}

func (o *countingObserver) SubscriberFellBehind() { o.fellBehind.Add(1) }

// recv reads one message, failing the test if none comes in time.
func recv(t *testing.T, sub eventstore.Subscription) eventstore.Message {
	t.Helper()
	type result struct {
		m   eventstore.Message
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := sub.Recv()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Recv: %v", r.err)
		}
		return r.m
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
		return eventstore.Message{}
	}
}

// recvEvents reads n events, skipping checkpoints, and fails on caught-up unless allowed.
func recvEvents(t *testing.T, sub eventstore.Subscription, n int, caughtUpAllowed bool) []uuid.UUID {
	t.Helper()
	var out []uuid.UUID
	for len(out) < n {
		m := recv(t, sub)
		switch {
		case m.CaughtUp && !caughtUpAllowed:
			t.Fatalf("caught-up after %d of %d events", len(out), n)
		case m.Event != nil:
			out = append(out, m.Event.ID)
		}
	}
	return out
}

func requireCaughtUp(t *testing.T, sub eventstore.Subscription) {
	t.Helper()
	if m := recv(t, sub); !m.CaughtUp {
		t.Fatalf("message %+v, want caught-up", m)
	}
}

// TestSlowSubscriberFallsBackAndRejoins overflows a live subscriber's
// buffer: it must read the missed events from disk, in order, without
// loss or repeats, and then receive live events again.
func TestSlowSubscriberFallsBackAndRejoins(t *testing.T) {
	for _, kind := range []string{"$all", "stream"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			observer := &countingObserver{}
			s := openStore(t, t.TempDir(), bolt.Options{SubscriptionBuffer: 8, Observer: observer})
			var sub eventstore.Subscription
			var err error
			if kind == "$all" {
				sub, err = s.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{})
			} else {
				sub, err = s.SubscribeStream(t.Context(), "s", eventstore.SubscribeStreamOptions{})
			}
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			defer sub.Close()
			requireCaughtUp(t, sub)

			var want []uuid.UUID
			for i := range 50 {
				e := newEvents(1+i%3, "E")
				mustAppend(t, s, "s", eventstore.Any, e...)
				want = append(want, ids(e)...)
			}
			if observer.fellBehind.Load() == 0 {
				t.Fatal("a subscriber buffering 8 events did not fall behind 100 events")
			}
			requireSameIDs(t, recvEvents(t, sub, len(want), false), want)

			live := newEvents(2, "Live")
			mustAppend(t, s, "s", eventstore.Any, live...)
			requireSameIDs(t, recvEvents(t, sub, 2, false), ids(live))
		})
	}
}

// TestSubscriptionsUnderLoad follows $all and streams with tiny buffers
// while several writers append, so subscribers keep overflowing, reading from
// disk and rejoining; each must still see exactly the log.
func TestSubscriptionsUnderLoad(t *testing.T) {
	s := openStore(t, t.TempDir(), bolt.Options{SubscriptionBuffer: 4})
	const writers, appends = 4, 60
	streams := []string{"a", "b", "c", "d"}
	subs := map[string]eventstore.Subscription{}
	var err error
	if subs["$all"], err = s.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{}); err != nil {
		t.Fatalf("SubscribeAll: %v", err)
	}
	for _, stream := range streams {
		if subs[stream], err = s.SubscribeStream(t.Context(), stream, eventstore.SubscribeStreamOptions{}); err != nil {
			t.Fatalf("SubscribeStream: %v", err)
		}
	}
	for _, sub := range subs {
		defer sub.Close()
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range appends {
				if _, err := s.Append(t.Context(), streams[(w+i)%len(streams)], eventstore.Any, newEvents(1+i%4, "E")...); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
			}
		})
	}
	got := map[string][]uuid.UUID{}
	var readers sync.WaitGroup
	var mu sync.Mutex
	total := writers * appends * 5 / 2 // 1+2+3+4 events per 4 appends
	for name, sub := range subs {
		readers.Go(func() {
			n := total
			if name != "$all" {
				n = total / len(streams)
			}
			received := recvEvents(t, sub, n, true)
			mu.Lock()
			got[name] = received
			mu.Unlock()
		})
	}
	wg.Wait()
	readers.Wait()
	requireSameIDs(t, got["$all"], allIDs(readAll(t, s)))
	for _, stream := range streams {
		requireSameIDs(t, got[stream], readIDs(t, s, stream))
	}
}

func TestFilteredSubscriptionCheckpoints(t *testing.T) {
	s := openStore(t, t.TempDir(), bolt.Options{})
	filter := &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{"keep-"}}
	writeSkipped := func(n int) {
		t.Helper()
		for range n {
			mustAppend(t, s, "skip", eventstore.Any, newEvents(1, "E")...)
		}
	}
	writeSkipped(25)
	kept := newEvents(1, "E")
	mustAppend(t, s, "keep-1", eventstore.NoStream, kept...)
	all := readAll(t, s)

	sub, err := s.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{Filter: filter, CheckpointInterval: 10})
	if err != nil {
		t.Fatalf("SubscribeAll: %v", err)
	}
	defer sub.Close()
	// Past: a checkpoint after the 10th and the 20th skipped event, then the kept one.
	for _, want := range []eventstore.Position{all[9].Position, all[19].Position} {
		if m := recv(t, sub); m.Checkpoint == nil || *m.Checkpoint != want {
			t.Fatalf("message %+v, want checkpoint at %s", m, want)
		}
	}
	if m := recv(t, sub); m.Event == nil || m.Event.ID != kept[0].ID {
		t.Fatalf("message %+v, want the kept event", m)
	}
	requireCaughtUp(t, sub)

	// Live: the count starts again after the kept event.
	writeSkipped(12)
	all = readAll(t, s)
	if m := recv(t, sub); m.Checkpoint == nil || *m.Checkpoint != all[len(all)-3].Position {
		t.Fatalf("message %+v, want a live checkpoint at %s", m, all[len(all)-3].Position)
	}
	live := newEvents(1, "E")
	mustAppend(t, s, "keep-2", eventstore.NoStream, live...)
	if m := recv(t, sub); m.Event == nil || m.Event.ID != live[0].ID {
		t.Fatalf("message %+v, want the live kept event", m)
	}
}

func TestLiveTombstoneEndsStreamSubscription(t *testing.T) {
	s := openStore(t, t.TempDir(), bolt.Options{})
	mustAppend(t, s, "s", eventstore.NoStream, newEvents(1, "E")...)
	sub, err := s.SubscribeStream(t.Context(), "s", eventstore.SubscribeStreamOptions{})
	if err != nil {
		t.Fatalf("SubscribeStream: %v", err)
	}
	defer sub.Close()
	recvEvents(t, sub, 1, false)
	requireCaughtUp(t, sub)
	last := newEvents(2, "E")
	mustAppend(t, s, "s", eventstore.Exact(0), last...)
	if err := s.Tombstone(t.Context(), "s", eventstore.Exact(2)); err != nil {
		t.Fatalf("Tombstone: %v", err)
	}
	// Events written before the tombstone still arrive, then the end.
	requireSameIDs(t, recvEvents(t, sub, 2, false), ids(last))
	if _, err := sub.Recv(); !errors.Is(err, eventstore.ErrStreamDeleted) {
		t.Fatalf("Recv after tombstone: %v, want ErrStreamDeleted", err)
	}
}

func TestSubscriptionOfSoftDeletedStream(t *testing.T) {
	s := openStore(t, t.TempDir(), bolt.Options{})
	mustAppend(t, s, "s", eventstore.NoStream, newEvents(2, "Old")...)
	if err := s.Delete(t.Context(), "s", eventstore.Any); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	sub, err := s.SubscribeStream(t.Context(), "s", eventstore.SubscribeStreamOptions{})
	if err != nil {
		t.Fatalf("SubscribeStream: %v", err)
	}
	defer sub.Close()
	requireCaughtUp(t, sub)
	recreated := newEvents(1, "New")
	mustAppend(t, s, "s", eventstore.NoStream, recreated...)
	m := recv(t, sub)
	if m.Event == nil || m.Event.ID != recreated[0].ID || m.Event.Revision != 2 {
		t.Fatalf("message %+v, want the recreating event at revision 2", m)
	}
	// A new subscriber from the start sees only what is visible.
	again, err := s.SubscribeStream(t.Context(), "s", eventstore.SubscribeStreamOptions{})
	if err != nil {
		t.Fatalf("SubscribeStream: %v", err)
	}
	defer again.Close()
	requireSameIDs(t, recvEvents(t, again, 1, false), ids(recreated))
	requireCaughtUp(t, again)
}

func TestLiveEventsAreCopies(t *testing.T) {
	s := openStore(t, t.TempDir(), bolt.Options{})
	subs := make([]eventstore.Subscription, 2)
	for i := range subs {
		sub, err := s.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{})
		if err != nil {
			t.Fatalf("SubscribeAll: %v", err)
		}
		defer sub.Close()
		requireCaughtUp(t, sub)
		subs[i] = sub
	}
	e := newEvents(1, "E")
	want := string(e[0].Data)
	mustAppend(t, s, "s", eventstore.Any, e...)
	first := recv(t, subs[0])
	first.Event.Data[0] = 'X'
	if second := recv(t, subs[1]); string(second.Event.Data) != want {
		t.Fatalf("second subscriber sees %q after the first changed its copy, want %q", second.Event.Data, want)
	}
	if got := readAll(t, s); string(got[0].Data) != want {
		t.Fatalf("store holds %q, want %q", got[0].Data, want)
	}
}

func TestObserverCounts(t *testing.T) {
	observer := &countingObserver{}
	s := openStore(t, t.TempDir(), bolt.Options{Observer: observer})
	e := newEvents(3, "E")
	mustAppend(t, s, "s", eventstore.NoStream, e...)
	mustAppend(t, s, "s", eventstore.NoStream, e...) // idempotent: writes nothing
	if _, err := s.Append(t.Context(), "s", eventstore.Exact(7), newEvents(1, "E")...); err == nil {
		t.Fatal("append at a wrong revision succeeded")
	}
	if got := observer.appended.Load(); got != 1 {
		t.Errorf("Appended called %d times, want 1", got)
	}
	if got := observer.events.Load(); got != 3 {
		t.Errorf("Committed reported %d events, want 3", got)
	}
}

func TestContextEndsSubscriptionDuringCatchUp(t *testing.T) {
	s := openStore(t, t.TempDir(), bolt.Options{})
	mustAppend(t, s, "s", eventstore.NoStream, newEvents(3, "E")...)
	ctx, cancel := context.WithCancel(t.Context())
	sub, err := s.SubscribeAll(ctx, eventstore.SubscribeAllOptions{})
	if err != nil {
		t.Fatalf("SubscribeAll: %v", err)
	}
	defer sub.Close()
	recvEvents(t, sub, 1, false)
	cancel()
	for {
		_, err := sub.Recv()
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Recv after cancel: %v, want context.Canceled", err)
			}
			return
		}
	}
}
