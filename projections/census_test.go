package projections

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// censusSummary is the part of a census view a case asserts on, with
// empty counters left out so expectations stay short.
type censusSummary struct {
	InCare int
	// People counts non-zero occupancy: "level:php", "program:php-day".
	People map[string]int
	// Capacity lists non-zero capacities the same way.
	Capacity map[string]int
	// Groups renders each group as "members/capacity+waitlist".
	Groups   map[domain.GroupID]string
	Today    Movements
	Pipeline Pipeline
}

func summarize(v CensusView) censusSummary {
	s := censusSummary{InCare: v.InCare, People: map[string]int{}, Capacity: map[string]int{}, Groups: map[domain.GroupID]string{}, Today: v.Movements.Today, Pipeline: v.Pipeline}
	for _, l := range v.Levels {
		if l.People != 0 {
			s.People["level:"+l.Level.String()] = l.People
		}
		if l.Capacity != 0 {
			s.Capacity["level:"+l.Level.String()] = l.Capacity
		}
	}
	for _, p := range v.Programs {
		if p.People != 0 {
			s.People["program:"+string(p.Program)] = p.People
		}
		if p.Capacity != 0 {
			s.Capacity["program:"+string(p.Program)] = p.Capacity
		}
	}
	for _, g := range v.Groups {
		state := fmt.Sprintf("%d/%d+%d", g.Members, g.Capacity, g.Waitlist)
		if !g.Running {
			state += " paused"
		}
		s.Groups[g.Group] = state
	}
	return s
}

func TestCensusFoldsEveryEventType(t *testing.T) {
	p := pid(1)
	referred := domain.Referred{Patient: p, Source: domain.SourceSelf, OccurredAt: at(0, 8)}
	intake := domain.IntakeCompleted{Patient: p, PHQ9: 15, GAD7: 9, RecommendedLevel: domain.PHP, OccurredAt: at(0, 9)}
	admitted := domain.Admitted{Patient: p, Program: phpDay, Level: domain.PHP, OccurredAt: at(0, 10)}
	discharged := domain.Discharged{Patient: p, Reason: domain.DischargeCompleted, Level: domain.PHP, Program: phpDay, OccurredAt: at(0, 15)}
	joined := domain.MemberJoined{Group: cbt, Patient: p, Module: 1, OccurredAt: at(0, 11)}
	waitlisted := domain.MemberWaitlisted{Group: cbt, Patient: p, OccurredAt: at(0, 11)}
	inCare := then(catalogEvents(), referred, intake, admitted)

	capacity := map[string]int{"level:php": 20, "level:iop": 15, "program:php-day": 20, "program:iop-evening": 15}
	groups := func(cbtState string) map[domain.GroupID]string {
		return map[domain.GroupID]string{cbt: cbtState, process: "0/8+0"}
	}
	// admittedToday is the summary right after the admission.
	admittedToday := func() censusSummary {
		return censusSummary{
			InCare: 1, People: map[string]int{"level:php": 1, "program:php-day": 1}, Capacity: capacity,
			Groups: groups("0/2+0"), Today: Movements{Referrals: 1, Intakes: 1, Admissions: 1},
		}
	}
	with := func(s censusSummary, mod func(s *censusSummary)) censusSummary { mod(&s); return s }
	tests := []struct {
		name    string
		history []domain.Event
		event   domain.Event
		want    censusSummary
	}{
		{"Referred", catalogEvents(), referred, censusSummary{
			People: map[string]int{}, Capacity: capacity, Groups: groups("0/2+0"),
			Today: Movements{Referrals: 1}, Pipeline: Pipeline{Referred: 1},
		}},
		{"IntakeCompleted", then(catalogEvents(), referred), intake, censusSummary{
			People: map[string]int{}, Capacity: capacity, Groups: groups("0/2+0"),
			Today: Movements{Referrals: 1, Intakes: 1}, Pipeline: Pipeline{WaitingForAdmission: 1},
		}},
		{"Admitted", then(catalogEvents(), referred, intake), admitted, admittedToday()},
		{"MeasureRecorded changes nothing", inCare,
			domain.MeasureRecorded{Patient: p, Instrument: domain.PHQ9, Score: 9, OccurredAt: at(0, 12)}, admittedToday()},
		{"SteppedDown", inCare,
			domain.SteppedDown{Patient: p, From: domain.PHP, To: domain.IOP, Program: iopEvening, OccurredAt: at(0, 13)},
			with(admittedToday(), func(s *censusSummary) {
				s.People = map[string]int{"level:iop": 1, "program:iop-evening": 1}
				s.Today.StepDowns = 1
			})},
		{"SteppedUp to an undefined program", inCare,
			domain.SteppedUp{Patient: p, From: domain.PHP, To: domain.Residential, Program: "residential-house", OccurredAt: at(0, 13)},
			with(admittedToday(), func(s *censusSummary) {
				s.People = map[string]int{"level:residential": 1, "program:residential-house": 1}
				s.Today.StepUps = 1
			})},
		{"Discharged", inCare, discharged,
			with(admittedToday(), func(s *censusSummary) {
				s.InCare, s.People = 0, map[string]int{}
				s.Today.Discharges = 1
			})},
		{"Readmitted counts as an admission and a readmission", then(inCare, discharged),
			domain.Readmitted{Patient: p, Program: iopEvening, Level: domain.IOP, OccurredAt: at(0, 16)},
			with(admittedToday(), func(s *censusSummary) {
				s.People = map[string]int{"level:iop": 1, "program:iop-evening": 1}
				s.Today = Movements{Referrals: 1, Intakes: 1, Admissions: 2, Readmissions: 1, Discharges: 1}
			})},
		{"IntakeCompleted after a discharge waits for readmission", then(inCare, discharged),
			domain.IntakeCompleted{Patient: p, PHQ9: 10, GAD7: 8, RecommendedLevel: domain.IOP, OccurredAt: at(0, 16)},
			with(admittedToday(), func(s *censusSummary) {
				s.InCare, s.People = 0, map[string]int{}
				s.Today = Movements{Referrals: 1, Intakes: 2, Admissions: 1, Discharges: 1}
				s.Pipeline.WaitingForAdmission = 1
			})},
		{"MemberJoined", inCare, joined, with(admittedToday(), func(s *censusSummary) { s.Groups = groups("1/2+0") })},
		{"MemberWaitlisted", inCare, waitlisted, with(admittedToday(), func(s *censusSummary) { s.Groups = groups("0/2+1") })},
		{"WaitlistPromoted", then(inCare, waitlisted),
			domain.WaitlistPromoted{Group: cbt, Patient: p, Module: 1, OccurredAt: at(0, 12)},
			with(admittedToday(), func(s *censusSummary) { s.Groups = groups("1/2+0") })},
		{"WaitlistLeft", then(inCare, waitlisted),
			domain.WaitlistLeft{Group: cbt, Patient: p, Reason: domain.LeaveWithdrew, OccurredAt: at(0, 12)}, admittedToday()},
		{"MemberLeft", then(inCare, joined),
			domain.MemberLeft{Group: cbt, Patient: p, Reason: domain.LeaveWithdrew, OccurredAt: at(0, 12)}, admittedToday()},
		{"GroupCompleted", then(inCare, joined),
			domain.GroupCompleted{Group: cbt, Patient: p, OccurredAt: at(0, 12)}, admittedToday()},
		{"SessionHeld changes nothing", then(inCare, joined),
			domain.SessionHeld{Group: cbt, Session: "s1", Date: date(0), Module: 1, OccurredAt: at(0, 12)},
			with(admittedToday(), func(s *censusSummary) { s.Groups = groups("1/2+0") })},
		{"AttendanceRecorded changes nothing", then(inCare, joined, domain.SessionHeld{Group: cbt, Session: "s1", Date: date(0), Module: 1, OccurredAt: at(0, 12)}),
			domain.AttendanceRecorded{Group: cbt, Session: "s1", Patient: p, Status: domain.Present, OccurredAt: at(0, 13)},
			with(admittedToday(), func(s *censusSummary) { s.Groups = groups("1/2+0") })},
		{"ModuleCompleted changes nothing", then(inCare, joined),
			domain.ModuleCompleted{Group: cbt, Patient: p, Module: 1, OccurredAt: at(0, 13)},
			with(admittedToday(), func(s *censusSummary) { s.Groups = groups("1/2+0") })},
		{"ProgramCreated adds capacity", inCare, programCreated("iop-morning", domain.IOP, 10),
			with(admittedToday(), func(s *censusSummary) {
				s.Capacity = map[string]int{"level:php": 20, "level:iop": 25, "program:php-day": 20, "program:iop-evening": 15, "program:iop-morning": 10}
			})},
		{"ProgramChanged changes capacity", inCare,
			domain.ProgramChanged{Program: phpDay, ProgramSpec: domain.ProgramSpec{Name: "PHP", Level: domain.PHP, Capacity: 30}, OccurredAt: at(0, 12)},
			with(admittedToday(), func(s *censusSummary) {
				s.Capacity = map[string]int{"level:php": 30, "level:iop": 15, "program:php-day": 30, "program:iop-evening": 15}
			})},
		{"GroupCreated with the default capacity", inCare,
			domain.GroupCreated{Group: "mature-adult", GroupSpec: func() domain.GroupSpec { s := processSpec(); s.Capacity = 0; return s }(), OccurredAt: at(0, 12)},
			with(admittedToday(), func(s *censusSummary) { s.Groups["mature-adult"] = "0/10+0" })},
		{"GroupChanged pauses a group and keeps its members over capacity", then(inCare, joined),
			domain.GroupChanged{Group: cbt, GroupSpec: func() domain.GroupSpec { s := cbtSpec(); s.Capacity, s.Status = 0, domain.NotRunning; return s }(), OccurredAt: at(0, 12)},
			with(admittedToday(), func(s *censusSummary) { s.Groups = groups("1/10+0 paused") })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := fold(t, then(tt.history, tt.event)...)
			got := summarize(m.Census.View(at(0, 18)))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("census\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestCensusMovementsAreCountedPerClinicalDayAtQueryTime(t *testing.T) {
	var events []domain.Event
	// One admission on each of days 0..9, a step-down on day 9 and a
	// discharge backdated to day 3 but recorded last.
	for d := range 10 {
		events = append(events, admittedPatient(d+1, d)...)
	}
	events = append(events,
		domain.SteppedDown{Patient: pid(1), From: domain.PHP, To: domain.IOP, Program: iopEvening, OccurredAt: at(9, 11)},
		domain.Discharged{Patient: pid(2), Reason: domain.DischargeCompleted, Level: domain.PHP, Program: phpDay, OccurredAt: at(3, 12)},
	)
	m, _ := fold(t, events...)
	tests := []struct {
		name      string
		now       time.Time
		today     Movements
		last7Days Movements
	}{
		{"on the last day", at(9, 20), Movements{Referrals: 1, Intakes: 1, Admissions: 1, StepDowns: 1},
			Movements{Referrals: 7, Intakes: 7, Admissions: 7, StepDowns: 1, Discharges: 1}},
		{"the window ends at the start of day 3", at(9, 0), Movements{Referrals: 1, Intakes: 1, Admissions: 1, StepDowns: 1},
			Movements{Referrals: 7, Intakes: 7, Admissions: 7, StepDowns: 1, Discharges: 1}},
		{"a day later the first admissions fall out", at(10, 12), Movements{},
			Movements{Referrals: 6, Intakes: 6, Admissions: 6, StepDowns: 1}},
		{"before the history", at(-1, 12), Movements{}, Movements{}},
		{"on the backdated day", at(3, 23), Movements{Referrals: 1, Intakes: 1, Admissions: 1, Discharges: 1},
			Movements{Referrals: 4, Intakes: 4, Admissions: 4, Discharges: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := m.Census.View(tt.now)
			if v.Movements.Today != tt.today {
				t.Errorf("today = %+v, want %+v", v.Movements.Today, tt.today)
			}
			if v.Movements.Last7Days != tt.last7Days {
				t.Errorf("last 7 days = %+v, want %+v", v.Movements.Last7Days, tt.last7Days)
			}
			if len(v.Movements.Days) != 7 || v.Movements.Days[6].Date != domain.DateOf(tt.now) || v.Movements.Days[6].Movements != tt.today {
				t.Errorf("days = %+v, want 7 days ending with today", v.Movements.Days)
			}
		})
	}
}

func TestCensusDaysFollowTheClinicZone(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	// 02:00 UTC on day 1 is still the evening of day 0 in New York.
	m := NewModels(newYork)
	for _, e := range admittedPatient(1, 1) {
		m.Apply(e, nil)
	}
	m.Apply(domain.Discharged{Patient: pid(1), Reason: domain.DischargeCompleted, Level: domain.PHP, Program: phpDay, OccurredAt: at(1, 2)}, nil)
	v := m.Census.View(at(0, 23).In(newYork))
	if v.Today != date(0) || v.Movements.Today.Discharges != 1 {
		t.Errorf("today %v discharges %d, want the discharge on %v in New York", v.Today, v.Movements.Today.Discharges, date(0))
	}
}

func TestCensusMedianLengthOfStay(t *testing.T) {
	// admit admits patient n to level at day d.
	admit := func(n, d int, level domain.Level) domain.Event {
		return domain.Admitted{Patient: pid(n), Program: phpDay, Level: level, OccurredAt: at(d, 10)}
	}
	ptr := func(f float64) *float64 { return &f }
	tests := []struct {
		name   string
		events []domain.Event
		now    time.Time
		level  domain.Level
		want   *float64
	}{
		{"nobody at the level", nil, at(10, 12), domain.PHP, nil},
		{"one occupant", []domain.Event{admit(1, 4, domain.PHP)}, at(10, 12), domain.PHP, ptr(6)},
		{"odd count takes the middle", []domain.Event{admit(1, 0, domain.PHP), admit(2, 5, domain.PHP), admit(3, 9, domain.PHP)}, at(10, 12), domain.PHP, ptr(5)},
		{"even count averages the middle two", []domain.Event{admit(1, 0, domain.PHP), admit(2, 5, domain.PHP), admit(3, 8, domain.PHP), admit(4, 9, domain.PHP)}, at(10, 12), domain.PHP, ptr(3.5)},
		{"people entering the same day", []domain.Event{admit(1, 2, domain.PHP), admit(2, 2, domain.PHP), admit(3, 9, domain.PHP)}, at(10, 12), domain.PHP, ptr(8)},
		{"the median moves with now", []domain.Event{admit(1, 0, domain.PHP), admit(2, 5, domain.PHP), admit(3, 9, domain.PHP)}, at(30, 12), domain.PHP, ptr(25)},
		{"a step-down restarts the stay at the new level",
			[]domain.Event{admit(1, 0, domain.PHP), domain.SteppedDown{Patient: pid(1), From: domain.PHP, To: domain.IOP, Program: iopEvening, OccurredAt: at(7, 9)}},
			at(10, 12), domain.IOP, ptr(3)},
		{"and leaves the old level",
			[]domain.Event{admit(1, 0, domain.PHP), domain.SteppedDown{Patient: pid(1), From: domain.PHP, To: domain.IOP, Program: iopEvening, OccurredAt: at(7, 9)}},
			at(10, 12), domain.PHP, nil},
		{"a discharged person no longer counts",
			[]domain.Event{admit(1, 0, domain.PHP), admit(2, 8, domain.PHP), domain.Discharged{Patient: pid(1), Reason: domain.DischargeCompleted, Level: domain.PHP, Program: phpDay, OccurredAt: at(9, 9)}},
			at(10, 12), domain.PHP, ptr(2)},
		{"an entry after now counts as zero days", []domain.Event{admit(1, 12, domain.PHP)}, at(10, 12), domain.PHP, ptr(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := fold(t, tt.events...)
			v := m.Census.View(tt.now)
			got := v.Levels[tt.level-1]
			if got.Level != tt.level {
				t.Fatalf("levels out of order: %+v", v.Levels)
			}
			if (got.MedianStayDays == nil) != (tt.want == nil) || (got.MedianStayDays != nil && *got.MedianStayDays != *tt.want) {
				t.Errorf("median stay = %v, want %v", deref(got.MedianStayDays), deref(tt.want))
			}
		})
	}
}

func deref(f *float64) string {
	if f == nil {
		return "null"
	}
	return fmt.Sprint(*f)
}

func TestCensusShowsNoIdentifiers(t *testing.T) {
	m, _ := fold(t, story()...)
	board := mustJSON(t, m.Census.View(at(100, 12)))
	for n := 1; n <= 4; n++ {
		if strings.Contains(board, string(pid(n))) || strings.Contains(board, fmt.Sprintf("key-%d", n)) {
			t.Fatalf("census view names patient %d: %s", n, board)
		}
	}
	for _, key := range []string{`"patient"`, `"personal"`, `"ciphertext"`, `"keyId"`} {
		if strings.Contains(board, key) {
			t.Errorf("census view has a %s field: %s", key, board)
		}
	}
}

func TestCensusListsEveryLevelAndUndefinedPrograms(t *testing.T) {
	m, _ := fold(t, story()...)
	v := m.Census.View(at(101, 12))
	var levels []domain.Level
	for _, l := range v.Levels {
		levels = append(levels, l.Level)
	}
	if !reflect.DeepEqual(levels, domain.Levels()) {
		t.Errorf("levels %v, want all five in order", levels)
	}
	var programs []string
	for _, p := range v.Programs {
		programs = append(programs, fmt.Sprintf("%s:%d/%d", p.Program, p.People, p.Capacity))
	}
	// p2 stepped up into a program nobody defined: it shows with no capacity.
	want := []string{"residential-house:1/0", "php-day:1/25", "iop-evening:1/15"}
	if !reflect.DeepEqual(programs, want) {
		t.Errorf("programs %v, want %v", programs, want)
	}
	if v.InCare != 3 || v.Capacity != 40 {
		t.Errorf("in care %d of %d, want 3 of 40", v.InCare, v.Capacity)
	}
}
