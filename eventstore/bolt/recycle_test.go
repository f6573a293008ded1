package bolt

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/continuum-care/continuum/eventstore"
)

// TestRecycledReadsReadWhatReadAllReads pages through a store with
// recycled buffers, releasing each page before reading the next, under
// filters that change between reads (stream prefixes, then others, then
// event types), and checks every page against ReadAll's.
func TestRecycledReadsReadWhatReadAllReads(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 300 {
		stream := fmt.Sprintf("patient-%d", i%17)
		if i%5 == 0 {
			stream = fmt.Sprintf("group-%d", i%3)
		}
		e := events(1)
		e[0].Type = fmt.Sprintf("T%d", i%4)
		e[0].Data = []byte(fmt.Sprintf(`{"i":%d,"pad":"%0*d"}`, i, i%50, 0))
		if _, err := s.Append(ctx, stream, eventstore.Any, e...); err != nil {
			t.Fatal(err)
		}
	}
	filters := []*eventstore.Filter{
		{Prefixes: []string{"patient-"}},
		{Prefixes: []string{"group-"}},
		{Prefixes: []string{"patient-1"}},
		nil,
		{Target: eventstore.FilterEventType, Prefixes: []string{"T1", "T3"}},
		{Regex: `^group-[02]$`},
	}
	for round := range 2 {
		for i, filter := range filters {
			for from := uint64(0); from < 300; from += 37 {
				opts := eventstore.ReadAllOptions{From: eventstore.Position{Commit: from, Prepare: from}, Max: 25, Filter: filter}
				want, err := s.ReadAll(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				got, release, err := s.ReadAllRecycled(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("round %d, filter %d, from %d: recycled read differs:\n got %v\nwant %v", round, i, from, got, want)
				}
				release()
			}
		}
	}
}
