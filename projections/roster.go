package projections

import (
	"cmp"
	"slices"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// Rosters holds, per group, the current members with their modules and
// attendance, the waitlist in order and the sessions held.
type Rosters struct {
	catalog *catalog
	groups  map[domain.GroupID]*roster
}

type roster struct {
	members  map[domain.PatientID]*rosterMember
	waitlist []waiting
	sessions map[domain.SessionID]session
	// last is the latest session by clinical time (ties: the later in the log).
	last domain.SessionID
}

type rosterMember struct {
	domain.Membership
	attendance attendanceCounts
}

// attendanceCounts counts one membership's attendance records by status,
// a correction replacing the record it corrects.
type attendanceCounts [4]int // indexed by domain.AttendanceStatus

type waiting struct {
	patient domain.PatientID
	since   time.Time
}

type session struct {
	// id is the session's ID, kept so journeys can share its string.
	id     domain.SessionID
	at     time.Time
	date   domain.Date
	module int
}

func newRosters(c *catalog) *Rosters {
	return &Rosters{catalog: c, groups: map[domain.GroupID]*roster{}}
}

func (r *Rosters) roster(id domain.GroupID) *roster {
	g, ok := r.groups[id]
	if !ok {
		g = &roster{members: map[domain.PatientID]*rosterMember{}, sessions: map[domain.SessionID]session{}}
		r.groups[id] = g
	}
	return g
}

// occupancy counts a group's members and waitlist.
func (r *Rosters) occupancy(id domain.GroupID) (members, waiting int) {
	g, ok := r.groups[id]
	if !ok {
		return 0, 0
	}
	return len(g.members), len(g.waitlist)
}

// session looks up a held session.
func (r *Rosters) session(group domain.GroupID, id domain.SessionID) (session, bool) {
	g, ok := r.groups[group]
	if !ok {
		return session{}, false
	}
	s, ok := g.sessions[id]
	return s, ok
}

// apply folds one event; previous is the status an attendance record
// corrects (0 for a first record), as the journeys found it.
func (r *Rosters) apply(e domain.Event, previous domain.AttendanceStatus, changed TopicSet) {
	var id domain.GroupID
	switch e := e.(type) {
	case domain.GroupCreated:
		id = e.Group
		r.roster(id)
	case domain.GroupChanged:
		id = e.Group
		r.roster(id)
	case domain.MemberJoined:
		id = e.Group
		r.roster(id).join(e.Patient, e.Module, e.OccurredAt)
	case domain.WaitlistPromoted:
		id = e.Group
		g := r.roster(id)
		g.unwait(e.Patient)
		g.join(e.Patient, e.Module, e.OccurredAt)
	case domain.MemberWaitlisted:
		id = e.Group
		g := r.roster(id)
		g.unwait(e.Patient)
		g.waitlist = append(g.waitlist, waiting{patient: e.Patient, since: e.OccurredAt.UTC()})
	case domain.WaitlistLeft:
		id = e.Group
		r.roster(id).unwait(e.Patient)
	case domain.MemberLeft:
		id = e.Group
		delete(r.roster(id).members, e.Patient)
	case domain.GroupCompleted:
		id = e.Group
		delete(r.roster(id).members, e.Patient)
	case domain.SessionHeld:
		id = e.Group
		r.roster(id).hold(session{id: e.Session, at: e.OccurredAt.UTC(), date: e.Date, module: e.Module})
	case domain.ModuleCompleted:
		id = e.Group
		if m, ok := r.roster(id).members[e.Patient]; ok {
			m.ModulesCompleted++
			m.LastModule = e.Module
		}
	case domain.AttendanceRecorded:
		id = e.Group
		r.roster(id).attend(e, previous)
	default:
		return
	}
	changed.add(GroupTopic(id))
}

func (g *roster) join(p domain.PatientID, module int, at time.Time) {
	g.members[p] = &rosterMember{Membership: domain.Membership{JoinedAt: at.UTC(), EntryModule: module}}
}

// unwait removes a person from the waitlist keeping the others' order; a
// waitlist is short, so this is linear in it, not in the history.
func (g *roster) unwait(p domain.PatientID) {
	g.waitlist = slices.DeleteFunc(g.waitlist, func(w waiting) bool { return w.patient == p })
	if len(g.waitlist) == 0 {
		g.waitlist = nil // reads back from a snapshot the same whichever way it emptied
	}
}

func (g *roster) hold(s session) {
	g.sessions[s.id] = s
	if last, ok := g.sessions[g.last]; !ok || !s.at.Before(last.at) {
		g.last = s.id
	}
}

// attend counts an attendance record towards the member's current seat when
// the session was held during it; records of an earlier membership, or of
// someone who has left, stay in the journey but not on the roster.
func (g *roster) attend(e domain.AttendanceRecorded, previous domain.AttendanceStatus) {
	m, ok := g.members[e.Patient]
	if !ok {
		return
	}
	if s, held := g.sessions[e.Session]; held && s.at.Before(m.JoinedAt) {
		return
	}
	if previous.Valid() {
		m.attendance[previous]--
	}
	if e.Status.Valid() {
		m.attendance[e.Status]++
	}
}

// RosterView is one group's roster.
type RosterView struct {
	Group domain.GroupID `json:"group"`
	// Definition is the group's catalog entry; absent for a group that
	// appears in events but was never defined.
	Definition   *domain.GroupSpec `json:"definition,omitempty"`
	Members      []RosterMember    `json:"members"`
	Waitlist     []WaitlistEntry   `json:"waitlist"`
	SessionsHeld int               `json:"sessionsHeld"`
	LastSession  *SessionView      `json:"lastSession,omitempty"`
}

// RosterMember is one member's seat and progress. Patients are named by ID
// only: the web layer opens their sealed names for clinicians.
type RosterMember struct {
	Patient  domain.PatientID `json:"patient"`
	JoinedAt time.Time        `json:"joinedAt"`
	// EntryModule is the 1-based module the member entered at (0 without modules).
	EntryModule      int `json:"entryModule"`
	ModulesCompleted int `json:"modulesCompleted"`
	// CurrentModule is the module the member is working through now, 0 once
	// all are completed or for a group without modules.
	CurrentModule int               `json:"currentModule"`
	Attendance    AttendanceSummary `json:"attendance"`
}

// AttendanceSummary counts attendance records by status. Rate is the share
// of recorded sessions attended, null before the first record.
type AttendanceSummary struct {
	Present int      `json:"present"`
	Absent  int      `json:"absent"`
	Excused int      `json:"excused"`
	Rate    *float64 `json:"rate"`
}

// WaitlistEntry is one place on a waitlist, first come first served.
type WaitlistEntry struct {
	// Position is 1 for the next person to get a seat.
	Position int              `json:"position"`
	Patient  domain.PatientID `json:"patient"`
	Since    time.Time        `json:"since"`
}

// SessionView is a held session.
type SessionView struct {
	Session domain.SessionID `json:"session"`
	Date    domain.Date      `json:"date"`
	Module  int              `json:"module,omitempty"`
}

func (a attendanceCounts) view() AttendanceSummary {
	v := AttendanceSummary{Present: a[domain.Present], Absent: a[domain.Absent], Excused: a[domain.Excused]}
	if total := v.Present + v.Absent + v.Excused; total > 0 {
		rate := float64(v.Present) / float64(total)
		v.Rate = &rate
	}
	return v
}

// Roster returns a group's roster: members in order of joining (ties by
// patient ID), the waitlist in order.
func (r *Rosters) Roster(id domain.GroupID) (RosterView, bool) {
	g, ok := r.groups[id]
	spec, defined := r.catalog.groups[id]
	if !ok && !defined {
		return RosterView{}, false
	}
	v := RosterView{Group: id, Members: []RosterMember{}, Waitlist: []WaitlistEntry{}}
	if defined {
		v.Definition = &spec
	}
	if g == nil {
		return v, true
	}
	modules := len(spec.Modules)
	for p, m := range g.members {
		v.Members = append(v.Members, RosterMember{
			Patient: p, JoinedAt: m.JoinedAt, EntryModule: m.EntryModule, ModulesCompleted: m.ModulesCompleted,
			CurrentModule: m.NextModule(modules), Attendance: m.attendance.view(),
		})
	}
	slices.SortFunc(v.Members, func(a, b RosterMember) int {
		return cmp.Or(a.JoinedAt.Compare(b.JoinedAt), cmp.Compare(a.Patient, b.Patient))
	})
	for i, w := range g.waitlist {
		v.Waitlist = append(v.Waitlist, WaitlistEntry{Position: i + 1, Patient: w.patient, Since: w.since})
	}
	v.SessionsHeld = len(g.sessions)
	if s, ok := g.sessions[g.last]; ok {
		v.LastSession = &SessionView{Session: s.id, Date: s.date, Module: s.module}
	}
	return v, true
}

func (r *Rosters) encode(e *encoder) {
	e.count(len(r.groups))
	for _, id := range sortedKeys(r.groups) {
		g := r.groups[id]
		e.str(string(id))
		e.count(len(g.members))
		for _, p := range sortedKeys(g.members) {
			m := g.members[p]
			e.str(string(p))
			e.time(m.JoinedAt)
			e.small(m.EntryModule)
			e.small(m.ModulesCompleted)
			e.small(m.LastModule)
			for _, n := range m.attendance {
				e.small(n)
			}
		}
		e.count(len(g.waitlist))
		for _, w := range g.waitlist {
			e.str(string(w.patient))
			e.time(w.since)
		}
		e.count(len(g.sessions))
		for _, sid := range sortedKeys(g.sessions) {
			s := g.sessions[sid]
			e.str(string(sid))
			e.time(s.at)
			e.date(s.date)
			e.small(s.module)
		}
		e.str(string(g.last))
	}
}

func (r *Rosters) decode(d *decoder) {
	for range d.count() {
		g := r.roster(domain.GroupID(d.str()))
		for range d.count() {
			p := domain.PatientID(d.str())
			m := &rosterMember{}
			m.JoinedAt = d.time()
			m.EntryModule = d.smallInt()
			m.ModulesCompleted = d.smallInt()
			m.LastModule = d.smallInt()
			for i := range m.attendance {
				m.attendance[i] = d.smallInt()
			}
			g.members[p] = m
		}
		if n := d.count(); n > 0 {
			g.waitlist = make([]waiting, n)
			for i := range g.waitlist {
				g.waitlist[i] = waiting{patient: domain.PatientID(d.str()), since: d.time()}
			}
		}
		for range d.count() {
			s := session{id: domain.SessionID(d.str())}
			s.at = d.time()
			s.date = d.date()
			s.module = d.smallInt()
			g.sessions[s.id] = s
		}
		g.last = domain.SessionID(d.str())
	}
}
