package projections

import (
	"cmp"
	"slices"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// Journeys holds each person's timeline: every fact of their patient
// stream and every group fact about them, in log order. Views sort it by
// clinical time (ties by log order) at query time, because backdated facts
// arrive after later ones; an attendance correction replaces the record it
// corrects in place.
type Journeys struct {
	catalog  *catalog
	patients *PatientList
	rosters  *Rosters
	// byPatient holds each person's entries in log order.
	byPatient map[domain.PatientID]*journey
	// names interns group, program and session IDs: a history of millions of
	// attendance records names a few hundred sessions, and each entry
	// holding its own copy of the strings would double the model's memory.
	names map[string]string
	// lastID and last remember the previous lookup: a patient's facts
	// arrive together (one append per command or episode), and hashing the
	// 36-byte ID for each of them showed in the replay's profile.
	lastID domain.PatientID
	last   *journey
}

type journey struct {
	entries []entry
}

// entryKind is the event an entry records.
type entryKind uint8

const (
	kindReferred entryKind = iota + 1
	kindIntakeCompleted
	kindAdmitted
	kindReadmitted
	kindSteppedDown
	kindSteppedUp
	kindDischarged
	kindMeasureRecorded
	kindMemberJoined
	kindMemberWaitlisted
	kindWaitlistPromoted
	kindWaitlistLeft
	kindMemberLeft
	kindAttendanceRecorded
	kindModuleCompleted
	kindGroupCompleted
	entryKinds
)

// entryTypes names each kind by its event type, as timelines show it.
var entryTypes = [entryKinds]string{
	kindReferred:           domain.Referred{}.EventType(),
	kindIntakeCompleted:    domain.IntakeCompleted{}.EventType(),
	kindAdmitted:           domain.Admitted{}.EventType(),
	kindReadmitted:         domain.Readmitted{}.EventType(),
	kindSteppedDown:        domain.SteppedDown{}.EventType(),
	kindSteppedUp:          domain.SteppedUp{}.EventType(),
	kindDischarged:         domain.Discharged{}.EventType(),
	kindMeasureRecorded:    domain.MeasureRecorded{}.EventType(),
	kindMemberJoined:       domain.MemberJoined{}.EventType(),
	kindMemberWaitlisted:   domain.MemberWaitlisted{}.EventType(),
	kindWaitlistPromoted:   domain.WaitlistPromoted{}.EventType(),
	kindWaitlistLeft:       domain.WaitlistLeft{}.EventType(),
	kindMemberLeft:         domain.MemberLeft{}.EventType(),
	kindAttendanceRecorded: domain.AttendanceRecorded{}.EventType(),
	kindModuleCompleted:    domain.ModuleCompleted{}.EventType(),
	kindGroupCompleted:     domain.GroupCompleted{}.EventType(),
}

// entry is one fact of a journey, packed small because a long history
// holds millions: one struct for every kind, each using the fields it needs.
type entry struct {
	// at is the clinical time in Unix nanoseconds; for attendance, the
	// session's time, so a record entered the next morning sits at the session.
	at   int64
	kind entryKind
	// level is the level entered (admission, step, discharge: the level
	// left) or recommended (intake); from is the level a step left.
	level, from domain.Level
	instrument  domain.Instrument
	attendance  domain.AttendanceStatus
	// reason is the referral source, discharge reason or leave reason.
	reason uint8
	// module is the module joined, promoted into, completed, or 0.
	module int32
	// score is a measure's score or the intake's PHQ-9; score2 the intake's GAD-7.
	score, score2 int16
	// ref is the program (patient events) or the group (group events).
	ref string
	// alt is the session of an attendance record or the alumni group of a discharge.
	alt string
}

func newJourneys(c *catalog, p *PatientList, r *Rosters) *Journeys {
	return &Journeys{catalog: c, patients: p, rosters: r, byPatient: map[domain.PatientID]*journey{}, names: map[string]string{}}
}

func (j *Journeys) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := j.names[s]; ok {
		return v
	}
	j.names[s] = s
	return s
}

// firstEntries is the room a new journey starts with: most journeys run
// to 4–32 entries, and growing from one cost the replay a reallocation and
// copy at 1, 2 and 4 (16 saved a little more time for 7 % more heap).
const firstEntries = 8

func (j *Journeys) add(id domain.PatientID, e entry) {
	jr := j.last
	if jr == nil || id != j.lastID {
		jr = j.journey(id)
		j.lastID, j.last = id, jr
	}
	if jr.entries == nil {
		jr.entries = make([]entry, 0, firstEntries)
	}
	jr.entries = append(jr.entries, e)
}

// journey returns the person's journey, creating it on first sight. The
// patient list has usually just looked the person up for the same event,
// and its row keeps the journey, which spares a second hash of the ID.
func (j *Journeys) journey(id domain.PatientID) *journey {
	row := j.patients.lastRow(id)
	if row != nil && row.journey != nil {
		return row.journey
	}
	jr, ok := j.byPatient[id]
	if !ok {
		jr = &journey{}
		j.byPatient[id] = jr
	}
	if row != nil {
		row.journey = jr
	}
	return jr
}

func nanos(t time.Time) int64 { return t.UnixNano() }

// apply folds one event. For an attendance record it returns the status the
// record corrects, 0 for a first record, so the roster can recount.
func (j *Journeys) apply(ev domain.Event, changed TopicSet) domain.AttendanceStatus {
	var id domain.PatientID
	var previous domain.AttendanceStatus
	switch e := ev.(type) {
	case domain.Referred:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindReferred, reason: uint8(e.Source)})
	case domain.IntakeCompleted:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindIntakeCompleted, level: e.RecommendedLevel, score: int16(e.PHQ9), score2: int16(e.GAD7)})
	case domain.Admitted:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindAdmitted, level: e.Level, ref: j.intern(string(e.Program))})
	case domain.Readmitted:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindReadmitted, level: e.Level, ref: j.intern(string(e.Program))})
	case domain.SteppedDown:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindSteppedDown, level: e.To, from: e.From, ref: j.intern(string(e.Program))})
	case domain.SteppedUp:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindSteppedUp, level: e.To, from: e.From, ref: j.intern(string(e.Program))})
	case domain.Discharged:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindDischarged, level: e.Level, reason: uint8(e.Reason),
			ref: j.intern(string(e.Program)), alt: j.intern(string(e.AlumniGroup))})
	case domain.MeasureRecorded:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindMeasureRecorded, instrument: e.Instrument, score: int16(e.Score)})
	case domain.MemberJoined:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindMemberJoined, module: int32(e.Module), ref: j.intern(string(e.Group))})
	case domain.MemberWaitlisted:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindMemberWaitlisted, ref: j.intern(string(e.Group))})
	case domain.WaitlistPromoted:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindWaitlistPromoted, module: int32(e.Module), ref: j.intern(string(e.Group))})
	case domain.WaitlistLeft:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindWaitlistLeft, reason: uint8(e.Reason), ref: j.intern(string(e.Group))})
	case domain.MemberLeft:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindMemberLeft, reason: uint8(e.Reason), ref: j.intern(string(e.Group))})
	case domain.ModuleCompleted:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindModuleCompleted, module: int32(e.Module), ref: j.intern(string(e.Group))})
	case domain.GroupCompleted:
		id = e.Patient
		j.add(id, entry{at: nanos(e.OccurredAt), kind: kindGroupCompleted, ref: j.intern(string(e.Group))})
	case domain.AttendanceRecorded:
		id = e.Patient
		previous = j.attend(e)
	default:
		return 0
	}
	changed.add(PatientTopic(id))
	return previous
}

// existing returns the person's journey, or nil if none was started.
func (j *Journeys) existing(id domain.PatientID) *journey {
	if j.last != nil && id == j.lastID {
		return j.last
	}
	if row := j.patients.lastRow(id); row != nil && row.journey != nil {
		return row.journey
	}
	return j.byPatient[id]
}

// attend records attendance at the session's clinical time, replacing an
// earlier record of the same session. Finding that record scans the
// person's own entries from the newest, so its cost grows with one journey,
// never with the whole history.
func (j *Journeys) attend(e domain.AttendanceRecorded) domain.AttendanceStatus {
	at := e.OccurredAt
	session := j.intern(string(e.Session))
	if s, ok := j.rosters.session(e.Group, e.Session); ok {
		at, session = s.at, string(s.id)
	}
	group := j.intern(string(e.Group))
	if jr := j.existing(e.Patient); jr != nil {
		for i := len(jr.entries) - 1; i >= 0; i-- {
			x := &jr.entries[i]
			if x.kind == kindAttendanceRecorded && x.alt == session && x.ref == group {
				previous := x.attendance
				x.attendance = e.Status
				return previous
			}
		}
	}
	j.add(e.Patient, entry{at: nanos(at), kind: kindAttendanceRecorded, attendance: e.Status, ref: group, alt: session})
	return 0
}

// JourneyView is one person's journey on one timeline.
type JourneyView struct {
	Patient domain.PatientID `json:"patient"`
	// Status, Level and Program are where the person stands now.
	Status  PatientStatus    `json:"status"`
	Level   domain.Level     `json:"level,omitempty"`
	Program domain.ProgramID `json:"program,omitempty"`
	// Timeline holds every fact by clinical time (ties in log order).
	Timeline []TimelineEntry `json:"timeline"`
	// Levels are the stays at each level of care, for swimlanes.
	Levels []LevelSegment `json:"levels"`
	// Groups are the person's group memberships and waitlist places.
	Groups   []GroupSegment `json:"groups"`
	Measures MeasureSeries  `json:"measures"`
}

// TimelineEntry is one fact of a journey. Type is the event type; the other
// fields are set when the fact has them.
type TimelineEntry struct {
	At   time.Time `json:"at"`
	Type string    `json:"type"`
	// Level is the level entered (admission, step), left (discharge) or
	// recommended (intake); From is the level a step left.
	Level       domain.Level     `json:"level,omitempty"`
	From        domain.Level     `json:"from,omitempty"`
	Program     domain.ProgramID `json:"program,omitempty"`
	ProgramName string           `json:"programName,omitempty"`
	Group       domain.GroupID   `json:"group,omitempty"`
	GroupName   string           `json:"groupName,omitempty"`
	Session     domain.SessionID `json:"session,omitempty"`
	Module      int              `json:"module,omitempty"`
	// Instrument and Score are set for a measure.
	Instrument domain.Instrument `json:"instrument,omitempty"`
	Score      *int              `json:"score,omitempty"`
	// PHQ9 and GAD7 are the intake's baseline scores.
	PHQ9       *int                    `json:"phq9,omitempty"`
	GAD7       *int                    `json:"gad7,omitempty"`
	Attendance domain.AttendanceStatus `json:"attendance,omitempty"`
	// Reason is the referral source, the discharge reason or the leave reason.
	Reason      string         `json:"reason,omitempty"`
	AlumniGroup domain.GroupID `json:"alumniGroup,omitempty"`
}

// LevelSegment is one stay at a level of care, in one program.
type LevelSegment struct {
	Level       domain.Level     `json:"level"`
	Program     domain.ProgramID `json:"program"`
	ProgramName string           `json:"programName,omitempty"`
	Start       time.Time        `json:"start"`
	// End is null while the stay goes on; EndedBy is the event type that ended it.
	End     *time.Time `json:"end"`
	EndedBy string     `json:"endedBy,omitempty"`
}

// GroupSegment is one membership of a group, from the waitlist (if any)
// through the seat to its end.
type GroupSegment struct {
	Group        domain.GroupID `json:"group"`
	GroupName    string         `json:"groupName,omitempty"`
	WaitlistedAt *time.Time     `json:"waitlistedAt,omitempty"`
	JoinedAt     *time.Time     `json:"joinedAt,omitempty"`
	EndedAt      *time.Time     `json:"endedAt,omitempty"`
	// EndedBy is the event type that ended the segment (MemberLeft,
	// GroupCompleted, WaitlistLeft); Reason the leave reason.
	EndedBy     string            `json:"endedBy,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	EntryModule int               `json:"entryModule,omitempty"`
	Modules     []ModuleMark      `json:"modules"`
	Attendance  AttendanceSummary `json:"attendance"`
}

// ModuleMark is a module completed.
type ModuleMark struct {
	Module int       `json:"module"`
	At     time.Time `json:"at"`
}

// MeasureSeries are the person's PHQ-9 and GAD-7 scores over time,
// starting with the intake's baseline.
type MeasureSeries struct {
	PHQ9 []MeasurePoint `json:"phq9"`
	GAD7 []MeasurePoint `json:"gad7"`
}

// MeasurePoint is one score.
type MeasurePoint struct {
	At    time.Time `json:"at"`
	Score int       `json:"score"`
	// Baseline marks the intake's score.
	Baseline bool `json:"baseline,omitempty"`
}

// Journey returns a person's journey.
func (j *Journeys) Journey(id domain.PatientID) (JourneyView, bool) {
	jr, ok := j.byPatient[id]
	if !ok {
		return JourneyView{}, false
	}
	v := JourneyView{
		Patient: id, Timeline: make([]TimelineEntry, 0, len(jr.entries)),
		Levels: []LevelSegment{}, Groups: []GroupSegment{},
		Measures: MeasureSeries{PHQ9: []MeasurePoint{}, GAD7: []MeasurePoint{}},
	}
	if p, ok := j.patients.placementOf(id); ok {
		v.Status, v.Level, v.Program = p.status, p.level, p.program
	}
	entries := slices.Clone(jr.entries)
	slices.SortStableFunc(entries, func(a, b entry) int { return cmp.Compare(a.at, b.at) })
	b := journeyBuilder{view: &v, catalog: j.catalog, openLevel: -1, openGroups: map[string]int{}, lastGroups: map[string]int{}}
	for i := range entries {
		b.add(&entries[i])
	}
	return v, true
}

// journeyBuilder derives the segments and series from the sorted entries.
type journeyBuilder struct {
	view    *JourneyView
	catalog *catalog
	// openLevel is the index of the ongoing level segment, or -1.
	openLevel  int
	openGroups map[string]int // group → index of its open segment
	lastGroups map[string]int // group → index of its latest segment
}

func (b *journeyBuilder) add(x *entry) {
	at := time.Unix(0, x.at).UTC()
	t := TimelineEntry{At: at, Type: entryTypes[x.kind], Level: x.level, From: x.from, Module: int(x.module)}
	switch x.kind {
	case kindReferred:
		t.Reason = enumName(domain.ReferralSource(x.reason))
	case kindIntakeCompleted:
		phq9, gad7 := int(x.score), int(x.score2)
		t.PHQ9, t.GAD7 = &phq9, &gad7
		b.view.Measures.PHQ9 = append(b.view.Measures.PHQ9, MeasurePoint{At: at, Score: phq9, Baseline: true})
		b.view.Measures.GAD7 = append(b.view.Measures.GAD7, MeasurePoint{At: at, Score: gad7, Baseline: true})
	case kindAdmitted, kindReadmitted, kindSteppedDown, kindSteppedUp:
		t.Program, t.ProgramName = domain.ProgramID(x.ref), b.catalog.programName(domain.ProgramID(x.ref))
		b.closeLevel(at, t.Type)
		b.view.Levels = append(b.view.Levels, LevelSegment{Level: x.level, Program: t.Program, ProgramName: t.ProgramName, Start: at})
		b.openLevel = len(b.view.Levels) - 1
	case kindDischarged:
		t.Program, t.ProgramName = domain.ProgramID(x.ref), b.catalog.programName(domain.ProgramID(x.ref))
		t.Reason = enumName(domain.DischargeReason(x.reason))
		t.AlumniGroup = domain.GroupID(x.alt)
		b.closeLevel(at, t.Type)
	case kindMeasureRecorded:
		score := int(x.score)
		t.Instrument, t.Score = x.instrument, &score
		switch x.instrument {
		case domain.PHQ9:
			b.view.Measures.PHQ9 = append(b.view.Measures.PHQ9, MeasurePoint{At: at, Score: score})
		case domain.GAD7:
			b.view.Measures.GAD7 = append(b.view.Measures.GAD7, MeasurePoint{At: at, Score: score})
		}
	default:
		b.addGroupFact(x, at, &t)
	}
	b.view.Timeline = append(b.view.Timeline, t)
}

func (b *journeyBuilder) closeLevel(at time.Time, by string) {
	if b.openLevel < 0 {
		return
	}
	s := &b.view.Levels[b.openLevel]
	s.End, s.EndedBy = &at, by
	b.openLevel = -1
}

func (b *journeyBuilder) addGroupFact(x *entry, at time.Time, t *TimelineEntry) {
	t.Group, t.GroupName = domain.GroupID(x.ref), b.catalog.groupName(domain.GroupID(x.ref))
	switch x.kind {
	case kindMemberWaitlisted:
		s := b.openGroup(x.ref, t)
		s.WaitlistedAt = &at
	case kindMemberJoined, kindWaitlistPromoted:
		s := b.openGroup(x.ref, t)
		s.JoinedAt, s.EntryModule = &at, int(x.module)
	case kindWaitlistLeft, kindMemberLeft, kindGroupCompleted:
		if x.kind != kindGroupCompleted {
			t.Reason = enumName(domain.LeaveReason(x.reason))
		}
		if i, ok := b.openGroups[x.ref]; ok {
			s := &b.view.Groups[i]
			s.EndedAt, s.EndedBy, s.Reason = &at, t.Type, t.Reason
			delete(b.openGroups, x.ref)
		}
	case kindModuleCompleted:
		if s := b.segment(x.ref); s != nil {
			s.Modules = append(s.Modules, ModuleMark{Module: int(x.module), At: at})
		}
	case kindAttendanceRecorded:
		t.Session, t.Attendance = domain.SessionID(x.alt), x.attendance
		if s := b.segment(x.ref); s != nil && x.attendance.Valid() {
			s.Attendance = addAttendance(s.Attendance, x.attendance)
		}
	}
}

// openGroup returns the group's open segment, opening one if none is.
func (b *journeyBuilder) openGroup(group string, t *TimelineEntry) *GroupSegment {
	if i, ok := b.openGroups[group]; ok {
		return &b.view.Groups[i]
	}
	b.view.Groups = append(b.view.Groups, GroupSegment{Group: t.Group, GroupName: t.GroupName, Modules: []ModuleMark{}})
	i := len(b.view.Groups) - 1
	b.openGroups[group], b.lastGroups[group] = i, i
	return &b.view.Groups[i]
}

// segment is the group's open segment, else its latest (late records of
// a membership that has ended), else nil.
func (b *journeyBuilder) segment(group string) *GroupSegment {
	if i, ok := b.openGroups[group]; ok {
		return &b.view.Groups[i]
	}
	if i, ok := b.lastGroups[group]; ok {
		return &b.view.Groups[i]
	}
	return nil
}

// enumName is an enum's wire name, or "" when the event left it unset.
func enumName[E interface {
	Valid() bool
	String() string
}](v E) string {
	if !v.Valid() {
		return ""
	}
	return v.String()
}

func addAttendance(a AttendanceSummary, s domain.AttendanceStatus) AttendanceSummary {
	var counts attendanceCounts
	counts[domain.Present], counts[domain.Absent], counts[domain.Excused] = a.Present, a.Absent, a.Excused
	counts[s]++
	return counts.view()
}

func (j *Journeys) encode(e *encoder) {
	var ref, alt recentString
	e.count(len(j.byPatient))
	for _, id := range sortedKeys(j.byPatient) {
		jr := j.byPatient[id]
		e.str(string(id))
		e.count(len(jr.entries))
		for i := range jr.entries {
			x := &jr.entries[i]
			e.int(x.at)
			e.byte(uint8(x.kind))
			e.byte(uint8(x.level))
			e.byte(uint8(x.from))
			e.byte(uint8(x.instrument))
			e.byte(uint8(x.attendance))
			e.byte(x.reason)
			e.small(int(x.module))
			e.small(int(x.score))
			e.small(int(x.score2))
			e.strRecent(&ref, x.ref)
			e.strRecent(&alt, x.alt)
		}
	}
}

func (j *Journeys) decode(d *decoder) {
	for range d.count() {
		id := domain.PatientID(d.str())
		n := d.count()
		jr := &journey{entries: make([]entry, n)}
		for i := range jr.entries {
			x := &jr.entries[i]
			x.at = d.int()
			x.kind = entryKind(d.byte())
			x.level = domain.Level(d.byte())
			x.from = domain.Level(d.byte())
			x.instrument = domain.Instrument(d.byte())
			x.attendance = domain.AttendanceStatus(d.byte())
			x.reason = d.byte()
			x.module = int32(d.smallInt())
			x.score = int16(d.smallInt())
			x.score2 = int16(d.smallInt())
			x.ref = d.str()
			x.alt = d.str()
			if x.kind == 0 || x.kind >= entryKinds || x.attendance > domain.Excused {
				d.fail("bad journey entry")
			}
			if d.err != nil {
				return
			}
		}
		j.byPatient[id] = jr
	}
}
