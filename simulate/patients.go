package simulate

import (
	"errors"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/privacy"
	"github.com/google/uuid"
)

// patient is one simulated person: fixed traits drawn at referral, the
// journey so far as the simulator made it, and today's commands.
type patient struct {
	index int // order of arrival: keys and the person's randomness derive from it
	id    domain.PatientID
	site  *site
	rng   *rand.Rand
	step  int // idempotency steps used on the person's stream

	cond                           condition
	female                         bool
	age                            int
	primaryCare, individualTherapy bool
	attendance                     float64
	noShow, declines               bool

	traj         trajectory
	status       domain.PatientStatus
	target       domain.Level // the level recommended for the next admission
	level        domain.Level
	program      *program
	since        domain.Date // day the current level started
	due          domain.Date // day the next planned step is considered
	waits        int         // days waited for a place
	extended     bool        // the current stay was already extended once
	nextMeasure  domain.Date
	measuredOn   domain.Date
	dropoutOn    domain.Date // a dropout decided after missed groups, zero if none
	episodes     int
	dischargedOn domain.Date
	readmitOn    domain.Date // zero when no return is planned
	reassessed   bool        // the intake before the planned readmission is done
	followUp     domain.Date // a follow-up measure after discharge, zero if none

	groups    map[domain.GroupID]*seat       // groups the person sits in or waits for
	targets   map[domain.GroupID]domain.Date // when an open-ended group membership should end
	excluded  map[domain.GroupID]bool        // groups a clinician found unsuitable
	pending   []pendingJoin
	completed []domain.Prerequisite

	cursor    time.Time // the latest clinical time used today
	ops, late []patientOp
	resync    bool // a command was refused: read the state again tonight
	retired   bool
}

// seat is a person's place in a group as the group's log tells it.
type seat struct {
	waitlisted bool
	since      domain.Date
}

// pendingJoin is a join planned for a later day: CBT's next module, the
// alumni group after discharge, the next group after one ends. An empty
// group means "choose one then".
type pendingJoin struct {
	group     domain.GroupID
	notBefore domain.Date
}

// patientOp is one command on a person's stream.
type patientOp struct {
	cmd      domain.PatientCommand
	personal *privacy.Personal
}

// newRand returns the random source of one part of the run, derived from
// the seed and the part's name, so each part draws the same numbers
// whatever order the goroutines run in.
func newRand(seed uint64, tag string, index uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(tag))
	return rand.New(rand.NewPCG(seed^h.Sum64(), index*0x9e3779b97f4a7c15+1))
}

// newPatient draws a new person's traits at site.
func (e *engine) newPatient(s *site, d domain.Date) *patient {
	index := e.nextIndex
	e.nextIndex++
	name := e.runID + "/" + strconv.Itoa(s.index) + "/" + strconv.Itoa(index)
	id := domain.PatientID(uuid.NewSHA1(simNamespace, []byte(name)).String())
	r := newRand(e.cfg.Seed, name, 0)
	p := &patient{
		index: index, id: id, site: s, rng: r,
		groups: map[domain.GroupID]*seat{}, targets: map[domain.GroupID]domain.Date{}, excluded: map[domain.GroupID]bool{},
		cursor: e.at(d, 0),
	}
	p.cond = condition(pick(r, conditionWeights))
	p.female = chance(r, 0.55)
	if p.cond == condEatingDisorder {
		p.female = chance(r, 0.85)
	}
	if chance(r, 0.05) {
		p.age = 16 + r.IntN(2) // adolescents: adult-only groups will refuse them
	} else {
		p.age = clampInt(18+int(math.Abs(r.NormFloat64())*24), 18, 90)
	}
	p.primaryCare = chance(r, 0.88)
	p.individualTherapy = chance(r, 0.4)
	if p.cond == condEmotionRegulation {
		p.individualTherapy = chance(r, 0.75)
	}
	p.attendance = attendancePropensity(r)
	p.target = domain.Level(pick(r, firstLevelWeights))
	if p.cond == condEatingDisorder {
		p.target = domain.Level(pick(r, []float64{domain.Residential: 0.1, domain.PHP: 0.2, domain.Outpatient: 0.7}))
	}
	p.noShow, p.declines = chance(r, 0.05), chance(r, 0.03)
	e.patients[id] = p
	e.active = append(e.active, p)
	return p
}

// facts are what a join's requirements are checked against, as the
// command service gathers them: the intake's facts and the completions.
func (p *patient) facts() domain.PatientFacts {
	return domain.PatientFacts{AgeYears: p.age, IndividualTherapy: p.individualTherapy, PrimaryCare: p.primaryCare, Completed: p.completed}
}

// done reports whether the simulation has nothing more to do for p.
func (p *patient) done() bool {
	if p.retired {
		return len(p.groups) == 0
	}
	return p.status == domain.StatusDischarged && p.readmitOn.IsZero() && p.followUp.IsZero() &&
		len(p.pending) == 0 && len(p.groups) == 0
}

// startDay moves the person's clock to the start of day d.
func (p *patient) startDay(e *engine, d domain.Date) {
	if start := e.at(d, 0); p.cursor.Before(start) {
		p.cursor = start
	}
}

// journeyAt draws the clinical time of a step between minute from and
// from+span of day d, after the person's previous step of the day.
func (e *engine) journeyAt(p *patient, d domain.Date, from, span int) time.Time {
	t := e.at(d, from+p.rng.IntN(span))
	if e.live != nil {
		return t
	}
	if !t.After(p.cursor) {
		t = p.cursor.Add(time.Duration(5+p.rng.IntN(40)) * time.Minute)
	}
	if end := e.endOfDay(d); t.After(end) {
		t = end
	}
	p.cursor = t
	return t
}

// arrive refers the day's new people.
func (e *engine) arrive(d domain.Date) {
	lambda := e.cfg.ReferralsPerDay
	if wd := d.Weekday(); wd == domain.Saturday || wd == domain.Sunday {
		lambda /= 3
	}
	for n := poisson(e.arrivals, lambda); n > 0; n-- {
		p := e.newPatient(e.site, d)
		at := e.journeyAt(p, d, 8*60, 9*60)
		// Drawn with or without a sealer, so both runs draw the same numbers.
		pd := personalData(p.rng, p.female, p.age, d)
		var personal *privacy.Personal
		if e.sealer != nil {
			personal = &pd
		}
		p.ops = append(p.ops, patientOp{cmd: domain.Refer{Patient: p.id, Source: referralSource(p.rng, p.target), At: at}, personal: personal})
		p.status = domain.StatusReferred
		p.due = d
		if p.target != domain.Inpatient {
			p.due = d.AddDays(1 + p.rng.IntN(10))
		}
	}
}

// plan decides what happens to p on day d.
func (e *engine) plan(p *patient, d domain.Date) {
	if p.retired {
		return
	}
	switch p.status {
	case domain.StatusReferred:
		if d.Before(p.due) {
			return
		}
		if p.noShow {
			p.retired = true // never came to the intake
			return
		}
		e.intake(p, d)
		if p.declines {
			p.retired = true // assessed, then chose not to start treatment
			return
		}
		if !d.Before(p.due) {
			e.admit(p, d)
		}
	case domain.StatusAssessed:
		if !d.Before(p.due) {
			e.admit(p, d)
		}
	case domain.StatusInCare:
		e.careDay(p, d)
	case domain.StatusDischarged:
		e.afterCare(p, d)
	}
}

// intake records the assessment: baseline scores, the recommended level
// and the facts group rules need.
func (e *engine) intake(p *patient, d domain.Date) {
	at := e.journeyAt(p, d, 9*60, 7*60)
	phq := clampScore(domain.PHQ9, baselinePHQ9[p.target]+p.rng.NormFloat64()*3)
	gad := 0.75*float64(phq) + p.rng.NormFloat64()*2.5
	if p.cond == condAnxiety || p.cond == condOCD {
		gad += 3
	}
	gad7 := clampScore(domain.GAD7, gad)
	p.traj = newTrajectory(p.rng, d, float64(phq), float64(gad7))
	p.ops = append(p.ops, patientOp{cmd: domain.CompleteIntake{
		Patient: p.id, PHQ9: phq, GAD7: gad7, RecommendedLevel: p.target,
		PrimaryCare: p.primaryCare, IndividualTherapy: p.individualTherapy, AgeYears: p.age, At: at,
	}})
	p.measuredOn = d
	if p.status == domain.StatusReferred {
		p.status = domain.StatusAssessed
	}
	p.due = d.AddDays(admissionWaitDays(p.rng, p.target))
}

// maxWaitDays is how long a person waits for a place at the recommended
// level before a clinician offers another.
const maxWaitDays = 5

// alternativeLevels are what a clinician offers when the recommended
// level has no place after a few days' wait.
var alternativeLevels = map[domain.Level][]domain.Level{
	domain.Residential: {domain.PHP, domain.IOP},
	domain.PHP:         {domain.IOP, domain.Residential},
	domain.IOP:         {domain.PHP, domain.Outpatient},
	domain.Outpatient:  {domain.IOP},
}

// placeFor finds a program with room at level for p (people with an
// eating disorder go to their own outpatient program).
func (e *engine) placeFor(p *patient, level domain.Level) *program {
	if level == domain.Outpatient && p.cond == condEatingDisorder {
		if pr := p.site.program(programEating); pr.census < pr.capacity {
			return pr
		}
		return nil
	}
	return p.site.place(level)
}

// admit admits or readmits p at the recommended level, or waits for a
// place; an inpatient is admitted even to a full unit.
func (e *engine) admit(p *patient, d domain.Date) {
	level := p.target
	pr := e.placeFor(p, level)
	if pr == nil && level == domain.Inpatient {
		pr = p.site.program(programInpatient)
	}
	if pr == nil && p.waits >= maxWaitDays {
		for _, alt := range alternativeLevels[level] {
			if pr = e.placeFor(p, alt); pr != nil {
				level = alt
				break
			}
		}
	}
	if pr == nil {
		p.waits++
		p.due = d.AddDays(1)
		return
	}
	p.waits = 0
	at := e.journeyAt(p, d, 10*60, 6*60)
	if p.episodes == 0 {
		p.ops = append(p.ops, patientOp{cmd: domain.Admit{Patient: p.id, Program: pr.id, Level: level, At: at}})
	} else {
		p.ops = append(p.ops, patientOp{cmd: domain.Readmit{Patient: p.id, Program: pr.id, Level: level, At: at}})
	}
	p.status = domain.StatusInCare
	p.episodes++
	p.pending, p.readmitOn, p.reassessed, p.dropoutOn = nil, domain.Date{}, false, domain.Date{}
	clear(p.excluded)
	p.enter(level, pr, d)
	e.placeInGroups(p, d, at.Add(30*time.Minute))
}

// enter moves p's census place to program pr at level.
func (p *patient) enter(level domain.Level, pr *program, d domain.Date) {
	if p.program != nil {
		p.program.census--
	}
	pr.census++
	p.level, p.program, p.since = level, pr, d
	p.due = d.AddDays(staysDays(p.rng, level))
	p.extended = false
	p.nextMeasure = d.AddDays(measureEveryDays[level])
}

// careDay is a day in care: measures, at most one move (dropout,
// step-up, or the planned end of the stay), and on a day without a move
// the planned joins and the waitlists given up on. (A move makes its own
// group changes from the groups the person holds.)
func (e *engine) careDay(p *patient, d domain.Date) {
	e.measureIfDue(p, d)
	level, program := p.level, p.program
	e.move(p, d)
	if p.status != domain.StatusInCare || p.level != level || p.program != program {
		return
	}
	e.joinPending(p, d)
	e.leaveStaleWaitlists(p, d)
}

// move makes at most one move of a person in care.
func (e *engine) move(p *patient, d domain.Date) {
	weekday := d.Weekday() != domain.Saturday && d.Weekday() != domain.Sunday
	dropout := dropoutPerDay[p.level]
	if p.traj.struggling() {
		dropout *= 1.8
	}
	switch {
	case !p.dropoutOn.IsZero() && !d.Before(p.dropoutOn):
		e.discharge(p, d, domain.DischargeDroppedOut)
	case chance(p.rng, dropout):
		reason := domain.DischargeDroppedOut
		if p.level == domain.Inpatient || p.level == domain.Residential {
			reason = domain.DischargeAgainstAdvice
		}
		e.discharge(p, d, reason)
	case p.level != domain.Inpatient && d.DaysSince(p.since) >= 3 && chance(p.rng, stepUpPerDay(p)):
		e.stepUp(p, d)
	case !d.Before(p.due) && (weekday || p.level == domain.Inpatient):
		e.endOfStay(p, d)
	}
}

// stepUpPerDay is the daily chance that p's clinicians escalate care.
func stepUpPerDay(p *patient) float64 {
	if !p.traj.struggling() {
		return 0.0003
	}
	switch p.level {
	case domain.Outpatient:
		return 0.004
	case domain.IOP:
		return 0.007
	case domain.PHP:
		return 0.006
	}
	return 0.004
}

// measureIfDue records PHQ-9 and GAD-7 when they are due.
func (e *engine) measureIfDue(p *patient, d domain.Date) {
	if d.Before(p.nextMeasure) {
		return
	}
	e.measure(p, d)
	p.nextMeasure = d.AddDays(measureEveryDays[p.level])
}

func (e *engine) measure(p *patient, d domain.Date) {
	phq, gad := p.traj.scores(p.rng, d)
	at := e.journeyAt(p, d, 9*60, 8*60)
	p.ops = append(p.ops,
		patientOp{cmd: domain.RecordMeasure{Patient: p.id, Instrument: domain.PHQ9, Score: phq, At: at}},
		patientOp{cmd: domain.RecordMeasure{Patient: p.id, Instrument: domain.GAD7, Score: gad, At: at}})
	p.measuredOn = d
}

// endOfStay is the planned end of a stay: extend it for someone not
// improving, step down, or discharge.
func (e *engine) endOfStay(p *patient, d domain.Date) {
	if p.level != domain.Outpatient && p.traj.struggling() && !p.extended && chance(p.rng, 0.4) {
		p.extended = true
		p.due = d.AddDays(max(2, staysDays(p.rng, p.level)*3/10))
		return
	}
	next := domain.Level(pick(p.rng, stepDownWeights[p.level]))
	if next == 0 {
		e.discharge(p, d, plannedDischargeReason(p.rng))
		return
	}
	pr := e.placeFor(p, next)
	for pr == nil && next < domain.Outpatient {
		next++
		pr = e.placeFor(p, next)
	}
	if pr == nil {
		if p.waits < 3 {
			p.waits++
			p.due = d.AddDays(1)
			return
		}
		e.discharge(p, d, domain.DischargeTransferred) // referred on to another provider
		return
	}
	p.waits = 0
	e.changeLevel(p, d, next, pr, false)
}

// stepUp escalates p to a more intensive level; an inpatient bed is found
// even on a full unit.
func (e *engine) stepUp(p *patient, d domain.Date) {
	to := domain.Level(pick(p.rng, stepUpWeights[p.level]))
	pr := e.placeFor(p, to)
	for l := to - 1; pr == nil && l >= domain.Inpatient; l-- {
		if pr = e.placeFor(p, l); pr != nil {
			to = l
		}
	}
	if pr == nil {
		to, pr = domain.Inpatient, p.site.program(programInpatient)
	}
	e.changeLevel(p, d, to, pr, true)
}

// changeLevel records a step-down or step-up with the group moves around it.
func (e *engine) changeLevel(p *patient, d domain.Date, to domain.Level, pr *program, up bool) {
	at := e.journeyAt(p, d, 11*60, 4*60)
	why := leaveStepDown
	if up {
		why = leaveStepUp
	}
	e.leaveGroups(p, d, at.Add(-30*time.Minute), why)
	if up {
		p.ops = append(p.ops, patientOp{cmd: domain.StepUp{Patient: p.id, To: to, Program: pr.id, At: at}})
	} else {
		p.ops = append(p.ops, patientOp{cmd: domain.StepDown{Patient: p.id, To: to, Program: pr.id, At: at}})
	}
	p.enter(to, pr, d)
	p.pending, p.dropoutOn = nil, domain.Date{}
	e.placeInGroups(p, d, at.Add(30*time.Minute))
}

// discharge ends p's episode, after the person leaves (or completes)
// their groups; it plans a return for some, and the alumni group for some.
func (e *engine) discharge(p *patient, d domain.Date, reason domain.DischargeReason) {
	if reason != domain.DischargeDroppedOut && reason != domain.DischargeAgainstAdvice && p.measuredOn != d {
		e.measure(p, d)
	}
	at := e.journeyAt(p, d, 11*60, 5*60)
	why := leaveDischarge
	switch reason {
	case domain.DischargeCompleted:
		why = leaveCompleted
	case domain.DischargeDroppedOut:
		why = leaveDropout
	case domain.DischargeDeath:
		why = leaveDeath
	}
	e.leaveGroups(p, d, at.Add(-30*time.Minute), why)
	p.pending = nil
	var alumni domain.GroupID
	if reason == domain.DischargeCompleted && p.level >= domain.PHP && chance(p.rng, 0.3) {
		alumni = p.site.group(groupAlumni)
		p.pending = []pendingJoin{{group: alumni, notBefore: d.AddDays(1 + p.rng.IntN(7))}}
	}
	p.late = append(p.late, patientOp{cmd: domain.Discharge{Patient: p.id, Reason: reason, AlumniGroup: alumni, At: at}})
	p.program.census--
	p.status, p.level, p.program, p.dischargedOn, p.dropoutOn = domain.StatusDischarged, 0, nil, d, domain.Date{}
	p.readmitOn, p.reassessed, p.followUp = domain.Date{}, false, domain.Date{}
	if chance(p.rng, readmitChance(reason, p.traj)) {
		if chance(p.rng, 0.45) {
			p.readmitOn = d.AddDays(3 + p.rng.IntN(28)) // within 30 days
		} else {
			p.readmitOn = d.AddDays(31 + p.rng.IntN(270))
		}
		p.target = domain.Level(pick(p.rng, readmitLevelWeights))
	}
	if reason == domain.DischargeCompleted && chance(p.rng, 0.4) {
		p.followUp = d.AddDays(30)
	}
}

// afterCare is a day after discharge: the alumni group, a follow-up
// measure, a return to care.
func (e *engine) afterCare(p *patient, d domain.Date) {
	e.joinPending(p, d)
	if !p.followUp.IsZero() && !d.Before(p.followUp) {
		if p.readmitOn.IsZero() || p.readmitOn.After(d) {
			e.measure(p, d)
		}
		p.followUp = domain.Date{}
	}
	if p.readmitOn.IsZero() || d.Before(p.readmitOn) {
		return
	}
	if !p.reassessed {
		p.reassessed = true
		if d.DaysSince(p.dischargedOn) > 30 {
			e.intake(p, d) // a new assessment before a late return
		} else {
			phq, gad := p.traj.scores(p.rng, d)
			p.traj = newTrajectory(p.rng, d, math.Min(27, float64(phq)+4), math.Min(21, float64(gad)+3))
		}
	}
	e.admit(p, d)
	if p.status == domain.StatusDischarged {
		p.readmitOn = p.due // still waiting for a place
	}
}

// leaveWhy is why a person leaves their groups; it decides the leave
// reason, and whether a finished stay counts as completing the group.
type leaveWhy uint8

const (
	leaveStepDown leaveWhy = iota
	leaveStepUp
	leaveCompleted
	leaveDropout
	leaveDischarge
	leaveDeath
)

// leaveGroups queues p's leaves (or completions) of their groups at at.
// Alumni membership outlasts level changes and discharges.
func (e *engine) leaveGroups(p *patient, d domain.Date, at time.Time, why leaveWhy) {
	for _, gid := range sortedGroupIDs(p.groups) {
		g := e.groups[gid]
		if g.base == groupAlumni && why != leaveDeath {
			continue
		}
		s := p.groups[gid]
		levelGroup := g.state.Spec.Level != domain.Outpatient
		op := groupOp{at: at, kind: opLeave, patient: p}
		switch why {
		case leaveStepDown:
			op.reason = domain.LeaveLevelChanged
			if levelGroup && !s.waitlisted {
				op.kind = opComplete
			}
		case leaveStepUp:
			op.reason = domain.LeaveLevelChanged
		case leaveCompleted:
			op.reason = domain.LeaveDischarged
			if !s.waitlisted && (levelGroup || len(g.state.Spec.Modules) == 0 && d.DaysSince(s.since) >= 56) {
				op.kind = opComplete
			}
		case leaveDropout:
			op.reason = domain.LeaveNonAttendance
		default:
			op.reason = domain.LeaveDischarged
		}
		e.queue(g, op)
	}
}

// placeInGroups offers p the groups of their new placement: every group
// of a program above outpatient, or one outpatient group that suits them
// (some people have individual therapy only).
func (e *engine) placeInGroups(p *patient, d domain.Date, at time.Time) {
	if p.level != domain.Outpatient {
		for _, gid := range p.program.groups {
			e.requestJoin(p, gid, d, at)
		}
		return
	}
	if chance(p.rng, 0.15) {
		return
	}
	e.joinFirst(p, d, at)
}

// outpatientChoices lists the groups a clinician would offer p, best first.
func (e *engine) outpatientChoices(p *patient) []domain.GroupID {
	s := p.site
	var c []domain.GroupID
	add := func(ids ...domain.GroupID) {
		for _, id := range ids {
			c = append(c, s.group(id))
		}
	}
	for _, done := range p.completed {
		if isDBTSkills(s.base[done.Group]) {
			add(groupDBTPractice)
		}
	}
	switch p.cond {
	case condEatingDisorder:
		add(groupDBTEating)
	case condAnxiety:
		add(groupCBTAnxiety)
	case condEmotionRegulation:
		c = append(c, e.leastLoaded(s, dbtSkillsGroups))
		add(groupCopingHealthy)
	case condDepression:
		if p.female && p.age >= 27 && p.age <= 69 && chance(p.rng, 0.25) {
			add(groupSelfEsteem)
		}
		add(groupDepression)
	case condChronicPain:
		add(groupPain)
	case condStress:
		add(groupStress)
	case condOCD:
		add(groupOCD)
	}
	if p.age >= 60 && chance(p.rng, 0.5) {
		add(groupMatureAdult)
	}
	c = append(c, e.leastLoaded(s, processGroups))
	return slices.DeleteFunc(c, func(id domain.GroupID) bool {
		_, in := p.groups[id]
		return p.excluded[id] || in
	})
}

// leastLoaded picks, among interchangeable groups, the one with the fewest
// people seated or waiting.
func (e *engine) leastLoaded(s *site, ids []domain.GroupID) domain.GroupID {
	best, load := domain.GroupID(""), math.MaxInt
	for _, id := range ids {
		g := e.groups[s.group(id)]
		if n := len(g.state.Members) + len(g.state.Waitlist); n < load {
			best, load = g.id, n
		}
	}
	return best
}

// joinFirst asks for a seat in the first suitable outpatient group.
func (e *engine) joinFirst(p *patient, d domain.Date, at time.Time) {
	for _, gid := range e.outpatientChoices(p) {
		if e.requestJoin(p, gid, d, at) {
			return
		}
	}
}

// requestJoin is the clinician's join: the catalog's rules are checked
// first with the domain's decider on the group's folded state, and a
// refusal answered as a clinician would. It reports whether a join was
// queued or planned; false means the group does not suit p.
func (e *engine) requestJoin(p *patient, gid domain.GroupID, d domain.Date, at time.Time) bool {
	if _, in := p.groups[gid]; in {
		return true
	}
	g := e.groups[gid]
	if g.closingToday() {
		e.count.refused(domain.CodeGroupNotRunning) // the group's season ends today
		p.excluded[gid] = true
		return false
	}
	_, err := g.state.Decide(domain.JoinGroup{Group: gid, Patient: p.id, Facts: p.facts(), At: at}, at)
	var closed *domain.EntryClosedError
	code := domain.ErrorCode(err)
	switch {
	case err == nil:
	case code == domain.CodeGroupFull:
		e.count.refused(code) // full: the clinician puts the person on the waitlist
	case code == domain.CodeAlreadyMember || code == domain.CodeAlreadyWaitlisted:
		return true
	case errors.As(err, &closed):
		e.count.refused(code)
		if closed.NextStart.DaysSince(d) <= 42 {
			p.pending = append(p.pending, pendingJoin{group: gid, notBefore: closed.NextStart})
			e.expectGroup(p, g, closed.NextStart)
			return true
		}
		p.excluded[gid] = true
		return false
	default:
		e.count.refused(code) // unmet requirement or paused group: another group
		p.excluded[gid] = true
		return false
	}
	e.queue(g, groupOp{at: at, kind: opJoin, patient: p})
	e.expectGroup(p, g, d)
	return true
}

// expectGroup plans how long p stays in an outpatient group joined on day
// from: a drawn number of weeks in an open-ended group (unless the stay
// ends first), and to the end of a structured group, which the outpatient
// stay is extended for.
func (e *engine) expectGroup(p *patient, g *group, from domain.Date) {
	spec := g.state.Spec
	if spec.Level != domain.Outpatient {
		return
	}
	if len(spec.Modules) == 0 {
		end := from.AddDays(openEndedWeeks(p.rng, g.base) * 7)
		if g.base == groupSelfEsteem {
			end = minDate(end, e.seasonEnd(from).AddDays(-3))
		}
		p.targets[g.id] = end
		return
	}
	weeks := 0
	for _, m := range spec.Modules {
		weeks += m.Weeks
	}
	if p.status == domain.StatusInCare && p.level == domain.Outpatient {
		p.due = minDate(maxDate(p.due, from.AddDays(weeks*7+7+p.rng.IntN(15))), p.since.AddDays(420))
	}
}

// joinPending makes the joins planned for today.
func (e *engine) joinPending(p *patient, d domain.Date) {
	if len(p.pending) == 0 {
		return
	}
	var later []pendingJoin
	var due []pendingJoin
	for _, pj := range p.pending {
		if d.Before(pj.notBefore) {
			later = append(later, pj)
		} else {
			due = append(due, pj)
		}
	}
	p.pending = later
	at := e.at(d, 8*60+30)
	for _, pj := range due {
		inOutpatientCare := p.status == domain.StatusInCare && p.level == domain.Outpatient
		if pj.group == "" || !e.requestJoin(p, pj.group, d, at) {
			if inOutpatientCare {
				e.joinFirst(p, d, at)
			}
		}
	}
}

// leaveStaleWaitlists takes p off a waitlist after eight weeks and offers
// another group instead.
func (e *engine) leaveStaleWaitlists(p *patient, d domain.Date) {
	for _, gid := range sortedGroupIDs(p.groups) {
		s := p.groups[gid]
		if !s.waitlisted || d.DaysSince(s.since) <= 56 {
			continue
		}
		at := e.at(d, 8*60)
		e.queue(e.groups[gid], groupOp{at: at, kind: opLeave, patient: p, reason: domain.LeaveWithdrew})
		p.excluded[gid] = true
		if p.level == domain.Outpatient {
			e.joinFirst(p, d, at.Add(15*time.Minute))
		}
	}
}

// observe updates a person's model from an event of a group's log: seats
// taken and freed, waitlists, completions, and the clinicians' answers to
// them (the next group, an earlier discharge, a dropout).
func (e *engine) observe(c change, d domain.Date) {
	var pid domain.PatientID
	switch ev := c.event.(type) {
	case domain.MemberJoined:
		pid = ev.Patient
	case domain.WaitlistPromoted:
		pid = ev.Patient
	case domain.MemberWaitlisted:
		pid = ev.Patient
	case domain.WaitlistLeft:
		pid = ev.Patient
	case domain.MemberLeft:
		pid = ev.Patient
	case domain.GroupCompleted:
		pid = ev.Patient
	case domain.ModuleCompleted:
		pid = ev.Patient
	default:
		return
	}
	p := e.patients[pid]
	if p == nil {
		return
	}
	gid := c.group.id
	switch ev := c.event.(type) {
	case domain.MemberJoined, domain.WaitlistPromoted:
		p.groups[gid] = &seat{since: d}
	case domain.MemberWaitlisted:
		p.groups[gid] = &seat{waitlisted: true, since: d}
	case domain.WaitlistLeft:
		delete(p.groups, gid)
	case domain.MemberLeft:
		delete(p.groups, gid)
		delete(p.targets, gid)
		if ev.Reason == domain.LeaveNonAttendance && p.status == domain.StatusInCare && p.level == domain.Outpatient && len(p.groups) == 0 && chance(p.rng, 0.5) {
			p.dropoutOn = d.AddDays(1 + p.rng.IntN(5))
		}
	case domain.GroupCompleted:
		delete(p.groups, gid)
		delete(p.targets, gid)
		p.completed = append(p.completed, domain.Prerequisite{Group: gid})
		e.afterGroup(p, c.group, d)
	case domain.ModuleCompleted:
		p.completed = append(p.completed, domain.Prerequisite{Group: gid, Module: ev.Module})
	}
}

// afterGroup is what follows a completed outpatient group: DBT skills lead
// to skills practice, some people start another group, most are
// discharged a few weeks later.
func (e *engine) afterGroup(p *patient, g *group, d domain.Date) {
	if p.status != domain.StatusInCare || p.level != domain.Outpatient {
		return
	}
	switch {
	case isDBTSkills(g.base):
		p.pending = append(p.pending, pendingJoin{group: p.site.group(groupDBTPractice), notBefore: d.AddDays(1)})
	case chance(p.rng, 0.25):
		p.pending = append(p.pending, pendingJoin{notBefore: d.AddDays(7)})
	default:
		p.due = minDate(p.due, d.AddDays(7+p.rng.IntN(21)))
	}
}

func sortedGroupIDs(m map[domain.GroupID]*seat) []domain.GroupID {
	ids := make([]domain.GroupID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func minDate(a, b domain.Date) domain.Date {
	if b.Before(a) {
		return b
	}
	return a
}

func maxDate(a, b domain.Date) domain.Date {
	if b.After(a) {
		return b
	}
	return a
}
