package storetest

import (
	"slices"
	"testing"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/google/uuid"
)

func testReadStream(t *testing.T, h Harness) {
	t.Run("directions, starts and Max", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		events := newEvents(5, "E")
		// Two appends, so reads cross an append's boundary.
		f.append(stream, eventstore.NoStream, events[:2]...)
		f.append(stream, eventstore.Exact(1), events[2:]...)
		fw, bw := eventstore.Forwards, eventstore.Backwards
		cases := []struct {
			name      string
			direction eventstore.Direction
			from      eventstore.StreamPosition
			max       uint64
			revisions []int
		}{
			{name: "forwards from start", direction: fw, from: eventstore.StreamStart, revisions: []int{0, 1, 2, 3, 4}},
			{name: "forwards from revision", direction: fw, from: eventstore.At(2), revisions: []int{2, 3, 4}},
			{name: "forwards from last revision", direction: fw, from: eventstore.At(4), revisions: []int{4}},
			{name: "forwards from past the end", direction: fw, from: eventstore.At(5), revisions: nil},
			{name: "forwards from end", direction: fw, from: eventstore.StreamEnd, revisions: nil},
			{name: "forwards with Max", direction: fw, from: eventstore.StreamStart, max: 2, revisions: []int{0, 1}},
			{name: "forwards from revision with Max", direction: fw, from: eventstore.At(1), max: 3, revisions: []int{1, 2, 3}},
			{name: "forwards with Max above count", direction: fw, from: eventstore.StreamStart, max: 50, revisions: []int{0, 1, 2, 3, 4}},
			{name: "backwards from end", direction: bw, from: eventstore.StreamEnd, revisions: []int{4, 3, 2, 1, 0}},
			{name: "backwards from revision", direction: bw, from: eventstore.At(2), revisions: []int{2, 1, 0}},
			{name: "backwards from first revision", direction: bw, from: eventstore.At(0), revisions: []int{0}},
			{name: "backwards from start", direction: bw, from: eventstore.StreamStart, revisions: nil},
			{name: "backwards with Max", direction: bw, from: eventstore.StreamEnd, max: 2, revisions: []int{4, 3}},
			{name: "backwards from revision with Max", direction: bw, from: eventstore.At(3), max: 2, revisions: []int{3, 2}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				got := f.on(t).read(stream, eventstore.ReadStreamOptions{Direction: tc.direction, From: tc.from, Max: tc.max})
				want := make([]uuid.UUID, len(tc.revisions))
				for i, r := range tc.revisions {
					want[i] = events[r].ID
				}
				requireIDs(t, got, want...)
				for i, e := range got {
					if e.Revision != uint64(tc.revisions[i]) || e.Stream != stream {
						t.Fatalf("event %d is revision %d of %q, want revision %d of %q", i, e.Revision, e.Stream, tc.revisions[i], stream)
					}
				}
			})
		}
	})

	t.Run("stream that never existed is not found", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		f.append(f.stream("other"), eventstore.NoStream, newEvents(1, "E")...)
		for _, opts := range []eventstore.ReadStreamOptions{
			{},
			{Direction: eventstore.Backwards, From: eventstore.StreamEnd},
			{From: eventstore.At(3), Max: 1},
		} {
			_, err := f.store.ReadStream(t.Context(), f.stream("missing"), opts)
			requireErrorIs(t, err, eventstore.ErrStreamNotFound)
		}
	})

	t.Run("reads return the store's copy", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		events := newEvents(1, "E")
		data := slices.Clone(events[0].Data)
		f.append(stream, eventstore.NoStream, events...)
		events[0].Data[0] = 'X' // the caller reuses its buffer
		got := f.read(stream, eventstore.ReadStreamOptions{})
		got[0].Data[0] = 'Y' // a reader scribbles on its result
		events[0].Data = data
		requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, events)
	})
}

func testReadAll(t *testing.T, h Harness) {
	t.Run("from a position, inclusive, with Max", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		events := newEvents(5, "E")
		// One append: its events are contiguous in $all, so even unfiltered
		// reads from inside it are deterministic on a shared server.
		f.append(stream, eventstore.NoStream, events...)
		recorded := f.read(stream, eventstore.ReadStreamOptions{})
		from := recorded[2].Position
		fw, bw := eventstore.Forwards, eventstore.Backwards
		cases := []struct {
			name      string
			direction eventstore.Direction
			from      eventstore.Position
			max       uint64
			filter    *eventstore.Filter
			want      []int
		}{
			{name: "forwards Max 1 starts at the position", direction: fw, from: from, max: 1, want: []int{2}},
			{name: "forwards Max 2", direction: fw, from: from, max: 2, want: []int{2, 3}},
			{name: "forwards to the end", direction: fw, from: from, filter: f.ownFilter(), want: []int{2, 3, 4}},
			{name: "forwards from Start", direction: fw, from: eventstore.Start, filter: f.ownFilter(), want: []int{0, 1, 2, 3, 4}},
			{name: "forwards from Start with Max", direction: fw, from: eventstore.Start, max: 2, filter: f.ownFilter(), want: []int{0, 1}},
			{name: "backwards Max 1 starts at the position", direction: bw, from: from, max: 1, want: []int{2}},
			{name: "backwards Max 2", direction: bw, from: from, max: 2, want: []int{2, 1}},
			{name: "backwards to the start", direction: bw, from: from, filter: f.ownFilter(), want: []int{2, 1, 0}},
			{name: "backwards from End", direction: bw, from: eventstore.End, filter: f.ownFilter(), want: []int{4, 3, 2, 1, 0}},
			{name: "backwards from End with Max", direction: bw, from: eventstore.End, max: 2, filter: f.ownFilter(), want: []int{4, 3}},
			{name: "forwards from End", direction: fw, from: eventstore.End, filter: f.ownFilter(), want: nil},
			{name: "backwards from Start", direction: bw, from: eventstore.Start, filter: f.ownFilter(), want: nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				got, err := f.store.ReadAll(t.Context(), eventstore.ReadAllOptions{Direction: tc.direction, From: tc.from, Max: tc.max, Filter: tc.filter})
				if err != nil {
					t.Fatalf("ReadAll: %v", err)
				}
				want := make([]uuid.UUID, len(tc.want))
				for i, r := range tc.want {
					want[i] = events[r].ID
				}
				requireIDs(t, got, want...)
				for i, r := range tc.want {
					if got[i].Position != recorded[r].Position {
						t.Fatalf("revision %d: $all read gives position %s, stream read %s", r, got[i].Position, recorded[r].Position)
					}
				}
			})
		}
	})

	t.Run("positions increase forwards and decrease backwards", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		for i := range 4 {
			f.append(f.stream(string(rune('a'+i%2))), eventstore.Any, newEvents(i+1, "E")...)
		}
		forwards := f.readAllOwn()
		if len(forwards) != 10 {
			t.Fatalf("read %d events, want 10", len(forwards))
		}
		requireIncreasing(t, forwards)
		backwards, err := f.store.ReadAll(t.Context(), eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Filter: f.ownFilter()})
		if err != nil {
			t.Fatalf("ReadAll backwards: %v", err)
		}
		slices.Reverse(backwards)
		requireIDs(t, backwards, recordedIDs(forwards)...)
		for i := range backwards {
			if backwards[i].Position != forwards[i].Position || backwards[i].Revision != forwards[i].Revision {
				t.Fatalf("event %s: backwards read gives %s rev %d, forwards %s rev %d", forwards[i].ID,
					backwards[i].Position, backwards[i].Revision, forwards[i].Position, forwards[i].Revision)
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		// Event types carry the test's prefix too, so type filters match
		// only this test's events on a shared server.
		typ := func(name string) string { return f.prefix + name }
		system := "$" + f.prefix + "Probe"
		written := []struct {
			stream, typ string
		}{
			{f.stream("patient-1"), typ("Admitted")},
			{f.stream("group-1"), typ("GroupCreated")},
			{f.stream("patient-2"), typ("Admitted")},
			{f.stream("patient-1"), typ("Discharged")},
			{f.stream("meta"), system},
			{f.stream("group-1"), typ("MemberJoined")},
			{f.stream("patient-2"), system},
		}
		var ids []uuid.UUID
		for _, w := range written {
			e := newEvents(1, w.typ)
			f.append(w.stream, eventstore.Any, e...)
			ids = append(ids, e[0].ID)
		}
		first := f.readAllOwn()[0].Position
		stream, eventType := eventstore.FilterStreamName, eventstore.FilterEventType
		cases := []struct {
			name   string
			filter *eventstore.Filter
			want   []int // indexes into written
		}{
			{name: "no filter keeps system events", filter: nil, want: []int{0, 1, 2, 3, 4, 5, 6}},
			{name: "stream prefix", filter: &eventstore.Filter{Target: stream, Prefixes: []string{f.stream("patient-")}}, want: []int{0, 2, 3, 6}},
			{name: "stream prefixes", filter: &eventstore.Filter{Target: stream, Prefixes: []string{f.stream("patient-1"), f.stream("group-")}}, want: []int{0, 1, 3, 5}},
			{name: "stream regex", filter: &eventstore.Filter{Target: stream, Regex: "^" + f.prefix + "(patient-2|meta)$"}, want: []int{2, 4, 6}},
			{name: "event type prefix", filter: &eventstore.Filter{Target: eventType, Prefixes: []string{typ("Adm"), typ("Member")}}, want: []int{0, 2, 5}},
			{name: "event type regex", filter: &eventstore.Filter{Target: eventType, Regex: "^" + f.prefix + "(Discharged|GroupCreated)$"}, want: []int{1, 3}},
			{name: "prefixes win over regex", filter: &eventstore.Filter{Target: eventType, Prefixes: []string{typ("Discharged")}, Regex: "^" + f.prefix + "Admitted$"}, want: []int{3}},
			{name: "exclude system events", filter: eventstore.ExcludeSystemEvents(), want: []int{0, 1, 2, 3, 5}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				for _, direction := range []eventstore.Direction{eventstore.Forwards, eventstore.Backwards} {
					from := first
					if direction == eventstore.Backwards {
						from = eventstore.End
					}
					got, err := f.store.ReadAll(t.Context(), eventstore.ReadAllOptions{Direction: direction, From: from, Filter: tc.filter})
					if err != nil {
						t.Fatalf("ReadAll: %v", err)
					}
					got = slices.DeleteFunc(got, func(e eventstore.RecordedEvent) bool { return !withPrefix(f.prefix)(&e) })
					if direction == eventstore.Backwards {
						slices.Reverse(got)
					}
					want := make([]uuid.UUID, len(tc.want))
					for i, w := range tc.want {
						want[i] = ids[w]
					}
					requireIDs(t, got, want...)
				}
			})
		}
	})

	t.Run("filters apply before Max", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		keep, skip := f.stream("keep"), f.stream("skip")
		var want []uuid.UUID
		for range 3 {
			f.append(skip, eventstore.Any, newEvents(2, "E")...)
			e := newEvents(1, "E")
			f.append(keep, eventstore.Any, e...)
			want = append(want, e[0].ID)
		}
		got, err := f.store.ReadAll(t.Context(), eventstore.ReadAllOptions{
			From: eventstore.Start, Max: 2, Filter: &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{keep}},
		})
		if err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		requireIDs(t, got, want[:2]...)
	})
}
