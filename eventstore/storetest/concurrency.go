package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/google/uuid"
)

func testConcurrency(t *testing.T, h Harness) {
	t.Run("one winner per revision", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		const writers, rounds = 8, 10
		var winners []uuid.UUID
		for round := range rounds {
			expected := eventstore.NoStream
			if round > 0 {
				expected = eventstore.Exact(uint64(round - 1))
			}
			results := make([]error, writers)
			events := newEvents(writers, "Contended")
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() { _, results[w] = f.store.Append(t.Context(), stream, expected, events[w]) })
			}
			wg.Wait()
			won := 0
			for w, err := range results {
				if err == nil {
					won++
					winners = append(winners, events[w].ID)
					continue
				}
				// Every loser sees the winner's revision.
				requireWrongExpected(t, err, stream, expected, int64(round))
			}
			if won != 1 {
				t.Fatalf("round %d: %d appends at expected %s succeeded, want exactly 1", round, won, expected)
			}
		}
		got := f.read(stream, eventstore.ReadStreamOptions{})
		requireIDs(t, got, winners...)
		for i, e := range got {
			if e.Revision != uint64(i) {
				t.Fatalf("event %d has revision %d", i, e.Revision)
			}
		}
	})

	testAtomicVisibility(t, h)

	t.Run("writers retrying on conflict lose nothing", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		const writers, perWriter = 6, 10
		var wg sync.WaitGroup
		written := make([][]uuid.UUID, writers)
		for w := range writers {
			wg.Go(func() {
				for range perWriter {
					e := newEvents(1, "E")
					if err := appendWithRetry(f, stream, e[0]); err != nil {
						t.Errorf("writer %d: %v", w, err)
						return
					}
					written[w] = append(written[w], e[0].ID)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		got := f.read(stream, eventstore.ReadStreamOptions{})
		if len(got) != writers*perWriter {
			t.Fatalf("stream holds %d events, want %d", len(got), writers*perWriter)
		}
		position := make(map[uuid.UUID]int, len(got))
		for i, e := range got {
			if e.Revision != uint64(i) {
				t.Fatalf("event %d has revision %d", i, e.Revision)
			}
			if _, dup := position[e.ID]; dup {
				t.Fatalf("event %s is in the stream twice", e.ID)
			}
			position[e.ID] = i
		}
		for w, ids := range written {
			for i, id := range ids {
				p, ok := position[id]
				if !ok {
					t.Fatalf("writer %d's event %d is missing", w, i)
				}
				if i > 0 && p < position[ids[i-1]] {
					t.Fatalf("writer %d's events are out of order", w)
				}
			}
		}
	})

	t.Run("writers on distinct streams all succeed", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		const writers, appends, size = 16, 10, 2
		var wg sync.WaitGroup
		written := make([][]uuid.UUID, writers)
		for w := range writers {
			wg.Go(func() {
				stream := f.stream(uuid.NewString())
				for a := range appends {
					expected := eventstore.NoStream
					if a > 0 {
						expected = eventstore.Exact(uint64(a*size - 1))
					}
					events := newEvents(size, "E")
					if _, err := f.store.Append(t.Context(), stream, expected, events...); err != nil {
						t.Errorf("writer %d: %v", w, err)
						return
					}
					written[w] = append(written[w], dataIDs(events)...)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		all := f.readAllOwn()
		requireIncreasing(t, all)
		if len(all) != writers*appends*size {
			t.Fatalf("$all holds %d of the test's events, want %d", len(all), writers*appends*size)
		}
		seen := make(map[uuid.UUID]int, len(all))
		for i, e := range all {
			if _, dup := seen[e.ID]; dup {
				t.Fatalf("event %s is in $all twice", e.ID)
			}
			seen[e.ID] = i
		}
		for w, ids := range written {
			for i, id := range ids {
				p, ok := seen[id]
				if !ok {
					t.Fatalf("writer %d's event %d is not in $all", w, i)
				}
				if i > 0 && p < seen[ids[i-1]] {
					t.Fatalf("writer %d's events are out of order in $all", w)
				}
			}
		}
	})
}

// testAtomicVisibility checks that no read sees part of an append: readers
// running alongside a writer of fixed-size batches only ever see whole ones.
func testAtomicVisibility(t *testing.T, h Harness) {
	t.Run("readers never see part of an append", func(t *testing.T) {
		t.Parallel()
		f := setup(t, h)
		stream := f.stream("s")
		const batches, size = 20, 4
		done := make(chan struct{})
		go func() {
			defer close(done)
			for b := range batches {
				expected := eventstore.NoStream
				if b > 0 {
					expected = eventstore.Exact(uint64(b*size - 1))
				}
				if _, err := f.store.Append(t.Context(), stream, expected, newEvents(size, "E")...); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
			}
		}()
		for reading := true; reading; {
			select {
			case <-done:
				reading = false // one last pair of reads after the writer ends
			default:
			}
			got, err := f.store.ReadStream(t.Context(), stream, eventstore.ReadStreamOptions{})
			if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
				t.Fatalf("ReadStream: %v", err)
			}
			if len(got)%size != 0 {
				t.Fatalf("stream read sees %d events, not a whole number of %d-event appends", len(got), size)
			}
			all := f.readAllOwn()
			if len(all)%size != 0 {
				t.Fatalf("$all read sees %d events, not a whole number of %d-event appends", len(all), size)
			}
		}
		if n := len(f.readAllOwn()); n != batches*size {
			t.Fatalf("$all holds %d events, want %d", n, batches*size)
		}
	})
}

// appendWithRetry appends e after the stream's last event, rereading and
// retrying on conflict as a command handler does.
func appendWithRetry(f *fixture, stream string, e eventstore.EventData) error {
	for {
		expected := eventstore.NoStream
		last, err := f.store.ReadStream(f.t.Context(), stream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd, Max: 1})
		switch {
		case errors.Is(err, eventstore.ErrStreamNotFound):
		case err != nil:
			return err
		default:
			expected = eventstore.Exact(last[0].Revision)
		}
		_, err = f.store.Append(f.t.Context(), stream, expected, e)
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			return err
		}
	}
}
