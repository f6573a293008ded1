package commands_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/domain/catalog"
	"github.com/continuum-care/continuum/eventstore"
)

func seed(t *testing.T, svc *commands.Service) {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	programs, groups := cat.Commands(now.Add(-90 * 24 * time.Hour))
	n, err := svc.SeedCatalog(context.Background(), programs, groups)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(programs)+len(groups) {
		t.Fatalf("first seeding created %d, want %d", n, len(programs)+len(groups))
	}
}

func TestSeedCatalogOnlyOnce(t *testing.T) {
	svc, store := newService(t)
	seed(t, svc)
	head := func() int {
		recs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	before := head()
	cat, _ := catalog.Default()
	programs, groups := cat.Commands(now)
	// A restarted process (fresh service) seeds again: nothing is written.
	n, err := commands.New(store).SeedCatalog(context.Background(), programs, groups)
	if err != nil || n != 0 {
		t.Fatalf("second seeding created %d, err %v", n, err)
	}
	if after := head(); after != before {
		t.Fatalf("second seeding appended %d events", after-before)
	}
}

// TestJoinChecksFactsFromOtherStreams: skills-practice DBT requires a
// completed DBT skills group, a fact the command layer reads from that
// group's stream before deciding in the practice group's stream.
func TestJoinChecksFactsFromOtherStreams(t *testing.T) {
	svc, _ := newService(t)
	seed(t, svc)
	ctx := context.Background()
	if _, err := svc.Patient(ctx, meta("refer"), domain.Refer{Patient: pid, Source: domain.SourceAccessLine, At: now.Add(-60 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	join := func(key string, g domain.GroupID) error {
		_, err := svc.Group(ctx, meta(key), domain.JoinGroup{Group: g, Patient: pid, At: now.Add(-time.Hour)})
		return err
	}
	if err := join("j0", "dbt-skills-wednesday"); domain.ErrorCode(err) != domain.CodeIntakeRequired {
		t.Fatalf("join before intake = %v, want intake_required", err)
	}
	intake := domain.CompleteIntake{Patient: pid, PHQ9: 14, GAD7: 9, RecommendedLevel: domain.Outpatient, PrimaryCare: true, IndividualTherapy: true, AgeYears: 29, At: now.Add(-59 * 24 * time.Hour)}
	if _, err := svc.Patient(ctx, meta("intake"), intake); err != nil {
		t.Fatal(err)
	}
	if err := join("j1", "dbt-skills-practice"); domain.ErrorCode(err) != domain.CodeRequirementUnmet {
		t.Fatalf("practice before skills = %v, want requirement_unmet", err)
	}
	if _, err := svc.Group(ctx, meta("j2"), domain.JoinGroup{Group: "dbt-skills-wednesday", Patient: pid, At: now.Add(-50 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Group(ctx, meta("done"), domain.CompleteGroup{Group: "dbt-skills-wednesday", Patient: pid, At: now.Add(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := join("j3", "dbt-skills-practice"); err != nil {
		t.Fatalf("practice after completing skills = %v", err)
	}
}

func leftOnDischarge(t *testing.T, store eventstore.Store, g domain.GroupID) bool {
	t.Helper()
	recs, err := store.ReadStream(context.Background(), domain.GroupStream(g), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		ev, err := domain.DecodeData(r.Type, r.Data, r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if left, ok := ev.(domain.MemberLeft); ok && left.Patient == pid && left.Reason == domain.LeaveDischarged {
			return true
		}
	}
	return false
}

func TestSeatReleasedAfterDischarge(t *testing.T) {
	svc, _ := newService(t)
	seed(t, svc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	referAndAssess(t, svc)
	if _, err := svc.Patient(ctx, meta("admit"), domain.Admit{Patient: pid, Program: "iop-evening", Level: domain.IOP, At: now.Add(-20 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Group(ctx, meta("join"), domain.JoinGroup{Group: "iop-evening-process", Patient: pid, At: now.Add(-19 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	releaser := commands.NewSeatReleaser(svc, filepath.Join(t.TempDir(), "releaser.json"), slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- releaser.Run(ctx) }()
	if _, err := svc.Patient(ctx, meta("discharge"), domain.Discharge{Patient: pid, Reason: domain.DischargeCompleted, At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !leftOnDischarge(t, svc.Store(), "iop-evening-process") {
		if time.Now().After(deadline) {
			t.Fatal("seat not released within 5s of the discharge")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Leaving again is refused: the seat is gone.
	_, err := svc.Group(ctx, meta("leave"), domain.LeaveGroup{Group: "iop-evening-process", Patient: pid, Reason: domain.LeaveWithdrew, At: now})
	if domain.ErrorCode(err) != domain.CodeNotMember {
		t.Fatalf("leave after release = %v, want not_member", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A releaser started on a store with history replays old discharges; it
// must not remove someone who came back and sits in the group again.
func TestSeatReleaserStartedLateLeavesReturningMembersSeated(t *testing.T) {
	svc, store := newService(t)
	seed(t, svc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	referAndAssess(t, svc)
	const g = "iop-evening-process"
	steps := []struct {
		key string
		run func(commands.Meta) error
	}{
		{"admit", func(m commands.Meta) error {
			_, err := svc.Patient(ctx, m, domain.Admit{Patient: pid, Program: "iop-evening", Level: domain.IOP, At: now.Add(-20 * time.Hour)})
			return err
		}},
		{"join", func(m commands.Meta) error {
			_, err := svc.Group(ctx, m, domain.JoinGroup{Group: g, Patient: pid, At: now.Add(-19 * time.Hour)})
			return err
		}},
		{"leave", func(m commands.Meta) error {
			_, err := svc.Group(ctx, m, domain.LeaveGroup{Group: g, Patient: pid, Reason: domain.LeaveDischarged, At: now.Add(-15 * time.Hour)})
			return err
		}},
		{"discharge", func(m commands.Meta) error {
			_, err := svc.Patient(ctx, m, domain.Discharge{Patient: pid, Reason: domain.DischargeCompleted, At: now.Add(-15 * time.Hour)})
			return err
		}},
		{"readmit", func(m commands.Meta) error {
			_, err := svc.Patient(ctx, m, domain.Readmit{Patient: pid, Program: "iop-evening", Level: domain.IOP, At: now.Add(-10 * time.Hour)})
			return err
		}},
		{"rejoin", func(m commands.Meta) error {
			_, err := svc.Group(ctx, m, domain.JoinGroup{Group: g, Patient: pid, At: now.Add(-9 * time.Hour)})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.run(meta(s.key)); err != nil {
			t.Fatalf("%s: %v", s.key, err)
		}
	}
	releaser := commands.NewSeatReleaser(svc, filepath.Join(t.TempDir(), "releaser.json"), slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- releaser.Run(ctx) }()
	// A second discharge the releaser must act on: once it has, it has
	// passed the first one too ($all is delivered in order).
	if _, err := svc.Patient(ctx, meta("discharge-2"), domain.Discharge{Patient: pid, Reason: domain.DischargeCompleted, At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	var leaves []domain.MemberLeft
	for {
		leaves = memberLefts(t, store, g)
		if len(leaves) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(leaves) != 2 {
		t.Fatalf("MemberLeft events = %d, want 2 (the recorded leave and the second discharge's release): %+v", len(leaves), leaves)
	}
	if at := leaves[1].OccurredAt; !at.Equal(now.Add(-time.Hour)) {
		t.Errorf("release dated %v, want the second discharge's time %v", at, now.Add(-time.Hour))
	}
}

func memberLefts(t *testing.T, store eventstore.Store, g domain.GroupID) []domain.MemberLeft {
	t.Helper()
	recs, err := store.ReadStream(context.Background(), domain.GroupStream(g), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.MemberLeft
	for _, r := range recs {
		ev, err := domain.DecodeData(r.Type, r.Data, r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if left, ok := ev.(domain.MemberLeft); ok && left.Patient == pid {
			out = append(out, left)
		}
	}
	return out
}
