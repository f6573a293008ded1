package bolt

import (
	"context"
	"fmt"
	"testing"

	"github.com/continuum-care/continuum/eventstore"
)

// TestStreamNamesOutnumberingTheCacheReadBack writes more streams than a
// three-slot name cache holds, interleaved, and reads every event back,
// forwards and backwards, through a store opened again: each names its own
// stream, whether the cache held it, held another in its slot, or was cold.
func TestStreamNamesOutnumberingTheCacheReadBack(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const streams, rounds = 10, 3
	shrink := func(s *Store) {
		s.names = newNames(3)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	shrink(s)
	for round := range rounds {
		for i := range streams {
			if _, err := s.Append(ctx, fmt.Sprintf("stream-%d", i), eventstore.Any, events(1)...); err != nil {
				t.Fatalf("round %d, stream %d: %v", round, i, err)
			}
		}
	}
	check := func(s *Store) {
		t.Helper()
		for _, dir := range []eventstore.Direction{eventstore.Forwards, eventstore.Backwards} {
			from := eventstore.Start
			if dir == eventstore.Backwards {
				from = eventstore.End
			}
			evs, err := s.ReadAll(ctx, eventstore.ReadAllOptions{Direction: dir, From: from})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != streams*rounds {
				t.Fatalf("%d events, want %d", len(evs), streams*rounds)
			}
			for i, e := range evs {
				n := i
				if dir == eventstore.Backwards {
					n = len(evs) - 1 - i
				}
				if want := fmt.Sprintf("stream-%d", n%streams); e.Stream != want || e.Revision != uint64(n/streams) {
					t.Errorf("%v event %d is %s@%d, want %s@%d", dir, i, e.Stream, e.Revision, want, n/streams)
				}
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	shrink(s)
	check(s)
}
