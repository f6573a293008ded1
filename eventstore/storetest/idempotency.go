package storetest

import (
	"testing"

	"github.com/continuum-care/continuum/eventstore"
)

func testIdempotency(t *testing.T, h Harness) {
	t.Run("same IDs at same expected revision write once", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name     string
			prior    int // events already in the stream
			expected eventstore.ExpectedRevision
		}{
			{name: "NoStream", prior: 0, expected: eventstore.NoStream},
			{name: "Exact", prior: 2, expected: eventstore.Exact(1)},
			// KurrentDB checks Any and StreamExists against recently
			// written IDs: a prompt retry is recognized.
			{name: "Any", prior: 1, expected: eventstore.Any},
			{name: "StreamExists", prior: 1, expected: eventstore.StreamExists},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				prior := newEvents(tc.prior, "Prior")
				if tc.prior > 0 {
					f.append(stream, eventstore.NoStream, prior...)
				}
				events := newEvents(3, "Retried")
				first := f.append(stream, tc.expected, events...)
				again := f.append(stream, tc.expected, events...)
				if again.NextExpectedRevision != first.NextExpectedRevision {
					t.Fatalf("retry NextExpectedRevision %d, want %d", again.NextExpectedRevision, first.NextExpectedRevision)
				}
				if teller, ok := f.store.(eventstore.ReplayTeller); ok && teller.TellsReplays() {
					if first.Replayed || !again.Replayed {
						t.Fatalf("Replayed: first append %t, retry %t; want false, true", first.Replayed, again.Replayed)
					}
				}
				got := f.read(stream, eventstore.ReadStreamOptions{})
				requireEvents(t, got, stream, 0, append(prior, events...))
				written := got[tc.prior:]
				if again.Position.Less(written[0].Position) || written[len(written)-1].Position.Less(again.Position) {
					t.Fatalf("retry position %s is not within the written events %s..%s", again.Position, written[0].Position, written[len(written)-1].Position)
				}
				requireIDs(t, f.readAllOwn(), recordedIDs(got)...)
			})
		}
	})

	t.Run("retry after later appends still writes once", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name     string
			head     int // events before the retried append
			expected eventstore.ExpectedRevision
		}{
			{name: "NoStream", head: 0, expected: eventstore.NoStream},
			{name: "Exact", head: 1, expected: eventstore.Exact(0)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				head := newEvents(tc.head, "Head")
				if tc.head > 0 {
					f.append(stream, eventstore.NoStream, head...)
				}
				expected := tc.expected
				retried := newEvents(2, "Retried")
				first := f.append(stream, expected, retried...)
				later := newEvents(1, "Later")
				f.append(stream, eventstore.Exact(first.NextExpectedRevision), later...)
				again := f.append(stream, expected, retried...)
				if again.NextExpectedRevision != first.NextExpectedRevision {
					t.Fatalf("retry NextExpectedRevision %d, want %d (the retried events' last revision)", again.NextExpectedRevision, first.NextExpectedRevision)
				}
				all := append(append(head, retried...), later...)
				requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, all)
			})
		}
	})

	t.Run("partial match is wrong expected version", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name     string
			expected eventstore.ExpectedRevision
			// retry builds the second append from the first one's events
			retry func(written []eventstore.EventData) []eventstore.EventData
		}{
			{name: "NoStream, second event differs", expected: eventstore.NoStream, retry: func(w []eventstore.EventData) []eventstore.EventData {
				return append([]eventstore.EventData{w[0]}, newEvents(1, "New")...)
			}},
			{name: "NoStream, one more event", expected: eventstore.NoStream, retry: func(w []eventstore.EventData) []eventstore.EventData {
				return append(append([]eventstore.EventData(nil), w...), newEvents(1, "New")...)
			}},
			{name: "NoStream, first event differs", expected: eventstore.NoStream, retry: func(w []eventstore.EventData) []eventstore.EventData {
				return append(newEvents(1, "New"), w[1])
			}},
			{name: "Any, second event differs", expected: eventstore.Any, retry: func(w []eventstore.EventData) []eventstore.EventData {
				return append([]eventstore.EventData{w[0]}, newEvents(1, "New")...)
			}},
			{name: "Any, one more event", expected: eventstore.Any, retry: func(w []eventstore.EventData) []eventstore.EventData {
				return append(append([]eventstore.EventData(nil), w...), newEvents(1, "New")...)
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t, h)
				stream := f.stream("s")
				written := newEvents(2, "Written")
				f.append(stream, tc.expected, written...)
				_, err := f.store.Append(t.Context(), stream, tc.expected, tc.retry(written)...)
				requireWrongExpected(t, err, stream, tc.expected, 1)
				requireEvents(t, f.read(stream, eventstore.ReadStreamOptions{}), stream, 0, written)
			})
		}
	})
}
