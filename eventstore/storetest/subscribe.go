package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/google/uuid"
)

// subscriber opens one kind of subscription to the events of stream, so the
// rules both kinds share are tested once for each.
type subscriber struct {
	name string
	open func(ctx context.Context, f *fixture, stream string) (eventstore.Subscription, error)
}

var subscribers = []subscriber{
	{name: "stream", open: func(ctx context.Context, f *fixture, stream string) (eventstore.Subscription, error) {
		return f.store.SubscribeStream(ctx, stream, eventstore.SubscribeStreamOptions{From: eventstore.StreamStart})
	}},
	{name: "$all", open: func(ctx context.Context, f *fixture, stream string) (eventstore.Subscription, error) {
		return f.store.SubscribeAll(ctx, eventstore.SubscribeAllOptions{From: eventstore.Start, Filter: f.ownFilter()})
	}},
}

// subscribe opens a subscription and follows it; it fails the test on error.
func (f *fixture) subscribe(ctx context.Context, sub subscriber, stream string) *feed {
	f.t.Helper()
	s, err := sub.open(ctx, f, stream)
	if err != nil {
		f.t.Fatalf("subscribe to %s: %v", stream, err)
	}
	return follow(f.t, s)
}

// testSubscriptionLifecycle checks the rules both kinds of subscription share.
func testSubscriptionLifecycle(t *testing.T, h Harness) {
	for _, sub := range subscribers {
		t.Run(sub.name, func(t *testing.T) {
			t.Parallel()
			t.Run("past events, one caught-up, then live events in order", func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				past := newEvents(3, "Past")
				f.append(stream, eventstore.NoStream, past...)
				feed := f.subscribe(t.Context(), sub, stream)
				requireEvents(t, feed.events(len(past), inStream(stream), false), stream, 0, past)
				feed.awaitCaughtUp(inStream(stream))
				live := newEvents(4, "Live")
				f.append(stream, eventstore.Exact(2), live[:1]...)
				f.append(stream, eventstore.Exact(3), live[1:]...)
				requireEvents(t, feed.events(len(live), inStream(stream), false), stream, 3, live)
			})
			t.Run("stream written after subscribing", func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("later")
				feed := f.subscribe(t.Context(), sub, stream)
				feed.awaitCaughtUp(inStream(stream))
				events := newEvents(2, "E")
				f.append(stream, eventstore.NoStream, events...)
				requireEvents(t, feed.events(2, inStream(stream), false), stream, 0, events)
			})
			t.Run("Close ends Recv with ErrClosed", func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				feed := f.subscribe(t.Context(), sub, stream)
				feed.awaitCaughtUp(inStream(stream))
				if err := feed.sub.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				requireErrorIs(t, feed.end(inStream(stream)), eventstore.ErrClosed)
			})
			t.Run("context canceled before subscribing", func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				s, err := sub.open(ctx, f, f.stream("s"))
				if err == nil {
					// The context's error may come with the first Recv instead.
					err = follow(t, s).end(anyEvent)
				}
				requireErrorIs(t, err, context.Canceled)
			})
			t.Run("context cancel ends Recv with the context's error", func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				feed := f.subscribe(ctx, sub, stream)
				feed.awaitCaughtUp(inStream(stream))
				cancel()
				requireErrorIs(t, feed.end(inStream(stream)), context.Canceled)
			})
			t.Run("many subscribers see the same sequence", func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				const subscribers, appends, size = 4, 8, 3
				f.append(stream, eventstore.NoStream, newEvents(size, "E")...)
				feeds := make([]*feed, subscribers)
				for i := range feeds {
					feeds[i] = f.subscribe(t.Context(), sub, stream)
				}
				var wg sync.WaitGroup
				wg.Go(func() {
					for a := 1; a < appends; a++ {
						if _, err := f.store.Append(t.Context(), stream, eventstore.Exact(uint64(a*size-1)), newEvents(size, "E")...); err != nil {
							t.Errorf("Append: %v", err)
							return
						}
					}
				})
				got := make([][]eventstore.RecordedEvent, subscribers)
				for i, feed := range feeds {
					// Past and live events may straddle caught-up anywhere here.
					got[i] = feed.events(appends*size, inStream(stream), true)
				}
				wg.Wait()
				want := f.read(stream, eventstore.ReadStreamOptions{})
				for i := range got {
					requireIDs(t, got[i], recordedIDs(want)...)
				}
			})
		})
	}
}

func testSubscribeStream(t *testing.T, h Harness) {
	t.Run("From is exclusive", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name  string
			from  eventstore.StreamPosition
			first int // first revision delivered
		}{
			{name: "StreamStart delivers everything", from: eventstore.StreamStart, first: 0},
			{name: "revision 0", from: eventstore.At(0), first: 1},
			{name: "middle revision", from: eventstore.At(2), first: 3},
			{name: "last revision", from: eventstore.At(4), first: 5},
			{name: "StreamEnd", from: eventstore.StreamEnd, first: 5},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				events := newEvents(7, "E")
				f.append(stream, eventstore.NoStream, events[:5]...)
				sub, err := f.store.SubscribeStream(t.Context(), stream, eventstore.SubscribeStreamOptions{From: tc.from})
				if err != nil {
					t.Fatalf("SubscribeStream: %v", err)
				}
				feed := follow(t, sub)
				requireEvents(t, feed.events(5-tc.first, anyEvent, false), stream, uint64(tc.first), events[tc.first:5])
				feed.awaitCaughtUp(anyEvent)
				f.append(stream, eventstore.Exact(4), events[5:]...)
				requireEvents(t, feed.events(2, anyEvent, false), stream, 5, events[5:])
			})
		}
	})

	t.Run("only the subscribed stream is delivered", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream, other := f.stream("s"), f.stream("s-other")
		f.append(other, eventstore.NoStream, newEvents(2, "Other")...)
		sub, err := f.store.SubscribeStream(t.Context(), stream, eventstore.SubscribeStreamOptions{})
		if err != nil {
			t.Fatalf("SubscribeStream: %v", err)
		}
		feed := follow(t, sub)
		feed.awaitCaughtUp(anyEvent)
		f.append(other, eventstore.Any, newEvents(2, "Other")...)
		events := newEvents(1, "Mine")
		f.append(stream, eventstore.NoStream, events...)
		requireEvents(t, feed.events(1, anyEvent, false), stream, 0, events)
	})

	t.Run("tombstone ends the subscription with ErrStreamDeleted", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		f.append(stream, eventstore.NoStream, newEvents(1, "E")...)
		sub, err := f.store.SubscribeStream(t.Context(), stream, eventstore.SubscribeStreamOptions{From: eventstore.StreamEnd})
		if err != nil {
			t.Fatalf("SubscribeStream: %v", err)
		}
		feed := follow(t, sub)
		feed.awaitCaughtUp(anyEvent)
		if err := f.store.Tombstone(t.Context(), stream, eventstore.Exact(0)); err != nil {
			t.Fatalf("Tombstone: %v", err)
		}
		requireErrorIs(t, feed.end(anyEvent), eventstore.ErrStreamDeleted)
	})

	t.Run("subscribing to a tombstoned stream answers ErrStreamDeleted", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		f.append(stream, eventstore.NoStream, newEvents(2, "E")...)
		if err := f.store.Tombstone(t.Context(), stream, eventstore.Any); err != nil {
			t.Fatalf("Tombstone: %v", err)
		}
		sub, err := f.store.SubscribeStream(t.Context(), stream, eventstore.SubscribeStreamOptions{})
		if err == nil {
			// The refusal may come with the first Recv instead.
			err = follow(t, sub).end(anyEvent)
		}
		requireErrorIs(t, err, eventstore.ErrStreamDeleted)
	})
}

func testSubscribeAll(t *testing.T, h Harness) {
	t.Run("From is exclusive", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name string
			// from picks the position from the events already written
			from     func(recorded []eventstore.RecordedEvent) eventstore.Position
			filtered bool
			first    int // first of the events delivered
		}{
			{name: "Start delivers everything", from: func([]eventstore.RecordedEvent) eventstore.Position { return eventstore.Start }, first: 0},
			{name: "Start with a filter delivers everything", from: func([]eventstore.RecordedEvent) eventstore.Position { return eventstore.Start }, filtered: true, first: 0},
			{name: "first event", from: func(r []eventstore.RecordedEvent) eventstore.Position { return r[0].Position }, first: 1},
			{name: "event inside an append", from: func(r []eventstore.RecordedEvent) eventstore.Position { return r[2].Position }, first: 3},
			{name: "event inside an append, filtered", from: func(r []eventstore.RecordedEvent) eventstore.Position { return r[2].Position }, filtered: true, first: 3},
			{name: "last event", from: func(r []eventstore.RecordedEvent) eventstore.Position { return r[3].Position }, first: 4},
			{name: "End", from: func([]eventstore.RecordedEvent) eventstore.Position { return eventstore.End }, first: 4},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				events := newEvents(5, "E")
				f.append(stream, eventstore.NoStream, events[:2]...)
				f.append(stream, eventstore.Exact(1), events[2:4]...)
				opts := eventstore.SubscribeAllOptions{From: tc.from(f.read(stream, eventstore.ReadStreamOptions{}))}
				if tc.filtered {
					opts.Filter = f.ownFilter()
				}
				sub, err := f.store.SubscribeAll(t.Context(), opts)
				if err != nil {
					t.Fatalf("SubscribeAll: %v", err)
				}
				feed := follow(t, sub)
				past := feed.events(4-tc.first, inStream(stream), false)
				requireEvents(t, past, stream, uint64(tc.first), events[tc.first:4])
				feed.awaitCaughtUp(inStream(stream))
				f.append(stream, eventstore.Exact(3), events[4:]...)
				requireEvents(t, feed.events(1, inStream(stream), false), stream, 4, events[4:])
			})
		}
	})

	t.Run("filtered subscriptions", func(t *testing.T) {
		t.Parallel()
		type write struct{ stream, typ string }
		cases := []struct {
			name   string
			filter func(f *fixture) *eventstore.Filter
			// interval asks for checkpoints; they may come, or not
			interval uint32
			want     []int // indexes into the written events, past then live
		}{
			{name: "stream prefix", interval: 1, want: []int{0, 2, 3, 5}, filter: func(f *fixture) *eventstore.Filter {
				return &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{f.stream("patient-")}}
			}},
			{name: "stream regex", want: []int{1, 4}, filter: func(f *fixture) *eventstore.Filter {
				return &eventstore.Filter{Target: eventstore.FilterStreamName, Regex: "^" + f.prefix + "group-"}
			}},
			{name: "event type prefix", interval: 2, want: []int{0, 3, 4}, filter: func(f *fixture) *eventstore.Filter {
				return &eventstore.Filter{Target: eventstore.FilterEventType, Prefixes: []string{f.prefix + "Admitted", f.prefix + "Member"}}
			}},
			{name: "event type regex", want: []int{1, 5}, filter: func(f *fixture) *eventstore.Filter {
				return &eventstore.Filter{Target: eventstore.FilterEventType, Regex: "^" + f.prefix + "(Discharged|GroupCreated)$"}
			}},
			{name: "exclude system events", want: []int{0, 1, 3, 4, 5}, filter: func(*fixture) *eventstore.Filter {
				return eventstore.ExcludeSystemEvents()
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				// Event types carry the test's prefix too, so type filters
				// match only this test's events on a shared server.
				written := []write{
					{f.stream("patient-1"), f.prefix + "Admitted"},
					{f.stream("group-1"), f.prefix + "GroupCreated"},
					{f.stream("patient-2"), "$" + f.prefix + "Probe"},
					{f.stream("patient-2"), f.prefix + "Admitted"},
					{f.stream("group-1"), f.prefix + "MemberJoined"},
					{f.stream("patient-1"), f.prefix + "Discharged"},
				}
				// The first half exists before subscribing, the rest is live.
				const pastCount = 3
				ids := make([]uuid.UUID, len(written))
				appendEvent := func(i int) {
					e := newEvents(1, written[i].typ)
					ids[i] = e[0].ID
					f.append(written[i].stream, eventstore.Any, e...)
				}
				for i := range pastCount {
					appendEvent(i)
				}
				sub, err := f.store.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{From: eventstore.Start, Filter: tc.filter(f), CheckpointInterval: tc.interval})
				if err != nil {
					t.Fatalf("SubscribeAll: %v", err)
				}
				feed := follow(t, sub)
				pastWanted := 0
				for _, w := range tc.want {
					if w < pastCount {
						pastWanted++
					}
				}
				own := withPrefix(f.prefix)
				got := feed.events(pastWanted, own, false)
				feed.awaitCaughtUp(own)
				for i := pastCount; i < len(written); i++ {
					appendEvent(i)
				}
				got = append(got, feed.events(len(tc.want)-pastWanted, own, false)...)
				want := make([]uuid.UUID, len(tc.want))
				for i, w := range tc.want {
					want[i] = ids[w]
				}
				requireIDs(t, got, want...)
			})
		}
	})

	t.Run("events of many streams arrive in $all order", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		const writers, appends = 4, 10
		f.append(f.stream("w0"), eventstore.NoStream, newEvents(1, "E")...)
		sub, err := f.store.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{Filter: f.ownFilter()})
		if err != nil {
			t.Fatalf("SubscribeAll: %v", err)
		}
		feed := follow(t, sub)
		// Writers run while the subscription catches up and goes live.
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				stream := f.stream("w" + string(rune('0'+w)))
				for range appends {
					if _, err := f.store.Append(t.Context(), stream, eventstore.Any, newEvents(1+w%2, "E")...); err != nil {
						t.Errorf("Append: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		want := f.readAllOwn()
		got := feed.events(len(want), anyEvent, true)
		requireIDs(t, got, recordedIDs(want)...)
		for i := range got {
			if got[i].Position != want[i].Position || got[i].Revision != want[i].Revision {
				t.Fatalf("event %s: delivered at %s rev %d, read at %s rev %d", got[i].ID, got[i].Position, got[i].Revision, want[i].Position, want[i].Revision)
			}
		}
	})

	t.Run("a bad filter is an invalid argument", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		sub, err := f.store.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{Filter: &eventstore.Filter{Target: eventstore.FilterStreamName, Regex: "("}})
		if err == nil {
			err = follow(t, sub).end(anyEvent)
		}
		requireErrorIs(t, err, eventstore.ErrInvalidArgument)
	})

	t.Run("checkpoints and events keep $all order", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		keep, skip := f.stream("keep"), f.stream("skip")
		for range 3 {
			f.append(skip, eventstore.Any, newEvents(5, "E")...)
			f.append(keep, eventstore.Any, newEvents(1, "E")...)
		}
		sub, err := f.store.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{
			Filter: &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{keep}}, CheckpointInterval: 1,
		})
		if err != nil {
			t.Fatalf("SubscribeAll: %v", err)
		}
		feed := follow(t, sub)
		// A checkpoint says everything up to it was considered: no later
		// event may be before it, and it is not before the last event.
		var lastEvent, lastCheckpoint eventstore.Position
		for delivered, stall := 0, newStallCheck(); delivered < 3; stall.check(t) {
			r := feed.next()
			switch {
			case r.err != nil:
				t.Fatalf("Recv: %v", r.err)
			case r.msg.Checkpoint != nil:
				if c := *r.msg.Checkpoint; c.Less(lastEvent) || c.Less(lastCheckpoint) {
					t.Fatalf("checkpoint %s goes back before event %s or checkpoint %s", c, lastEvent, lastCheckpoint)
				}
				lastCheckpoint = *r.msg.Checkpoint
			case r.msg.Event != nil:
				p := r.msg.Event.Position
				if (delivered > 0 && !lastEvent.Less(p)) || p.Less(lastCheckpoint) {
					t.Fatalf("event at %s is not after event %s and checkpoint %s", p, lastEvent, lastCheckpoint)
				}
				if r.msg.Event.Stream != keep {
					t.Fatalf("filtered subscription delivered an event of %s", r.msg.Event.Stream)
				}
				lastEvent = p
				delivered++
				stall.progress()
			case r.msg.CaughtUp:
				t.Fatalf("caught-up after %d of 3 past events", delivered)
			}
		}
	})
}
