package simulate

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// quickPace makes Live run in milliseconds instead of seconds per event.
func quickPace() LiveConfig {
	return LiveConfig{Location: time.UTC, MinPause: time.Millisecond, MaxPause: 2 * time.Millisecond, RoutinePause: time.Millisecond}
}

// waitForEvents waits until the store holds at least n events; it fails
// the test if ctx ends first (Live stopped making progress).
func waitForEvents(t *testing.T, ctx context.Context, store eventstore.Store, n int) {
	t.Helper()
	for {
		recs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{From: eventstore.Start})
		if err == nil && len(recs) >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the store holds fewer than %d events: Live made no progress", n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// inCareOutpatient finds a simulated person in outpatient care.
func inCareOutpatient(t *testing.T, svc *commands.Service, log []decoded) domain.PatientID {
	t.Helper()
	for _, x := range log {
		a, ok := x.event.(domain.Admitted)
		if !ok {
			continue
		}
		st, err := svc.PatientState(context.Background(), a.Patient)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == domain.StatusInCare && st.Level == domain.Outpatient {
			return a.Patient
		}
	}
	t.Fatal("nobody in outpatient care after the history")
	return ""
}

func TestLiveKeepsTheHistoryMoving(t *testing.T) {
	store := newStore(t)
	keys := newKeys(t)
	today := domain.DateOf(time.Now().UTC())
	run(t, store, keys, Config{Seed: 1, Start: today.AddDays(-90), Days: 90})
	svc := commands.New(store)
	history := len(readLog(t, store))
	clinicians := inCareOutpatient(t, svc, decodeLog(t, readLog(t, store)))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Live(ctx, svc, keys, quickPace()) }()
	waitForEvents(t, ctx, store, history+100)

	// A clinician discharges someone the simulator is looking after. The
	// simulator may have discharged the person meanwhile; then the
	// clinician takes someone still in its care.
	for attempt := 1; ; attempt++ {
		_, err := svc.Patient(ctx, commands.Meta{IdempotencyKey: fmt.Sprintf("clinician-discharge-%d", attempt)},
			domain.Discharge{Patient: clinicians, Reason: domain.DischargeTransferred})
		var refused *domain.PatientStateError
		if err == nil {
			break
		}
		if !errors.As(err, &refused) || refused.Rule != domain.CodePatientDischarged || attempt == 10 {
			t.Fatal(err)
		}
		clinicians = inCareOutpatient(t, svc, decodeLog(t, readLog(t, store)))
	}
	marked := len(readLog(t, store))
	waitForEvents(t, ctx, store, marked+400)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Live returned %v after its context ended", err)
	}

	log := decodeLog(t, readLog(t, store))
	live := summarize(t, log[history:])
	for _, typ := range []string{"Referred", "MeasureRecorded", "SessionHeld", "AttendanceRecorded"} {
		if live.types[typ] == 0 {
			t.Errorf("Live recorded no %s (it recorded %v)", typ, live.types)
		}
	}
	now := time.Now()
	discharged := false
	for _, x := range log[history:] {
		if when := x.event.When(); when.After(now) || when.Before(now.Add(-time.Hour)) {
			t.Fatalf("a live %s is dated %v, not now", x.event.EventType(), when)
		}
		if x.stream != domain.PatientStream(clinicians) {
			continue
		}
		switch x.event.(type) {
		case domain.Discharged:
			if discharged {
				t.Error("the person was discharged twice")
			}
			discharged = true
		case domain.Admitted, domain.Readmitted, domain.SteppedDown, domain.SteppedUp:
			if discharged {
				t.Errorf("the simulator moved the person (%s) after the clinician discharged them", x.event.EventType())
			}
		}
	}
	if !discharged {
		t.Error("the clinician's discharge is not in the log")
	}
}

func TestLiveStartsOnAnEmptyCatalog(t *testing.T) {
	store := newStore(t)
	svc := commands.New(store)
	start := domain.DateOf(time.Now().UTC())
	e, err := newShared(store, nil, Config{Start: start, Sites: 1, Location: time.UTC}, nil).engines()
	if err != nil {
		t.Fatal(err)
	}
	e[0].svc = svc
	if err := e[0].seedCatalog(context.Background()); err != nil {
		t.Fatal(err)
	}
	seeded := len(readLog(t, store))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Live(ctx, svc, nil, quickPace()) }()
	waitForEvents(t, ctx, store, seeded+50)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Live returned %v", err)
	}
	if s := summarize(t, decodeLog(t, readLog(t, store))[seeded:]); s.referrals == 0 || s.types["IntakeCompleted"] == 0 {
		t.Errorf("Live on an empty store recorded %v", s.types)
	}
}
