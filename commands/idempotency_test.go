package commands_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/memstore"
)

// searches counts the reads a service makes to look for a request that
// fell out of its window: backward reads of a stream (searches) and reads
// of one event (the event its index names). Catch-ups read forwards, up to
// thousands of events at a time.
type searches struct {
	eventstore.Store
	mu     sync.Mutex
	count  int
	points int
}

// TellsReplays passes the wrapped store's answer on.
func (s *searches) TellsReplays() bool {
	teller, ok := s.Store.(eventstore.ReplayTeller)
	return ok && teller.TellsReplays()
}

func (s *searches) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	s.mu.Lock()
	switch {
	case opts.Direction == eventstore.Backwards:
		s.count++
	case opts.Max == 1:
		s.points++
	}
	s.mu.Unlock()
	return s.Store.ReadStream(ctx, stream, opts)
}

func (s *searches) searched() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

func (s *searches) lookedUp() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.points
}

func patientN(i int) domain.PatientID {
	return domain.PatientID(fmt.Sprintf("4b7f6a2e-9c1d-4e5f-8a7b-%012d", i))
}

func measureCmd(p domain.PatientID, score int) domain.RecordMeasure {
	return domain.RecordMeasure{Patient: p, Instrument: domain.PHQ9, Score: score % 28, At: now.Add(-time.Minute)}
}

// referred refers p, the start of every stream these tests write.
func referred(t *testing.T, svc *commands.Service, p domain.PatientID) {
	t.Helper()
	if _, err := svc.Patient(context.Background(), meta("refer"), domain.Refer{Patient: p, Source: domain.SourceSelf, At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// sameAnswer checks a retry answers as its first execution did.
func sameAnswer(t *testing.T, what string, first, again commands.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: retry refused: %v", what, err)
	}
	if !again.Duplicate || again.Revision != first.Revision || again.Position != first.Position ||
		fmt.Sprint(again.Events) != fmt.Sprint(first.Events) || again.Stream != first.Stream {
		t.Fatalf("%s: retry = %+v, want a duplicate of %+v", what, again, first)
	}
}

// TestRetryBeyondTheWindow retries requests after many newer events: the
// window no longer holds their IDs, and the answer is still the duplicate.
// A measure is the sharp case: deciding it again would record it twice.
func TestRetryBeyondTheWindow(t *testing.T) {
	for _, window := range []int{0, 4} {
		t.Run(fmt.Sprint("window ", window), func(t *testing.T) {
			store := &searches{Store: memstore.New()}
			t.Cleanup(func() { store.Close() })
			svc := commands.New(store, commands.WithClock(func() time.Time { return now }), commands.WithIdempotencyWindow(window))
			ctx := context.Background()
			p := patientN(1)
			batch := []domain.PatientCommand{
				domain.Refer{Patient: p, Source: domain.SourceSelf, At: now.Add(-72 * time.Hour)},
				domain.CompleteIntake{Patient: p, PHQ9: 12, GAD7: 9, RecommendedLevel: domain.IOP, AgeYears: 40, At: now.Add(-48 * time.Hour)},
				domain.Admit{Patient: p, Program: "iop-evening", Level: domain.IOP, At: now.Add(-24 * time.Hour)},
			}
			firstBatch, err := svc.PatientBatch(ctx, meta("row"), batch)
			if err != nil {
				t.Fatal(err)
			}
			firstMeasure, err := svc.Patient(ctx, meta("m-0"), measureCmd(p, 0))
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 10; i++ {
				if _, err := svc.Patient(ctx, meta(fmt.Sprint("m-", i)), measureCmd(p, i)); err != nil {
					t.Fatal(err)
				}
			}
			before := streamLen(t, store, domain.PatientStream(p))
			again, err := svc.Patient(ctx, meta("m-0"), measureCmd(p, 0))
			sameAnswer(t, "measure", firstMeasure, again, err)
			again, err = svc.PatientBatch(ctx, meta("row"), batch)
			sameAnswer(t, "batch", firstBatch, again, err)
			if after := streamLen(t, store, domain.PatientStream(p)); after != before {
				t.Fatalf("retries appended %d events", after-before)
			}
			if store.lookedUp() == 0 || store.searched() != 0 {
				t.Fatalf("%d events read for retries, %d searches; want some, none", store.lookedUp(), store.searched())
			}
			// The latest request is still in the window (when there is one).
			searched := store.lookedUp()
			last, err := svc.Patient(ctx, meta("m-10"), measureCmd(p, 10))
			if err != nil || !last.Duplicate {
				t.Fatalf("retry of the latest request = %+v, %v", last, err)
			}
			if window > 0 && store.lookedUp() != searched {
				t.Errorf("a retry within the window read the stream")
			}
		})
	}
}

// TestTheWindowIsSharedByAllStreams: other streams' events push a
// request's IDs out of the one window; its retry is still a duplicate.
func TestTheWindowIsSharedByAllStreams(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	svc := commands.New(store, commands.WithClock(func() time.Time { return now }), commands.WithIdempotencyWindow(8))
	ctx := context.Background()
	refer := domain.Refer{Patient: patientN(0), Source: domain.SourceSelf, At: now.Add(-time.Hour)}
	first, err := svc.Patient(ctx, meta("refer-0"), refer)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 20; i++ {
		if _, err := svc.Patient(ctx, meta(fmt.Sprint("refer-", i)), domain.Refer{Patient: patientN(i), Source: domain.SourceSelf, At: now.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if ids, _, _ := svc.MemoryForTest(); ids > 8 {
			t.Fatalf("the window holds %d IDs, want at most 8", ids)
		}
	}
	again, err := svc.Patient(ctx, meta("refer-0"), refer)
	sameAnswer(t, "referral", first, again, err)
}

// TestRetryAfterARestart retries on a new service over the reopened
// embedded store, as after a restart of the process.
func TestRetryAfterARestart(t *testing.T) {
	dir := t.TempDir()
	store, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := commands.New(store, commands.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	p := patientN(2)
	referred(t, svc, p)
	results := map[string]commands.Result{}
	for i := range 30 {
		key := fmt.Sprint("m-", i)
		res, err := svc.Patient(ctx, meta(key), measureCmd(p, i))
		if err != nil {
			t.Fatal(err)
		}
		results[key] = res
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	store, err = bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	before := streamLen(t, store, domain.PatientStream(p))
	restarted := commands.New(store, commands.WithClock(func() time.Time { return now }), commands.WithIdempotencyWindow(4))
	for _, key := range []string{"m-0", "m-15", "m-29"} {
		var i int
		fmt.Sscanf(key, "m-%d", &i)
		again, err := restarted.Patient(ctx, meta(key), measureCmd(p, i))
		sameAnswer(t, key, results[key], again, err)
	}
	if after := streamLen(t, store, domain.PatientStream(p)); after != before {
		t.Fatalf("retries after the restart appended %d events", after-before)
	}
	// A new request is not mistaken for a retry.
	res, err := restarted.Patient(ctx, meta("m-30"), measureCmd(p, 30))
	if err != nil || res.Duplicate {
		t.Fatalf("a new request after the restart = %+v, %v", res, err)
	}
}

// TestConcurrentRetries sends every request several times at once, from
// two services (two processes) whose windows and caches are tiny, so
// retries race with evictions: each request lands once and every answer
// to it names the same revision.
func TestConcurrentRetries(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	opts := []commands.Option{
		commands.WithClock(func() time.Time { return now }),
		commands.WithIdempotencyWindow(2), commands.WithCacheSize(1), commands.WithIndexBudget(1),
	}
	services := []*commands.Service{commands.New(store, opts...), commands.New(store, opts...)}
	ctx := context.Background()
	p := patientN(3)
	referred(t, services[0], p)
	const requests, senders = 12, 6
	var mu sync.Mutex
	revisions := map[int]map[uint64]bool{}
	fresh := map[int]int{} // how many answers were not duplicates
	var wg sync.WaitGroup
	errs := make(chan error, requests*senders)
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := services[g%2]
			for i := range requests {
				res, err := svc.Patient(ctx, meta(fmt.Sprint("m-", i)), measureCmd(p, i))
				if err != nil {
					errs <- err
					continue
				}
				mu.Lock()
				if revisions[i] == nil {
					revisions[i] = map[uint64]bool{}
				}
				revisions[i][res.Revision] = true
				if !res.Duplicate {
					fresh[i]++
				}
				mu.Unlock()
				// Another stream, to evict this one from the cache.
				if _, err := svc.PatientState(ctx, patientN(100+g)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := streamLen(t, store, domain.PatientStream(p)); n != 1+requests {
		t.Fatalf("stream has %d events, want %d", n, 1+requests)
	}
	for i := range requests {
		if len(revisions[i]) != 1 || fresh[i] != 1 {
			t.Errorf("request %d: answered with revisions %v, %d times as new; want one revision, once new", i, revisions[i], fresh[i])
		}
	}
}

// TestMemoryStaysBounded writes to many streams and counts what the
// service holds: never more IDs than the window, bytes of filters than the
// budget, or streams than the cache. Early requests are still duplicates.
func TestMemoryStaysBounded(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	const window, budget, cache = 32, 4096, 16
	svc := commands.New(store, commands.WithClock(func() time.Time { return now }),
		commands.WithIdempotencyWindow(window), commands.WithIndexBudget(budget), commands.WithCacheSize(cache))
	ctx := context.Background()
	check := func() {
		t.Helper()
		ids, bytes, streams := svc.MemoryForTest()
		if ids > window || bytes > budget || streams > cache {
			t.Fatalf("holding %d IDs, %d filter bytes, %d streams; bounds %d, %d, %d", ids, bytes, streams, window, budget, cache)
		}
	}
	long := patientN(0)
	referred(t, svc, long)
	first, err := svc.Patient(ctx, meta("m-0"), measureCmd(long, 0))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 200; i++ {
		if _, err := svc.Patient(ctx, meta(fmt.Sprint("refer-", i)), domain.Refer{Patient: patientN(i), Source: domain.SourceSelf, At: now.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		check()
		if _, err := svc.Patient(ctx, meta(fmt.Sprint("m-", i)), measureCmd(long, i)); err != nil {
			t.Fatal(err)
		}
		check()
	}
	_, bytes, _ := svc.MemoryForTest()
	if bytes == 0 {
		t.Fatal("no filter holds the older IDs")
	}
	again, err := svc.Patient(ctx, meta("m-0"), measureCmd(long, 0))
	sameAnswer(t, "the first measure", first, again, err)
	again, err = svc.Patient(ctx, meta("refer-1"), domain.Refer{Patient: patientN(1), Source: domain.SourceSelf, At: now.Add(-time.Hour)})
	if err != nil || !again.Duplicate {
		t.Fatalf("retry of an evicted stream's request = %+v, %v", again, err)
	}
	check()
}

// TestTheIndexSparesSearches: a new request on a long stream whose IDs
// left the window searches nothing; the index of older IDs rules it out.
// An index at its size bound still answers correctly, by searching the
// part of the stream it does not hold.
func TestTheIndexSparesSearches(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget int
		bound  bool
	}{
		{name: "default budget", budget: commands.DefaultIndexBudget},
		// 64 slots, 48 IDs, for 2,000 older IDs.
		{name: "at its bound", budget: 1, bound: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &searches{Store: memstore.New()}
			t.Cleanup(func() { store.Close() })
			svc := commands.New(store, commands.WithClock(func() time.Time { return now }),
				commands.WithIdempotencyWindow(16), commands.WithIndexBudget(tc.budget))
			ctx := context.Background()
			p := patientN(4)
			referred(t, svc, p)
			first := map[int]commands.Result{}
			for i := range 2000 {
				res, err := svc.Patient(ctx, meta(fmt.Sprint("m-", i)), measureCmd(p, i))
				if err != nil || res.Duplicate {
					t.Fatalf("new request %d = %+v, %v", i, res, err)
				}
				if i%500 == 0 {
					first[i] = res
				}
			}
			if reads := store.searched(); tc.bound != (reads > 0) || !tc.bound && store.lookedUp() != 0 {
				t.Errorf("%d backward reads and %d reads of an event for 2,000 new requests", reads, store.lookedUp())
			}
			_, bytes, _ := svc.MemoryForTest()
			if tc.bound && bytes > 512 {
				t.Errorf("index of %d bytes, bound 512", bytes)
			}
			for i, res := range first {
				again, err := svc.Patient(ctx, meta(fmt.Sprint("m-", i)), measureCmd(p, i))
				sameAnswer(t, fmt.Sprint("request ", i), res, again, err)
			}
		})
	}
}
