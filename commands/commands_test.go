package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
)

var now = time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)

const pid = domain.PatientID("0b7f6a2e-9c1d-4e5f-8a7b-1c2d3e4f5a6b")

func newService(t *testing.T) (*commands.Service, eventstore.Store) {
	t.Helper()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	return commands.New(store, commands.WithClock(func() time.Time { return now })), store
}

func meta(key string) commands.Meta { return commands.Meta{IdempotencyKey: key, CorrelationID: "test"} }

func streamLen(t *testing.T, store eventstore.Store, stream string) int {
	t.Helper()
	recs, err := store.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func referAndAssess(t *testing.T, svc *commands.Service) {
	t.Helper()
	ctx := context.Background()
	if _, err := svc.Patient(ctx, meta("refer"), domain.Refer{Patient: pid, Source: domain.SourceAccessLine, At: now.Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	intake := domain.CompleteIntake{Patient: pid, PHQ9: 15, GAD7: 12, RecommendedLevel: domain.IOP, PrimaryCare: true, AgeYears: 34, At: now.Add(-24 * time.Hour)}
	if _, err := svc.Patient(ctx, meta("intake"), intake); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotentRetryAppendsNothing(t *testing.T) {
	svc, store := newService(t)
	referAndAssess(t, svc)
	ctx := context.Background()
	admit := domain.Admit{Patient: pid, Program: "iop-evening", Level: domain.IOP, At: now.Add(-time.Hour)}
	first, err := svc.Patient(ctx, meta("admit-1"), admit)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || len(first.Events) != 1 || first.Events[0] != "Admitted" {
		t.Fatalf("first admit = %+v", first)
	}
	again, err := svc.Patient(ctx, meta("admit-1"), admit)
	if err != nil {
		t.Fatalf("retried request refused: %v", err)
	}
	if !again.Duplicate || again.Revision != first.Revision || again.Position != first.Position {
		t.Fatalf("retry = %+v, want duplicate of %+v", again, first)
	}
	if n := streamLen(t, store, domain.PatientStream(pid)); n != 3 {
		t.Fatalf("stream has %d events, want 3", n)
	}
	// A fresh service (a restarted process) recognises the key from the log.
	fresh := commands.New(store, commands.WithClock(func() time.Time { return now }))
	again, err = fresh.Patient(ctx, meta("admit-1"), admit)
	if err != nil || !again.Duplicate {
		t.Fatalf("retry on a fresh service = %+v, %v", again, err)
	}
	// A different key is a new request, refused by the domain: already in care.
	if _, err := svc.Patient(ctx, meta("admit-2"), admit); !errors.Is(err, domain.ErrRuleViolation) {
		t.Fatalf("second admission = %v, want a rule violation", err)
	}
}

func TestRejectedCommandAppendsNothing(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	_, err := svc.Patient(ctx, meta("admit"), domain.Admit{Patient: pid, Program: "iop-evening", Level: domain.IOP, At: now})
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("admit unknown patient = %v, want not found", err)
	}
	referAndAssess(t, svc)
	before := streamLen(t, store, domain.PatientStream(pid))
	_, err = svc.Patient(ctx, meta("measure"), domain.RecordMeasure{Patient: pid, Instrument: domain.PHQ9, Score: 28, At: now})
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("PHQ-9 of 28 = %v, want invalid", err)
	}
	if after := streamLen(t, store, domain.PatientStream(pid)); after != before {
		t.Fatalf("refused command appended %d events", after-before)
	}
}

func TestMissingIdempotencyKeyRefused(t *testing.T) {
	svc, store := newService(t)
	_, err := svc.Patient(context.Background(), commands.Meta{}, domain.Refer{Patient: pid, Source: domain.SourceAccessLine, At: now})
	if !errors.Is(err, commands.ErrInvalidKey) {
		t.Fatalf("err = %v, want ErrInvalidKey", err)
	}
	if n := streamLen(t, store, domain.PatientStream(pid)); n != 0 {
		t.Fatalf("appended %d events", n)
	}
}

// TestConcurrentServicesRetryOnConflict runs two services (two processes)
// recording measures on one stream at once: every command lands exactly
// once, through wrong-expected-version retries.
func TestConcurrentServicesRetryOnConflict(t *testing.T) {
	svc, store := newService(t)
	referAndAssess(t, svc)
	other := commands.New(store, commands.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	const perService = 20
	var wg sync.WaitGroup
	var ok sync.Map
	errs := make(chan error, 2*perService)
	for si, s := range []*commands.Service{svc, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perService {
				key := string(rune('a'+si)) + "-" + time.Duration(i).String()
				_, err := s.Patient(ctx, meta(key), domain.RecordMeasure{Patient: pid, Instrument: domain.GAD7, Score: i % 22, At: now.Add(-time.Minute)})
				switch {
				case err == nil:
					ok.Store(key, true)
				case !errors.Is(err, commands.ErrConflictRetriesExhausted):
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
	recs, err := store.ReadStream(ctx, domain.PatientStream(pid), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.ID.String()] {
			t.Fatalf("event %s appended twice", r.ID)
		}
		seen[r.ID.String()] = true
	}
	succeeded := 0
	ok.Range(func(any, any) bool { succeeded++; return true })
	if got := len(recs) - 2; got != succeeded || succeeded < perService {
		t.Fatalf("%d measures recorded for %d acknowledged commands (of %d)", got, succeeded, 2*perService)
	}
}

func TestPatientBatchIsAllOrNothing(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	refer := domain.Refer{Patient: pid, Source: domain.SourceAccessLine, At: now.Add(-72 * time.Hour)}
	intake := domain.CompleteIntake{Patient: pid, PHQ9: 12, GAD7: 9, RecommendedLevel: domain.PHP, AgeYears: 40, At: now.Add(-48 * time.Hour)}
	admit := domain.Admit{Patient: pid, Program: "php", Level: domain.PHP, At: now.Add(-24 * time.Hour)}
	badStep := domain.StepDown{Patient: pid, To: domain.Inpatient, Program: "inpatient-unit", At: now.Add(-time.Hour)}

	_, err := svc.PatientBatch(ctx, meta("row-1"), []domain.PatientCommand{refer, intake, admit, badStep})
	if domain.ErrorCode(err) != domain.CodeNotAStepDown {
		t.Fatalf("batch with a step-down to inpatient = %v, want not_a_step_down", err)
	}
	if n := streamLen(t, store, domain.PatientStream(pid)); n != 0 {
		t.Fatalf("refused batch appended %d events", n)
	}
	res, err := svc.PatientBatch(ctx, meta("row-1"), []domain.PatientCommand{refer, intake, admit})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Events); got != "[Referred IntakeCompleted Admitted]" || res.Revision != 2 {
		t.Fatalf("batch = %+v", res)
	}
	again, err := svc.PatientBatch(ctx, meta("row-1"), []domain.PatientCommand{refer, intake, admit})
	if err != nil || !again.Duplicate || fmt.Sprint(again.Events) != fmt.Sprint(res.Events) {
		t.Fatalf("retried batch = %+v, %v", again, err)
	}
	if n := streamLen(t, store, domain.PatientStream(pid)); n != 3 {
		t.Fatalf("stream has %d events, want 3", n)
	}
	other := domain.Refer{Patient: "1b7f6a2e-9c1d-4e5f-8a7b-1c2d3e4f5a6b", Source: domain.SourceSelf, At: now}
	if _, err := svc.PatientBatch(ctx, meta("mixed"), []domain.PatientCommand{refer, other}); !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("batch across two patients = %v, want invalid", err)
	}
}

// fullReads counts the reads of a stream from its start: a stream folded
// in the cache is only read from its last revision on.
type fullReads struct {
	eventstore.Store
	mu    sync.Mutex
	count map[string]int
}

// TellsReplays passes the wrapped store's answer on.
func (s *fullReads) TellsReplays() bool {
	teller, ok := s.Store.(eventstore.ReplayTeller)
	return ok && teller.TellsReplays()
}

func (s *fullReads) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if opts.From.IsStart() {
		s.mu.Lock()
		s.count[stream]++
		s.mu.Unlock()
	}
	return s.Store.ReadStream(ctx, stream, opts)
}

func TestCacheForgetsTheLeastRecentlyUsedStream(t *testing.T) {
	store := &fullReads{Store: memstore.New(), count: map[string]int{}}
	t.Cleanup(func() { store.Close() })
	svc := commands.New(store, commands.WithClock(func() time.Time { return now }), commands.WithCacheSize(2))
	ctx := context.Background()
	refer := func(p domain.PatientID, key string) {
		t.Helper()
		if _, err := svc.Patient(ctx, meta(key), domain.Refer{Patient: p, Source: domain.SourceSelf, At: now.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	measure := func(p domain.PatientID, key string) {
		t.Helper()
		if _, err := svc.Patient(ctx, meta(key), domain.RecordMeasure{Patient: p, Instrument: domain.PHQ9, Score: 9, At: now.Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	busy := domain.PatientID("1b7f6a2e-9c1d-4e5f-8a7b-1c2d3e4f5a6b")
	refer(busy, "busy")
	for i := range 5 {
		// A one-off stream passes through; the busy one is used in between.
		refer(domain.PatientID(fmt.Sprintf("2b7f6a2e-9c1d-4e5f-8a7b-%012d", i)), fmt.Sprint("once-", i))
		measure(busy, fmt.Sprint("measure-", i))
	}
	if got := store.count[domain.PatientStream(busy)]; got != 1 {
		t.Errorf("the busy stream was read from its start %d times, want once: evicted while in use", got)
	}
	// The one-off streams were evicted: the first is read from its start again.
	measure(domain.PatientID(fmt.Sprintf("2b7f6a2e-9c1d-4e5f-8a7b-%012d", 0)), "late")
	if got := store.count[domain.PatientStream(domain.PatientID(fmt.Sprintf("2b7f6a2e-9c1d-4e5f-8a7b-%012d", 0)))]; got != 2 {
		t.Errorf("an evicted stream was read from its start %d times, want twice", got)
	}
}

// TestEventIDsAreNameBasedUUIDs pins the derivation of event IDs: stored
// events carry them, so a retry after an upgrade must derive the same ones.
func TestEventIDsAreNameBasedUUIDs(t *testing.T) {
	namespace := uuid.MustParse("4b8d3c6e-2f1a-5e7b-9c0d-1a2b3c4d5e6f")
	for _, tc := range []struct {
		stream, key string
		i           int
	}{
		{"patient-0b7f6a2e-9c1d-4e5f-8a7b-1c2d3e4f5a6b", "refer", 0},
		{"group-cbt-anxiety", "k", 12},
		{"", "", 0},
		{"patient-x", strings.Repeat("k", 200), 99},
	} {
		want := uuid.NewSHA1(namespace, []byte(tc.stream+"\n"+tc.key+"\n"+strconv.Itoa(tc.i)))
		if got := commands.EventIDForTest(tc.stream, tc.key, tc.i); got != want {
			t.Errorf("eventID(%q, %q, %d) = %v, want %v", tc.stream, tc.key, tc.i, got, want)
		}
	}
}

func TestABatchThatOpensAStreamSkipsTheRead(t *testing.T) {
	referral := func(p domain.PatientID) []domain.PatientCommand {
		return []domain.PatientCommand{
			domain.Refer{Patient: p, Source: domain.SourceSelf, At: now.Add(-2 * time.Hour)},
			domain.CompleteIntake{Patient: p, PHQ9: 12, GAD7: 9, RecommendedLevel: domain.IOP, AgeYears: 40, At: now.Add(-time.Hour)},
		}
	}
	ctx := context.Background()
	newPatient := domain.PatientID("3b7f6a2e-9c1d-4e5f-8a7b-1c2d3e4f5a6b")
	stream := domain.PatientStream(newPatient)

	store := &fullReads{Store: memstore.New(), count: map[string]int{}}
	t.Cleanup(func() { store.Close() })
	svc := commands.New(store, commands.WithClock(func() time.Time { return now }))
	res, err := svc.PatientBatch(ctx, meta("row-1"), referral(newPatient))
	if err != nil || res.Duplicate || len(res.Events) != 2 {
		t.Fatalf("first batch: %+v, %v", res, err)
	}
	if n := store.count[stream]; n != 0 {
		t.Errorf("a batch opening a new stream read it %d times, want none", n)
	}
	// The entry knows the stream it wrote: the next command reads only the tail.
	if _, err := svc.Patient(ctx, meta("measure"), domain.RecordMeasure{Patient: newPatient, Instrument: domain.PHQ9, Score: 10, At: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n := store.count[stream]; n != 0 {
		t.Errorf("the stream was read from its start %d times after a blind write, want none", n)
	}

	t.Run("a retry in another process is a duplicate", func(t *testing.T) {
		again := commands.New(store, commands.WithClock(func() time.Time { return now }))
		before := streamLen(t, store, stream)
		res, err := again.PatientBatch(ctx, meta("row-1"), referral(newPatient))
		if err != nil || !res.Duplicate || len(res.Events) != 2 || res.Revision != 1 {
			t.Fatalf("retry: %+v, %v; want a duplicate of the two events", res, err)
		}
		if after := streamLen(t, store, stream); after != before {
			t.Errorf("the retry appended %d events", after-before)
		}
	})
	t.Run("another request on an existing stream takes the ordinary path", func(t *testing.T) {
		again := commands.New(store, commands.WithClock(func() time.Time { return now }))
		before := streamLen(t, store, stream)
		_, err := again.PatientBatch(ctx, meta("row-2"), referral(newPatient))
		if domain.ErrorCode(err) == "" {
			t.Fatalf("a second referral of the same person: %v, want the domain's refusal", err)
		}
		if after := streamLen(t, store, stream); after != before {
			t.Errorf("the refused batch appended %d events", after-before)
		}
	})
	t.Run("a store that cannot tell replays is read first", func(t *testing.T) {
		inner := &fullReads{Store: memstore.New(), count: map[string]int{}}
		t.Cleanup(func() { inner.Close() })
		svc := commands.New(noReplays{inner}, commands.WithClock(func() time.Time { return now }))
		if _, err := svc.PatientBatch(ctx, meta("row-1"), referral(newPatient)); err != nil {
			t.Fatal(err)
		}
		if n := inner.count[stream]; n != 1 {
			t.Errorf("read %d times, want once", n)
		}
	})
}
