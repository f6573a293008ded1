package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
)

func testAppend(t *testing.T, h Harness) {
	t.Run("new stream starts at revision 0 and events round-trip", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("a")
		events := newEvents(3, "Admitted")
		res := f.append(stream, eventstore.NoStream, events...)
		if res.NextExpectedRevision != 2 {
			t.Fatalf("NextExpectedRevision %d, want 2", res.NextExpectedRevision)
		}
		got := f.read(stream, eventstore.ReadStreamOptions{})
		requireEvents(t, got, stream, 0, events)
		for i, e := range got {
			if e.Created.IsZero() || e.Created.Location() != time.UTC {
				t.Fatalf("event %d: Created %v, want a UTC time", i, e.Created)
			}
			if e.Position == eventstore.Start {
				t.Fatalf("event %d is at Start, where no event is", i)
			}
		}
		requireIncreasing(t, got)
	})

	t.Run("expected revision", func(t *testing.T) {
		t.Parallel()
		type existing uint8
		const (
			absent existing = iota
			twoEvents
		)
		cases := []struct {
			name     string
			stream   existing
			expected eventstore.ExpectedRevision
			// accepted, or refused with actual as the reported revision
			accepted bool
			actual   int64
		}{
			{name: "Any on absent stream", stream: absent, expected: eventstore.Any, accepted: true},
			{name: "NoStream on absent stream", stream: absent, expected: eventstore.NoStream, accepted: true},
			{name: "StreamExists on absent stream", stream: absent, expected: eventstore.StreamExists, actual: -1},
			{name: "Exact 0 on absent stream", stream: absent, expected: eventstore.Exact(0), actual: -1},
			{name: "Exact 3 on absent stream", stream: absent, expected: eventstore.Exact(3), actual: -1},
			{name: "Any on existing stream", stream: twoEvents, expected: eventstore.Any, accepted: true},
			{name: "NoStream on existing stream", stream: twoEvents, expected: eventstore.NoStream, actual: 1},
			{name: "StreamExists on existing stream", stream: twoEvents, expected: eventstore.StreamExists, accepted: true},
			{name: "Exact last revision", stream: twoEvents, expected: eventstore.Exact(1), accepted: true},
			{name: "Exact earlier revision", stream: twoEvents, expected: eventstore.Exact(0), actual: 1},
			{name: "Exact next revision", stream: twoEvents, expected: eventstore.Exact(2), actual: 1},
			{name: "Exact far revision", stream: twoEvents, expected: eventstore.Exact(999), actual: 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				var before []eventstore.EventData
				if tc.stream == twoEvents {
					before = newEvents(2, "Before")
					f.append(stream, eventstore.NoStream, before...)
				}
				events := newEvents(2, "After")
				res, err := f.store.Append(t.Context(), stream, tc.expected, events...)
				if !tc.accepted {
					requireWrongExpected(t, err, stream, tc.expected, tc.actual)
					if tc.stream == absent {
						f.requireNotFound(stream)
					} else {
						requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, before)
					}
					return
				}
				if err != nil {
					t.Fatalf("Append: %v", err)
				}
				last := uint64(len(before) + len(events) - 1)
				if res.NextExpectedRevision != last {
					t.Fatalf("NextExpectedRevision %d, want %d", res.NextExpectedRevision, last)
				}
				requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, append(before, events...))
			})
		}
	})

	t.Run("refused append writes nothing to $all", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		first := newEvents(1, "First")
		f.append(stream, eventstore.NoStream, first...)
		refused := newEvents(3, "Refused")
		_, err := f.store.Append(t.Context(), stream, eventstore.NoStream, refused...)
		requireWrongExpected(t, err, stream, eventstore.NoStream, 0)
		_, err = f.store.Append(t.Context(), f.stream("other"), eventstore.Exact(4), refused...)
		requireWrongExpected(t, err, f.stream("other"), eventstore.Exact(4), -1)
		requireIDs(t, f.readAllOwn(), first[0].ID)
	})

	t.Run("append result", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		first := f.append(stream, eventstore.NoStream, newEvents(3, "E")...)
		second := f.append(stream, eventstore.Exact(2), newEvents(2, "E")...)
		if first.NextExpectedRevision != 2 || second.NextExpectedRevision != 4 {
			t.Fatalf("NextExpectedRevision %d then %d, want 2 then 4", first.NextExpectedRevision, second.NextExpectedRevision)
		}
		events := f.read(stream, eventstore.ReadStreamOptions{})
		// The result's position lies within the append's own events.
		for _, c := range []struct {
			res      eventstore.AppendResult
			from, to int
		}{{first, 0, 2}, {second, 3, 4}} {
			if c.res.Position.Less(events[c.from].Position) || events[c.to].Position.Less(c.res.Position) {
				t.Fatalf("result position %s outside its events' %s..%s", c.res.Position, events[c.from].Position, events[c.to].Position)
			}
		}
		if !first.Position.Less(second.Position) {
			t.Fatalf("second append's position %s is not after the first's %s", second.Position, first.Position)
		}
	})

	t.Run("content type defaults to JSON, data may be binary or empty", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		events := newEvents(3, "E")
		events[0].ContentType = ""
		events[1].ContentType = "application/octet-stream"
		events[1].Data = []byte{0, 1, 2, 0xff}
		events[2].Data, events[2].Metadata = nil, nil
		f.append(stream, eventstore.NoStream, events...)
		requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, events)
	})

	t.Run("empty append writes nothing", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		for _, expected := range []eventstore.ExpectedRevision{eventstore.Any, eventstore.NoStream} {
			stream := f.stream("empty-" + expected.String())
			f.append(stream, expected)
			f.append(stream, expected)
			f.requireNotFound(stream)
		}
		stream := f.stream("s")
		events := newEvents(2, "E")
		f.append(stream, eventstore.NoStream, events...)
		if res := f.append(stream, eventstore.Exact(1)); res.NextExpectedRevision != 1 {
			t.Fatalf("NextExpectedRevision %d, want 1", res.NextExpectedRevision)
		}
		requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, events)
	})

	t.Run("one event ID may be used in two streams", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		events := newEvents(1, "E")
		for _, name := range []string{"a", "b"} {
			f.append(f.stream(name), eventstore.NoStream, events...)
			requireEvents(t, f.read(f.stream(name), eventstore.ReadStreamOptions{}), f.stream(name), 0, events)
		}
	})

	t.Run("append is atomic and contiguous in $all", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		const writers, batches, size = 4, 10, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				stream := f.stream(string(rune('a' + w)))
				for b := range batches {
					expected := eventstore.NoStream
					if b > 0 {
						expected = eventstore.Exact(uint64(b*size - 1))
					}
					if _, err := f.store.Append(t.Context(), stream, expected, newEvents(size, "Batch")...); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Append: %v", err)
		}
		all := f.readAllOwn()
		if len(all) != writers*batches*size {
			t.Fatalf("$all holds %d of the test's events, want %d", len(all), writers*batches*size)
		}
		requireIncreasing(t, all)
		// Each batch of size events starts at a multiple of size in its
		// stream and is followed, in $all, by the rest of its batch.
		for i := 0; i < len(all); {
			e := all[i]
			if e.Revision%size != 0 {
				t.Fatalf("$all event %d is revision %d of %s, inside a batch that began elsewhere", i, e.Revision, e.Stream)
			}
			for j := 1; j < size; j++ {
				if n := all[i+j]; n.Stream != e.Stream || n.Revision != e.Revision+uint64(j) {
					t.Fatalf("batch at revision %d of %s is interrupted in $all by revision %d of %s", e.Revision, e.Stream, n.Revision, n.Stream)
				}
			}
			i += size
		}
	})
}
