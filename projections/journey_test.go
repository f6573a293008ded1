package projections

import (
	"reflect"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
)

func intp(n int) *int { return &n }

func timep(t time.Time) *time.Time { return &t }

func TestJourneyFoldsEveryEventType(t *testing.T) {
	p := pid(1)
	inCare := then(catalogEvents(), admittedPatient(1, 0)...)
	joined := domain.MemberJoined{Group: cbt, Patient: p, Module: 1, OccurredAt: at(1, 9)}
	session := domain.SessionHeld{Group: cbt, Session: "s1", Date: date(2), Module: 1, OccurredAt: at(2, 17)}
	// correction is the one case that replaces an entry instead of adding one.
	const correction = "AttendanceRecorded correction replaces the record"
	tests := []struct {
		name    string
		history []domain.Event
		event   domain.Event
		want    TimelineEntry
	}{
		{"Referred", catalogEvents(), domain.Referred{Patient: p, Source: domain.SourceEmergency, Personal: sealed(1), OccurredAt: at(0, 8)},
			TimelineEntry{At: at(0, 8), Type: "Referred", Reason: "emergency"}},
		{"IntakeCompleted", catalogEvents(), domain.IntakeCompleted{Patient: p, PHQ9: 0, GAD7: 21, RecommendedLevel: domain.IOP, OccurredAt: at(0, 9)},
			TimelineEntry{At: at(0, 9), Type: "IntakeCompleted", Level: domain.IOP, PHQ9: intp(0), GAD7: intp(21)}},
		{"Admitted", catalogEvents(), domain.Admitted{Patient: p, Program: phpDay, Level: domain.PHP, OccurredAt: at(0, 10)},
			TimelineEntry{At: at(0, 10), Type: "Admitted", Level: domain.PHP, Program: phpDay, ProgramName: "Program php-day"}},
		{"MeasureRecorded", inCare, domain.MeasureRecorded{Patient: p, Instrument: domain.GAD7, Score: 0, OccurredAt: at(3, 9)},
			TimelineEntry{At: at(3, 9), Type: "MeasureRecorded", Instrument: domain.GAD7, Score: intp(0)}},
		{"SteppedDown", inCare, domain.SteppedDown{Patient: p, From: domain.PHP, To: domain.IOP, Program: iopEvening, OccurredAt: at(4, 9)},
			TimelineEntry{At: at(4, 9), Type: "SteppedDown", Level: domain.IOP, From: domain.PHP, Program: iopEvening, ProgramName: "Program iop-evening"}},
		{"SteppedUp", inCare, domain.SteppedUp{Patient: p, From: domain.PHP, To: domain.Inpatient, Program: "inpatient-unit", OccurredAt: at(4, 9)},
			TimelineEntry{At: at(4, 9), Type: "SteppedUp", Level: domain.Inpatient, From: domain.PHP, Program: "inpatient-unit"}},
		{"Discharged", inCare, domain.Discharged{Patient: p, Reason: domain.DischargeAgainstAdvice, Level: domain.PHP, Program: phpDay, AlumniGroup: process, OccurredAt: at(5, 9)},
			TimelineEntry{At: at(5, 9), Type: "Discharged", Level: domain.PHP, Program: phpDay, ProgramName: "Program php-day", Reason: "against_advice", AlumniGroup: process}},
		{"Readmitted", then(inCare, domain.Discharged{Patient: p, Reason: domain.DischargeCompleted, Level: domain.PHP, Program: phpDay, OccurredAt: at(5, 9)}),
			domain.Readmitted{Patient: p, Program: iopEvening, Level: domain.IOP, OccurredAt: at(6, 9)},
			TimelineEntry{At: at(6, 9), Type: "Readmitted", Level: domain.IOP, Program: iopEvening, ProgramName: "Program iop-evening"}},
		{"MemberJoined", inCare, joined,
			TimelineEntry{At: at(1, 9), Type: "MemberJoined", Group: cbt, GroupName: "CBT for anxiety", Module: 1}},
		{"MemberWaitlisted", inCare, domain.MemberWaitlisted{Group: cbt, Patient: p, OccurredAt: at(1, 9)},
			TimelineEntry{At: at(1, 9), Type: "MemberWaitlisted", Group: cbt, GroupName: "CBT for anxiety"}},
		{"WaitlistPromoted", then(inCare, domain.MemberWaitlisted{Group: cbt, Patient: p, OccurredAt: at(1, 9)}),
			domain.WaitlistPromoted{Group: cbt, Patient: p, Module: 2, OccurredAt: at(42, 9)},
			TimelineEntry{At: at(42, 9), Type: "WaitlistPromoted", Group: cbt, GroupName: "CBT for anxiety", Module: 2}},
		{"WaitlistLeft", then(inCare, domain.MemberWaitlisted{Group: cbt, Patient: p, OccurredAt: at(1, 9)}),
			domain.WaitlistLeft{Group: cbt, Patient: p, Reason: domain.LeaveDischarged, OccurredAt: at(2, 9)},
			TimelineEntry{At: at(2, 9), Type: "WaitlistLeft", Group: cbt, GroupName: "CBT for anxiety", Reason: "discharged"}},
		{"MemberLeft", then(inCare, joined), domain.MemberLeft{Group: cbt, Patient: p, Reason: domain.LeaveNonAttendance, OccurredAt: at(9, 9)},
			TimelineEntry{At: at(9, 9), Type: "MemberLeft", Group: cbt, GroupName: "CBT for anxiety", Reason: "non_attendance"}},
		{"AttendanceRecorded sits at the session's time", then(inCare, joined, session),
			domain.AttendanceRecorded{Group: cbt, Session: "s1", Patient: p, Status: domain.Excused, OccurredAt: at(3, 8)},
			TimelineEntry{At: at(2, 17), Type: "AttendanceRecorded", Group: cbt, GroupName: "CBT for anxiety", Session: "s1", Attendance: domain.Excused}},
		{correction,
			then(inCare, joined, session, domain.AttendanceRecorded{Group: cbt, Session: "s1", Patient: p, Status: domain.Absent, OccurredAt: at(3, 8)}),
			domain.AttendanceRecorded{Group: cbt, Session: "s1", Patient: p, Status: domain.Present, OccurredAt: at(3, 9)},
			TimelineEntry{At: at(2, 17), Type: "AttendanceRecorded", Group: cbt, GroupName: "CBT for anxiety", Session: "s1", Attendance: domain.Present}},
		{"ModuleCompleted", then(inCare, joined), domain.ModuleCompleted{Group: cbt, Patient: p, Module: 1, OccurredAt: at(42, 18)},
			TimelineEntry{At: at(42, 18), Type: "ModuleCompleted", Group: cbt, GroupName: "CBT for anxiety", Module: 1}},
		{"GroupCompleted", then(inCare, joined), domain.GroupCompleted{Group: cbt, Patient: p, OccurredAt: at(84, 18)},
			TimelineEntry{At: at(84, 18), Type: "GroupCompleted", Group: cbt, GroupName: "CBT for anxiety"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prior, _ := fold(t, tt.history...)
			before := 0
			if v, ok := prior.Journeys.Journey(p); ok {
				before = len(v.Timeline)
			}
			m, changed := fold(t, then(tt.history, tt.event)...)
			v, ok := m.Journeys.Journey(p)
			if !ok {
				t.Fatal("no journey")
			}
			last := v.Timeline[len(v.Timeline)-1]
			if !reflect.DeepEqual(last, tt.want) {
				t.Errorf("latest entry\n got %s\nwant %s", mustJSON(t, last), mustJSON(t, tt.want))
			}
			// A correction replaces its record; every other fact adds one.
			wantLen := before + 1
			if tt.name == correction {
				wantLen = before
			}
			if len(v.Timeline) != wantLen {
				t.Errorf("timeline has %d entries, want %d", len(v.Timeline), wantLen)
			}
			if _, ok := changed[PatientTopic(p)]; !ok {
				t.Errorf("topic patient:%s not reported", p)
			}
		})
	}
}

func TestJourneySegmentsAndSeries(t *testing.T) {
	m, _ := fold(t, story()...)
	v, ok := m.Journeys.Journey(pid(3))
	if !ok {
		t.Fatal("no journey for p3")
	}
	wantLevels := []LevelSegment{
		{Level: domain.PHP, Program: phpDay, ProgramName: "PHP day", Start: at(2, 10), End: timep(at(90, 9)), EndedBy: "Discharged"},
		{Level: domain.PHP, Program: phpDay, ProgramName: "PHP day", Start: at(100, 9)},
	}
	if !reflect.DeepEqual(v.Levels, wantLevels) {
		t.Errorf("levels\n got %s\nwant %s", mustJSON(t, v.Levels), mustJSON(t, wantLevels))
	}
	wantGroups := []GroupSegment{{
		Group: cbt, GroupName: "CBT for anxiety", WaitlistedAt: timep(at(43, 9)), JoinedAt: timep(at(85, 9)),
		EntryModule: 1, Modules: []ModuleMark{}, Attendance: AttendanceSummary{},
	}}
	if !reflect.DeepEqual(v.Groups, wantGroups) {
		t.Errorf("groups\n got %s\nwant %s", mustJSON(t, v.Groups), mustJSON(t, wantGroups))
	}
	if v.Status != StatusAdmitted || v.Level != domain.PHP || v.Program != phpDay {
		t.Errorf("now: %v %v %v, want admitted to PHP in php-day", v.Status, v.Level, v.Program)
	}

	v, _ = m.Journeys.Journey(pid(1))
	wantLevels = []LevelSegment{
		{Level: domain.PHP, Program: phpDay, ProgramName: "PHP day", Start: at(0, 10), End: timep(at(8, 9)), EndedBy: "SteppedDown"},
		{Level: domain.IOP, Program: iopEvening, ProgramName: "Program iop-evening", Start: at(8, 9)},
	}
	if !reflect.DeepEqual(v.Levels, wantLevels) {
		t.Errorf("levels\n got %s\nwant %s", mustJSON(t, v.Levels), mustJSON(t, wantLevels))
	}
	rate := 1.0
	wantGroups = []GroupSegment{{
		Group: cbt, GroupName: "CBT for anxiety", JoinedAt: timep(at(42, 9)), EndedAt: timep(at(126, 18)), EndedBy: "GroupCompleted",
		EntryModule: 2, Modules: []ModuleMark{{Module: 2, At: at(84, 18)}},
		Attendance: AttendanceSummary{Present: 1, Rate: &rate},
	}}
	if !reflect.DeepEqual(v.Groups, wantGroups) {
		t.Errorf("groups\n got %s\nwant %s", mustJSON(t, v.Groups), mustJSON(t, wantGroups))
	}
	wantSeries := MeasureSeries{
		PHQ9: []MeasurePoint{{At: at(0, 9), Score: 18, Baseline: true}, {At: at(7, 9), Score: 12}},
		GAD7: []MeasurePoint{{At: at(0, 9), Score: 14, Baseline: true}},
	}
	if !reflect.DeepEqual(v.Measures, wantSeries) {
		t.Errorf("measures\n got %s\nwant %s", mustJSON(t, v.Measures), mustJSON(t, wantSeries))
	}

	v, _ = m.Journeys.Journey(pid(4))
	wantGroups = []GroupSegment{{
		Group: process, GroupName: "Process group", WaitlistedAt: timep(at(100, 9)), EndedAt: timep(at(101, 9)),
		EndedBy: "WaitlistLeft", Reason: "other", Modules: []ModuleMark{},
	}}
	if !reflect.DeepEqual(v.Groups, wantGroups) || v.Status != StatusUnknown {
		t.Errorf("p4 groups %s status %v", mustJSON(t, v.Groups), v.Status)
	}
}

func TestJourneyOrdersByClinicalTimeThenLog(t *testing.T) {
	p := pid(1)
	m, _ := fold(t,
		domain.Referred{Patient: p, Source: domain.SourceSelf, OccurredAt: at(0, 8)},
		domain.MeasureRecorded{Patient: p, Instrument: domain.PHQ9, Score: 20, OccurredAt: at(5, 9)},
		// Entered late, backdated before the first measure.
		domain.MeasureRecorded{Patient: p, Instrument: domain.PHQ9, Score: 22, OccurredAt: at(2, 9)},
		// Two facts at the same instant keep their log order.
		domain.MeasureRecorded{Patient: p, Instrument: domain.GAD7, Score: 3, OccurredAt: at(5, 9)},
		domain.MeasureRecorded{Patient: p, Instrument: domain.PHQ9, Score: 19, OccurredAt: at(5, 9)},
	)
	v, _ := m.Journeys.Journey(p)
	var got []int
	for _, e := range v.Timeline[1:] {
		got = append(got, *e.Score)
	}
	if want := []int{22, 20, 3, 19}; !reflect.DeepEqual(got, want) {
		t.Errorf("scores in timeline order %v, want %v", got, want)
	}
	var series []int
	for _, pt := range v.Measures.PHQ9 {
		series = append(series, pt.Score)
	}
	if want := []int{22, 20, 19}; !reflect.DeepEqual(series, want) {
		t.Errorf("PHQ-9 series %v, want %v", series, want)
	}
}

func TestJourneyOfUnknownPatient(t *testing.T) {
	m, _ := fold(t, story()...)
	if _, ok := m.Journeys.Journey(pid(99)); ok {
		t.Error("a journey for a patient never seen")
	}
}
