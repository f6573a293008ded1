package commands_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
)

const newPid = domain.PatientID("6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")

// episode is a batch that opens newPid's stream: referral, intake.
func episode() []domain.PatientCommand {
	return []domain.PatientCommand{
		domain.Refer{Patient: newPid, Source: domain.SourceOther, At: now.Add(-72 * time.Hour)},
		domain.CompleteIntake{Patient: newPid, RecommendedLevel: domain.Outpatient, ScoresUnknown: true, AgeUnknown: true, At: now.Add(-71 * time.Hour)},
	}
}

func openBatch(t *testing.T, svc *commands.Service, key string, cmds []domain.PatientCommand) (commands.Result, error) {
	t.Helper()
	b, err := svc.PrepareOpening(meta(key), cmds)
	if err != nil {
		t.Fatal(err)
	}
	return svc.AppendOpening(context.Background(), b)
}

func TestOpeningBatchAppendsOnceAndARetryIsADuplicate(t *testing.T) {
	svc, store := newService(t)
	stream := domain.PatientStream(newPid)
	res, err := openBatch(t, svc, "row-1", episode())
	if err != nil || res.Duplicate || res.Revision != 1 || len(res.Events) != 2 {
		t.Fatalf("first append %+v, %v; want two events written", res, err)
	}
	again, err := openBatch(t, svc, "row-1", episode())
	if err != nil || !again.Duplicate || again.Revision != 1 || again.Position != res.Position {
		t.Errorf("retry %+v, %v; want the first append's events, found", again, err)
	}
	// The ordinary path finds the prepared append's events too.
	batch, err := svc.PatientBatch(context.Background(), meta("row-1"), episode())
	if err != nil || !batch.Duplicate {
		t.Errorf("PatientBatch after it: %+v, %v; want a duplicate", batch, err)
	}
	if n := streamLen(t, store, stream); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
	// The service's state of the stream, never cached by the append, is read.
	if p, err := svc.PatientState(context.Background(), newPid); err != nil || p.Status != domain.StatusAssessed {
		t.Errorf("state %+v, %v; want referred and assessed", p, err)
	}
}

func TestOpeningBatchOnAnExistingStreamIsDecidedAgainstIt(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	if _, err := svc.Patient(ctx, meta("web-referral"), episode()[0]); err != nil {
		t.Fatal(err)
	}
	stream := domain.PatientStream(newPid)
	_, err := openBatch(t, svc, "row-1", episode())
	if domain.ErrorCode(err) == "" {
		t.Errorf("error %v, want the domain's refusal of a second referral", err)
	}
	if n := streamLen(t, store, stream); n != 1 {
		t.Errorf("%d events, want the earlier referral only", n)
	}
	// A batch the existing stream allows goes through the ordinary path.
	res, err := openBatch(t, svc, "row-2", episode()[1:])
	if err != nil || res.Duplicate || res.Revision != 1 {
		t.Errorf("intake %+v, %v; want it appended at revision 1", res, err)
	}
}

func TestOpeningBatchRefusedAgainstTheEmptyStream(t *testing.T) {
	svc, store := newService(t)
	cmds := episode()
	cmds = append(cmds, domain.Refer{Patient: newPid, Source: domain.SourceOther, At: now.Add(-70 * time.Hour)})
	if _, err := openBatch(t, svc, "row-1", cmds); domain.ErrorCode(err) == "" {
		t.Errorf("error %v, want a refusal of the second referral", err)
	}
	if n := streamLen(t, store, domain.PatientStream(newPid)); n != 0 {
		t.Errorf("%d events, want none: the batch is refused whole", n)
	}
}

func TestPrepareOpeningRefusesBadRequests(t *testing.T) {
	svc, _ := newService(t)
	if _, err := svc.PrepareOpening(meta(""), episode()); !errors.Is(err, commands.ErrInvalidKey) {
		t.Errorf("no key: %v", err)
	}
	if _, err := svc.PrepareOpening(meta("k"), nil); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("empty batch: %v", err)
	}
	mixed := append(episode(), domain.Refer{Patient: pid, Source: domain.SourceOther, At: now})
	if _, err := svc.PrepareOpening(meta("k"), mixed); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("two patients: %v", err)
	}
}

// noReplays hides the store's TellsReplays, as the EventStoreDB client.
type noReplays struct{ eventstore.Store }

func TestOpeningBatchOnAStoreThatDoesNotTellReplays(t *testing.T) {
	_, mem := newService(t)
	svc := commands.New(noReplays{mem}, commands.WithClock(func() time.Time { return now }))
	if res, err := openBatch(t, svc, "row-1", episode()); err != nil || res.Duplicate {
		t.Fatalf("first %+v, %v", res, err)
	}
	fresh := commands.New(noReplays{mem}, commands.WithClock(func() time.Time { return now }))
	if res, err := openBatch(t, fresh, "row-1", episode()); err != nil || !res.Duplicate {
		t.Errorf("retry through a new service %+v, %v; want a duplicate", res, err)
	}
	if n := streamLen(t, mem, domain.PatientStream(newPid)); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
}

func TestStoreEmptyAndPatientExists(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	check := func(when string, wantEmpty, wantExists bool) {
		t.Helper()
		if empty, err := svc.StoreEmpty(ctx); err != nil || empty != wantEmpty {
			t.Errorf("%s: StoreEmpty %v, %v; want %v", when, empty, err, wantEmpty)
		}
		if exists, err := svc.PatientExists(ctx, newPid); err != nil || exists != wantExists {
			t.Errorf("%s: PatientExists %v, %v; want %v", when, exists, err, wantExists)
		}
	}
	check("new store", true, false)
	if _, err := svc.Patient(ctx, meta("other"), domain.Refer{Patient: pid, Source: domain.SourceSelf, At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	check("another patient referred", false, false)
	if _, err := openBatch(t, svc, "row-1", episode()); err != nil {
		t.Fatal(err)
	}
	check("the patient referred", false, true)
	if err := store.Tombstone(ctx, domain.PatientStream(newPid), eventstore.Any); err != nil {
		t.Fatal(err)
	}
	check("the patient's stream deleted", false, true)
}

// batchingStore takes AppendMany, as the embedded store does, by appending
// each request in turn, and counts its calls.
type batchingStore struct {
	*memstore.Store
	calls atomic.Int32
}

func (s *batchingStore) AppendMany(ctx context.Context, reqs []eventstore.AppendRequest) []eventstore.AppendOutcome {
	s.calls.Add(1)
	out := make([]eventstore.AppendOutcome, len(reqs))
	for i, r := range reqs {
		out[i].Result, out[i].Err = s.Append(ctx, r.Stream, r.Expected, r.Events...)
	}
	return out
}

func TestAppendOpeningsAnswersEachBatchAsAppendOpeningWould(t *testing.T) {
	for name, batching := range map[string]bool{"store taking many appends": true, "other store": false} {
		t.Run(name, func(t *testing.T) {
			mem := memstore.New()
			t.Cleanup(func() { mem.Close() })
			bs := &batchingStore{Store: mem}
			var store eventstore.Store = mem
			if batching {
				store = bs
			}
			svc := commands.New(store, commands.WithClock(func() time.Time { return now }))
			ctx := context.Background()
			referred := domain.PatientID("1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
			if _, err := svc.Patient(ctx, meta("web-referral"), domain.Refer{Patient: referred, Source: domain.SourceSelf, At: now.Add(-80 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			prepare := func(key string, cmds []domain.PatientCommand) *commands.OpeningBatch {
				b, err := svc.PrepareOpening(meta(key), cmds)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			secondReferral := []domain.PatientCommand{domain.Refer{Patient: referred, Source: domain.SourceOther, At: now.Add(-72 * time.Hour)}}
			out := svc.AppendOpenings(ctx, []*commands.OpeningBatch{
				prepare("row-1", episode()), prepare("row-2", secondReferral), prepare("row-1", episode()),
			})
			// Row 1 twice: one append writes, the other finds its events
			// (which one, on the other store, is up to the goroutines).
			first, again := out[0], out[2]
			if first.Err != nil || again.Err != nil || first.Result.Duplicate == again.Result.Duplicate ||
				first.Result.Revision != 1 || again.Result.Position != first.Result.Position {
				t.Errorf("row 1 %+v and again %+v, want one written and one found", first, again)
			}
			if batching && first.Result.Duplicate {
				t.Errorf("row 1 %+v found, want it written before its retry", first)
			}
			if o := out[1]; domain.ErrorCode(o.Err) == "" {
				t.Errorf("row 2: %+v, want the domain's refusal of a second referral", o)
			}
			if n := streamLen(t, store, domain.PatientStream(newPid)); n != 2 {
				t.Errorf("%d events of row 1's patient, want 2", n)
			}
			if n := streamLen(t, store, domain.PatientStream(referred)); n != 1 {
				t.Errorf("%d events of the referred patient, want the first referral only", n)
			}
			if want := map[bool]int32{true: 1, false: 0}[batching]; bs.calls.Load() != want {
				t.Errorf("%d calls of AppendMany, want %d", bs.calls.Load(), want)
			}
		})
	}
}
