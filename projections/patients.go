package projections

import (
	"cmp"
	"slices"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// PatientStatus is where a person stands, as the clinician's list shows it.
// Unlike domain.PatientStatus it tells a re-assessed former patient
// (waiting for readmission) from one merely discharged.
type PatientStatus uint8

// Patient statuses. The zero value is a person seen only in group events,
// which a valid history never produces; it reads "unknown".
const (
	StatusUnknown PatientStatus = iota
	// StatusReferred: referred, intake not yet done.
	StatusReferred
	// StatusIntakeDone: intake done, waiting for (re)admission.
	StatusIntakeDone
	// StatusAdmitted: in care at a level.
	StatusAdmitted
	// StatusDischarged: the last episode of care ended.
	StatusDischarged
	statusCount
)

var patientStatusNames = [statusCount]string{"unknown", "referred", "intake_done", "admitted", "discharged"}

// ParsePatientStatus reads a status from its wire name, for list filters.
func ParsePatientStatus(s string) (PatientStatus, error) {
	for i, name := range patientStatusNames {
		if s == name {
			return PatientStatus(i), nil
		}
	}
	return 0, &domain.InvalidError{Field: "status", Reason: "unknown patient status, want referred, intake_done, admitted or discharged"}
}

// String returns the wire name.
func (s PatientStatus) String() string {
	if s < statusCount {
		return patientStatusNames[s]
	}
	return "invalid"
}

// MarshalText writes the wire name.
func (s PatientStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the wire name.
func (s *PatientStatus) UnmarshalText(b []byte) error {
	v, err := ParsePatientStatus(string(b))
	*s = v
	return err
}

// GroupRole says whether a person holds a seat in a group or waits for one.
type GroupRole string

// Group roles.
const (
	RoleMember     GroupRole = "member"
	RoleWaitlisted GroupRole = "waitlisted"
)

// PatientList is the clinician's list: one row per person with where they
// are now. It keeps the sealed personal data exactly as the referral carried
// it; decrypting is the web layer's job, with the key store, at query time.
type PatientList struct {
	loc     *time.Location
	catalog *catalog
	rows    map[domain.PatientID]*patientRow
	// lastID and last remember the previous lookup (see Journeys.lastID).
	lastID domain.PatientID
	last   *patientRow
}

type patientRow struct {
	personal *domain.SealedPersonal
	source   domain.ReferralSource
	placement
	episodes int
	// groups holds the person's seats and waitlist places, sorted by group.
	groups       []groupSeat
	lastActivity time.Time
	// journey is the person's journey once Journeys has looked it up
	// through this row; it caches Journeys.byPatient, never replaces it.
	journey *journey
}

// placement is the part of a row the census aggregates: a change of it is
// what moves a person between the board's counters.
type placement struct {
	status  PatientStatus
	level   domain.Level
	program domain.ProgramID
	// levelSince is the clinical day (in the clinic's zone) the current level began.
	levelSince domain.Date
}

type groupSeat struct {
	group      domain.GroupID
	waitlisted bool
}

// transition is a change of one person's placement, handed to the census.
type transition struct {
	before, after placement
	changed       bool
}

func newPatientList(loc *time.Location, c *catalog) *PatientList {
	return &PatientList{loc: loc, catalog: c, rows: map[domain.PatientID]*patientRow{}}
}

// row returns the person's row, creating it on first sight.
func (l *PatientList) row(id domain.PatientID) *patientRow {
	if l.last != nil && id == l.lastID {
		return l.last
	}
	r, ok := l.rows[id]
	if !ok {
		r = &patientRow{}
		l.rows[id] = r
	}
	l.lastID, l.last = id, r
	return r
}

// lastRow returns the row row(id) returned last, or nil if that was
// another person's: a cheap check that spares other models a second hash.
func (l *PatientList) lastRow(id domain.PatientID) *patientRow {
	if l.last != nil && id == l.lastID {
		return l.last
	}
	return nil
}

// touch records activity on the person at clinical time at. It keeps the
// latest time, since backdated facts arrive after newer ones.
func (r *patientRow) touch(at time.Time) {
	if at.After(r.lastActivity) {
		r.lastActivity = at.UTC()
	}
}

func (r *patientRow) setSeat(group domain.GroupID, waitlisted bool) {
	i, found := slices.BinarySearchFunc(r.groups, group, func(s groupSeat, g domain.GroupID) int { return cmp.Compare(s.group, g) })
	if found {
		r.groups[i].waitlisted = waitlisted
		return
	}
	r.groups = slices.Insert(r.groups, i, groupSeat{group: group, waitlisted: waitlisted})
}

func (r *patientRow) dropSeat(group domain.GroupID) {
	r.groups = slices.DeleteFunc(r.groups, func(s groupSeat) bool { return s.group == group })
	if len(r.groups) == 0 {
		r.groups = nil // a row reads back from a snapshot the same whichever way it emptied
	}
}

// apply folds one event and reports how the person's placement changed.
func (l *PatientList) apply(e domain.Event, changed TopicSet) transition {
	var id domain.PatientID
	var tr transition
	switch e := e.(type) {
	case domain.Referred:
		id = e.Patient
		r := l.row(id)
		tr.before = r.placement
		if r.status == StatusUnknown {
			r.status = StatusReferred
		}
		r.source = e.Source
		r.personal = cloneSealed(e.Personal)
		r.touch(e.OccurredAt)
		tr.after = r.placement
	case domain.IntakeCompleted:
		id = e.Patient
		r := l.row(id)
		tr.before = r.placement
		if r.status != StatusAdmitted {
			r.status = StatusIntakeDone
		}
		r.touch(e.OccurredAt)
		tr.after = r.placement
	case domain.Admitted:
		id = e.Patient
		tr = l.enterCare(id, e.Program, e.Level, e.OccurredAt)
	case domain.Readmitted:
		id = e.Patient
		tr = l.enterCare(id, e.Program, e.Level, e.OccurredAt)
	case domain.SteppedDown:
		id = e.Patient
		tr = l.changeLevel(id, e.Program, e.To, e.OccurredAt)
	case domain.SteppedUp:
		id = e.Patient
		tr = l.changeLevel(id, e.Program, e.To, e.OccurredAt)
	case domain.Discharged:
		id = e.Patient
		r := l.row(id)
		tr.before = r.placement
		r.placement = placement{status: StatusDischarged}
		r.touch(e.OccurredAt)
		tr.after = r.placement
	case domain.MeasureRecorded:
		id = e.Patient
		l.row(id).touch(e.OccurredAt)
	case domain.MemberJoined:
		id = e.Patient
		l.seat(id, e.Group, false, e.OccurredAt)
	case domain.WaitlistPromoted:
		id = e.Patient
		l.seat(id, e.Group, false, e.OccurredAt)
	case domain.MemberWaitlisted:
		id = e.Patient
		l.seat(id, e.Group, true, e.OccurredAt)
	case domain.WaitlistLeft:
		id = e.Patient
		l.unseat(id, e.Group, e.OccurredAt)
	case domain.MemberLeft:
		id = e.Patient
		l.unseat(id, e.Group, e.OccurredAt)
	case domain.GroupCompleted:
		id = e.Patient
		l.unseat(id, e.Group, e.OccurredAt)
	case domain.AttendanceRecorded:
		id = e.Patient
		l.row(id).touch(e.OccurredAt)
	case domain.ModuleCompleted:
		id = e.Patient
		l.row(id).touch(e.OccurredAt)
	default:
		return tr
	}
	changed.add(PatientTopic(id))
	tr.changed = tr.before != tr.after
	return tr
}

func (l *PatientList) enterCare(id domain.PatientID, program domain.ProgramID, level domain.Level, at time.Time) transition {
	r := l.row(id)
	before := r.placement
	r.placement = placement{status: StatusAdmitted, level: level, program: program, levelSince: l.day(at)}
	r.episodes++
	r.touch(at)
	return transition{before: before, after: r.placement}
}

func (l *PatientList) changeLevel(id domain.PatientID, program domain.ProgramID, level domain.Level, at time.Time) transition {
	r := l.row(id)
	before := r.placement
	r.level, r.program, r.levelSince = level, program, l.day(at)
	r.touch(at)
	return transition{before: before, after: r.placement}
}

func (l *PatientList) seat(id domain.PatientID, group domain.GroupID, waitlisted bool, at time.Time) {
	r := l.row(id)
	r.setSeat(group, waitlisted)
	r.touch(at)
}

func (l *PatientList) unseat(id domain.PatientID, group domain.GroupID, at time.Time) {
	r := l.row(id)
	r.dropSeat(group)
	r.touch(at)
}

// day is the clinical day of an instant in the clinic's zone.
func (l *PatientList) day(t time.Time) domain.Date { return domain.DateOf(t.In(l.loc)) }

// cloneSealed copies sealed personal data so the model shares nothing with
// the decoded event or a caller; empty slices become nil so a row reads
// back from a snapshot exactly as the fold stored it.
func cloneSealed(p *domain.SealedPersonal) *domain.SealedPersonal {
	if p == nil {
		return nil
	}
	return &domain.SealedPersonal{KeyID: p.KeyID, Nonce: cloneBytes(p.Nonce), Ciphertext: cloneBytes(p.Ciphertext)}
}

func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return slices.Clone(b)
}

// PatientRow is one person in the clinician's list.
type PatientRow struct {
	Patient domain.PatientID `json:"patient"`
	// Personal is the sealed name, birth date and contact as the referral
	// carried them; the web layer opens it with the person's key. Absent for
	// de-identified imports.
	Personal *domain.SealedPersonal `json:"personal,omitempty"`
	Source   domain.ReferralSource  `json:"source,omitempty"`
	Status   PatientStatus          `json:"status"`
	// Level, Program and LevelSince describe the current stay while admitted.
	Level       domain.Level     `json:"level,omitempty"`
	Program     domain.ProgramID `json:"program,omitempty"`
	ProgramName string           `json:"programName,omitempty"`
	LevelSince  domain.Date      `json:"levelSince,omitzero"`
	// Episodes counts admissions and readmissions.
	Episodes int            `json:"episodes"`
	Groups   []PatientGroup `json:"groups"`
	// LastActivity is the clinical day of the person's latest recorded fact.
	LastActivity domain.Date `json:"lastActivity,omitzero"`
}

// PatientGroup is a seat or waitlist place of a person.
type PatientGroup struct {
	Group domain.GroupID `json:"group"`
	Name  string         `json:"name,omitempty"`
	Role  GroupRole      `json:"role"`
}

// PatientFilter selects rows of the list; zero fields select everything.
type PatientFilter struct {
	Status  PatientStatus
	Level   domain.Level
	Program domain.ProgramID
	// Group keeps people holding a seat in, or waiting for, the group.
	Group domain.GroupID
	// Limit caps the rows returned (Total still counts all matches); 0 means no limit.
	Limit int
}

// PatientsView is a page of the clinician's list.
type PatientsView struct {
	// Total counts every row matching the filter, beyond Limit.
	Total    int          `json:"total"`
	Patients []PatientRow `json:"patients"`
}

func (f PatientFilter) matches(r *patientRow) bool {
	switch {
	case f.Status != StatusUnknown && r.status != f.Status:
		return false
	case f.Level != 0 && r.level != f.Level:
		return false
	case f.Program != "" && r.program != f.Program:
		return false
	case f.Group != "":
		return slices.ContainsFunc(r.groups, func(s groupSeat) bool { return s.group == f.Group })
	}
	return true
}

// Patients lists the people matching the filter, most recently active
// first (ties by patient ID), for the clinician's search. Names are not
// searchable here: they are sealed, so the web layer filters by name after
// opening the rows it is allowed to see.
func (l *PatientList) Patients(f PatientFilter) PatientsView {
	type match struct {
		id  domain.PatientID
		row *patientRow
	}
	matches := make([]match, 0, len(l.rows))
	for id, r := range l.rows {
		if f.matches(r) {
			matches = append(matches, match{id, r})
		}
	}
	slices.SortFunc(matches, func(a, b match) int {
		return cmp.Or(b.row.lastActivity.Compare(a.row.lastActivity), cmp.Compare(a.id, b.id))
	})
	v := PatientsView{Total: len(matches), Patients: []PatientRow{}}
	if f.Limit > 0 && len(matches) > f.Limit {
		matches = matches[:f.Limit]
	}
	for _, m := range matches {
		v.Patients = append(v.Patients, l.view(m.id, m.row))
	}
	return v
}

// Patient returns one person's row.
func (l *PatientList) Patient(id domain.PatientID) (PatientRow, bool) {
	r, ok := l.rows[id]
	if !ok {
		return PatientRow{}, false
	}
	return l.view(id, r), true
}

func (l *PatientList) view(id domain.PatientID, r *patientRow) PatientRow {
	v := PatientRow{
		Patient: id, Personal: cloneSealed(r.personal), Source: r.source, Status: r.status,
		Level: r.level, Program: r.program, ProgramName: l.catalog.programName(r.program),
		LevelSince: r.levelSince, Episodes: r.episodes, Groups: make([]PatientGroup, 0, len(r.groups)),
	}
	if !r.lastActivity.IsZero() {
		v.LastActivity = domain.DateOf(r.lastActivity.In(l.loc))
	}
	for _, s := range r.groups {
		role := RoleMember
		if s.waitlisted {
			role = RoleWaitlisted
		}
		v.Groups = append(v.Groups, PatientGroup{Group: s.group, Name: l.catalog.groupName(s.group), Role: role})
	}
	return v
}

// placementOf returns a person's placement for other models' views.
func (l *PatientList) placementOf(id domain.PatientID) (placement, bool) {
	r, ok := l.rows[id]
	if !ok {
		return placement{}, false
	}
	return r.placement, true
}

func (l *PatientList) encode(e *encoder) {
	e.count(len(l.rows))
	for _, id := range sortedKeys(l.rows) {
		r := l.rows[id]
		e.str(string(id))
		e.bool(r.personal != nil)
		if r.personal != nil {
			e.str(r.personal.KeyID)
			e.bytes(r.personal.Nonce)
			e.bytes(r.personal.Ciphertext)
		}
		e.byte(uint8(r.source))
		encodePlacement(e, r.placement)
		e.small(r.episodes)
		e.count(len(r.groups))
		for _, s := range r.groups {
			e.str(string(s.group))
			e.bool(s.waitlisted)
		}
		e.time(r.lastActivity)
	}
}

func (l *PatientList) decode(d *decoder) {
	for range d.count() {
		id := domain.PatientID(d.str())
		r := &patientRow{}
		if d.bool() {
			r.personal = &domain.SealedPersonal{KeyID: d.str(), Nonce: d.bytes(), Ciphertext: d.bytes()}
		}
		r.source = domain.ReferralSource(d.byte())
		r.placement = decodePlacement(d)
		r.episodes = d.smallInt()
		if n := d.count(); n > 0 {
			r.groups = make([]groupSeat, n)
			for i := range r.groups {
				r.groups[i] = groupSeat{group: domain.GroupID(d.str()), waitlisted: d.bool()}
			}
		}
		r.lastActivity = d.time()
		l.rows[id] = r
	}
}

func encodePlacement(e *encoder, p placement) {
	e.byte(uint8(p.status))
	e.byte(uint8(p.level))
	e.str(string(p.program))
	e.date(p.levelSince)
}

func decodePlacement(d *decoder) placement {
	p := placement{status: PatientStatus(d.byte()), level: domain.Level(d.byte())}
	p.program = domain.ProgramID(d.str())
	p.levelSince = d.date()
	if p.status >= statusCount || (p.level != 0 && !p.level.Valid()) {
		d.fail("bad placement")
	}
	return p
}
