package projections

import (
	"cmp"
	"slices"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// levelSlots indexes arrays by domain.Level (1–5); slot 0 is unused.
const levelSlots = 6

// movementKind indexes a day's movement counters.
type movementKind uint8

const (
	moveReferral movementKind = iota
	moveIntake
	moveAdmission
	moveReadmission
	moveStepDown
	moveStepUp
	moveDischarge
	movementKinds
)

// dayMovements counts one clinical day's movements by kind.
type dayMovements [movementKinds]int

// Census is the director's board: aggregates only, never a name or an
// identifier. The fold keeps counters per level, program and status, the
// movements of every clinical day, and for each level the multiset of the
// days its current occupants entered it; "today", "the last seven days" and
// lengths of stay are computed at query time from now.
type Census struct {
	loc     *time.Location
	catalog *catalog
	rosters *Rosters
	// byStatus counts people by status (not the unknown ones).
	byStatus [statusCount]int
	// byLevel and byProgram count the people in care.
	byLevel   [levelSlots]int
	byProgram map[domain.ProgramID]int
	// entered[level][day] counts current occupants who entered the level on day.
	entered [levelSlots]map[domain.Date]int
	// days holds each clinical day's movements.
	days map[domain.Date]*dayMovements
	// changes counts the events that changed the board.
	changes uint64
}

func newCensus(loc *time.Location, c *catalog, r *Rosters) *Census {
	cs := &Census{loc: loc, catalog: c, rosters: r, byProgram: map[domain.ProgramID]int{}, days: map[domain.Date]*dayMovements{}}
	for l := range cs.entered {
		cs.entered[l] = map[domain.Date]int{}
	}
	return cs
}

// apply folds one event, given the placement change the patient list made of it.
func (c *Census) apply(e domain.Event, tr transition, changed TopicSet) {
	switch e := e.(type) {
	case domain.Referred:
		c.count(moveReferral, e.OccurredAt)
	case domain.IntakeCompleted:
		c.count(moveIntake, e.OccurredAt)
	case domain.Admitted:
		c.count(moveAdmission, e.OccurredAt)
	case domain.Readmitted:
		c.count(moveAdmission, e.OccurredAt)
		c.count(moveReadmission, e.OccurredAt)
	case domain.SteppedDown:
		c.count(moveStepDown, e.OccurredAt)
	case domain.SteppedUp:
		c.count(moveStepUp, e.OccurredAt)
	case domain.Discharged:
		c.count(moveDischarge, e.OccurredAt)
	case domain.MemberJoined, domain.MemberWaitlisted, domain.WaitlistPromoted, domain.WaitlistLeft,
		domain.MemberLeft, domain.GroupCompleted:
		// Group occupancy is read from the rosters at query time; the board
		// still has to be told it changed.
	default:
		return
	}
	c.changes++
	changed.add(Topic{Kind: TopicCensus})
	if tr.changed {
		c.leave(tr.before)
		c.enter(tr.after)
	}
}

func (c *Census) count(kind movementKind, at time.Time) {
	day := domain.DateOf(at.In(c.loc))
	m, ok := c.days[day]
	if !ok {
		m = &dayMovements{}
		c.days[day] = m
	}
	m[kind]++
}

func (c *Census) leave(p placement) {
	if p.status != StatusUnknown {
		c.byStatus[p.status]--
	}
	if !p.level.Valid() {
		return
	}
	c.byLevel[p.level]--
	if c.byProgram[p.program]--; c.byProgram[p.program] == 0 {
		delete(c.byProgram, p.program)
	}
	if c.entered[p.level][p.levelSince]--; c.entered[p.level][p.levelSince] == 0 {
		delete(c.entered[p.level], p.levelSince)
	}
}

func (c *Census) enter(p placement) {
	if p.status != StatusUnknown {
		c.byStatus[p.status]++
	}
	if !p.level.Valid() {
		return
	}
	c.byLevel[p.level]++
	c.byProgram[p.program]++
	c.entered[p.level][p.levelSince]++
}

// CensusView is the census board at one moment.
type CensusView struct {
	// Today is the clinical day the view was computed for.
	Today domain.Date `json:"today"`
	// InCare counts everyone admitted at any level; Capacity sums the
	// programs' capacities.
	InCare    int             `json:"inCare"`
	Capacity  int             `json:"capacity"`
	Levels    []LevelCensus   `json:"levels"`
	Programs  []ProgramCensus `json:"programs"`
	Groups    []GroupCensus   `json:"groups"`
	Movements CensusMovements `json:"movements"`
	Pipeline  Pipeline        `json:"pipeline"`
}

// LevelCensus is the occupancy of one level of care.
type LevelCensus struct {
	Level  domain.Level `json:"level"`
	People int          `json:"people"`
	// Capacity sums the capacities of the level's programs.
	Capacity int `json:"capacity"`
	// MedianStayDays is the median number of days the current occupants have
	// been at this level; null when nobody is.
	MedianStayDays *float64 `json:"medianStayDays"`
}

// ProgramCensus is the occupancy of one program. A program people were
// admitted to but that was never defined shows with no name and capacity 0,
// so the board never hides anyone.
type ProgramCensus struct {
	Program  domain.ProgramID `json:"program"`
	Name     string           `json:"name"`
	Level    domain.Level     `json:"level,omitempty"`
	People   int              `json:"people"`
	Capacity int              `json:"capacity"`
}

// GroupCensus is one group's occupancy.
type GroupCensus struct {
	Group    domain.GroupID   `json:"group"`
	Name     string           `json:"name"`
	Level    domain.Level     `json:"level,omitempty"`
	Program  domain.ProgramID `json:"program,omitempty"`
	Running  bool             `json:"running"`
	Members  int              `json:"members"`
	Capacity int              `json:"capacity"`
	Waitlist int              `json:"waitlist"`
}

// Movements counts the journey's moves over a period. Admissions include
// readmissions, which are also counted on their own.
type Movements struct {
	Referrals    int `json:"referrals"`
	Intakes      int `json:"intakes"`
	Admissions   int `json:"admissions"`
	Readmissions int `json:"readmissions"`
	StepDowns    int `json:"stepDowns"`
	StepUps      int `json:"stepUps"`
	Discharges   int `json:"discharges"`
}

// DayMovements is one clinical day's movements.
type DayMovements struct {
	Date domain.Date `json:"date"`
	Movements
}

// CensusMovements are today's movements, the last seven days' (today
// included) and each of those seven days, oldest first.
type CensusMovements struct {
	Today     Movements      `json:"today"`
	Last7Days Movements      `json:"last7Days"`
	Days      []DayMovements `json:"days"`
}

// Pipeline counts the people not yet in care.
type Pipeline struct {
	// Referred: referred, intake not yet done.
	Referred int `json:"referred"`
	// WaitingForAdmission: intake done, not yet (re)admitted.
	WaitingForAdmission int `json:"waitingForAdmission"`
}

func (m *dayMovements) add(o *dayMovements) {
	for i := range m {
		m[i] += o[i]
	}
}

func (m *dayMovements) view() Movements {
	return Movements{
		Referrals: m[moveReferral], Intakes: m[moveIntake], Admissions: m[moveAdmission],
		Readmissions: m[moveReadmission], StepDowns: m[moveStepDown], StepUps: m[moveStepUp],
		Discharges: m[moveDischarge],
	}
}

// recentDays is how many days the board's movement window covers.
const recentDays = 7

// View computes the board for the clinical day of now in the clinic's zone.
func (c *Census) View(now time.Time) CensusView {
	today := domain.DateOf(now.In(c.loc))
	v := CensusView{
		Today:    today,
		Levels:   make([]LevelCensus, 0, levelSlots-1),
		Programs: c.programs(),
		Groups:   c.groups(),
		Pipeline: Pipeline{Referred: c.byStatus[StatusReferred], WaitingForAdmission: c.byStatus[StatusIntakeDone]},
	}
	levelCapacity := [levelSlots]int{}
	for _, p := range v.Programs {
		v.Capacity += p.Capacity
		if p.Level.Valid() {
			levelCapacity[p.Level] += p.Capacity
		}
	}
	for _, l := range domain.Levels() {
		v.InCare += c.byLevel[l]
		v.Levels = append(v.Levels, LevelCensus{
			Level: l, People: c.byLevel[l], Capacity: levelCapacity[l],
			MedianStayDays: medianStay(c.entered[l], today),
		})
	}
	var week dayMovements
	v.Movements.Days = make([]DayMovements, 0, recentDays)
	for i := recentDays - 1; i >= 0; i-- {
		day := today.AddDays(-i)
		m := c.days[day]
		if m == nil {
			m = &dayMovements{}
		}
		week.add(m)
		v.Movements.Days = append(v.Movements.Days, DayMovements{Date: day, Movements: m.view()})
	}
	v.Movements.Today = v.Movements.Days[recentDays-1].Movements
	v.Movements.Last7Days = week.view()
	return v
}

// medianStay is the median of today minus each entry day, over a multiset
// of entry days; nil when it is empty. Entry days after today (a clock
// behind the clinical record) count as zero days.
func medianStay(entered map[domain.Date]int, today domain.Date) *float64 {
	type stay struct{ days, people int }
	stays := make([]stay, 0, len(entered))
	total := 0
	for day, n := range entered {
		stays = append(stays, stay{days: max(today.DaysSince(day), 0), people: n})
		total += n
	}
	if total == 0 {
		return nil
	}
	slices.SortFunc(stays, func(a, b stay) int { return cmp.Compare(a.days, b.days) })
	// nth returns the stay of the person at 0-based rank k.
	nth := func(k int) int {
		for _, s := range stays {
			if k < s.people {
				return s.days
			}
			k -= s.people
		}
		return stays[len(stays)-1].days
	}
	median := float64(nth((total - 1) / 2))
	if total%2 == 0 {
		median = (median + float64(nth(total/2))) / 2
	}
	return &median
}

// programs lists every defined program and every program someone is in,
// by level then ID.
func (c *Census) programs() []ProgramCensus {
	out := make([]ProgramCensus, 0, len(c.catalog.programs))
	for id, spec := range c.catalog.programs {
		out = append(out, ProgramCensus{Program: id, Name: spec.Name, Level: spec.Level, People: c.byProgram[id], Capacity: spec.Capacity})
	}
	for id, n := range c.byProgram {
		if _, defined := c.catalog.programs[id]; !defined {
			out = append(out, ProgramCensus{Program: id, People: n})
		}
	}
	slices.SortFunc(out, func(a, b ProgramCensus) int {
		return cmp.Or(cmp.Compare(a.Level, b.Level), cmp.Compare(a.Program, b.Program))
	})
	return out
}

// groups lists every defined group with its occupancy, by level, name and ID.
func (c *Census) groups() []GroupCensus {
	out := make([]GroupCensus, 0, len(c.catalog.groups))
	for id, spec := range c.catalog.groups {
		members, waiting := c.rosters.occupancy(id)
		out = append(out, GroupCensus{
			Group: id, Name: spec.Name, Level: spec.Level, Program: spec.Program,
			Running: spec.Status == domain.Running, Members: members, Capacity: spec.Capacity, Waitlist: waiting,
		})
	}
	slices.SortFunc(out, func(a, b GroupCensus) int {
		return cmp.Or(cmp.Compare(a.Level, b.Level), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Group, b.Group))
	})
	return out
}

func (c *Census) encode(e *encoder) {
	for _, n := range c.byStatus {
		e.small(n)
	}
	for _, n := range c.byLevel {
		e.small(n)
	}
	e.count(len(c.byProgram))
	for _, id := range sortedKeys(c.byProgram) {
		e.str(string(id))
		e.small(c.byProgram[id])
	}
	for _, days := range c.entered {
		encodeDayCounts(e, days)
	}
	e.count(len(c.days))
	for _, day := range sortedDates(c.days) {
		e.date(day)
		for _, n := range c.days[day] {
			e.small(n)
		}
	}
}

func (c *Census) decode(d *decoder) {
	for i := range c.byStatus {
		c.byStatus[i] = d.smallInt()
	}
	for i := range c.byLevel {
		c.byLevel[i] = d.smallInt()
	}
	for range d.count() {
		id := domain.ProgramID(d.str())
		c.byProgram[id] = d.smallInt()
	}
	for l := range c.entered {
		decodeDayCounts(d, c.entered[l])
	}
	for range d.count() {
		day := d.date()
		m := &dayMovements{}
		for i := range m {
			m[i] = d.smallInt()
		}
		c.days[day] = m
	}
}

func encodeDayCounts(e *encoder, days map[domain.Date]int) {
	e.count(len(days))
	for _, day := range sortedDates(days) {
		e.date(day)
		e.small(days[day])
	}
}

func decodeDayCounts(d *decoder, days map[domain.Date]int) {
	for range d.count() {
		day := d.date()
		days[day] = d.smallInt()
	}
}

func sortedDates[V any](m map[domain.Date]V) []domain.Date {
	days := make([]domain.Date, 0, len(m))
	for d := range m {
		days = append(days, d)
	}
	slices.SortFunc(days, compareDates)
	return days
}

func compareDates(a, b domain.Date) int {
	return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.Month, b.Month), cmp.Compare(a.Day, b.Day))
}
