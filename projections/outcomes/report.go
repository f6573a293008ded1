package outcomes

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// Report is the outcome figures of one replay. Its JSON form is the
// contract of `continuum outcomes --format json` and GET /api/outcomes.
type Report struct {
	// EventsReplayed counts every event read from the log, those after the
	// as-of date included; EventsAfterAsOf counts the events some figure
	// depends on that the as-of date hid.
	EventsReplayed  int64 `json:"events_replayed"`
	EventsAfterAsOf int64 `json:"events_after_as_of"`
	// AsOf, From and To echo the options (YYYY-MM-DD or null).
	AsOf *string `json:"as_of"`
	From *string `json:"from"`
	To   *string `json:"to"`
	// Horizon is the last clinical day the figures know of: the as-of date,
	// or the day of the latest event; null for an empty log.
	Horizon      *string `json:"horizon"`
	TimeZone     string  `json:"time_zone"`
	CohortPeriod string  `json:"cohort_period"`
	Outcomes
	// LengthOfStayHistogram bins the ended stays of each level by length.
	LengthOfStayHistogram []HistogramBin `json:"length_of_stay_histogram"`
	// MeasureTrends is the mean score by week since admission.
	MeasureTrends      []TrendPoint       `json:"measure_trends"`
	Groups             []GroupOutcome     `json:"groups"`
	Modules            []ModuleOutcome    `json:"modules"`
	AttendanceByPerson []PersonAttendance `json:"attendance_by_person"`
	// ByCohort and ByProgram repeat the episode figures for each cohort
	// (month or quarter of admission) and each program of admission.
	ByCohort  []CohortOutcomes  `json:"by_cohort"`
	ByProgram []ProgramOutcomes `json:"by_program"`
}

// Outcomes are the episode figures of one slice of episodes (all of them,
// one cohort or one program).
type Outcomes struct {
	Episodes EpisodeCounts `json:"episodes"`
	// CompletionByLevel has one row per level of care, by the level at the
	// episode's start, all five even when empty.
	CompletionByLevel []LevelCompletion `json:"completion_by_level"`
	// CompletionBySourceSetting has one row per source setting code of
	// imported episodes, in numeric order.
	CompletionBySourceSetting []SettingCompletion `json:"completion_by_source_setting"`
	// CompletionByReason is how closed episodes ended, one row per reason.
	CompletionByReason []ReasonCount `json:"completion_by_reason"`
	// LengthOfStay describes stays at each level and whole episodes (by
	// level at start), and "all".
	LengthOfStay []StayStats        `json:"length_of_stay"`
	Transitions  []Transition       `json:"transitions"`
	StepDown     StepDownOutcome    `json:"step_down"`
	StepUp       StepUpOutcome      `json:"step_up"`
	Readmission  ReadmissionOutcome `json:"readmission_30d"`
	Measures     []MeasureOutcome   `json:"measures"`
}

// EpisodeCounts counts episodes that started in the window.
type EpisodeCounts struct {
	Total     int `json:"total"`
	Closed    int `json:"closed"`
	Open      int `json:"open"`
	Completed int `json:"completed"`
	// CompletionRate is Completed / Closed.
	CompletionRate *float64 `json:"completion_rate"`
	// EstimatedDates counts episodes whose admission date is an estimate
	// (imports that publish only a year).
	EstimatedDates int `json:"estimated_dates"`
}

// LevelCompletion is completion among closed episodes that started at Level.
type LevelCompletion struct {
	Level string `json:"level"`
	// Episodes counts closed episodes; Open those still open.
	Episodes  int      `json:"episodes"`
	Completed int      `json:"completed"`
	Rate      *float64 `json:"rate"`
	Open      int      `json:"open"`
}

// SettingCompletion is LevelCompletion keyed by an import's own setting code.
type SettingCompletion struct {
	Setting   string   `json:"setting"`
	Episodes  int      `json:"episodes"`
	Completed int      `json:"completed"`
	Rate      *float64 `json:"rate"`
	Open      int      `json:"open"`
}

// ReasonCount is how many closed episodes ended for Reason, and their share.
type ReasonCount struct {
	Reason   string   `json:"reason"`
	Episodes int      `json:"episodes"`
	Rate     *float64 `json:"rate"`
}

// StayStats describes lengths of stay in days. Scope "stay" is the time
// spent at Level within episodes; scope "episode" is whole episodes by
// their level at start. Level "all" pools the levels.
type StayStats struct {
	Scope string `json:"scope"`
	Level string `json:"level"`
	// Count is ended stays with a known length; Open are still running;
	// UnknownLength ended without a recorded length (imports).
	Count         int      `json:"count"`
	Open          int      `json:"open"`
	UnknownLength int      `json:"unknown_length"`
	Median        *float64 `json:"median"`
	P25           *float64 `json:"p25"`
	P75           *float64 `json:"p75"`
	Mean          *float64 `json:"mean"`
}

// Transition counts ended stays at From that went on to To (a level, or
// "discharged"); Rate is the share among all ended stays at From.
type Transition struct {
	From  string   `json:"from"`
	To    string   `json:"to"`
	Count int      `json:"count"`
	Rate  *float64 `json:"rate"`
}

// StepDownOutcome judges step-downs: successful when neither a step-up nor
// a readmission followed within 30 days; pending when the window has not
// passed by the horizon. Rate is Successful / (Successful + Failed).
type StepDownOutcome struct {
	StepDowns  int      `json:"step_downs"`
	Successful int      `json:"successful"`
	Failed     int      `json:"failed"`
	Pending    int      `json:"pending"`
	Rate       *float64 `json:"rate"`
}

// StepUpOutcome is the share of closed episodes with at least one step-up.
type StepUpOutcome struct {
	Episodes  int      `json:"episodes"`
	SteppedUp int      `json:"stepped_up"`
	Rate      *float64 `json:"rate"`
}

// ReadmissionOutcome is 30-day readmission after closed episodes. Deaths
// are left out; Rate is Readmitted / (Readmitted + NotReadmitted).
type ReadmissionOutcome struct {
	Discharges    int      `json:"discharges"`
	Readmitted    int      `json:"readmitted"`
	NotReadmitted int      `json:"not_readmitted"`
	Pending       int      `json:"pending"`
	Deaths        int      `json:"deaths"`
	Rate          *float64 `json:"rate"`
}

// MeasureOutcome is one instrument's change over closed episodes, for
// Population "all" or "clinical" (baseline at or above the cut-off).
type MeasureOutcome struct {
	Instrument string `json:"instrument"`
	Population string `json:"population"`
	// WithBaseline counts closed episodes with at least one score;
	// FollowedUp those with two or more, over which the rest is computed.
	WithBaseline int      `json:"with_baseline"`
	FollowedUp   int      `json:"followed_up"`
	BaselineMean *float64 `json:"baseline_mean"`
	LastMean     *float64 `json:"last_mean"`
	// ChangeMean is the mean of last − baseline (negative is improvement).
	ChangeMean              *float64 `json:"change_mean"`
	Response                int      `json:"response"`
	ResponseRate            *float64 `json:"response_rate"`
	Remission               int      `json:"remission"`
	RemissionRate           *float64 `json:"remission_rate"`
	ReliableImprovement     int      `json:"reliable_improvement"`
	ReliableImprovementRate *float64 `json:"reliable_improvement_rate"`
}

// HistogramBin counts ended stays at Level of MinDays..MaxDays days (MaxDays
// null: no upper bound).
type HistogramBin struct {
	Level   string `json:"level"`
	MinDays int    `json:"min_days"`
	MaxDays *int   `json:"max_days"`
	Count   int    `json:"count"`
}

// TrendPoint is the mean score of Instrument recorded in week Week of an
// episode (week 0 holds the baseline recorded before admission too).
type TrendPoint struct {
	Instrument string   `json:"instrument"`
	Week       int      `json:"week"`
	Scores     int      `json:"scores"`
	Mean       *float64 `json:"mean"`
}

// GroupOutcome is one group's completion and attendance. Members are the
// people with a membership in the window; CompletionRate is Completed /
// (Completed + Left); AttendanceRate is Present / Recorded.
type GroupOutcome struct {
	Group          string   `json:"group"`
	Program        string   `json:"program"`
	Members        int      `json:"members"`
	Seatings       int      `json:"seatings"`
	Completed      int      `json:"completed"`
	Left           int      `json:"left"`
	Active         int      `json:"active"`
	CompletionRate *float64 `json:"completion_rate"`
	Recorded       int      `json:"attendance_recorded"`
	Present        int      `json:"present"`
	Absent         int      `json:"absent"`
	Excused        int      `json:"excused"`
	AttendanceRate *float64 `json:"attendance_rate"`
}

// ModuleOutcome is the share of a group's members who completed a module.
type ModuleOutcome struct {
	Group     string   `json:"group"`
	Module    int      `json:"module"`
	Members   int      `json:"members"`
	Completed int      `json:"completed"`
	Rate      *float64 `json:"rate"`
}

// PersonAttendance is one person's attendance over all groups, under a
// pseudonym.
type PersonAttendance struct {
	Person   string   `json:"person"`
	Recorded int      `json:"recorded"`
	Present  int      `json:"present"`
	Absent   int      `json:"absent"`
	Excused  int      `json:"excused"`
	Rate     *float64 `json:"rate"`
}

// CohortOutcomes are the episode figures of one cohort.
type CohortOutcomes struct {
	Cohort string `json:"cohort"`
	Outcomes
}

// ProgramOutcomes are the episode figures of one program of admission.
type ProgramOutcomes struct {
	Program string `json:"program"`
	Outcomes
}

// followUpDays is the window of readmission and step-down success.
const followUpDays = 30

// maxTrendWeek bounds the measure trend: later weeks have too few people.
const maxTrendWeek = 52

// discharged names the destination of a stay that ended in a discharge.
const discharged = "discharged"

// histogramBins are the length-of-stay bins in days (last: no upper bound).
var histogramBins = []struct{ min, max int }{
	{0, 7}, {8, 14}, {15, 30}, {31, 60}, {61, 90}, {91, 180}, {181, 365}, {366, -1},
}

// readmission is how a closed episode's 30-day window turned out.
type readmission uint8

const (
	readmitDeath readmission = iota
	readmitYes
	readmitNo
	readmitPending
)

// episodeFacts is what one episode contributes to the figures, worked out
// once and added to every slice the episode belongs to.
type episodeFacts struct {
	ep          *episode
	steppedUp   bool
	stepDowns   struct{ successful, failed, pending int }
	readmission readmission
	measures    [len(instrumentList)]measureFacts
}

// measureFacts is an episode's first and last score of one instrument.
type measureFacts struct {
	scores         int
	baseline, last int
}

var instrumentList = [...]domain.Instrument{domain.PHQ9, domain.GAD7}

// Report computes the figures of everything folded so far.
func (f *Fold) Report() *Report {
	r := &Report{
		EventsReplayed:  f.replayed,
		EventsAfterAsOf: f.afterAsOf,
		AsOf:            dateString(f.opts.AsOf),
		From:            dateString(f.opts.From),
		To:              dateString(f.opts.To),
		TimeZone:        f.loc.String(),
		CohortPeriod:    f.opts.Cohort.String(),
	}
	horizon, hasHorizon := f.horizon()
	if hasHorizon {
		s := horizon.date().String()
		r.Horizon = &s
	}
	// Groups and attendance read state the episodes below do not touch:
	// they are worked out meanwhile, on another core.
	groupsDone := make(chan struct{})
	go func() {
		defer close(groupsDone)
		r.Groups, r.Modules = f.groupOutcomes()
		r.AttendanceByPerson = f.personAttendance()
	}()
	all := newAccumulator()
	cohorts := map[string]*accumulator{}
	programs := map[string]*accumulator{}
	trends := map[[2]int]*[2]int64{} // (instrument, week) → (scores, sum)
	for n := range f.people {
		p := &f.people[n]
		slices.SortStableFunc(p.scores, func(a, b score) int { return cmp.Compare(a.at, b.at) })
		for i := range p.episodes {
			ep := &p.episodes[i]
			if !f.inWindow(ep.startDay) {
				continue
			}
			facts := f.facts(p, i, horizon, hasHorizon)
			all.add(&facts)
			slice(cohorts, f.cohortOf(ep.startDay)).add(&facts)
			slice(programs, string(ep.program)).add(&facts)
			f.addTrends(trends, p, i)
		}
	}
	r.Outcomes = all.outcomes()
	r.LengthOfStayHistogram = all.histogram()
	r.MeasureTrends = trendPoints(trends)
	for _, key := range slices.Sorted(maps.Keys(cohorts)) {
		r.ByCohort = append(r.ByCohort, CohortOutcomes{Cohort: key, Outcomes: cohorts[key].outcomes()})
	}
	for _, key := range slices.Sorted(maps.Keys(programs)) {
		r.ByProgram = append(r.ByProgram, ProgramOutcomes{Program: key, Outcomes: programs[key].outcomes()})
	}
	<-groupsDone
	ensureLists(r)
	return r
}

// ensureLists writes empty lists as [] rather than null, so consumers
// iterate without checks.
func ensureLists(r *Report) {
	if r.ByCohort == nil {
		r.ByCohort = []CohortOutcomes{}
	}
	if r.ByProgram == nil {
		r.ByProgram = []ProgramOutcomes{}
	}
	if r.MeasureTrends == nil {
		r.MeasureTrends = []TrendPoint{}
	}
	if r.Groups == nil {
		r.Groups = []GroupOutcome{}
	}
	if r.Modules == nil {
		r.Modules = []ModuleOutcome{}
	}
	if r.AttendanceByPerson == nil {
		r.AttendanceByPerson = []PersonAttendance{}
	}
}

func dateString(d domain.Date) *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

// horizon is the last clinical day the figures know of.
func (f *Fold) horizon() (day, bool) {
	if f.hasCutoff {
		return dayOfDate(f.opts.AsOf), true
	}
	if !f.hasLatest {
		return 0, false
	}
	return f.dayOf(time.Unix(0, f.latest)), true
}

func slice(m map[string]*accumulator, key string) *accumulator {
	a, ok := m[key]
	if !ok {
		a = newAccumulator()
		m[key] = a
	}
	return a
}

// cohortOf names the cohort of an episode that started on d.
func (f *Fold) cohortOf(d day) string {
	date := d.date()
	if f.opts.Cohort == CohortQuarter {
		return fmt.Sprintf("%04d-Q%d", date.Year, (int(date.Month)-1)/3+1)
	}
	return fmt.Sprintf("%04d-%02d", date.Year, int(date.Month))
}

// windowClosed reports whether the follow-up window opened on d has passed.
func windowClosed(d, horizon day, hasHorizon bool) bool {
	return hasHorizon && horizon-d >= followUpDays
}

// facts works out what episode i of p contributes.
func (f *Fold) facts(p *person, i int, horizon day, hasHorizon bool) episodeFacts {
	ep := &p.episodes[i]
	facts := episodeFacts{ep: ep}
	var next *episode
	if i+1 < len(p.episodes) {
		next = &p.episodes[i+1]
	}
	for j := 1; j < len(ep.stays); j++ {
		from, to := ep.stays[j-1].level, ep.stays[j].level
		if to.MoreIntensiveThan(from) {
			facts.steppedUp = true
			continue
		}
		d := ep.stays[j].startDay
		failed := next != nil && next.startDay-d <= followUpDays
		for k := j + 1; k < len(ep.stays) && !failed; k++ {
			if ep.stays[k].level.MoreIntensiveThan(ep.stays[k-1].level) && ep.stays[k].startDay-d <= followUpDays {
				failed = true
			}
		}
		switch {
		case failed:
			facts.stepDowns.failed++
		case windowClosed(d, horizon, hasHorizon):
			facts.stepDowns.successful++
		default:
			facts.stepDowns.pending++
		}
	}
	if ep.closed {
		switch {
		case ep.reason == domain.DischargeDeath:
			facts.readmission = readmitDeath
		case next != nil && next.startDay-ep.endDay <= followUpDays:
			facts.readmission = readmitYes
		case next != nil || windowClosed(ep.endDay, horizon, hasHorizon):
			facts.readmission = readmitNo
		default:
			facts.readmission = readmitPending
		}
		after := int64(-1 << 63)
		if i > 0 {
			after = p.episodes[i-1].end
		}
		for _, s := range p.scores {
			if s.at <= after || s.at > ep.end {
				continue
			}
			m := &facts.measures[instrumentIndex(s.instrument)]
			if m.scores == 0 {
				m.baseline = int(s.value)
			}
			m.last = int(s.value)
			m.scores++
		}
	}
	return facts
}

func instrumentIndex(in domain.Instrument) int {
	if in == domain.GAD7 {
		return 1
	}
	return 0
}

// addTrends adds the scores of episode i (open or closed) to the weekly trend.
func (f *Fold) addTrends(trends map[[2]int]*[2]int64, p *person, i int) {
	ep := &p.episodes[i]
	after := int64(-1 << 63)
	if i > 0 {
		after = p.episodes[i-1].end
	}
	for _, s := range p.scores {
		if s.at <= after || (ep.closed && s.at > ep.end) {
			continue
		}
		week := max(int(s.day-ep.startDay), 0) / 7
		if week > maxTrendWeek {
			continue
		}
		key := [2]int{int(s.instrument), week}
		t, ok := trends[key]
		if !ok {
			t = &[2]int64{}
			trends[key] = t
		}
		t[0]++
		t[1] += int64(s.value)
	}
}

func trendPoints(trends map[[2]int]*[2]int64) []TrendPoint {
	keys := slices.SortedFunc(maps.Keys(trends), func(a, b [2]int) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	points := make([]TrendPoint, 0, len(keys))
	for _, k := range keys {
		t := trends[k]
		points = append(points, TrendPoint{
			Instrument: domain.Instrument(k[0]).String(), Week: k[1],
			Scores: int(t[0]), Mean: mean(t[1], int(t[0])),
		})
	}
	return points
}

// levelSlots index per-level arrays: 0 pools all levels, 1..5 are the levels.
const levelSlots = 6

// accumulator sums the facts of the episodes of one slice.
type accumulator struct {
	total, closed, open, completed, estimated int
	byLevel                                   [levelSlots]struct{ closed, completed, open int }
	bySetting                                 map[string]*struct{ closed, completed, open int }
	byReason                                  [8]int
	stayDays                                  [levelSlots][]int32
	stayOpen, stayUnknown                     [levelSlots]int
	episodeDays                               [levelSlots][]int32
	episodeOpen, episodeUnknown               [levelSlots]int
	// transitions[from][to]: to 0 is a discharge.
	transitions                                            [levelSlots][levelSlots]int
	stepDowns, stepDownOK, stepDownFailed, stepDownPending int
	steppedUp                                              int
	readmitted, notReadmitted, readmitPending, deaths      int
	measures                                               [len(instrumentList)][2]measureSums
}

// measureSums accumulates one instrument over one population.
type measureSums struct {
	withBaseline, followedUp      int
	baselineSum, lastSum          int64
	response, remission, reliable int
}

func newAccumulator() *accumulator {
	return &accumulator{bySetting: map[string]*struct{ closed, completed, open int }{}}
}

func (a *accumulator) add(facts *episodeFacts) {
	ep := facts.ep
	lvl := int(ep.level)
	a.total++
	if ep.estimated {
		a.estimated++
	}
	var setting *struct{ closed, completed, open int }
	if ep.setting != "" {
		setting = a.bySetting[ep.setting]
		if setting == nil {
			setting = &struct{ closed, completed, open int }{}
			a.bySetting[ep.setting] = setting
		}
	}
	for _, s := range ep.stays {
		switch {
		case !s.ended:
			a.stayOpen[s.level]++
			a.stayOpen[0]++
		case ep.stayUnknown:
			a.stayUnknown[s.level]++
			a.stayUnknown[0]++
		default:
			days := int32(s.endDay - s.startDay)
			a.stayDays[s.level] = append(a.stayDays[s.level], days)
			a.stayDays[0] = append(a.stayDays[0], days)
		}
		if s.ended {
			a.transitions[s.level][s.next]++
		}
	}
	if !ep.closed {
		a.open++
		a.byLevel[lvl].open++
		a.episodeOpen[lvl]++
		a.episodeOpen[0]++
		if setting != nil {
			setting.open++
		}
	} else {
		a.closed++
		a.byLevel[lvl].closed++
		if ep.reason.Valid() {
			a.byReason[ep.reason]++
		}
		completed := ep.reason == domain.DischargeCompleted
		if completed {
			a.completed++
			a.byLevel[lvl].completed++
		}
		if setting != nil {
			setting.closed++
			if completed {
				setting.completed++
			}
		}
		if ep.stayUnknown {
			a.episodeUnknown[lvl]++
			a.episodeUnknown[0]++
		} else {
			days := int32(ep.endDay - ep.startDay)
			a.episodeDays[lvl] = append(a.episodeDays[lvl], days)
			a.episodeDays[0] = append(a.episodeDays[0], days)
		}
		if facts.steppedUp {
			a.steppedUp++
		}
		switch facts.readmission {
		case readmitDeath:
			a.deaths++
		case readmitYes:
			a.readmitted++
		case readmitNo:
			a.notReadmitted++
		case readmitPending:
			a.readmitPending++
		}
		for i, in := range instrumentList {
			m := facts.measures[i]
			if m.scores == 0 {
				continue
			}
			a.measures[i][0].add(in, m)
			if m.baseline >= in.ClinicalCutoff() {
				a.measures[i][1].add(in, m)
			}
		}
	}
	a.stepDownOK += facts.stepDowns.successful
	a.stepDownFailed += facts.stepDowns.failed
	a.stepDownPending += facts.stepDowns.pending
}

func (s *measureSums) add(in domain.Instrument, m measureFacts) {
	s.withBaseline++
	if m.scores < 2 {
		return
	}
	s.followedUp++
	s.baselineSum += int64(m.baseline)
	s.lastSum += int64(m.last)
	drop := m.baseline - m.last
	if m.baseline > 0 && 2*drop >= m.baseline {
		s.response++
	}
	if m.last < in.RemissionBelow() {
		s.remission++
	}
	if drop >= in.ReliableChange() {
		s.reliable++
	}
}

// levelName is the report's name of a level slot.
func levelName(slot int) string {
	if slot == 0 {
		return "all"
	}
	return domain.Level(slot).String()
}

func (a *accumulator) outcomes() Outcomes {
	o := Outcomes{
		Episodes: EpisodeCounts{
			Total: a.total, Closed: a.closed, Open: a.open, Completed: a.completed,
			CompletionRate: ratio(a.completed, a.closed), EstimatedDates: a.estimated,
		},
		CompletionBySourceSetting: []SettingCompletion{},
		StepDown: StepDownOutcome{
			StepDowns:  a.stepDownOK + a.stepDownFailed + a.stepDownPending,
			Successful: a.stepDownOK, Failed: a.stepDownFailed, Pending: a.stepDownPending,
			Rate: ratio(a.stepDownOK, a.stepDownOK+a.stepDownFailed),
		},
		StepUp: StepUpOutcome{Episodes: a.closed, SteppedUp: a.steppedUp, Rate: ratio(a.steppedUp, a.closed)},
		Readmission: ReadmissionOutcome{
			Discharges: a.readmitted + a.notReadmitted + a.readmitPending,
			Readmitted: a.readmitted, NotReadmitted: a.notReadmitted, Pending: a.readmitPending, Deaths: a.deaths,
			Rate: ratio(a.readmitted, a.readmitted+a.notReadmitted),
		},
	}
	for slot := 1; slot < levelSlots; slot++ {
		l := a.byLevel[slot]
		o.CompletionByLevel = append(o.CompletionByLevel, LevelCompletion{
			Level: levelName(slot), Episodes: l.closed, Completed: l.completed, Rate: ratio(l.completed, l.closed), Open: l.open,
		})
	}
	for _, code := range sortedSettings(a.bySetting) {
		s := a.bySetting[code]
		o.CompletionBySourceSetting = append(o.CompletionBySourceSetting, SettingCompletion{
			Setting: code, Episodes: s.closed, Completed: s.completed, Rate: ratio(s.completed, s.closed), Open: s.open,
		})
	}
	for r := domain.DischargeCompleted; r.Valid(); r++ {
		o.CompletionByReason = append(o.CompletionByReason, ReasonCount{
			Reason: r.String(), Episodes: a.byReason[r], Rate: ratio(a.byReason[r], a.closed),
		})
	}
	for _, scope := range []struct {
		name          string
		days          *[levelSlots][]int32
		open, unknown *[levelSlots]int
	}{
		{"stay", &a.stayDays, &a.stayOpen, &a.stayUnknown},
		{"episode", &a.episodeDays, &a.episodeOpen, &a.episodeUnknown},
	} {
		for slot := range levelSlots {
			s := summarize(scope.days[slot])
			o.LengthOfStay = append(o.LengthOfStay, StayStats{
				Scope: scope.name, Level: levelName(slot), Count: s.count,
				Open: scope.open[slot], UnknownLength: scope.unknown[slot],
				Median: s.median, P25: s.p25, P75: s.p75, Mean: s.mean,
			})
		}
	}
	o.Transitions = []Transition{}
	for from := 1; from < levelSlots; from++ {
		var ended int
		for to := range levelSlots {
			ended += a.transitions[from][to]
		}
		for _, to := range []int{1, 2, 3, 4, 5, 0} {
			n := a.transitions[from][to]
			if n == 0 {
				continue
			}
			name := discharged
			if to != 0 {
				name = levelName(to)
			}
			o.Transitions = append(o.Transitions, Transition{From: levelName(from), To: name, Count: n, Rate: ratio(n, ended)})
		}
	}
	for i, in := range instrumentList {
		for pop, name := range []string{"all", "clinical"} {
			s := a.measures[i][pop]
			o.Measures = append(o.Measures, MeasureOutcome{
				Instrument: in.String(), Population: name,
				WithBaseline: s.withBaseline, FollowedUp: s.followedUp,
				BaselineMean: mean(s.baselineSum, s.followedUp),
				LastMean:     mean(s.lastSum, s.followedUp),
				ChangeMean:   mean(s.lastSum-s.baselineSum, s.followedUp),
				Response:     s.response, ResponseRate: ratio(s.response, s.followedUp),
				Remission: s.remission, RemissionRate: ratio(s.remission, s.followedUp),
				ReliableImprovement: s.reliable, ReliableImprovementRate: ratio(s.reliable, s.followedUp),
			})
		}
	}
	return o
}

// sortedSettings orders setting codes numerically when both are numbers
// ("2" before "10"), otherwise as text.
func sortedSettings(m map[string]*struct{ closed, completed, open int }) []string {
	return slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		x, errA := strconv.Atoi(a)
		y, errB := strconv.Atoi(b)
		if errA == nil && errB == nil {
			return cmp.Or(cmp.Compare(x, y), cmp.Compare(a, b))
		}
		return cmp.Compare(a, b)
	})
}

// histogram bins the ended stays of each level by length.
func (a *accumulator) histogram() []HistogramBin {
	var bins []HistogramBin
	for slot := 1; slot < levelSlots; slot++ {
		counts := make([]int, len(histogramBins))
		for _, d := range a.stayDays[slot] {
			for i, b := range histogramBins {
				if int(d) >= b.min && (b.max < 0 || int(d) <= b.max) {
					counts[i]++
					break
				}
			}
		}
		for i, b := range histogramBins {
			bin := HistogramBin{Level: levelName(slot), MinDays: b.min, Count: counts[i]}
			if b.max >= 0 {
				bin.MaxDays = &b.max
			}
			bins = append(bins, bin)
		}
	}
	return bins
}

// groupOutcomes lists the groups and their modules in ID order.
func (f *Fold) groupOutcomes() ([]GroupOutcome, []ModuleOutcome) {
	var groups []GroupOutcome
	var modules []ModuleOutcome
	for _, id := range slices.Sorted(maps.Keys(f.groups)) {
		g := f.groups[id]
		active := 0
		for _, seated := range g.seated {
			if seated {
				active++
			}
		}
		groups = append(groups, GroupOutcome{
			Group: string(id), Program: string(g.program),
			Members: len(g.seated), Seatings: g.seatings, Completed: g.completed, Left: g.left, Active: active,
			CompletionRate: ratio(g.completed, g.completed+g.left),
			Recorded:       int(g.counts.recorded()), Present: int(g.counts.present), Absent: int(g.counts.absent), Excused: int(g.counts.excused),
			AttendanceRate: ratio(int(g.counts.present), int(g.counts.recorded())),
		})
		for _, m := range slices.Sorted(maps.Keys(g.modules)) {
			done := len(g.modules[m])
			modules = append(modules, ModuleOutcome{
				Group: string(id), Module: m, Members: len(g.seated), Completed: done, Rate: ratio(done, len(g.seated)),
			})
		}
	}
	return groups, modules
}

// Pseudonym is how a person appears in reports: their number of first
// appearance in the log, never an identifier.
func Pseudonym(n int32) string { return fmt.Sprintf("P%07d", n) }

// personAttendance lists everyone with attendance, by pseudonym.
func (f *Fold) personAttendance() []PersonAttendance {
	var rows []PersonAttendance
	for i, c := range f.attendance { // in pseudonym order
		if c.recorded() == 0 {
			continue
		}
		rows = append(rows, PersonAttendance{
			Person: Pseudonym(int32(i + 1)), Recorded: int(c.recorded()),
			Present: int(c.present), Absent: int(c.absent), Excused: int(c.excused), Rate: ratio(int(c.present), int(c.recorded())),
		})
	}
	return rows
}
