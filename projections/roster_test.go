package projections

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/domain"
)

// rosterSummary is the part of a roster a case asserts on.
type rosterSummary struct {
	// Members renders "p<n> entry=E done=D current=C att=present/absent/excused".
	Members  []string
	Waitlist []string
	Sessions int
	Last     string
	Name     string
	Capacity int
}

// short names a fixture patient p<n>.
func short(id domain.PatientID) string { return "p" + strings.TrimLeft(string(id)[24:], "0") }

func summarizeRoster(v RosterView) rosterSummary {
	s := rosterSummary{Sessions: v.SessionsHeld}
	for _, m := range v.Members {
		a := m.Attendance
		s.Members = append(s.Members, fmt.Sprintf("%s entry=%d done=%d current=%d att=%d/%d/%d",
			short(m.Patient), m.EntryModule, m.ModulesCompleted, m.CurrentModule, a.Present, a.Absent, a.Excused))
	}
	for i, w := range v.Waitlist {
		if w.Position != i+1 {
			s.Waitlist = append(s.Waitlist, "bad position")
		}
		s.Waitlist = append(s.Waitlist, short(w.Patient))
	}
	if v.LastSession != nil {
		s.Last = fmt.Sprintf("%s %s m%d", v.LastSession.Session, v.LastSession.Date, v.LastSession.Module)
	}
	if v.Definition != nil {
		s.Name, s.Capacity = v.Definition.Name, v.Definition.Capacity
	}
	return s
}

func TestRosterFoldsEveryGroupEventType(t *testing.T) {
	joined := func(n, module, d int) domain.Event {
		return domain.MemberJoined{Group: cbt, Patient: pid(n), Module: module, OccurredAt: at(d, 9)}
	}
	waitlisted := func(n, d int) domain.Event {
		return domain.MemberWaitlisted{Group: cbt, Patient: pid(n), OccurredAt: at(d, 9)}
	}
	held := func(id domain.SessionID, d, module int) domain.Event {
		return domain.SessionHeld{Group: cbt, Session: id, Date: date(d), Module: module, OccurredAt: at(d, 17)}
	}
	attended := func(n int, id domain.SessionID, s domain.AttendanceStatus) domain.Event {
		return domain.AttendanceRecorded{Group: cbt, Session: id, Patient: pid(n), Status: s, OccurredAt: at(50, 8)}
	}
	created := domain.GroupCreated{Group: cbt, GroupSpec: cbtSpec(), OccurredAt: at(-30, 9)}
	full := []domain.Event{created, joined(1, 1, 0), joined(2, 1, 1), waitlisted(3, 2), waitlisted(4, 3)}
	base := rosterSummary{Name: "CBT for anxiety", Capacity: 2}
	with := func(mod func(s *rosterSummary)) rosterSummary { s := base; mod(&s); return s }
	tests := []struct {
		name    string
		history []domain.Event
		event   domain.Event
		want    rosterSummary
	}{
		{"GroupCreated", nil, created, base},
		{"GroupChanged", []domain.Event{created},
			domain.GroupChanged{Group: cbt, GroupSpec: func() domain.GroupSpec { s := cbtSpec(); s.Capacity = 3; return s }(), OccurredAt: at(0, 9)},
			rosterSummary{Name: "CBT for anxiety", Capacity: 3}},
		{"MemberJoined", []domain.Event{created}, joined(1, 2, 42),
			with(func(s *rosterSummary) { s.Members = []string{"p1 entry=2 done=0 current=2 att=0/0/0"} })},
		{"MemberWaitlisted keeps arrival order", full[:3], waitlisted(3, 2),
			with(func(s *rosterSummary) {
				s.Members = []string{"p1 entry=1 done=0 current=1 att=0/0/0", "p2 entry=1 done=0 current=1 att=0/0/0"}
				s.Waitlist = []string{"p3"}
			})},
		{"WaitlistPromoted takes the head", then(full, domain.MemberLeft{Group: cbt, Patient: pid(1), Reason: domain.LeaveWithdrew, OccurredAt: at(42, 9)}),
			domain.WaitlistPromoted{Group: cbt, Patient: pid(3), Module: 2, OccurredAt: at(42, 9)},
			with(func(s *rosterSummary) {
				s.Members = []string{"p2 entry=1 done=0 current=1 att=0/0/0", "p3 entry=2 done=0 current=2 att=0/0/0"}
				s.Waitlist = []string{"p4"}
			})},
		{"WaitlistLeft keeps the others' order", then(full, waitlisted(5, 4)),
			domain.WaitlistLeft{Group: cbt, Patient: pid(4), Reason: domain.LeaveWithdrew, OccurredAt: at(5, 9)},
			with(func(s *rosterSummary) {
				s.Members = []string{"p1 entry=1 done=0 current=1 att=0/0/0", "p2 entry=1 done=0 current=1 att=0/0/0"}
				s.Waitlist = []string{"p3", "p5"}
			})},
		{"MemberLeft", full,
			domain.MemberLeft{Group: cbt, Patient: pid(1), Reason: domain.LeaveWithdrew, OccurredAt: at(5, 9)},
			with(func(s *rosterSummary) {
				s.Members = []string{"p2 entry=1 done=0 current=1 att=0/0/0"}
				s.Waitlist = []string{"p3", "p4"}
			})},
		{"SessionHeld", full[:2], held("s1", 1, 1),
			with(func(s *rosterSummary) {
				s.Members = []string{"p1 entry=1 done=0 current=1 att=0/0/0"}
				s.Sessions, s.Last = 1, "s1 2026-03-03 m1"
			})},
		{"a backdated SessionHeld is not the last session", then(full[:2], held("s2", 8, 1)), held("s1", 1, 1),
			with(func(s *rosterSummary) {
				s.Members = []string{"p1 entry=1 done=0 current=1 att=0/0/0"}
				s.Sessions, s.Last = 2, "s2 2026-03-10 m1"
			})},
		{"AttendanceRecorded", then(full[:2], held("s1", 1, 1)), attended(1, "s1", domain.Present),
			with(func(s *rosterSummary) {
				s.Members = []string{"p1 entry=1 done=0 current=1 att=1/0/0"}
				s.Sessions, s.Last = 1, "s1 2026-03-03 m1"
			})},
		{"AttendanceRecorded corrects an earlier record", then(full[:2], held("s1", 1, 1), attended(1, "s1", domain.Absent)), attended(1, "s1", domain.Excused),
			with(func(s *rosterSummary) {
				s.Members = []string{"p1 entry=1 done=0 current=1 att=0/0/1"}
				s.Sessions, s.Last = 1, "s1 2026-03-03 m1"
			})},
		{"attendance of someone who left is not on the roster", then(full[:3], held("s1", 1, 1),
			domain.MemberLeft{Group: cbt, Patient: pid(1), Reason: domain.LeaveWithdrew, OccurredAt: at(2, 9)}),
			attended(1, "s1", domain.Present),
			with(func(s *rosterSummary) {
				s.Members = []string{"p2 entry=1 done=0 current=1 att=0/0/0"}
				s.Sessions, s.Last = 1, "s1 2026-03-03 m1"
			})},
		{"attendance from before a rejoin does not count towards the new seat", then(full[:2], held("s1", 1, 1),
			domain.MemberLeft{Group: cbt, Patient: pid(1), Reason: domain.LeaveWithdrew, OccurredAt: at(2, 9)}, joined(1, 1, 3)),
			attended(1, "s1", domain.Present),
			with(func(s *rosterSummary) {
				s.Members = []string{"p1 entry=1 done=0 current=1 att=0/0/0"}
				s.Sessions, s.Last = 1, "s1 2026-03-03 m1"
			})},
		{"ModuleCompleted moves to the next module in cycle order", then(full[:1], joined(1, 2, 42)),
			domain.ModuleCompleted{Group: cbt, Patient: pid(1), Module: 2, OccurredAt: at(84, 18)},
			with(func(s *rosterSummary) { s.Members = []string{"p1 entry=2 done=1 current=1 att=0/0/0"} })},
		{"GroupCompleted frees the seat", then(full[:1], joined(1, 1, 0),
			domain.ModuleCompleted{Group: cbt, Patient: pid(1), Module: 1, OccurredAt: at(42, 18)},
			domain.ModuleCompleted{Group: cbt, Patient: pid(1), Module: 2, OccurredAt: at(84, 18)}),
			domain.GroupCompleted{Group: cbt, Patient: pid(1), OccurredAt: at(84, 19)}, base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := fold(t, then(tt.history, tt.event)...)
			v, ok := m.Rosters.Roster(cbt)
			if !ok {
				t.Fatal("no roster")
			}
			if got := summarizeRoster(v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("roster\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestRosterAttendanceRate(t *testing.T) {
	events := then(catalogEvents(), domain.MemberJoined{Group: process, Patient: pid(1), OccurredAt: at(0, 9)})
	statuses := []domain.AttendanceStatus{domain.Present, domain.Present, domain.Absent, domain.Excused, domain.Present}
	for i, s := range statuses {
		id := domain.SessionID(fmt.Sprintf("s%d", i))
		events = append(events,
			domain.SessionHeld{Group: process, Session: id, Date: date(7 * i), OccurredAt: at(7*i, 10)},
			domain.AttendanceRecorded{Group: process, Session: id, Patient: pid(1), Status: s, OccurredAt: at(7*i, 11)})
	}
	m, _ := fold(t, events...)
	v, _ := m.Rosters.Roster(process)
	a := v.Members[0].Attendance
	if a.Rate == nil || *a.Rate != 0.6 || a.Present != 3 || a.Absent != 1 || a.Excused != 1 {
		t.Errorf("attendance %+v (rate %s), want 3/1/1 at 0.6", a, deref(a.Rate))
	}
	if v.Members[0].EntryModule != 0 || v.Members[0].CurrentModule != 0 {
		t.Errorf("an open-ended group has no modules: %+v", v.Members[0])
	}
}

func TestRosterOfUnknownGroup(t *testing.T) {
	m, _ := fold(t, catalogEvents()...)
	if _, ok := m.Rosters.Roster("nobody-defined-this"); ok {
		t.Error("a roster for a group never seen")
	}
	v, ok := m.Rosters.Roster(process)
	if !ok || v.Members == nil || v.Waitlist == nil || v.LastSession != nil {
		t.Errorf("an empty group's roster = %+v, %v; want empty lists", v, ok)
	}
}
