package storetest

import (
	"slices"
	"testing"

	"github.com/continuum-care/continuum/eventstore"
)

// remover is one of the two ways to delete a stream, so the rules they share
// are tested once for each.
type remover struct {
	name   string
	remove func(f *fixture, stream string, expected eventstore.ExpectedRevision) error
}

var removers = []remover{
	{name: "Delete", remove: func(f *fixture, stream string, expected eventstore.ExpectedRevision) error {
		return f.store.Delete(f.t.Context(), stream, expected)
	}},
	{name: "Tombstone", remove: func(f *fixture, stream string, expected eventstore.ExpectedRevision) error {
		return f.store.Tombstone(f.t.Context(), stream, expected)
	}},
}

// testRemoveExpectedRevision checks that r honours the expected revision as
// an append does, deleting streams that never existed included (KurrentDB
// allows that with Any and NoStream).
func testRemoveExpectedRevision(t *testing.T, h Harness, r remover) {
	t.Run("expected revision", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name     string
			existing int // events in the stream
			expected eventstore.ExpectedRevision
			accepted bool
			actual   int64
		}{
			{name: "Any on absent stream", existing: 0, expected: eventstore.Any, accepted: true},
			{name: "NoStream on absent stream", existing: 0, expected: eventstore.NoStream, accepted: true},
			{name: "StreamExists on absent stream", existing: 0, expected: eventstore.StreamExists, actual: -1},
			{name: "Exact on absent stream", existing: 0, expected: eventstore.Exact(0), actual: -1},
			{name: "Any", existing: 2, expected: eventstore.Any, accepted: true},
			{name: "StreamExists", existing: 2, expected: eventstore.StreamExists, accepted: true},
			{name: "Exact last revision", existing: 2, expected: eventstore.Exact(1), accepted: true},
			{name: "NoStream on existing stream", existing: 2, expected: eventstore.NoStream, actual: 1},
			{name: "Exact earlier revision", existing: 2, expected: eventstore.Exact(0), actual: 1},
			{name: "Exact later revision", existing: 2, expected: eventstore.Exact(2), actual: 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				events := newEvents(tc.existing, "E")
				if tc.existing > 0 {
					f.append(stream, eventstore.NoStream, events...)
				}
				err := r.remove(f, stream, tc.expected)
				if !tc.accepted {
					requireWrongExpected(t, err, stream, tc.expected, tc.actual)
					if tc.existing == 0 {
						f.requireNotFound(stream)
						f.append(stream, eventstore.NoStream, newEvents(1, "E")...)
					} else {
						requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, events)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", r.name, err)
				}
				_, err = f.store.ReadStream(t.Context(), stream, eventstore.ReadStreamOptions{})
				if r.name == "Tombstone" {
					requireErrorIs(t, err, eventstore.ErrStreamDeleted)
				} else {
					requireErrorIs(t, err, eventstore.ErrStreamNotFound)
				}
			})
		}
	})

	t.Run("$all keeps the events written before", func(t *testing.T) {
		// KurrentDB removes them from $all only when it scavenges; it also
		// records the deletion itself as a system event, which a store may
		// or may not show.
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		events := newEvents(3, "E")
		f.append(stream, eventstore.NoStream, events...)
		if err := r.remove(f, stream, eventstore.Exact(2)); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		all := slices.DeleteFunc(f.readAllOwn(), func(e eventstore.RecordedEvent) bool { return e.IsSystem() })
		requireIDs(t, all, dataIDs(events)...)
	})
}

func testDelete(t *testing.T, h Harness) {
	testRemoveExpectedRevision(t, h, removers[0])

	t.Run("soft-deleted stream is not found", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		f.append(stream, eventstore.NoStream, newEvents(3, "E")...)
		if err := f.store.Delete(t.Context(), stream, eventstore.Exact(2)); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		for _, opts := range []eventstore.ReadStreamOptions{
			{},
			{Direction: eventstore.Backwards, From: eventstore.StreamEnd},
			{From: eventstore.At(1)},
		} {
			_, err := f.store.ReadStream(t.Context(), stream, opts)
			requireErrorIs(t, err, eventstore.ErrStreamNotFound)
		}
	})

	t.Run("appending recreates it and continues its revisions", func(t *testing.T) {
		t.Parallel()
		for _, expected := range []eventstore.ExpectedRevision{eventstore.Any, eventstore.NoStream, eventstore.Exact(1)} {
			t.Run(expected.String(), func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				f.append(stream, eventstore.NoStream, newEvents(2, "Old")...)
				if err := f.store.Delete(t.Context(), stream, eventstore.Exact(1)); err != nil {
					t.Fatalf("Delete: %v", err)
				}
				events := newEvents(3, "New")
				if res := f.append(stream, expected, events...); res.NextExpectedRevision != 4 {
					t.Fatalf("NextExpectedRevision %d, want 4", res.NextExpectedRevision)
				}
				requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 2, events)
				backwards := f.read(stream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd})
				if len(backwards) != 3 || backwards[2].Revision != 2 {
					t.Fatalf("backwards read gives %d events ending at revision %d, want 3 ending at 2", len(backwards), backwards[len(backwards)-1].Revision)
				}
				// Reading from a hidden revision starts at the first visible one.
				requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{From: eventstore.At(0)}), stream, 2, events)
				// The stream exists again: NoStream no longer applies.
				_, err := f.store.Append(t.Context(), stream, eventstore.NoStream, newEvents(1, "E")...)
				requireWrongExpected(t, err, stream, eventstore.NoStream, 4)
				f.append(stream, eventstore.StreamExists, newEvents(1, "E")...)
			})
		}
	})

	t.Run("wrong expected revision on a soft-deleted stream", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		f.append(stream, eventstore.NoStream, newEvents(2, "E")...)
		if err := f.store.Delete(t.Context(), stream, eventstore.Any); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		_, err := f.store.Append(t.Context(), stream, eventstore.Exact(5), newEvents(1, "E")...)
		requireErrorIs(t, err, eventstore.ErrWrongExpectedVersion)
		// KurrentDB answers StreamExists on a soft-deleted stream with
		// stream-deleted, though a later append recreates the stream.
		_, err = f.store.Append(t.Context(), stream, eventstore.StreamExists, newEvents(1, "E")...)
		requireErrorIs(t, err, eventstore.ErrStreamDeleted)
		f.requireNotFound(stream)
	})

	t.Run("soft-deleting a stream that never existed", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		if err := f.store.Delete(t.Context(), stream, eventstore.NoStream); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		f.requireNotFound(stream)
		events := newEvents(1, "E")
		f.append(stream, eventstore.NoStream, events...)
		requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, events)
	})

	t.Run("subscription skips hidden events", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		f.append(stream, eventstore.NoStream, newEvents(2, "Old")...)
		if err := f.store.Delete(t.Context(), stream, eventstore.Exact(1)); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		sub, err := f.store.SubscribeStream(t.Context(), stream, eventstore.SubscribeStreamOptions{From: eventstore.StreamStart})
		if err != nil {
			t.Fatalf("SubscribeStream: %v", err)
		}
		feed := follow(t, sub)
		feed.awaitCaughtUp(anyEvent)
		events := newEvents(2, "New")
		f.append(stream, eventstore.NoStream, events...)
		requireEvents(t, feed.events(2, anyEvent, false), stream, 2, events)
	})

	t.Run("soft-deleted stream can be tombstoned", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		f.append(stream, eventstore.NoStream, newEvents(2, "E")...)
		if err := f.store.Delete(t.Context(), stream, eventstore.Exact(1)); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := f.store.Tombstone(t.Context(), stream, eventstore.Any); err != nil {
			t.Fatalf("Tombstone: %v", err)
		}
		_, err := f.store.ReadStream(t.Context(), stream, eventstore.ReadStreamOptions{})
		requireErrorIs(t, err, eventstore.ErrStreamDeleted)
		_, err = f.store.Append(t.Context(), stream, eventstore.Any, newEvents(1, "E")...)
		requireErrorIs(t, err, eventstore.ErrStreamDeleted)
	})
}

func testTombstone(t *testing.T, h Harness) {
	testRemoveExpectedRevision(t, h, removers[1])

	t.Run("reads and appends answer ErrStreamDeleted, forever", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		f.append(stream, eventstore.NoStream, newEvents(2, "E")...)
		if err := f.store.Tombstone(t.Context(), stream, eventstore.Exact(1)); err != nil {
			t.Fatalf("Tombstone: %v", err)
		}
		for _, opts := range []eventstore.ReadStreamOptions{
			{},
			{Direction: eventstore.Backwards, From: eventstore.StreamEnd},
			{From: eventstore.At(1), Max: 1},
		} {
			_, err := f.store.ReadStream(t.Context(), stream, opts)
			requireErrorIs(t, err, eventstore.ErrStreamDeleted)
		}
		// Whatever the expected revision, even a right one.
		for _, expected := range []eventstore.ExpectedRevision{
			eventstore.Any, eventstore.NoStream, eventstore.StreamExists, eventstore.Exact(1), eventstore.Exact(7),
		} {
			_, err := f.store.Append(t.Context(), stream, expected, newEvents(1, "E")...)
			requireErrorIs(t, err, eventstore.ErrStreamDeleted)
		}
		// Neither deletion undoes it.
		for _, r := range removers {
			requireErrorIs(t, r.remove(f, stream, eventstore.Any), eventstore.ErrStreamDeleted)
		}
		_, err := f.store.ReadStream(t.Context(), stream, eventstore.ReadStreamOptions{})
		requireErrorIs(t, err, eventstore.ErrStreamDeleted)
	})

	t.Run("tombstoning a stream that never existed", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		if err := f.store.Tombstone(t.Context(), stream, eventstore.NoStream); err != nil {
			t.Fatalf("Tombstone: %v", err)
		}
		_, err := f.store.Append(t.Context(), stream, eventstore.NoStream, newEvents(1, "E")...)
		requireErrorIs(t, err, eventstore.ErrStreamDeleted)
		_, err = f.store.ReadStream(t.Context(), stream, eventstore.ReadStreamOptions{})
		requireErrorIs(t, err, eventstore.ErrStreamDeleted)
	})

	t.Run("other streams are untouched", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		gone, kept := f.stream("gone"), f.stream("gone-not")
		events := newEvents(2, "E")
		f.append(gone, eventstore.NoStream, newEvents(1, "E")...)
		f.append(kept, eventstore.NoStream, events[:1]...)
		if err := f.store.Tombstone(t.Context(), gone, eventstore.Any); err != nil {
			t.Fatalf("Tombstone: %v", err)
		}
		f.append(kept, eventstore.Exact(0), events[1:]...)
		requireEvents(t, f.read(kept, eventstore.ReadStreamOptions{}), kept, 0, events)
	})
}
