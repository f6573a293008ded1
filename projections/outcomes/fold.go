package outcomes

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/domain"
)

// CohortPeriod is how episodes are grouped into cohorts by admission date.
type CohortPeriod uint8

// Cohort periods.
const (
	// CohortMonth groups episodes by the month they started ("2025-03").
	CohortMonth CohortPeriod = iota
	// CohortQuarter groups episodes by the quarter they started ("2025-Q1").
	CohortQuarter
)

// ParseCohortPeriod reads "month" or "quarter".
func ParseCohortPeriod(s string) (CohortPeriod, error) {
	switch s {
	case "month":
		return CohortMonth, nil
	case "quarter":
		return CohortQuarter, nil
	}
	return 0, fmt.Errorf("cohort period %q: want month or quarter", s)
}

// String returns "month" or "quarter".
func (p CohortPeriod) String() string {
	if p == CohortQuarter {
		return "quarter"
	}
	return "month"
}

// Options select what a replay reports. The zero value reports everything
// in the log, by month, in UTC.
type Options struct {
	// AsOf, when set, replays the world as it was known at the end of that
	// clinical day: events with a later clinical date are ignored.
	AsOf domain.Date
	// From and To, when set, keep the episodes that started on those days or
	// between them, and the group events of those days.
	From, To domain.Date
	// Cohort groups episodes by month or quarter of admission.
	Cohort CohortPeriod
	// Location is the time zone that decides clinical days; nil means UTC.
	Location *time.Location
}

// Validate refuses a window that ends before it starts.
func (o Options) Validate() error {
	if !o.From.IsZero() && !o.To.IsZero() && o.To.Before(o.From) {
		return fmt.Errorf("--to %s is before --from %s", o.To, o.From)
	}
	if o.Cohort != CohortMonth && o.Cohort != CohortQuarter {
		return fmt.Errorf("unknown cohort period %d", o.Cohort)
	}
	return nil
}

// day is a calendar day in the report's zone, counted from 1970-01-01, so
// day arithmetic is integer arithmetic.
type day int32

const secondsPerDay = 24 * 60 * 60

// dayOfDate numbers a calendar date.
func dayOfDate(d domain.Date) day { return day(d.Time().Unix() / secondsPerDay) }

// date turns a day number back into a calendar date.
func (d day) date() domain.Date {
	return domain.DateOf(time.Unix(int64(d)*secondsPerDay, 0).UTC())
}

// Fold is the outcomes engine's state: everything the report needs, folded
// from the events in log order. It holds no reference to anything outside
// itself, so two folds of the same events are equal.
type Fold struct {
	loc *time.Location
	// cutoff is the first instant after the as-of day, in Unix
	// nanoseconds; hasCutoff says whether there is one.
	cutoff    int64
	hasCutoff bool
	from, to  day
	hasFrom   bool
	hasTo     bool
	opts      Options
	replayed  int64
	afterAsOf int64
	// latest is the latest clinical time folded, in Unix nanoseconds.
	latest    int64
	hasLatest bool
	// people holds everyone in order of first appearance: person i's
	// pseudonym is i+1. index finds them by the 16 bytes of their ID, not
	// its 36-character text: a fold over a national file holds millions of
	// them, and a map without pointers costs the collector nothing.
	people []person
	index  map[uuid.UUID]int32
	// attendance[i] is person i's attendance, apart from the rest of
	// them: it is what most events touch, and a small array of it stays
	// in the processor's caches longer.
	attendance []attendanceCounts
	groups     map[domain.GroupID]*group
	// lastGroup is the group of the previous group event: a session's
	// attendance arrives together.
	lastGroupID domain.GroupID
	lastGroup   *group
	// names holds one copy of each program ID and source setting, which
	// every episode repeats.
	names map[string]string
}

// person is one patient stream's scores and episodes.
type person struct {
	scores   []score
	episodes []episode
}

// score is one total score with its clinical time, intake baselines included.
type score struct {
	at         int64 // Unix nanoseconds
	day        day
	instrument domain.Instrument
	value      int16
}

// episode is one admission-to-discharge span.
type episode struct {
	start       int64
	startDay    day
	level       domain.Level
	program     domain.ProgramID
	setting     string
	estimated   bool
	stays       []stay
	closed      bool
	end         int64
	endDay      day
	reason      domain.DischargeReason
	stayUnknown bool
}

// stay is the part of an episode spent at one level.
type stay struct {
	level    domain.Level
	startDay day
	endDay   day
	ended    bool
	// next is the level moved to when the stay ended, 0 for a discharge.
	next domain.Level
}

// attendanceCounts counts the latest attendance status of each session.
type attendanceCounts struct {
	present, absent, excused int32
}

func (c *attendanceCounts) add(s domain.AttendanceStatus, n int32) {
	switch s {
	case domain.Present:
		c.present += n
	case domain.Absent:
		c.absent += n
	case domain.Excused:
		c.excused += n
	}
}

func (c attendanceCounts) recorded() int32 { return c.present + c.absent + c.excused }

// group is one group's memberships, module completions and attendance.
type group struct {
	program domain.ProgramID
	// seated says, per member, whether they hold a seat now; a member is
	// anyone seated, or completing or leaving, inside the window.
	seated    map[int32]bool
	seatings  int
	completed int
	left      int
	modules   map[int]map[int32]struct{}
	// sessions numbers the group's sessions; marks[n] holds the latest
	// status of each person marked at session n, so a correction replaces
	// what it corrects. A session has at most the group's capacity of
	// people, few enough to look through.
	sessions map[domain.SessionID]int32
	marks    [][]mark
	// lastSession is the session of the previous mark.
	lastSession      domain.SessionID
	lastSessionIndex int32
	counts           attendanceCounts
}

// mark is one person's attendance status at a session.
type mark struct {
	person int32
	status domain.AttendanceStatus
}

// NewFold returns an empty fold for opts (see Options.Validate).
func NewFold(opts Options) *Fold {
	f := &Fold{
		loc:    opts.Location,
		opts:   opts,
		index:  map[uuid.UUID]int32{},
		groups: map[domain.GroupID]*group{},
		names:  map[string]string{},
	}
	if f.loc == nil {
		f.loc = time.UTC
	}
	if !opts.AsOf.IsZero() {
		y, m, d := opts.AsOf.Year, opts.AsOf.Month, opts.AsOf.Day
		f.cutoff, f.hasCutoff = time.Date(y, m, d+1, 0, 0, 0, 0, f.loc).UnixNano(), true
	}
	if !opts.From.IsZero() {
		f.from, f.hasFrom = dayOfDate(opts.From), true
	}
	if !opts.To.IsZero() {
		f.to, f.hasTo = dayOfDate(opts.To), true
	}
	return f
}

// dayOf is the clinical day of t in the report's zone.
func (f *Fold) dayOf(t time.Time) day { return clinicalDay(t, f.loc) }

// clinicalDay is the day of t in zone loc.
func clinicalDay(t time.Time, loc *time.Location) day {
	_, offset := t.In(loc).Zone()
	s := t.Unix() + int64(offset)
	d := s / secondsPerDay
	if s%secondsPerDay < 0 {
		d--
	}
	return day(d)
}

// inWindow reports whether a day is inside From..To.
func (f *Fold) inWindow(d day) bool {
	return (!f.hasFrom || d >= f.from) && (!f.hasTo || d <= f.to)
}

// Count records an event read from the log that the fold has no use for
// (another system's, or a type no figure depends on), so events_replayed
// counts every event replayed.
func (f *Fold) Count() { f.replayed++ }

// Apply folds one event in, in log order. estimated says the event's
// clinical time is an estimate (imports); episodes remember it.
func (f *Fold) Apply(e domain.Event, estimated bool) {
	if !folded(e.EventType()) {
		f.Count() // as Replay, which does not even decode them
		return
	}
	f.apply(newFact(e, estimated, f.loc))
}

// fact is an event the fold uses, with what every event needs worked out
// beforehand: a replay makes facts on all cores, and the fold, which
// takes them one at a time in log order, only looks things up.
type fact struct {
	kind factKind
	// event is the event of a factEvent.
	event     domain.Event
	estimated bool
	// at is the clinical time in Unix nanoseconds, day its day.
	at  int64
	day day
	// patient is the key of the event's patient (see patientKey).
	patient uuid.UUID
	// group, session and status are a factAttendance's mark.
	group   domain.GroupID
	session domain.SessionID
	status  domain.AttendanceStatus
	// instrument and score are a factMeasure's.
	instrument domain.Instrument
	score      int16
}

// factKind says where a fact keeps its event.
type factKind uint8

const (
	// factCounted is an event the fold only counts.
	factCounted factKind = iota
	// factEvent keeps the event in fact.event.
	factEvent
	// factAttendance and factMeasure keep an AttendanceRecorded or a
	// MeasureRecorded in the fact's own fields: most of a history, which a
	// replay decodes by value (domain.DecodeDataAs) rather than as an Event.
	factAttendance
	factMeasure
)

// newFact makes the fact of a folded event; days are in zone loc.
func newFact(e domain.Event, estimated bool, loc *time.Location) fact {
	switch e := e.(type) {
	case domain.AttendanceRecorded:
		return attendanceFact(e, loc)
	case domain.MeasureRecorded:
		return measureFact(e, loc)
	}
	x := timed(e.When(), loc)
	x.kind, x.event, x.estimated = factEvent, e, estimated
	if id, ok := patientOf(e); ok {
		x.patient = patientKey(id)
	}
	return x
}

// attendanceFact is the fact of an attendance mark.
func attendanceFact(e domain.AttendanceRecorded, loc *time.Location) fact {
	x := timed(e.OccurredAt, loc)
	x.kind, x.patient, x.group, x.session, x.status = factAttendance, patientKey(e.Patient), e.Group, e.Session, e.Status
	return x
}

// measureFact is the fact of a measure.
func measureFact(e domain.MeasureRecorded, loc *time.Location) fact {
	x := timed(e.OccurredAt, loc)
	x.kind, x.patient, x.instrument, x.score = factMeasure, patientKey(e.Patient), e.Instrument, int16(e.Score)
	return x
}

// timed is a fact with only its clinical time and day, in zone loc.
func timed(at time.Time, loc *time.Location) fact {
	return fact{at: at.UnixNano(), day: clinicalDay(at, loc)}
}

// patientOf is the patient a folded event is about, if any.
func patientOf(e domain.Event) (domain.PatientID, bool) {
	switch e := e.(type) {
	case domain.IntakeCompleted:
		return e.Patient, true
	case domain.Admitted:
		return e.Patient, true
	case domain.Readmitted:
		return e.Patient, true
	case domain.SteppedDown:
		return e.Patient, true
	case domain.SteppedUp:
		return e.Patient, true
	case domain.Discharged:
		return e.Patient, true
	case domain.MemberJoined:
		return e.Patient, true
	case domain.WaitlistPromoted:
		return e.Patient, true
	case domain.MemberLeft:
		return e.Patient, true
	case domain.GroupCompleted:
		return e.Patient, true
	case domain.ModuleCompleted:
		return e.Patient, true
	}
	return "", false
}

// patientKey is the 16 bytes of a patient ID. One that is not a UUID (the
// domain writes none such) is keyed by a name-based UUID of its text,
// which no patient ID is.
func patientKey(id domain.PatientID) uuid.UUID {
	key, err := uuid.Parse(string(id))
	if err != nil {
		key = uuid.NewSHA1(oddPatientIDs, []byte(id))
	}
	return key
}

// oddPatientIDs roots the keys of patient IDs that are not UUIDs.
var oddPatientIDs = uuid.MustParse("0d5c1f7e-3a2b-4c9d-8e6f-1a2b3c4d5e6f")

// apply folds one fact in, in log order.
func (f *Fold) apply(x fact) {
	f.replayed++
	if f.hasCutoff && x.at >= f.cutoff {
		f.afterAsOf++
		return
	}
	if !f.hasLatest || x.at > f.latest {
		f.latest, f.hasLatest = x.at, true
	}
	switch x.kind {
	case factAttendance:
		f.attend(x)
		return
	case factMeasure:
		p := f.person(x.patient)
		p.scores = append(p.scores, score{at: x.at, day: x.day, instrument: x.instrument, value: x.score})
		return
	}
	switch e := x.event.(type) {
	case domain.IntakeCompleted:
		p := f.person(x.patient)
		if !e.ScoresUnknown {
			p.scores = append(p.scores,
				score{at: x.at, day: x.day, instrument: domain.PHQ9, value: int16(e.PHQ9)},
				score{at: x.at, day: x.day, instrument: domain.GAD7, value: int16(e.GAD7)})
		}
	case domain.Admitted:
		f.startEpisode(x, e.Program, e.Level, e.SourceSetting)
	case domain.Readmitted:
		f.startEpisode(x, e.Program, e.Level, e.SourceSetting)
	case domain.SteppedDown:
		f.move(x, e.To)
	case domain.SteppedUp:
		f.move(x, e.To)
	case domain.Discharged:
		f.discharge(x, e)
	case domain.GroupCreated:
		f.group(e.Group).program = e.Program
	case domain.GroupChanged:
		f.group(e.Group).program = e.Program
	case domain.MemberJoined:
		f.seat(x, e.Group)
	case domain.WaitlistPromoted:
		f.seat(x, e.Group)
	case domain.MemberLeft:
		f.unseat(x, e.Group, false)
	case domain.GroupCompleted:
		f.unseat(x, e.Group, true)
	case domain.ModuleCompleted:
		f.completeModule(x, e)
	}
}

// pseudonym returns the pseudonym of the person with key, numbering them
// on first sight: people[pseudonym-1] is theirs.
func (f *Fold) pseudonym(key uuid.UUID) int32 {
	i, ok := f.index[key]
	if !ok {
		i = int32(len(f.people))
		f.people = append(f.people, person{})
		f.attendance = append(f.attendance, attendanceCounts{})
		f.index[key] = i
	}
	return i + 1
}

// person returns the person with key. The pointer is good until the next
// person is added.
func (f *Fold) person(key uuid.UUID) *person { return &f.people[f.pseudonym(key)-1] }

// name returns the fold's copy of s.
func (f *Fold) name(s string) string {
	if kept, ok := f.names[s]; ok {
		return kept
	}
	f.names[s] = s
	return s
}

func (f *Fold) group(id domain.GroupID) *group {
	if f.lastGroup != nil && id == f.lastGroupID {
		return f.lastGroup
	}
	g, ok := f.groups[id]
	if !ok {
		g = &group{
			seated:   map[int32]bool{},
			modules:  map[int]map[int32]struct{}{},
			sessions: map[domain.SessionID]int32{},
		}
		f.groups[id] = g
	}
	f.lastGroupID, f.lastGroup = id, g
	return g
}

// current is the person's open episode, nil when not in care. The domain
// refuses moves outside an episode, so nil only meets a foreign or damaged
// log, which the fold skips rather than invent an episode.
func (p *person) current() *episode {
	if n := len(p.episodes); n > 0 && !p.episodes[n-1].closed {
		return &p.episodes[n-1]
	}
	return nil
}

func (f *Fold) startEpisode(x fact, program domain.ProgramID, level domain.Level, setting string) {
	p := f.person(x.patient)
	if p.current() != nil {
		return
	}
	p.episodes = append(p.episodes, episode{
		start: x.at, startDay: x.day, level: level, program: domain.ProgramID(f.name(string(program))), setting: f.name(setting), estimated: x.estimated,
		stays: []stay{{level: level, startDay: x.day}},
	})
}

func (f *Fold) move(x fact, to domain.Level) {
	ep := f.person(x.patient).current()
	if ep == nil {
		return
	}
	last := &ep.stays[len(ep.stays)-1]
	last.ended, last.endDay, last.next = true, x.day, to
	ep.stays = append(ep.stays, stay{level: to, startDay: x.day})
}

func (f *Fold) discharge(x fact, e domain.Discharged) {
	ep := f.person(x.patient).current()
	if ep == nil {
		return
	}
	last := &ep.stays[len(ep.stays)-1]
	last.ended, last.endDay = true, x.day
	ep.closed, ep.end, ep.endDay, ep.reason, ep.stayUnknown = true, x.at, x.day, e.Reason, e.StayUnknown
}

func (f *Fold) seat(x fact, id domain.GroupID) {
	if !f.inWindow(x.day) {
		return
	}
	g, p := f.group(id), f.pseudonym(x.patient)
	if !g.seated[p] {
		g.seatings++
	}
	g.seated[p] = true
}

func (f *Fold) unseat(x fact, id domain.GroupID, completed bool) {
	if !f.inWindow(x.day) {
		return
	}
	g, p := f.group(id), f.pseudonym(x.patient)
	if completed {
		g.completed++
	} else {
		g.left++
	}
	// Someone seated before the window still counts among the members.
	g.seated[p] = false
}

func (f *Fold) completeModule(x fact, e domain.ModuleCompleted) {
	if !f.inWindow(x.day) {
		return
	}
	g, p := f.group(e.Group), f.pseudonym(x.patient)
	done, ok := g.modules[e.Module]
	if !ok {
		done = map[int32]struct{}{}
		g.modules[e.Module] = done
	}
	done[p] = struct{}{}
	if _, ever := g.seated[p]; !ever {
		g.seated[p] = false // a member seated before the window
	}
}

func (f *Fold) attend(x fact) {
	if !f.inWindow(x.day) {
		return
	}
	g, p := f.group(x.group), f.pseudonym(x.patient)
	counts := &f.attendance[p-1]
	marks := &g.marks[g.session(x.session)]
	i := -1
	for j := range *marks {
		if (*marks)[j].person == p {
			i = j
			break
		}
	}
	if i >= 0 {
		g.counts.add((*marks)[i].status, -1)
		counts.add((*marks)[i].status, -1)
	} else {
		i = len(*marks)
		*marks = append(*marks, mark{person: p})
	}
	(*marks)[i].status = x.status
	g.counts.add(x.status, 1)
	counts.add(x.status, 1)
}

// session numbers a session of the group on first sight.
func (g *group) session(id domain.SessionID) int32 {
	if len(g.marks) > 0 && id == g.lastSession {
		return g.lastSessionIndex
	}
	n, ok := g.sessions[id]
	if !ok {
		n = int32(len(g.marks))
		g.sessions[id] = n
		g.marks = append(g.marks, nil)
	}
	g.lastSession, g.lastSessionIndex = id, n
	return n
}
