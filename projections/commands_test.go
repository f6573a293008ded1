package projections

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// TestProjectionsOfTheCommandPath drives the real command service and
// reads the result back through the runner, as the web layer does: wait
// for the command's position, then query.
func TestProjectionsOfTheCommandPath(t *testing.T) {
	ctx := context.Background()
	store := newMemstore(t)
	r := startRunner(t, Options{Store: store, Now: fixedClock(at(9, 18))})
	svc := commands.New(store, commands.WithClock(fixedClock(at(9, 18))))
	requests := 0
	var last eventstore.Position
	do := func(res commands.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("command %d: %v", requests, err)
		}
		last = res.Position
	}
	meta := func() commands.Meta {
		requests++
		return commands.Meta{IdempotencyKey: fmt.Sprintf("request-%d", requests)}
	}
	oneSeat := processSpec()
	oneSeat.Capacity = 1
	session := domain.NewSessionID(date(7), 10*60)

	do(svc.Program(ctx, meta(), domain.CreateProgram{Program: phpDay, Spec: domain.ProgramSpec{Name: "PHP day", Level: domain.PHP, Capacity: 20}, At: at(0, 7)}))
	do(svc.Program(ctx, meta(), domain.CreateProgram{Program: iopEvening, Spec: domain.ProgramSpec{Name: "IOP evening", Level: domain.IOP, Capacity: 15}, At: at(0, 7)}))
	do(svc.Group(ctx, meta(), domain.CreateGroup{Group: process, Spec: oneSeat, At: at(0, 7)}))
	for n := 1; n <= 2; n++ {
		do(svc.Patient(ctx, meta(), domain.Refer{Patient: pid(n), Source: domain.SourceSelf, At: at(0, 8)}))
		do(svc.Patient(ctx, meta(), domain.CompleteIntake{Patient: pid(n), PHQ9: 16, GAD7: 12, RecommendedLevel: domain.PHP, AgeYears: 30, At: at(0, 9)}))
		do(svc.Patient(ctx, meta(), domain.Admit{Patient: pid(n), Program: phpDay, Level: domain.PHP, At: at(1, 9)}))
	}
	do(svc.Group(ctx, meta(), domain.JoinGroup{Group: process, Patient: pid(1), At: at(1, 10)}))
	do(svc.Group(ctx, meta(), domain.JoinGroup{Group: process, Patient: pid(2), WaitlistIfFull: true, At: at(1, 11)}))
	do(svc.Group(ctx, meta(), domain.HoldSession{Group: process, Session: session, At: at(7, 10)}))
	do(svc.Group(ctx, meta(), domain.RecordAttendance{Group: process, Session: session, Patient: pid(1), Status: domain.Present, At: at(8, 8)}))
	do(svc.Patient(ctx, meta(), domain.RecordMeasure{Patient: pid(1), Instrument: domain.PHQ9, Score: 9, At: at(8, 9)}))
	do(svc.Patient(ctx, meta(), domain.StepDown{Patient: pid(1), To: domain.IOP, Program: iopEvening, At: at(9, 9)}))
	do(svc.Group(ctx, meta(), domain.LeaveGroup{Group: process, Patient: pid(1), Reason: domain.LeaveLevelChanged, At: at(9, 10)}))
	do(svc.Patient(ctx, meta(), domain.Discharge{Patient: pid(2), Reason: domain.DischargeCompleted, At: at(9, 12)}))
	waitPosition(t, r, last)

	board, _ := r.Census(at(9, 18))
	var levels []string
	for _, l := range board.Levels {
		if l.People > 0 {
			levels = append(levels, fmt.Sprintf("%s:%d/%d", l.Level, l.People, l.Capacity))
		}
	}
	if !slices.Equal(levels, []string{"iop:1/15"}) || board.Movements.Today.StepDowns != 1 || board.Movements.Today.Discharges != 1 {
		t.Errorf("census levels %v, today %+v", levels, board.Movements.Today)
	}
	if board.Movements.Last7Days.Admissions != 0 || board.Groups[0].Members != 1 || board.Groups[0].Waitlist != 0 {
		t.Errorf("census last 7 days %+v, groups %+v; the admissions of day 1 are out of the window", board.Movements.Last7Days, board.Groups)
	}
	if earlier, _ := r.Census(at(7, 12)); earlier.Movements.Last7Days.Admissions != 2 {
		t.Errorf("census of day 7: last 7 days %+v, want both admissions", earlier.Movements.Last7Days)
	}

	roster, _, _ := r.Roster(process)
	if got := summarizeRoster(roster); !slices.Equal(got.Members, []string{"p2 entry=0 done=0 current=0 att=0/0/0"}) || got.Sessions != 1 || len(got.Waitlist) != 0 {
		t.Errorf("roster %+v; want p2 promoted into the seat p1 left", got)
	}

	journey, _, _ := r.Journey(pid(1))
	var types []string
	for _, e := range journey.Timeline {
		types = append(types, e.Type)
	}
	want := []string{"Referred", "IntakeCompleted", "Admitted", "MemberJoined", "AttendanceRecorded", "MeasureRecorded", "SteppedDown", "MemberLeft"}
	if !slices.Equal(types, want) {
		t.Errorf("p1 timeline %v, want %v", types, want)
	}
	if journey.Timeline[4].At != at(7, 10) {
		t.Errorf("attendance at %v, want the session's time %v", journey.Timeline[4].At, at(7, 10))
	}
	if len(journey.Measures.PHQ9) != 2 || len(journey.Levels) != 2 || journey.Levels[0].EndedBy != "SteppedDown" {
		t.Errorf("p1 measures %+v levels %+v", journey.Measures, journey.Levels)
	}
	row, _, _ := r.Patient(pid(2))
	if row.Status != StatusDischarged || len(row.Groups) != 1 || row.Groups[0].Role != RoleMember {
		t.Errorf("p2 row %+v; want discharged, still seated (no seat releaser runs here)", row)
	}
}
