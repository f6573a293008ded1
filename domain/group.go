package domain

import (
	"slices"
	"time"
)

// Group is the state of one group's stream: its definition, its seats,
// its waitlist and its sessions. It is folded in place: its maps are shared
// by copies, so fold one Group per stream.
type Group struct {
	ID      GroupID
	Created bool
	Spec    GroupSpec
	// Members holds the current members by patient.
	Members map[PatientID]Membership
	// Waitlist holds the people waiting for a seat, first come first.
	Waitlist []PatientID
	// waitingSince holds when each person on the waitlist joined it.
	waitingSince map[PatientID]time.Time
	// Sessions holds the clinical time of every held session.
	Sessions map[SessionID]time.Time
	// past holds the ended memberships of each person, so attendance
	// entered after someone left is still accepted for sessions they sat in.
	past map[PatientID][]membershipSpan
	// completed holds what each person completed here (modules and the
	// group), kept after they leave: other groups' prerequisites need it.
	completed map[PatientID][]Prerequisite
}

// CompletedBy lists what the person completed in this group, in order: each
// module (Module ≥ 1) and the whole group (Module 0). The command layer
// gathers it into PatientFacts.Completed for joins with prerequisites.
func (g Group) CompletedBy(id PatientID) []Prerequisite {
	return slices.Clone(g.completed[id])
}

// Membership is one person's seat in a group.
type Membership struct {
	JoinedAt time.Time
	// EntryModule is the 1-based module the member entered at (0 without modules).
	EntryModule int
	// ModulesCompleted counts completed modules; LastModule is the latest one.
	ModulesCompleted int
	LastModule       int
}

// NextModule is the module the member must complete next: modules complete
// in cycle order from the entry module. It is 0 when all n are completed.
func (m Membership) NextModule(n int) int {
	switch {
	case n == 0 || m.ModulesCompleted >= n:
		return 0
	case m.ModulesCompleted == 0:
		return m.EntryModule
	}
	return m.LastModule%n + 1
}

type membershipSpan struct{ joined, left time.Time }

// PatientFacts are what a join's requirements are checked against. The
// command layer gathers them from the patient's intake and group history;
// they are facts, not identity, so no personal data is involved.
type PatientFacts struct {
	AgeYears          int
	IndividualTherapy bool
	PrimaryCare       bool
	// Completed lists the groups (Module 0) and modules the person completed.
	Completed []Prerequisite
}

// satisfies reports whether completing c fulfils prerequisite p: the same
// module, or the whole group for any of its modules.
func (c Prerequisite) satisfies(p Prerequisite) bool {
	return c.Group == p.Group && (c.Module == 0 || c.Module == p.Module)
}

// GroupCommand is a command addressed to one group stream.
type GroupCommand interface {
	// StreamName is the stream the command is decided on.
	StreamName() string
	groupCommand()
}

// CreateGroup adds a group with its definition (defaults applied).
type CreateGroup struct {
	Group GroupID
	Spec  GroupSpec
	At    time.Time
}

// ChangeGroup replaces a group's definition; seats it frees (a larger
// capacity, running again) go to the waitlist at once.
type ChangeGroup struct {
	Group GroupID
	Spec  GroupSpec
	At    time.Time
}

// JoinGroup asks for a seat. When the group is full the person is refused
// with GroupFullError, or waitlisted when WaitlistIfFull is set.
type JoinGroup struct {
	Group          GroupID
	Patient        PatientID
	Facts          PatientFacts
	WaitlistIfFull bool
	At             time.Time
}

// LeaveGroup frees a member's seat or takes a person off the waitlist. A
// freed seat goes to the first waitlisted person in the same append.
type LeaveGroup struct {
	Group   GroupID
	Patient PatientID
	Reason  LeaveReason
	At      time.Time
}

// HoldSession records a session of the group held at At (its calendar day
// in At's location is the session day).
type HoldSession struct {
	Group   GroupID
	Session SessionID
	At      time.Time
}

// RecordAttendance records a person's attendance at a held session; the
// person must have been a member when the session was held.
type RecordAttendance struct {
	Group   GroupID
	Session SessionID
	Patient PatientID
	Status  AttendanceStatus
	At      time.Time
}

// CompleteModule records a member completing their next module.
type CompleteModule struct {
	Group   GroupID
	Patient PatientID
	Module  int
	At      time.Time
}

// CompleteGroup records a member completing the group (after all modules,
// for a modular group); the seat goes to the waitlist.
type CompleteGroup struct {
	Group   GroupID
	Patient PatientID
	At      time.Time
}

// StreamName returns the group's stream.
func (c CreateGroup) StreamName() string { return GroupStream(c.Group) }

// StreamName returns the group's stream.
func (c ChangeGroup) StreamName() string { return GroupStream(c.Group) }

// StreamName returns the group's stream.
func (c JoinGroup) StreamName() string { return GroupStream(c.Group) }

// StreamName returns the group's stream.
func (c LeaveGroup) StreamName() string { return GroupStream(c.Group) }

// StreamName returns the group's stream.
func (c HoldSession) StreamName() string { return GroupStream(c.Group) }

// StreamName returns the group's stream.
func (c RecordAttendance) StreamName() string { return GroupStream(c.Group) }

// StreamName returns the group's stream.
func (c CompleteModule) StreamName() string { return GroupStream(c.Group) }

// StreamName returns the group's stream.
func (c CompleteGroup) StreamName() string { return GroupStream(c.Group) }

func (CreateGroup) groupCommand()      {}
func (ChangeGroup) groupCommand()      {}
func (JoinGroup) groupCommand()        {}
func (LeaveGroup) groupCommand()       {}
func (HoldSession) groupCommand()      {}
func (RecordAttendance) groupCommand() {}
func (CompleteModule) groupCommand()   {}
func (CompleteGroup) groupCommand()    {}

// Decide checks a command against the group's state and returns the events
// to append, or a typed error. now is the decision time.
func (g Group) Decide(c GroupCommand, now time.Time) ([]Event, error) {
	switch c := c.(type) {
	case CreateGroup:
		return g.create(c, now)
	case ChangeGroup:
		return g.change(c, now)
	case JoinGroup:
		return g.join(c, now)
	case LeaveGroup:
		return g.leave(c, now)
	case HoldSession:
		return g.holdSession(c, now)
	case RecordAttendance:
		return g.recordAttendance(c, now)
	case CompleteModule:
		return g.completeModule(c, now)
	case CompleteGroup:
		return g.completeGroup(c, now)
	}
	return nil, &InvalidError{Field: "command", Reason: "unknown group command"}
}

// prepare runs the checks every command on an existing group shares.
func (g Group) prepare(id GroupID, at, now time.Time) (time.Time, error) {
	if !id.Valid() {
		return time.Time{}, &InvalidError{Field: "group", Reason: "group ID is not valid"}
	}
	if !g.Created {
		return time.Time{}, &NotFoundError{Kind: "group", ID: string(id)}
	}
	return clinicalTime(at, now)
}

// member looks up a current member, refusing anyone else.
func (g Group) member(id PatientID) (Membership, error) {
	m, ok := g.Members[id]
	if !ok {
		return Membership{}, &MembershipError{Rule: CodeNotMember, Group: g.ID, Patient: id}
	}
	return m, nil
}

func (g Group) waitlisted(id PatientID) bool { return slices.Contains(g.Waitlist, id) }

// promotions fills free seats from the head of the waitlist, given the
// number of members and the definition once the command's own events
// apply. It is the one place the "no free seat while someone waits"
// invariant is kept; seats stay free while entry is closed or the group is
// not running, and the next session in an open window fills them.
func (g Group) promotions(spec GroupSpec, members int, at time.Time) []Event {
	if spec.Status != Running || len(g.Waitlist) == 0 {
		return nil
	}
	open, module, _ := spec.EntryOpen(DateOf(at))
	if !open {
		return nil
	}
	free := min(spec.Capacity-members, len(g.Waitlist))
	var events []Event
	for _, p := range g.Waitlist[:max(free, 0)] {
		events = append(events, WaitlistPromoted{Group: g.ID, Patient: p, Module: module, OccurredAt: utc(at)})
	}
	return events
}

func (g Group) create(c CreateGroup, now time.Time) ([]Event, error) {
	if !c.Group.Valid() {
		return nil, &InvalidError{Field: "group", Reason: "group ID is not valid"}
	}
	if g.Created {
		return nil, &AlreadyExistsError{Kind: "group", ID: string(c.Group)}
	}
	at, err := clinicalTime(c.At, now)
	if err != nil {
		return nil, err
	}
	spec := c.Spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return []Event{GroupCreated{Group: c.Group, GroupSpec: spec, OccurredAt: utc(at)}}, nil
}

func (g Group) change(c ChangeGroup, now time.Time) ([]Event, error) {
	at, err := g.prepare(c.Group, c.At, now)
	if err != nil {
		return nil, err
	}
	spec := c.Spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	events := []Event{GroupChanged{Group: c.Group, GroupSpec: spec, OccurredAt: utc(at)}}
	return append(events, g.promotions(spec, len(g.Members), at)...), nil
}

func (g Group) join(c JoinGroup, now time.Time) ([]Event, error) {
	at, err := g.prepare(c.Group, c.At, now)
	if err != nil {
		return nil, err
	}
	if err := checkPatientID(c.Patient); err != nil {
		return nil, err
	}
	if _, ok := g.Members[c.Patient]; ok {
		return nil, &MembershipError{Rule: CodeAlreadyMember, Group: g.ID, Patient: c.Patient}
	}
	if g.waitlisted(c.Patient) {
		return nil, &MembershipError{Rule: CodeAlreadyWaitlisted, Group: g.ID, Patient: c.Patient}
	}
	if g.Spec.Status != Running {
		return nil, &GroupNotRunningError{Group: g.ID}
	}
	if err := g.checkRequirements(c.Facts); err != nil {
		return nil, err
	}
	if err := g.Spec.entryClosedError(g.ID, at); err != nil {
		return nil, err
	}
	// People already waiting go first: a seat that freed while entry was
	// closed is theirs, not the newcomer's.
	events := g.promotions(g.Spec, len(g.Members), at)
	if len(g.Members)+len(events) < g.Spec.Capacity {
		_, module, _ := g.Spec.EntryOpen(DateOf(at))
		return append(events, MemberJoined{Group: g.ID, Patient: c.Patient, Module: module, OccurredAt: utc(at)}), nil
	}
	if !c.WaitlistIfFull {
		return nil, &GroupFullError{Group: g.ID, Capacity: g.Spec.Capacity}
	}
	return append(events, MemberWaitlisted{Group: g.ID, Patient: c.Patient, OccurredAt: utc(at)}), nil
}

func (g Group) checkRequirements(f PatientFacts) error {
	r := g.Spec.Requirements
	if r.MinAge > 0 && f.AgeYears < r.MinAge {
		return &RequirementUnmetError{Group: g.ID, Requirement: RequireMinAge, MinAge: r.MinAge}
	}
	if r.IndividualTherapy && !f.IndividualTherapy {
		return &RequirementUnmetError{Group: g.ID, Requirement: RequireIndividualTherapy}
	}
	if r.PrimaryCare && !f.PrimaryCare {
		return &RequirementUnmetError{Group: g.ID, Requirement: RequirePrimaryCare}
	}
	if len(r.Prerequisites) == 0 {
		return nil
	}
	for _, p := range r.Prerequisites {
		for _, done := range f.Completed {
			if done.satisfies(p) {
				return nil
			}
		}
	}
	return &RequirementUnmetError{Group: g.ID, Requirement: RequirePrerequisite, Prerequisites: slices.Clone(r.Prerequisites)}
}

func (g Group) leave(c LeaveGroup, now time.Time) ([]Event, error) {
	at, err := g.prepare(c.Group, c.At, now)
	if err != nil {
		return nil, err
	}
	if err := checkPatientID(c.Patient); err != nil {
		return nil, err
	}
	if !c.Reason.Valid() {
		return nil, &InvalidError{Field: "reason", Reason: "leave reason is not set"}
	}
	// A leave dated before the person's current seat or waitlist place
	// began is about an earlier stay (e.g. a discharge replayed by the seat
	// releaser after the person came back): they were not here then.
	if g.waitlisted(c.Patient) {
		if g.waitingSince[c.Patient].After(at) {
			return nil, &MembershipError{Rule: CodeNotMember, Group: g.ID, Patient: c.Patient}
		}
		return []Event{WaitlistLeft{Group: g.ID, Patient: c.Patient, Reason: c.Reason, OccurredAt: utc(at)}}, nil
	}
	m, err := g.member(c.Patient)
	if err != nil {
		return nil, err
	}
	if m.JoinedAt.After(at) {
		return nil, &MembershipError{Rule: CodeNotMember, Group: g.ID, Patient: c.Patient}
	}
	events := []Event{MemberLeft{Group: g.ID, Patient: c.Patient, Reason: c.Reason, OccurredAt: utc(at)}}
	return append(events, g.promotions(g.Spec, len(g.Members)-1, at)...), nil
}

func (g Group) holdSession(c HoldSession, now time.Time) ([]Event, error) {
	at, err := g.prepare(c.Group, c.At, now)
	if err != nil {
		return nil, err
	}
	if !c.Session.Valid() {
		return nil, &InvalidError{Field: "session", Reason: "session ID is not valid"}
	}
	if g.Spec.Status != Running {
		return nil, &GroupNotRunningError{Group: g.ID}
	}
	if _, ok := g.Sessions[c.Session]; ok {
		return nil, &SessionError{Rule: CodeSessionExists, Group: g.ID, Session: c.Session}
	}
	day := DateOf(at)
	module, _ := g.Spec.ModuleOn(day)
	events := []Event{SessionHeld{Group: g.ID, Session: c.Session, Date: day, Module: module, OccurredAt: utc(at)}}
	return append(events, g.promotions(g.Spec, len(g.Members), at)...), nil
}

func (g Group) recordAttendance(c RecordAttendance, now time.Time) ([]Event, error) {
	at, err := g.prepare(c.Group, c.At, now)
	if err != nil {
		return nil, err
	}
	if err := checkPatientID(c.Patient); err != nil {
		return nil, err
	}
	if !c.Status.Valid() {
		return nil, &InvalidError{Field: "status", Reason: "attendance status is not set"}
	}
	held, ok := g.Sessions[c.Session]
	if !ok {
		return nil, &SessionError{Rule: CodeSessionNotHeld, Group: g.ID, Session: c.Session}
	}
	if !g.memberAt(c.Patient, held) {
		return nil, &SessionError{Rule: CodeNotMemberAtSession, Group: g.ID, Session: c.Session}
	}
	return []Event{AttendanceRecorded{Group: g.ID, Session: c.Session, Patient: c.Patient, Status: c.Status, OccurredAt: utc(at)}}, nil
}

// memberAt reports whether the person held a seat at instant t.
func (g Group) memberAt(id PatientID, t time.Time) bool {
	if m, ok := g.Members[id]; ok && !m.JoinedAt.After(t) {
		return true
	}
	for _, s := range g.past[id] {
		if !s.joined.After(t) && !s.left.Before(t) {
			return true
		}
	}
	return false
}

func (g Group) completeModule(c CompleteModule, now time.Time) ([]Event, error) {
	at, err := g.prepare(c.Group, c.At, now)
	if err != nil {
		return nil, err
	}
	if err := checkPatientID(c.Patient); err != nil {
		return nil, err
	}
	n := len(g.Spec.Modules)
	if c.Module < 1 || c.Module > n {
		return nil, &InvalidError{Field: "module", Reason: "no such module in this group"}
	}
	m, err := g.member(c.Patient)
	if err != nil {
		return nil, err
	}
	if next := m.NextModule(n); next != c.Module {
		return nil, &ModuleOrderError{Group: g.ID, Module: c.Module, Expected: next}
	}
	return []Event{ModuleCompleted{Group: g.ID, Patient: c.Patient, Module: c.Module, OccurredAt: utc(at)}}, nil
}

func (g Group) completeGroup(c CompleteGroup, now time.Time) ([]Event, error) {
	at, err := g.prepare(c.Group, c.At, now)
	if err != nil {
		return nil, err
	}
	if err := checkPatientID(c.Patient); err != nil {
		return nil, err
	}
	m, err := g.member(c.Patient)
	if err != nil {
		return nil, err
	}
	if n := len(g.Spec.Modules); m.ModulesCompleted < n {
		return nil, &ModulesIncompleteError{Group: g.ID, Completed: m.ModulesCompleted, Total: n}
	}
	events := []Event{GroupCompleted{Group: g.ID, Patient: c.Patient, OccurredAt: utc(at)}}
	return append(events, g.promotions(g.Spec, len(g.Members)-1, at)...), nil
}

// Evolve folds one event of the group's stream into the state. It never
// validates: the log is the truth, and events of other streams are ignored.
func (g *Group) Evolve(e Event) {
	if g.Members == nil {
		g.Members = map[PatientID]Membership{}
		g.Sessions = map[SessionID]time.Time{}
		g.past = map[PatientID][]membershipSpan{}
		g.waitingSince = map[PatientID]time.Time{}
		g.completed = map[PatientID][]Prerequisite{}
	}
	switch e := e.(type) {
	case GroupCreated:
		g.ID, g.Created, g.Spec = e.Group, true, e.GroupSpec
	case GroupChanged:
		g.Spec = e.GroupSpec
	case MemberJoined:
		g.Members[e.Patient] = Membership{JoinedAt: e.OccurredAt, EntryModule: e.Module}
	case MemberWaitlisted:
		g.Waitlist = append(g.Waitlist, e.Patient)
		g.waitingSince[e.Patient] = e.OccurredAt
	case WaitlistPromoted:
		g.unwait(e.Patient)
		g.Members[e.Patient] = Membership{JoinedAt: e.OccurredAt, EntryModule: e.Module}
	case WaitlistLeft:
		g.unwait(e.Patient)
	case MemberLeft:
		g.release(e.Patient, e.OccurredAt)
	case GroupCompleted:
		g.completed[e.Patient] = append(g.completed[e.Patient], Prerequisite{Group: e.Group})
		g.release(e.Patient, e.OccurredAt)
	case SessionHeld:
		g.Sessions[e.Session] = e.OccurredAt
	case ModuleCompleted:
		g.completed[e.Patient] = append(g.completed[e.Patient], Prerequisite{Group: e.Group, Module: e.Module})
		if m, ok := g.Members[e.Patient]; ok {
			m.ModulesCompleted++
			m.LastModule = e.Module
			g.Members[e.Patient] = m
		}
	}
}

// unwait removes a person from the waitlist without reordering the others.
func (g *Group) unwait(id PatientID) {
	g.Waitlist = slices.DeleteFunc(g.Waitlist, func(p PatientID) bool { return p == id })
	delete(g.waitingSince, id)
}

// release ends a membership, remembering its span for late attendance.
func (g *Group) release(id PatientID, at time.Time) {
	if m, ok := g.Members[id]; ok {
		g.past[id] = append(g.past[id], membershipSpan{joined: m.JoinedAt, left: at})
		delete(g.Members, id)
	}
}
