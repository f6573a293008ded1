package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/google/uuid"
)

func testInvalidArgument(t *testing.T, h Harness) {
	valid := func() []eventstore.EventData { return newEvents(1, "E") }
	withNilID := func() []eventstore.EventData {
		events := newEvents(2, "E")
		events[1].ID = uuid.Nil
		return events
	}
	badRegex := &eventstore.Filter{Target: eventstore.FilterEventType, Regex: "[a-"}
	cases := []struct {
		name string
		call func(ctx context.Context, f *fixture) error
	}{
		{name: "append to empty stream name", call: func(ctx context.Context, f *fixture) error {
			_, err := f.store.Append(ctx, "", eventstore.Any, valid()...)
			return err
		}},
		{name: "append to $all", call: func(ctx context.Context, f *fixture) error {
			_, err := f.store.Append(ctx, eventstore.AllStream, eventstore.Any, valid()...)
			return err
		}},
		{name: "append with a nil event ID", call: func(ctx context.Context, f *fixture) error {
			_, err := f.store.Append(ctx, f.stream("s"), eventstore.Any, withNilID()...)
			return err
		}},
		{name: "read empty stream name", call: func(ctx context.Context, f *fixture) error {
			_, err := f.store.ReadStream(ctx, "", eventstore.ReadStreamOptions{})
			return err
		}},
		{name: "read $all with a bad regex", call: func(ctx context.Context, f *fixture) error {
			_, err := f.store.ReadAll(ctx, eventstore.ReadAllOptions{Filter: badRegex})
			return err
		}},
		{name: "delete empty stream name", call: func(ctx context.Context, f *fixture) error {
			return f.store.Delete(ctx, "", eventstore.Any)
		}},
		{name: "tombstone empty stream name", call: func(ctx context.Context, f *fixture) error {
			return f.store.Tombstone(ctx, "", eventstore.Any)
		}},
		{name: "subscribe to empty stream name", call: func(ctx context.Context, f *fixture) error {
			sub, err := f.store.SubscribeStream(ctx, "", eventstore.SubscribeStreamOptions{})
			if err != nil {
				return err
			}
			return follow(f.t, sub).end(anyEvent)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, h)
			requireErrorIs(t, tc.call(t.Context(), f), eventstore.ErrInvalidArgument)
			// Nothing was written: a refused batch is refused whole.
			if own := f.readAllOwn(); len(own) > 0 {
				t.Fatalf("a refused call wrote %d events", len(own))
			}
		})
	}
}

// testCanceledContext checks calls whose context is already canceled: a
// store may still complete them, but a call it refuses answers the context's
// error and changes nothing.
func testCanceledContext(t *testing.T, h Harness) {
	t.Run("canceled context completes the call or answers its error", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		events := newEvents(1, "E")
		f.append(stream, eventstore.NoStream, events...)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		refused := func(err error) bool {
			t.Helper()
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want nil or context.Canceled", err)
			}
			return err != nil
		}
		more := newEvents(1, "E")
		if _, err := f.store.Append(ctx, stream, eventstore.Exact(0), more...); !refused(err) {
			events = append(events, more...)
		}
		if got, err := f.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{}); !refused(err) {
			requireEvents(t, got, stream, 0, events)
		}
		if got, err := f.store.ReadAll(ctx, eventstore.ReadAllOptions{Filter: f.ownFilter()}); !refused(err) {
			requireIDs(t, got, dataIDs(events)...)
		}
		requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, events)
		if err := f.store.Delete(ctx, stream, eventstore.Any); refused(err) {
			requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, events)
		} else {
			f.requireNotFound(stream)
		}
	})
}

func testClose(t *testing.T, h Harness) {
	t.Run("calls after Close answer ErrClosed", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		f.append(stream, eventstore.NoStream, newEvents(1, "E")...)
		if err := f.store.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		ctx := t.Context()
		calls := []struct {
			name string
			call func() error
		}{
			{"Append", func() error {
				_, err := f.store.Append(ctx, stream, eventstore.Any, newEvents(1, "E")...)
				return err
			}},
			{"ReadStream", func() error {
				_, err := f.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
				return err
			}},
			{"ReadAll", func() error {
				_, err := f.store.ReadAll(ctx, eventstore.ReadAllOptions{})
				return err
			}},
			{"SubscribeStream", func() error {
				sub, err := f.store.SubscribeStream(ctx, stream, eventstore.SubscribeStreamOptions{})
				if err != nil {
					return err
				}
				return follow(t, sub).end(anyEvent)
			}},
			{"SubscribeAll", func() error {
				sub, err := f.store.SubscribeAll(ctx, eventstore.SubscribeAllOptions{})
				if err != nil {
					return err
				}
				return follow(t, sub).end(anyEvent)
			}},
			{"Delete", func() error { return f.store.Delete(ctx, stream, eventstore.Any) }},
			{"Tombstone", func() error { return f.store.Tombstone(ctx, stream, eventstore.Any) }},
		}
		for _, c := range calls {
			if err := c.call(); !errors.Is(err, eventstore.ErrClosed) {
				t.Errorf("%s after Close: error %v, want ErrClosed", c.name, err)
			}
		}
	})

	t.Run("Close ends live subscriptions", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		feeds := make([]*feed, len(subscribers))
		for i, sub := range subscribers {
			feeds[i] = f.subscribe(t.Context(), sub, stream)
			feeds[i].awaitCaughtUp(inStream(stream))
		}
		if err := f.store.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for i, feed := range feeds {
			if err := feed.end(inStream(stream)); !errors.Is(err, eventstore.ErrClosed) {
				t.Errorf("%s subscription ended with %v, want ErrClosed", subscribers[i].name, err)
			}
		}
	})
}

func testReopen(t *testing.T, h Harness) {
	t.Run("reopened store keeps everything", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		kept, soft, hard := f.stream("kept"), f.stream("soft"), f.stream("hard")
		batch := newEvents(3, "E")
		f.append(kept, eventstore.NoStream, batch...)
		f.append(kept, eventstore.Exact(2), newEvents(2, "E")...)
		f.append(soft, eventstore.NoStream, newEvents(2, "E")...)
		f.append(hard, eventstore.NoStream, newEvents(1, "E")...)
		if err := f.store.Delete(t.Context(), soft, eventstore.Exact(1)); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := f.store.Tombstone(t.Context(), hard, eventstore.Exact(0)); err != nil {
			t.Fatalf("Tombstone: %v", err)
		}
		before := f.readAllOwn()
		keptBefore := f.read(kept, eventstore.ReadStreamOptions{})

		f.store = h.Reopen(t, f.store)
		t.Cleanup(func() { _ = f.store.Close() })

		after := f.readAllOwn()
		if !slices.EqualFunc(before, after, sameEvent) {
			t.Fatalf("$all changed across reopen:\nbefore %v\nafter  %v", before, after)
		}
		if got := f.read(kept, eventstore.ReadStreamOptions{}); !slices.EqualFunc(keptBefore, got, sameEvent) {
			t.Fatalf("stream changed across reopen:\nbefore %v\nafter  %v", keptBefore, got)
		}
		f.requireNotFound(soft)
		_, err := f.store.ReadStream(t.Context(), hard, eventstore.ReadStreamOptions{})
		requireErrorIs(t, err, eventstore.ErrStreamDeleted)

		// Revisions, expected revisions and idempotency carry on.
		if res := f.append(kept, eventstore.NoStream, batch...); res.NextExpectedRevision != 2 {
			t.Fatalf("retry after reopen: NextExpectedRevision %d, want 2", res.NextExpectedRevision)
		}
		_, err = f.store.Append(t.Context(), kept, eventstore.Exact(3), newEvents(1, "E")...)
		requireWrongExpected(t, err, kept, eventstore.Exact(3), 4)
		res := f.append(kept, eventstore.Exact(4), newEvents(1, "E")...)
		if res.NextExpectedRevision != 5 || !before[len(before)-1].Position.Less(res.Position) {
			t.Fatalf("append after reopen: revision %d at %s, want 5 after %s", res.NextExpectedRevision, res.Position, before[len(before)-1].Position)
		}
		if res := f.append(soft, eventstore.NoStream, newEvents(1, "E")...); res.NextExpectedRevision != 2 {
			t.Fatalf("recreating the soft-deleted stream: NextExpectedRevision %d, want 2", res.NextExpectedRevision)
		}
		_, err = f.store.Append(t.Context(), hard, eventstore.Any, newEvents(1, "E")...)
		requireErrorIs(t, err, eventstore.ErrStreamDeleted)

		// A subscription replays the reopened log.
		sub, err := f.store.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{From: eventstore.Start, Filter: f.ownFilter()})
		if err != nil {
			t.Fatalf("SubscribeAll: %v", err)
		}
		replayed := follow(t, sub).events(len(before), anyEvent, false)
		if !slices.EqualFunc(before, replayed, sameEvent) {
			t.Fatalf("subscription after reopen replays %v, want %v", replayed, before)
		}
	})
}

// sameEvent compares everything a store records about an event.
func sameEvent(a, b eventstore.RecordedEvent) bool {
	return a.ID == b.ID && a.Stream == b.Stream && a.Revision == b.Revision && a.Position == b.Position &&
		a.Type == b.Type && a.ContentType == b.ContentType && string(a.Data) == string(b.Data) &&
		string(a.Metadata) == string(b.Metadata) && a.Created.Equal(b.Created)
}
