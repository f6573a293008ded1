package replay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/google/uuid"
)

func filled(t *testing.T, n int) eventstore.Store {
	t.Helper()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	for i := range n {
		stream := "patient-" + strconv.Itoa(i%3)
		if i%7 == 0 {
			stream = "audit-x"
		}
		event := eventstore.EventData{ID: uuid.New(), Type: "E", Data: []byte(strconv.Itoa(i))}
		if _, err := store.Append(context.Background(), stream, eventstore.Any, event); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// TestRunFoldsInLogOrder: many pages decoded on several goroutines still
// fold in the log's order, each event once, with the filter applied.
func TestRunFoldsInLogOrder(t *testing.T) {
	const n = 3*PageSize + 17
	store := filled(t, n)
	tests := []struct {
		name   string
		opts   Options
		expect func(i int) bool
	}{
		{"everything", Options{Decoders: 4}, func(int) bool { return true }},
		{"filtered", Options{Filter: &eventstore.Filter{Prefixes: []string{"patient-"}}, Decoders: 3}, func(i int) bool { return i%7 != 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := Run(context.Background(), store, tt.opts, func(evs []eventstore.RecordedEvent) ([]string, error) {
				out := make([]string, len(evs))
				for i := range evs {
					out[i] = string(evs[i].Data)
				}
				return out, nil
			}, func(page []string) { got = append(got, page...) })
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := range n {
				if tt.expect(i) {
					want = append(want, strconv.Itoa(i))
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("folded %d events out of order or incomplete (want %d)", len(got), len(want))
			}
		})
	}
}

func TestRunStopsOnADecodeError(t *testing.T) {
	store := filled(t, 2*PageSize)
	boom := errors.New("boom")
	err := Run(context.Background(), store, Options{}, func(evs []eventstore.RecordedEvent) (int, error) {
		return 0, boom
	}, func(int) {})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the decoder's", err)
	}
}

func TestPagesAfterAPosition(t *testing.T) {
	store := filled(t, 10)
	all, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got int
	err = Pages(context.Background(), store, Options{After: all[3].Position}, func(_ int, evs []eventstore.RecordedEvent) error {
		got += len(evs)
		if evs[0].Position != all[4].Position {
			t.Errorf("first event after position 3 is not the 5th")
		}
		return nil
	})
	if err != nil || got != 6 {
		t.Fatalf("read %d events after the 4th, err %v; want 6", got, err)
	}
}

// TestRunOverARecyclingStore replays the embedded store, which reads each
// page into storage the replay hands back once the page is decoded, with
// slow and fast decoders racing: every event arrives once, in order, with
// its own bytes, never those of a page read later into the same storage.
func TestRunOverARecyclingStore(t *testing.T) {
	store, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, ok := eventstore.Store(store).(eventstore.RecyclingReader); !ok {
		t.Fatal("the embedded store does not recycle its reads")
	}
	const n = 3*PageSize + 17
	for first := 0; first < n; first += 500 {
		var batch []eventstore.EventData
		for i := first; i < min(first+500, n); i++ {
			batch = append(batch, eventstore.EventData{ID: uuid.New(), Type: "E", Data: []byte(fmt.Sprintf(`{"i":%d}`, i))})
		}
		if _, err := store.Append(context.Background(), "patient-"+strconv.Itoa(first%7), eventstore.Any, batch...); err != nil {
			t.Fatal(err)
		}
	}
	next := 0
	decode := func(page []eventstore.RecordedEvent) ([]string, error) {
		if len(page)%2 == 0 {
			time.Sleep(20 * time.Millisecond) // let the next pages overtake this one
		}
		out := make([]string, len(page))
		for i := range page {
			out[i] = string(page[i].Data)
		}
		return out, nil
	}
	err = Run(context.Background(), store, Options{Decoders: 3}, decode, func(page []string) {
		for _, data := range page {
			if want := fmt.Sprintf(`{"i":%d}`, next); data != want {
				t.Fatalf("event %d reads %s, want %s", next, data, want)
			}
			next++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if next != n {
		t.Fatalf("replayed %d events, want %d", next, n)
	}
}

// TestRecyclerReusesWhatIsPutBack: a slice put back is the storage of the
// next one got, grown when it is too short; with none put back, Get makes one.
func TestRecyclerReusesWhatIsPutBack(t *testing.T) {
	r := NewRecycler[int]()
	a := r.Get(3)
	if len(a) != 3 {
		t.Fatalf("got %d values, want 3", len(a))
	}
	a[0] = 7
	r.Put(a)
	b := r.Get(2)
	if len(b) != 2 || &b[0] != &a[0] || b[0] != 7 {
		t.Errorf("the slice put back was not reused: %v", b)
	}
	r.Put(b)
	if c := r.Get(1000); len(c) != 1000 {
		t.Errorf("a short recycled slice gave %d values, want 1000", len(c))
	}
	if d := r.Get(5); len(d) != 5 {
		t.Errorf("an empty recycler gave %d values, want 5", len(d))
	}
}
