package domain

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func psySpec() GroupSpec {
	return GroupSpec{
		Name: "Process group", Modality: ModalityProcess, Level: Outpatient, Capacity: 2, Status: Running, Cadence: Weekly,
		Slots: []Slot{{Day: Monday, Start: 10 * 60, End: 11 * 60}}, Entry: EntryAnyTime, MinCommitmentWeeks: 26,
	}
}

var (
	created    = now.Add(-60 * day)
	psyCreated = GroupCreated{Group: "psy", GroupSpec: psySpec(), OccurredAt: created}
	cbtCreated = GroupCreated{Group: "cbt", GroupSpec: cbtAnxiety(), OccurredAt: created}
	cbtWindow  = time.Date(2026, 9, 3, 18, 0, 0, 0, time.UTC) // inside module 1's joining week
	adult      = PatientFacts{AgeYears: 30, PrimaryCare: true, IndividualTherapy: true}
	sessionDay = now.Add(-3 * day)
	psySession = SessionHeld{Group: "psy", Session: "s1", Date: DateOf(sessionDay), OccurredAt: sessionDay}
	psyPaused  = func() GroupChanged {
		s := psySpec()
		s.Status = NotRunning
		return GroupChanged{Group: "psy", GroupSpec: s, OccurredAt: created}
	}()
	aliceJoinsPsy = joined("psy", alice, 0, now.Add(-10*day))
	bobJoinsPsy   = joined("psy", bob, 0, now.Add(-9*day))
)

func joined(g GroupID, p PatientID, module int, at time.Time) MemberJoined {
	return MemberJoined{Group: g, Patient: p, Module: module, OccurredAt: at}
}

func waitlisted(g GroupID, p PatientID, at time.Time) MemberWaitlisted {
	return MemberWaitlisted{Group: g, Patient: p, OccurredAt: at}
}

func foldGroup(t *testing.T, history ...Event) Group {
	t.Helper()
	var g Group
	for _, e := range history {
		g.Evolve(e)
	}
	return g
}

func TestGroupDecide(t *testing.T) {
	full := []Event{psyCreated, aliceJoinsPsy, bobJoinsPsy}
	fullWithQueue := append(append([]Event(nil), full...), waitlisted("psy", carol, now.Add(-8*day)), waitlisted("psy", dave, now.Add(-7*day)))
	dbtPractice := psySpec()
	dbtPractice.Requirements = Requirements{IndividualTherapy: true, Prerequisites: []Prerequisite{{Group: "dbt-skills-a"}, {Group: "dbt-skills-b"}}}
	practiceCreated := GroupCreated{Group: "practice", GroupSpec: dbtPractice, OccurredAt: created}
	moduleReq := psySpec()
	moduleReq.Requirements = Requirements{Prerequisites: []Prerequisite{{Group: "cbt", Module: 2}}}
	moduleReqCreated := GroupCreated{Group: "advanced", GroupSpec: moduleReq, OccurredAt: created}
	bigger := psySpec()
	bigger.Capacity = 3
	paused := psySpec()
	paused.Status = NotRunning
	noModules := psySpec()
	noModules.Capacity = 0
	withDefaults := noModules
	withDefaults.Capacity = DefaultGroupCapacity
	cbtFull := []Event{cbtCreated, joined("cbt", alice, 1, cbtWindow), joined("cbt", bob, 1, cbtWindow), joined("cbt", carol, 1, cbtWindow)}
	inModule2Window := time.Date(2026, 10, 14, 18, 0, 0, 0, time.UTC)
	later := inModule2Window.Add(30 * day)

	tests := []groupCase{
		{"create a group, capacity defaulted", nil,
			CreateGroup{Group: "psy", Spec: noModules, At: created},
			accept(GroupCreated{Group: "psy", GroupSpec: withDefaults, OccurredAt: created})},
		{"create twice", []Event{psyCreated},
			CreateGroup{Group: "psy", Spec: psySpec()}, refuse(ErrConflict, CodeAlreadyExists)},
		{"create with an invalid definition", nil,
			CreateGroup{Group: "psy", Spec: GroupSpec{Name: "x"}}, refuse(ErrInvalid, CodeInvalidInput)},
		{"create with an invalid ID", nil,
			CreateGroup{Group: "Psy!", Spec: psySpec()}, refuse(ErrInvalid, CodeInvalidInput)},
		{"create in the future", nil,
			CreateGroup{Group: "psy", Spec: psySpec(), At: now.Add(time.Hour)}, refuse(ErrInvalid, CodeOccurredInFuture)},
		{"change an unknown group", nil,
			ChangeGroup{Group: "psy", Spec: psySpec()}, refuse(ErrNotFound, CodeNotFound)},
		{"a larger capacity admits the first waitlisted", fullWithQueue,
			ChangeGroup{Group: "psy", Spec: bigger, At: now},
			accept(GroupChanged{Group: "psy", GroupSpec: bigger, OccurredAt: now}, WaitlistPromoted{Group: "psy", Patient: carol, OccurredAt: now})},
		{"pausing a group admits nobody", fullWithQueue,
			ChangeGroup{Group: "psy", Spec: paused, At: now},
			accept(GroupChanged{Group: "psy", GroupSpec: paused, OccurredAt: now})},

		{"join a group with space", []Event{psyCreated},
			JoinGroup{Group: "psy", Patient: alice, Facts: adult, At: now},
			accept(joined("psy", alice, 0, now))},
		{"join an unknown group", nil,
			JoinGroup{Group: "psy", Patient: alice, Facts: adult}, refuse(ErrNotFound, CodeNotFound)},
		{"join with a malformed patient ID", []Event{psyCreated},
			JoinGroup{Group: "psy", Patient: "bob", Facts: adult}, refuse(ErrInvalid, CodeInvalidInput)},
		{"join a full group", full,
			JoinGroup{Group: "psy", Patient: carol, Facts: adult}, refuse(ErrConflict, CodeGroupFull)},
		{"join a full group asking for the waitlist", full,
			JoinGroup{Group: "psy", Patient: carol, Facts: adult, WaitlistIfFull: true, At: now},
			accept(waitlisted("psy", carol, now))},
		{"join twice", []Event{psyCreated, aliceJoinsPsy},
			JoinGroup{Group: "psy", Patient: alice, Facts: adult}, refuse(ErrConflict, CodeAlreadyMember)},
		{"join while waitlisted", fullWithQueue,
			JoinGroup{Group: "psy", Patient: carol, Facts: adult, WaitlistIfFull: true}, refuse(ErrConflict, CodeAlreadyWaitlisted)},
		{"join a group that is not running", []Event{psyCreated, psyPaused},
			JoinGroup{Group: "psy", Patient: alice, Facts: adult}, refuse(ErrRuleViolation, CodeGroupNotRunning)},
		{"join under the minimum age", []Event{cbtCreated},
			JoinGroup{Group: "cbt", Patient: alice, Facts: PatientFacts{AgeYears: 17, PrimaryCare: true}, At: cbtWindow}, refuse(ErrRuleViolation, CodeRequirementUnmet)},
		{"join at the minimum age", []Event{cbtCreated},
			JoinGroup{Group: "cbt", Patient: alice, Facts: PatientFacts{AgeYears: 18, PrimaryCare: true}, At: cbtWindow},
			accept(joined("cbt", alice, 1, cbtWindow))},
		{"join without a primary-care provider", []Event{cbtCreated},
			JoinGroup{Group: "cbt", Patient: alice, Facts: PatientFacts{AgeYears: 30}, At: cbtWindow}, refuse(ErrRuleViolation, CodeRequirementUnmet)},
		{"skills practice without individual therapy", []Event{practiceCreated},
			JoinGroup{Group: "practice", Patient: alice, Facts: PatientFacts{Completed: []Prerequisite{{Group: "dbt-skills-a"}}}}, refuse(ErrRuleViolation, CodeRequirementUnmet)},
		{"skills practice without completed DBT skills", []Event{practiceCreated},
			JoinGroup{Group: "practice", Patient: alice, Facts: PatientFacts{IndividualTherapy: true, Completed: []Prerequisite{{Group: "other"}}}}, refuse(ErrRuleViolation, CodeRequirementUnmet)},
		{"skills practice after either DBT skills group", []Event{practiceCreated},
			JoinGroup{Group: "practice", Patient: alice, Facts: PatientFacts{IndividualTherapy: true, Completed: []Prerequisite{{Group: "dbt-skills-b"}}}, At: now},
			accept(joined("practice", alice, 0, now))},
		{"module prerequisite met by that module", []Event{moduleReqCreated},
			JoinGroup{Group: "advanced", Patient: alice, Facts: PatientFacts{Completed: []Prerequisite{{Group: "cbt", Module: 2}}}, At: now},
			accept(joined("advanced", alice, 0, now))},
		{"module prerequisite met by the whole group", []Event{moduleReqCreated},
			JoinGroup{Group: "advanced", Patient: alice, Facts: PatientFacts{Completed: []Prerequisite{{Group: "cbt"}}}, At: now},
			accept(joined("advanced", alice, 0, now))},
		{"module prerequisite not met by another module", []Event{moduleReqCreated},
			JoinGroup{Group: "advanced", Patient: alice, Facts: PatientFacts{Completed: []Prerequisite{{Group: "cbt", Module: 1}}}}, refuse(ErrRuleViolation, CodeRequirementUnmet)},
		{"join CBT in module 1's first week", []Event{cbtCreated},
			JoinGroup{Group: "cbt", Patient: alice, Facts: adult, At: cbtWindow}, accept(joined("cbt", alice, 1, cbtWindow))},
		{"join CBT mid-module", []Event{cbtCreated},
			JoinGroup{Group: "cbt", Patient: alice, Facts: adult, At: now}, refuse(ErrRuleViolation, CodeEntryClosed)},
		{"a full CBT group waitlists in the window", cbtFull,
			JoinGroup{Group: "cbt", Patient: dave, Facts: adult, WaitlistIfFull: true, At: cbtWindow},
			accept(waitlisted("cbt", dave, cbtWindow))},

		{"leave frees a seat", []Event{psyCreated, aliceJoinsPsy},
			LeaveGroup{Group: "psy", Patient: alice, Reason: LeaveWithdrew, At: now},
			accept(MemberLeft{Group: "psy", Patient: alice, Reason: LeaveWithdrew, OccurredAt: now})},
		{"leave gives the seat to the first waitlisted", fullWithQueue,
			LeaveGroup{Group: "psy", Patient: bob, Reason: LeaveDischarged, At: now},
			accept(MemberLeft{Group: "psy", Patient: bob, Reason: LeaveDischarged, OccurredAt: now}, WaitlistPromoted{Group: "psy", Patient: carol, OccurredAt: now})},
		{"leave the waitlist", fullWithQueue,
			LeaveGroup{Group: "psy", Patient: dave, Reason: LeaveLevelChanged, At: now},
			accept(WaitlistLeft{Group: "psy", Patient: dave, Reason: LeaveLevelChanged, OccurredAt: now})},
		{"leave without being a member", []Event{psyCreated},
			LeaveGroup{Group: "psy", Patient: alice, Reason: LeaveWithdrew}, refuse(ErrRuleViolation, CodeNotMember)},
		{"a leave dated before the member joined is about an earlier stay", []Event{psyCreated, aliceJoinsPsy},
			LeaveGroup{Group: "psy", Patient: alice, Reason: LeaveDischarged, At: now.Add(-11 * day)}, refuse(ErrRuleViolation, CodeNotMember)},
		{"a leave dated the moment the member joined", []Event{psyCreated, aliceJoinsPsy},
			LeaveGroup{Group: "psy", Patient: alice, Reason: LeaveDischarged, At: now.Add(-10 * day)},
			accept(MemberLeft{Group: "psy", Patient: alice, Reason: LeaveDischarged, OccurredAt: now.Add(-10 * day)})},
		{"a leave dated before a rejoin is about the earlier membership", []Event{psyCreated, aliceJoinsPsy,
			MemberLeft{Group: "psy", Patient: alice, Reason: LeaveDischarged, OccurredAt: now.Add(-5 * day)}, joined("psy", alice, 0, now.Add(-2*day))},
			LeaveGroup{Group: "psy", Patient: alice, Reason: LeaveDischarged, At: now.Add(-5 * day)}, refuse(ErrRuleViolation, CodeNotMember)},
		{"a waitlist leave dated before the person joined the waitlist", fullWithQueue,
			LeaveGroup{Group: "psy", Patient: dave, Reason: LeaveDischarged, At: now.Add(-8 * day)}, refuse(ErrRuleViolation, CodeNotMember)},
		{"leave without a reason", []Event{psyCreated, aliceJoinsPsy},
			LeaveGroup{Group: "psy", Patient: alice}, refuse(ErrInvalid, CodeInvalidInput)},
		{"a seat freed mid-module stays free for the next module", append(append([]Event(nil), cbtFull...), waitlisted("cbt", dave, cbtWindow)),
			LeaveGroup{Group: "cbt", Patient: alice, Reason: LeaveWithdrew, At: now},
			accept(MemberLeft{Group: "cbt", Patient: alice, Reason: LeaveWithdrew, OccurredAt: now})},

		{"hold a session", []Event{psyCreated},
			HoldSession{Group: "psy", Session: "s2", At: now},
			accept(SessionHeld{Group: "psy", Session: "s2", Date: DateOf(now), OccurredAt: now})},
		{"hold the same session twice", []Event{psyCreated, psySession},
			HoldSession{Group: "psy", Session: "s1"}, refuse(ErrConflict, CodeSessionExists)},
		{"hold a session of a paused group", []Event{psyCreated, psyPaused},
			HoldSession{Group: "psy", Session: "s2"}, refuse(ErrRuleViolation, CodeGroupNotRunning)},
		{"hold a session with a malformed ID", []Event{psyCreated},
			HoldSession{Group: "psy", Session: "S 2"}, refuse(ErrInvalid, CodeInvalidInput)},

		{"attendance of a member", []Event{psyCreated, aliceJoinsPsy, psySession},
			RecordAttendance{Group: "psy", Session: "s1", Patient: alice, Status: Present, At: now},
			accept(AttendanceRecorded{Group: "psy", Session: "s1", Patient: alice, Status: Present, OccurredAt: now})},
		{"attendance entered after the member left", []Event{psyCreated, aliceJoinsPsy, psySession, MemberLeft{Group: "psy", Patient: alice, Reason: LeaveWithdrew, OccurredAt: now.Add(-day)}},
			RecordAttendance{Group: "psy", Session: "s1", Patient: alice, Status: Absent, At: now},
			accept(AttendanceRecorded{Group: "psy", Session: "s1", Patient: alice, Status: Absent, OccurredAt: now})},
		{"attendance for a session not held", []Event{psyCreated, aliceJoinsPsy},
			RecordAttendance{Group: "psy", Session: "s1", Patient: alice, Status: Present}, refuse(ErrRuleViolation, CodeSessionNotHeld)},
		{"attendance of a non-member", []Event{psyCreated, aliceJoinsPsy, psySession},
			RecordAttendance{Group: "psy", Session: "s1", Patient: bob, Status: Present}, refuse(ErrRuleViolation, CodeNotMemberAtSession)},
		{"attendance of someone who joined after the session", []Event{psyCreated, psySession, joined("psy", alice, 0, now.Add(-day))},
			RecordAttendance{Group: "psy", Session: "s1", Patient: alice, Status: Present}, refuse(ErrRuleViolation, CodeNotMemberAtSession)},
		{"attendance without a status", []Event{psyCreated, aliceJoinsPsy, psySession},
			RecordAttendance{Group: "psy", Session: "s1", Patient: alice}, refuse(ErrInvalid, CodeInvalidInput)},

		{"complete the entry module", []Event{cbtCreated, joined("cbt", alice, 2, cbtWindow)},
			CompleteModule{Group: "cbt", Patient: alice, Module: 2, At: now},
			accept(ModuleCompleted{Group: "cbt", Patient: alice, Module: 2, OccurredAt: now})},
		{"modules wrap around the cycle", []Event{cbtCreated, joined("cbt", alice, 2, cbtWindow), ModuleCompleted{Group: "cbt", Patient: alice, Module: 2, OccurredAt: cbtWindow}},
			CompleteModule{Group: "cbt", Patient: alice, Module: 1, At: now},
			accept(ModuleCompleted{Group: "cbt", Patient: alice, Module: 1, OccurredAt: now})},
		{"complete a module out of order", []Event{cbtCreated, joined("cbt", alice, 1, cbtWindow)},
			CompleteModule{Group: "cbt", Patient: alice, Module: 2}, refuse(ErrRuleViolation, CodeModuleOutOfOrder)},
		{"complete a module twice over", []Event{cbtCreated, joined("cbt", alice, 1, cbtWindow),
			ModuleCompleted{Group: "cbt", Patient: alice, Module: 1, OccurredAt: cbtWindow}, ModuleCompleted{Group: "cbt", Patient: alice, Module: 2, OccurredAt: cbtWindow}},
			CompleteModule{Group: "cbt", Patient: alice, Module: 1}, refuse(ErrRuleViolation, CodeModuleOutOfOrder)},
		{"complete a module without being a member", []Event{cbtCreated},
			CompleteModule{Group: "cbt", Patient: alice, Module: 1}, refuse(ErrRuleViolation, CodeNotMember)},
		{"complete a module that does not exist", []Event{cbtCreated, joined("cbt", alice, 1, cbtWindow)},
			CompleteModule{Group: "cbt", Patient: alice, Module: 3}, refuse(ErrInvalid, CodeInvalidInput)},
		{"complete a module of an open-ended group", []Event{psyCreated, aliceJoinsPsy},
			CompleteModule{Group: "psy", Patient: alice, Module: 1}, refuse(ErrInvalid, CodeInvalidInput)},

		{"complete an open-ended group gives the seat away", fullWithQueue,
			CompleteGroup{Group: "psy", Patient: alice, At: now},
			accept(GroupCompleted{Group: "psy", Patient: alice, OccurredAt: now}, WaitlistPromoted{Group: "psy", Patient: carol, OccurredAt: now})},
		{"complete CBT after both modules", []Event{cbtCreated, joined("cbt", alice, 1, cbtWindow),
			ModuleCompleted{Group: "cbt", Patient: alice, Module: 1, OccurredAt: cbtWindow}, ModuleCompleted{Group: "cbt", Patient: alice, Module: 2, OccurredAt: cbtWindow}},
			CompleteGroup{Group: "cbt", Patient: alice, At: now},
			accept(GroupCompleted{Group: "cbt", Patient: alice, OccurredAt: now})},
		{"complete CBT after one module", []Event{cbtCreated, joined("cbt", alice, 1, cbtWindow), ModuleCompleted{Group: "cbt", Patient: alice, Module: 1, OccurredAt: cbtWindow}},
			CompleteGroup{Group: "cbt", Patient: alice}, refuse(ErrRuleViolation, CodeModulesIncomplete)},
		{"complete a group without being a member", []Event{psyCreated},
			CompleteGroup{Group: "psy", Patient: alice}, refuse(ErrRuleViolation, CodeNotMember)},
		{"complete a group in the future", []Event{psyCreated, aliceJoinsPsy},
			CompleteGroup{Group: "psy", Patient: alice, At: now.Add(day)}, refuse(ErrInvalid, CodeOccurredInFuture)},
	}
	runGroupCases(t, now, tests)

	// Module 2 of CBT for anxiety opens on 2026-10-13, after the package's now.
	runGroupCases(t, later, []groupCase{
		{"join CBT in module 2's first week", []Event{cbtCreated},
			JoinGroup{Group: "cbt", Patient: alice, Facts: adult, At: inModule2Window},
			accept(joined("cbt", alice, 2, inModule2Window))},
		{"the waitlist goes before a newcomer", append(append([]Event(nil), cbtFull...), waitlisted("cbt", dave, cbtWindow),
			MemberLeft{Group: "cbt", Patient: alice, Reason: LeaveWithdrew, OccurredAt: now}),
			JoinGroup{Group: "cbt", Patient: alice, Facts: adult, WaitlistIfFull: true, At: inModule2Window},
			accept(WaitlistPromoted{Group: "cbt", Patient: dave, Module: 2, OccurredAt: inModule2Window}, waitlisted("cbt", alice, inModule2Window))},
		{"hold a session in module 2", []Event{cbtCreated},
			HoldSession{Group: "cbt", Session: "m2", At: inModule2Window.Add(7 * day)},
			accept(SessionHeld{Group: "cbt", Session: "m2", Date: DateOf(inModule2Window.Add(7 * day)), Module: 2, OccurredAt: inModule2Window.Add(7 * day)})},
		{"the first session of a module fills seats freed before it", append(append([]Event(nil), cbtFull...), waitlisted("cbt", dave, cbtWindow),
			MemberLeft{Group: "cbt", Patient: alice, Reason: LeaveWithdrew, OccurredAt: now}),
			HoldSession{Group: "cbt", Session: "m2", At: inModule2Window},
			accept(SessionHeld{Group: "cbt", Session: "m2", Date: DateOf(inModule2Window), Module: 2, OccurredAt: inModule2Window},
				WaitlistPromoted{Group: "cbt", Patient: dave, Module: 2, OccurredAt: inModule2Window})},
	})
}

type groupCase struct {
	name    string
	history []Event
	cmd     GroupCommand
	want    decision
}

func runGroupCases(t *testing.T, decideAt time.Time, cases []groupCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			g := foldGroup(t, tt.history...)
			got, err := g.Decide(tt.cmd, decideAt)
			checkDecision(t, got, err, tt.want)
			for _, e := range got {
				if e.StreamName() != tt.cmd.StreamName() {
					t.Errorf("event stream %s, command stream %s", e.StreamName(), tt.cmd.StreamName())
				}
			}
		})
	}
}

func TestGroupErrorsCarryTheirFacts(t *testing.T) {
	t.Run("entry closed names the next module start", func(t *testing.T) {
		g := foldGroup(t, cbtCreated)
		_, err := g.Decide(JoinGroup{Group: "cbt", Patient: alice, Facts: adult, At: now}, now)
		var closed *EntryClosedError
		if !errors.As(err, &closed) {
			t.Fatalf("error %v", err)
		}
		if closed.NextModule != 2 || closed.NextStart != (Date{2026, time.October, 13}) {
			t.Errorf("next module %d on %v", closed.NextModule, closed.NextStart)
		}
		want := "CBT for anxiety admits new members only at the start of a module: next start 2026-10-13"
		if err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	})
	t.Run("group full names the capacity", func(t *testing.T) {
		g := foldGroup(t, psyCreated, aliceJoinsPsy, bobJoinsPsy)
		_, err := g.Decide(JoinGroup{Group: "psy", Patient: carol, Facts: adult}, now)
		var full *GroupFullError
		if !errors.As(err, &full) || full.Group != "psy" || full.Capacity != 2 {
			t.Fatalf("error %#v", err)
		}
	})
	t.Run("requirement names which one", func(t *testing.T) {
		g := foldGroup(t, cbtCreated)
		_, err := g.Decide(JoinGroup{Group: "cbt", Patient: alice, Facts: PatientFacts{AgeYears: 16}, At: cbtWindow}, now)
		var unmet *RequirementUnmetError
		if !errors.As(err, &unmet) || unmet.Requirement != RequireMinAge || unmet.MinAge != 18 {
			t.Fatalf("error %#v", err)
		}
		if err.Error() != "group cbt requires age 18 or older" {
			t.Errorf("message %q", err)
		}
	})
	t.Run("messages carry no patient ID", func(t *testing.T) {
		g := foldGroup(t, psyCreated, aliceJoinsPsy)
		for _, cmd := range []GroupCommand{
			JoinGroup{Group: "psy", Patient: alice, Facts: adult},
			LeaveGroup{Group: "psy", Patient: bob, Reason: LeaveOther},
			RecordAttendance{Group: "psy", Session: "none", Patient: alice, Status: Present},
		} {
			_, err := g.Decide(cmd, now)
			if err == nil {
				t.Fatalf("%T accepted", cmd)
			}
			for _, id := range []PatientID{alice, bob} {
				if contains(err.Error(), string(id)) {
					t.Errorf("%T error %q names a patient", cmd, err)
				}
			}
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestGroupFold(t *testing.T) {
	left := now.Add(-day)
	g := foldGroup(t, cbtCreated,
		joined("cbt", alice, 1, cbtWindow), joined("cbt", bob, 1, cbtWindow), joined("cbt", carol, 1, cbtWindow),
		waitlisted("cbt", dave, cbtWindow), waitlisted("cbt", "e5e5e5e5-e5e5-4e5e-8e5e-e5e5e5e5e5e5", cbtWindow),
		SessionHeld{Group: "cbt", Session: "w1", Date: DateOf(cbtWindow), Module: 1, OccurredAt: cbtWindow},
		ModuleCompleted{Group: "cbt", Patient: alice, Module: 1, OccurredAt: now},
		MemberLeft{Group: "cbt", Patient: bob, Reason: LeaveWithdrew, OccurredAt: left},
		WaitlistPromoted{Group: "cbt", Patient: dave, Module: 2, OccurredAt: left},
		GroupCompleted{Group: "cbt", Patient: carol, OccurredAt: left},
		WaitlistLeft{Group: "cbt", Patient: "e5e5e5e5-e5e5-4e5e-8e5e-e5e5e5e5e5e5", Reason: LeaveOther, OccurredAt: left},
		GroupChanged{Group: "cbt", GroupSpec: psySpec(), OccurredAt: left},
		Referred{Patient: alice, Source: SourceSelf, OccurredAt: left}, // another stream's event: ignored
	)
	wantMembers := map[PatientID]Membership{
		alice: {JoinedAt: cbtWindow, EntryModule: 1, ModulesCompleted: 1, LastModule: 1},
		dave:  {JoinedAt: left, EntryModule: 2},
	}
	if !g.Created || g.ID != "cbt" || !reflect.DeepEqual(g.Spec, psySpec()) {
		t.Errorf("identity/spec %v %v %+v", g.Created, g.ID, g.Spec)
	}
	if !reflect.DeepEqual(g.Members, wantMembers) {
		t.Errorf("members %+v", g.Members)
	}
	if len(g.Waitlist) != 0 {
		t.Errorf("waitlist %v", g.Waitlist)
	}
	if !g.Sessions["w1"].Equal(cbtWindow) {
		t.Errorf("sessions %v", g.Sessions)
	}
	if !g.memberAt(bob, cbtWindow) || g.memberAt(bob, now) || !g.memberAt(carol, cbtWindow) || g.memberAt(dave, cbtWindow) {
		t.Error("membership spans")
	}
	if got, want := g.CompletedBy(alice), []Prerequisite{{Group: "cbt", Module: 1}}; !reflect.DeepEqual(got, want) {
		t.Errorf("CompletedBy(alice) = %v, want %v", got, want)
	}
	if got, want := g.CompletedBy(carol), []Prerequisite{{Group: "cbt"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("CompletedBy(carol) = %v, want %v (kept after the seat is freed)", got, want)
	}
	if got := g.CompletedBy(bob); got != nil {
		t.Errorf("CompletedBy(bob) = %v", got)
	}
	if m := g.Members[alice]; m.NextModule(2) != 2 {
		t.Errorf("next module %d", m.NextModule(2))
	}
}

func TestWaitlistOrderIsFirstComeFirstServed(t *testing.T) {
	e := "e5e5e5e5-e5e5-4e5e-8e5e-e5e5e5e5e5e5"
	g := foldGroup(t, psyCreated, aliceJoinsPsy, bobJoinsPsy,
		waitlisted("psy", carol, now.Add(-5*day)), waitlisted("psy", dave, now.Add(-4*day)), waitlisted("psy", PatientID(e), now.Add(-3*day)),
		WaitlistLeft{Group: "psy", Patient: dave, Reason: LeaveWithdrew, OccurredAt: now.Add(-2 * day)})
	if want := []PatientID{carol, PatientID(e)}; !reflect.DeepEqual(g.Waitlist, want) {
		t.Fatalf("waitlist %v, want %v", g.Waitlist, want)
	}
	bigger := psySpec()
	bigger.Capacity = 10
	got, err := g.Decide(ChangeGroup{Group: "psy", Spec: bigger, At: now}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{GroupChanged{Group: "psy", GroupSpec: bigger, OccurredAt: now},
		WaitlistPromoted{Group: "psy", Patient: carol, OccurredAt: now}, WaitlistPromoted{Group: "psy", Patient: PatientID(e), OccurredAt: now}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %+v", got)
	}
}
