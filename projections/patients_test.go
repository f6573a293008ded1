package projections

import (
	"reflect"
	"slices"
	"testing"

	"github.com/continuum-care/continuum/domain"
)

func TestPatientListFoldsEveryEventType(t *testing.T) {
	p := pid(1)
	referred := domain.Referred{Patient: p, Source: domain.SourceSelf, Personal: sealed(1), OccurredAt: at(0, 8)}
	intake := domain.IntakeCompleted{Patient: p, PHQ9: 15, GAD7: 9, RecommendedLevel: domain.PHP, OccurredAt: at(0, 9)}
	admitted := domain.Admitted{Patient: p, Program: phpDay, Level: domain.PHP, OccurredAt: at(0, 10)}
	discharged := domain.Discharged{Patient: p, Reason: domain.DischargeCompleted, Level: domain.PHP, Program: phpDay, OccurredAt: at(10, 9)}
	joined := domain.MemberJoined{Group: cbt, Patient: p, Module: 1, OccurredAt: at(1, 9)}
	waitlisted := domain.MemberWaitlisted{Group: cbt, Patient: p, OccurredAt: at(1, 9)}
	session := domain.SessionHeld{Group: cbt, Session: "s1", Date: date(2), Module: 1, OccurredAt: at(2, 17)}
	inCare := then(catalogEvents(), referred, intake, admitted)

	// row builds the expected row of the admitted patient, changed by mod.
	row := func(mod func(r *PatientRow)) PatientRow {
		r := PatientRow{
			Patient: p, Personal: sealed(1), Source: domain.SourceSelf, Status: StatusAdmitted,
			Level: domain.PHP, Program: phpDay, ProgramName: "Program php-day", LevelSince: date(0),
			Episodes: 1, Groups: []PatientGroup{}, LastActivity: date(0),
		}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	notAdmitted := func(status PatientStatus) func(r *PatientRow) {
		return func(r *PatientRow) {
			r.Status, r.Level, r.Program, r.ProgramName, r.LevelSince, r.Episodes = status, 0, "", "", domain.Date{}, 0
		}
	}
	tests := []struct {
		name    string
		history []domain.Event
		event   domain.Event
		want    PatientRow
	}{
		{"Referred", catalogEvents(), referred, row(notAdmitted(StatusReferred))},
		{"IntakeCompleted", then(catalogEvents(), referred), intake, row(notAdmitted(StatusIntakeDone))},
		{"Admitted", then(catalogEvents(), referred, intake), admitted, row(nil)},
		{"MeasureRecorded", inCare,
			domain.MeasureRecorded{Patient: p, Instrument: domain.GAD7, Score: 7, OccurredAt: at(5, 9)},
			row(func(r *PatientRow) { r.LastActivity = date(5) })},
		{"SteppedDown", inCare,
			domain.SteppedDown{Patient: p, From: domain.PHP, To: domain.IOP, Program: iopEvening, OccurredAt: at(8, 9)},
			row(func(r *PatientRow) {
				r.Level, r.Program, r.ProgramName, r.LevelSince, r.LastActivity = domain.IOP, iopEvening, "Program iop-evening", date(8), date(8)
			})},
		{"SteppedUp to an undefined program", inCare,
			domain.SteppedUp{Patient: p, From: domain.PHP, To: domain.Inpatient, Program: "inpatient-unit", OccurredAt: at(9, 9)},
			row(func(r *PatientRow) {
				r.Level, r.Program, r.ProgramName, r.LevelSince, r.LastActivity = domain.Inpatient, "inpatient-unit", "", date(9), date(9)
			})},
		{"Discharged", inCare, discharged,
			row(func(r *PatientRow) {
				notAdmitted(StatusDischarged)(r)
				r.Episodes, r.LastActivity = 1, date(10)
			})},
		{"IntakeCompleted after a discharge waits for readmission", then(inCare, discharged),
			domain.IntakeCompleted{Patient: p, PHQ9: 10, GAD7: 8, RecommendedLevel: domain.IOP, OccurredAt: at(12, 9)},
			row(func(r *PatientRow) {
				notAdmitted(StatusIntakeDone)(r)
				r.Episodes, r.LastActivity = 1, date(12)
			})},
		{"Readmitted", then(inCare, discharged),
			domain.Readmitted{Patient: p, Program: iopEvening, Level: domain.IOP, OccurredAt: at(20, 9)},
			row(func(r *PatientRow) {
				r.Level, r.Program, r.ProgramName, r.LevelSince, r.LastActivity, r.Episodes = domain.IOP, iopEvening, "Program iop-evening", date(20), date(20), 2
			})},
		{"MemberJoined", inCare, joined,
			row(func(r *PatientRow) {
				r.Groups, r.LastActivity = []PatientGroup{{Group: cbt, Name: "CBT for anxiety", Role: RoleMember}}, date(1)
			})},
		{"MemberWaitlisted", inCare, waitlisted,
			row(func(r *PatientRow) {
				r.Groups, r.LastActivity = []PatientGroup{{Group: cbt, Name: "CBT for anxiety", Role: RoleWaitlisted}}, date(1)
			})},
		{"WaitlistPromoted", then(inCare, waitlisted),
			domain.WaitlistPromoted{Group: cbt, Patient: p, Module: 1, OccurredAt: at(3, 9)},
			row(func(r *PatientRow) {
				r.Groups, r.LastActivity = []PatientGroup{{Group: cbt, Name: "CBT for anxiety", Role: RoleMember}}, date(3)
			})},
		{"WaitlistLeft", then(inCare, waitlisted),
			domain.WaitlistLeft{Group: cbt, Patient: p, Reason: domain.LeaveWithdrew, OccurredAt: at(3, 9)},
			row(func(r *PatientRow) { r.LastActivity = date(3) })},
		{"MemberLeft", then(inCare, joined),
			domain.MemberLeft{Group: cbt, Patient: p, Reason: domain.LeaveWithdrew, OccurredAt: at(4, 9)},
			row(func(r *PatientRow) { r.LastActivity = date(4) })},
		{"GroupCompleted", then(inCare, joined),
			domain.GroupCompleted{Group: cbt, Patient: p, OccurredAt: at(5, 9)},
			row(func(r *PatientRow) { r.LastActivity = date(5) })},
		{"AttendanceRecorded", then(inCare, joined, session),
			domain.AttendanceRecorded{Group: cbt, Session: "s1", Patient: p, Status: domain.Present, OccurredAt: at(3, 8)},
			row(func(r *PatientRow) {
				r.Groups, r.LastActivity = []PatientGroup{{Group: cbt, Name: "CBT for anxiety", Role: RoleMember}}, date(3)
			})},
		{"ModuleCompleted", then(inCare, joined),
			domain.ModuleCompleted{Group: cbt, Patient: p, Module: 1, OccurredAt: at(6, 9)},
			row(func(r *PatientRow) {
				r.Groups, r.LastActivity = []PatientGroup{{Group: cbt, Name: "CBT for anxiety", Role: RoleMember}}, date(6)
			})},
		{"SessionHeld leaves the row alone", then(inCare, joined), session,
			row(func(r *PatientRow) {
				r.Groups, r.LastActivity = []PatientGroup{{Group: cbt, Name: "CBT for anxiety", Role: RoleMember}}, date(1)
			})},
		{"ProgramChanged renames the program", inCare,
			domain.ProgramChanged{Program: phpDay, ProgramSpec: domain.ProgramSpec{Name: "PHP day", Level: domain.PHP, Capacity: 20}, OccurredAt: at(3, 9)},
			row(func(r *PatientRow) { r.ProgramName = "PHP day" })},
		{"GroupChanged renames the group", then(inCare, joined),
			domain.GroupChanged{Group: cbt, GroupSpec: func() domain.GroupSpec { s := cbtSpec(); s.Name = "CBT (anxiety)"; return s }(), OccurredAt: at(3, 9)},
			row(func(r *PatientRow) {
				r.Groups, r.LastActivity = []PatientGroup{{Group: cbt, Name: "CBT (anxiety)", Role: RoleMember}}, date(1)
			})},
		{"a backdated fact does not move the last activity back", then(inCare, domain.MeasureRecorded{Patient: p, Instrument: domain.PHQ9, Score: 3, OccurredAt: at(9, 9)}),
			domain.MeasureRecorded{Patient: p, Instrument: domain.PHQ9, Score: 5, OccurredAt: at(4, 9)},
			row(func(r *PatientRow) { r.LastActivity = date(9) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := fold(t, append(slices.Clone(tt.history), tt.event)...)
			got, ok := m.Patients.Patient(p)
			if !ok {
				t.Fatal("patient missing from the list")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("row\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, tt.want))
			}
		})
	}
}

func TestPatientsFilter(t *testing.T) {
	m, _ := fold(t, story()...)
	ids := func(v PatientsView) []domain.PatientID {
		var out []domain.PatientID
		for _, r := range v.Patients {
			out = append(out, r.Patient)
		}
		return out
	}
	tests := []struct {
		name      string
		filter    PatientFilter
		want      []domain.PatientID
		wantTotal int
	}{
		// Ordered by last activity, newest first: p1 completed the group on
		// day 126, p4 left a waitlist on day 101, p3 was readmitted on day
		// 100, p2 stepped up on day 86.
		{"everyone", PatientFilter{}, []domain.PatientID{pid(1), pid(4), pid(3), pid(2)}, 4},
		{"by status", PatientFilter{Status: StatusAdmitted}, []domain.PatientID{pid(1), pid(3), pid(2)}, 3},
		{"by level", PatientFilter{Level: domain.PHP}, []domain.PatientID{pid(3)}, 1},
		{"by program", PatientFilter{Program: iopEvening}, []domain.PatientID{pid(1)}, 1},
		{"by group (member or waitlisted)", PatientFilter{Group: cbt}, []domain.PatientID{pid(3)}, 1},
		{"limit keeps the total", PatientFilter{Limit: 2}, []domain.PatientID{pid(1), pid(4)}, 4},
		{"nothing matches", PatientFilter{Level: domain.Inpatient}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := m.Patients.Patients(tt.filter)
			if got := ids(v); !slices.Equal(got, tt.want) || v.Total != tt.wantTotal {
				t.Errorf("got %v (total %d), want %v (total %d)", got, v.Total, tt.want, tt.wantTotal)
			}
			if v.Patients == nil {
				t.Error("patients is nil; an empty list must render as []")
			}
		})
	}
}

func TestPatientRowSharesNothingWithTheModel(t *testing.T) {
	m, _ := fold(t, admittedPatient(1, 0)...)
	row, _ := m.Patients.Patient(pid(1))
	row.Personal.Ciphertext[0] = 0x42
	again, _ := m.Patients.Patient(pid(1))
	if again.Personal.Ciphertext[0] == 0x42 {
		t.Fatal("a caller changing a row changed the model's sealed data")
	}
	if !reflect.DeepEqual(again.Personal, sealed(1)) {
		t.Errorf("sealed data = %+v, want it exactly as the referral carried it", again.Personal)
	}
}

func TestParsePatientStatus(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    PatientStatus
		wantErr bool
	}{
		{"referred", "referred", StatusReferred, false},
		{"intake done", "intake_done", StatusIntakeDone, false},
		{"admitted", "admitted", StatusAdmitted, false},
		{"discharged", "discharged", StatusDischarged, false},
		{"unknown word", "in_care", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePatientStatus(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParsePatientStatus(%q) = %v, %v", tt.in, got, err)
			}
			if err == nil && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}
