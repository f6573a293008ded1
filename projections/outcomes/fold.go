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
	// cutoff is the first instant after the as-of day; zero means none.
	cutoff    time.Time
	hasCutoff bool
	from, to  day
	hasFrom   bool
	hasTo     bool
	opts      Options
	replayed  int64
	afterAsOf int64
	latest    time.Time
	// people are keyed by the 16 bytes of their ID, not its 36-character
	// text: a fold over a national file holds millions of them.
	people        map[uuid.UUID]*person
	groups        map[domain.GroupID]*group
	nextPseudonym int32
	// names holds one copy of each program ID and source setting, which
	// every episode repeats.
	names map[string]string
}

// person is one patient stream's facts.
type person struct {
	// pseudonym numbers people in order of first appearance in the log.
	pseudonym  int32
	scores     []score
	episodes   []episode
	attendance attendanceCounts
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
	present, absent, excused int
}

func (c *attendanceCounts) add(s domain.AttendanceStatus, n int) {
	switch s {
	case domain.Present:
		c.present += n
	case domain.Absent:
		c.absent += n
	case domain.Excused:
		c.excused += n
	}
}

func (c attendanceCounts) recorded() int { return c.present + c.absent + c.excused }

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
	sessions  map[domain.SessionID]uint32
	// attendance holds the latest status per session and person, keyed
	// session<<32 | pseudonym, so a correction replaces what it corrects.
	attendance map[uint64]domain.AttendanceStatus
	counts     attendanceCounts
}

// NewFold returns an empty fold for opts (see Options.Validate).
func NewFold(opts Options) *Fold {
	f := &Fold{
		loc:    opts.Location,
		opts:   opts,
		people: map[uuid.UUID]*person{},
		groups: map[domain.GroupID]*group{},
		names:  map[string]string{},
	}
	if f.loc == nil {
		f.loc = time.UTC
	}
	if !opts.AsOf.IsZero() {
		y, m, d := opts.AsOf.Year, opts.AsOf.Month, opts.AsOf.Day
		f.cutoff, f.hasCutoff = time.Date(y, m, d+1, 0, 0, 0, 0, f.loc), true
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
func (f *Fold) dayOf(t time.Time) day {
	_, offset := t.In(f.loc).Zone()
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
	f.replayed++
	if !folded(e.EventType()) {
		return // as Replay, which does not even decode them
	}
	at := e.When()
	if f.hasCutoff && !at.Before(f.cutoff) {
		f.afterAsOf++
		return
	}
	if at.After(f.latest) {
		f.latest = at
	}
	switch e := e.(type) {
	case domain.IntakeCompleted:
		p := f.person(e.Patient)
		if !e.ScoresUnknown {
			d := f.dayOf(at)
			p.scores = append(p.scores,
				score{at: at.UnixNano(), day: d, instrument: domain.PHQ9, value: int16(e.PHQ9)},
				score{at: at.UnixNano(), day: d, instrument: domain.GAD7, value: int16(e.GAD7)})
		}
	case domain.MeasureRecorded:
		p := f.person(e.Patient)
		p.scores = append(p.scores, score{at: at.UnixNano(), day: f.dayOf(at), instrument: e.Instrument, value: int16(e.Score)})
	case domain.Admitted:
		f.startEpisode(e.Patient, e.Program, e.Level, e.SourceSetting, at, estimated)
	case domain.Readmitted:
		f.startEpisode(e.Patient, e.Program, e.Level, e.SourceSetting, at, estimated)
	case domain.SteppedDown:
		f.move(e.Patient, e.To, at)
	case domain.SteppedUp:
		f.move(e.Patient, e.To, at)
	case domain.Discharged:
		f.discharge(e, at)
	case domain.GroupCreated:
		f.group(e.Group).program = e.Program
	case domain.GroupChanged:
		f.group(e.Group).program = e.Program
	case domain.MemberJoined:
		f.seat(e.Group, e.Patient, at)
	case domain.WaitlistPromoted:
		f.seat(e.Group, e.Patient, at)
	case domain.MemberLeft:
		f.unseat(e.Group, e.Patient, at, false)
	case domain.GroupCompleted:
		f.unseat(e.Group, e.Patient, at, true)
	case domain.ModuleCompleted:
		f.completeModule(e, at)
	case domain.AttendanceRecorded:
		f.attend(e, at)
	}
}

func (f *Fold) person(id domain.PatientID) *person {
	key, err := uuid.Parse(string(id))
	if err != nil {
		// Not a UUID (the domain writes none such): keyed by a
		// name-based UUID of its text, which no patient ID is.
		key = uuid.NewSHA1(oddPatientIDs, []byte(id))
	}
	p, ok := f.people[key]
	if !ok {
		f.nextPseudonym++
		p = &person{pseudonym: f.nextPseudonym}
		f.people[key] = p
	}
	return p
}

// oddPatientIDs roots the keys of patient IDs that are not UUIDs.
var oddPatientIDs = uuid.MustParse("0d5c1f7e-3a2b-4c9d-8e6f-1a2b3c4d5e6f")

// name returns the fold's copy of s.
func (f *Fold) name(s string) string {
	if kept, ok := f.names[s]; ok {
		return kept
	}
	f.names[s] = s
	return s
}

func (f *Fold) group(id domain.GroupID) *group {
	g, ok := f.groups[id]
	if !ok {
		g = &group{
			seated:     map[int32]bool{},
			modules:    map[int]map[int32]struct{}{},
			sessions:   map[domain.SessionID]uint32{},
			attendance: map[uint64]domain.AttendanceStatus{},
		}
		f.groups[id] = g
	}
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

func (f *Fold) startEpisode(id domain.PatientID, program domain.ProgramID, level domain.Level, setting string, at time.Time, estimated bool) {
	p := f.person(id)
	if p.current() != nil {
		return
	}
	d := f.dayOf(at)
	p.episodes = append(p.episodes, episode{
		start: at.UnixNano(), startDay: d, level: level, program: domain.ProgramID(f.name(string(program))), setting: f.name(setting), estimated: estimated,
		stays: []stay{{level: level, startDay: d}},
	})
}

func (f *Fold) move(id domain.PatientID, to domain.Level, at time.Time) {
	ep := f.person(id).current()
	if ep == nil {
		return
	}
	d := f.dayOf(at)
	last := &ep.stays[len(ep.stays)-1]
	last.ended, last.endDay, last.next = true, d, to
	ep.stays = append(ep.stays, stay{level: to, startDay: d})
}

func (f *Fold) discharge(e domain.Discharged, at time.Time) {
	ep := f.person(e.Patient).current()
	if ep == nil {
		return
	}
	d := f.dayOf(at)
	last := &ep.stays[len(ep.stays)-1]
	last.ended, last.endDay = true, d
	ep.closed, ep.end, ep.endDay, ep.reason, ep.stayUnknown = true, at.UnixNano(), d, e.Reason, e.StayUnknown
}

// groupEventCounts reports whether a group event's day is inside the window.
func (f *Fold) groupEventCounts(at time.Time) bool {
	return f.inWindow(f.dayOf(at))
}

func (f *Fold) seat(id domain.GroupID, patient domain.PatientID, at time.Time) {
	if !f.groupEventCounts(at) {
		return
	}
	g, p := f.group(id), f.person(patient)
	if !g.seated[p.pseudonym] {
		g.seatings++
	}
	g.seated[p.pseudonym] = true
}

func (f *Fold) unseat(id domain.GroupID, patient domain.PatientID, at time.Time, completed bool) {
	if !f.groupEventCounts(at) {
		return
	}
	g, p := f.group(id), f.person(patient)
	if completed {
		g.completed++
	} else {
		g.left++
	}
	// Someone seated before the window still counts among the members.
	g.seated[p.pseudonym] = false
}

func (f *Fold) completeModule(e domain.ModuleCompleted, at time.Time) {
	if !f.groupEventCounts(at) {
		return
	}
	g, p := f.group(e.Group), f.person(e.Patient)
	done, ok := g.modules[e.Module]
	if !ok {
		done = map[int32]struct{}{}
		g.modules[e.Module] = done
	}
	done[p.pseudonym] = struct{}{}
	if _, ever := g.seated[p.pseudonym]; !ever {
		g.seated[p.pseudonym] = false // a member seated before the window
	}
}

func (f *Fold) attend(e domain.AttendanceRecorded, at time.Time) {
	if !f.groupEventCounts(at) {
		return
	}
	g, p := f.group(e.Group), f.person(e.Patient)
	session, ok := g.sessions[e.Session]
	if !ok {
		session = uint32(len(g.sessions))
		g.sessions[e.Session] = session
	}
	key := uint64(session)<<32 | uint64(uint32(p.pseudonym))
	if previous, ok := g.attendance[key]; ok {
		g.counts.add(previous, -1)
		p.attendance.add(previous, -1)
	}
	g.attendance[key] = e.Status
	g.counts.add(e.Status, 1)
	p.attendance.add(e.Status, 1)
}
