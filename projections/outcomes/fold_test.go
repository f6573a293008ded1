package outcomes

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// People of the hand-built histories.
const (
	ann  = domain.PatientID("0a000000-0000-4000-8000-000000000001")
	ben  = domain.PatientID("0b000000-0000-4000-8000-000000000002")
	cleo = domain.PatientID("0c000000-0000-4000-8000-000000000003")
	dora = domain.PatientID("0d000000-0000-4000-8000-000000000004")
)

// on is noon UTC of a day written YYYY-MM-DD.
func on(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d.Add(12 * time.Hour)
}

func date(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fold applies events in order and returns the report.
func fold(t *testing.T, opts Options, events ...domain.Event) *Report {
	t.Helper()
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	f := NewFold(opts)
	for _, e := range events {
		f.Apply(e, false)
	}
	return f.Report()
}

func f64(v float64) *float64 { return &v }

// sameRate compares nullable numbers exactly: every expected figure here
// is computed on paper from small integers.
func sameRate(t *testing.T, what string, got, want *float64) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %s, want %s", what, show(got), show(want))
	case *got != *want:
		t.Errorf("%s = %v, want %v", what, *got, *want)
	}
}

func show(v *float64) string {
	if v == nil {
		return "null"
	}
	b, _ := json.Marshal(*v)
	return string(b)
}

// clinicHistory is three people over January and February 2025:
//
//	Ann: intake 1 Jan (PHQ-9 20, GAD-7 10), admitted to PHP 2 Jan, stepped
//	  down to IOP 12 Jan, scores 20 Jan (PHQ-9 8, GAD-7 5), discharged
//	  completed 1 Feb.
//	Ben: intake 5 Jan (PHQ-9 8, GAD-7 6), admitted to IOP 6 Jan, dropped out
//	  16 Jan, readmitted to IOP 15 Feb (30 days later), still in care.
//	Cleo: admitted to residential 10 Jan, stepped down to PHP 20 Jan,
//	  stepped up to residential 10 Feb, transferred 20 Feb.
func clinicHistory(t *testing.T) []domain.Event {
	t.Helper()
	return []domain.Event{
		domain.IntakeCompleted{Patient: ann, PHQ9: 20, GAD7: 10, RecommendedLevel: domain.PHP, AgeYears: 30, OccurredAt: on(t, "2025-01-01")},
		domain.Admitted{Patient: ann, Program: "php", Level: domain.PHP, OccurredAt: on(t, "2025-01-02")},
		domain.IntakeCompleted{Patient: ben, PHQ9: 8, GAD7: 6, RecommendedLevel: domain.IOP, AgeYears: 40, OccurredAt: on(t, "2025-01-05")},
		domain.Admitted{Patient: ben, Program: "iop", Level: domain.IOP, OccurredAt: on(t, "2025-01-06")},
		domain.Admitted{Patient: cleo, Program: "res", Level: domain.Residential, OccurredAt: on(t, "2025-01-10")},
		domain.SteppedDown{Patient: ann, From: domain.PHP, To: domain.IOP, Program: "iop", OccurredAt: on(t, "2025-01-12")},
		domain.Discharged{Patient: ben, Reason: domain.DischargeDroppedOut, Level: domain.IOP, Program: "iop", OccurredAt: on(t, "2025-01-16")},
		domain.MeasureRecorded{Patient: ann, Instrument: domain.PHQ9, Score: 8, OccurredAt: on(t, "2025-01-20")},
		domain.MeasureRecorded{Patient: ann, Instrument: domain.GAD7, Score: 5, OccurredAt: on(t, "2025-01-20")},
		domain.SteppedDown{Patient: cleo, From: domain.Residential, To: domain.PHP, Program: "php", OccurredAt: on(t, "2025-01-20")},
		domain.Discharged{Patient: ann, Reason: domain.DischargeCompleted, Level: domain.IOP, Program: "iop", OccurredAt: on(t, "2025-02-01")},
		domain.SteppedUp{Patient: cleo, From: domain.PHP, To: domain.Residential, Program: "res", OccurredAt: on(t, "2025-02-10")},
		domain.Readmitted{Patient: ben, Program: "iop", Level: domain.IOP, OccurredAt: on(t, "2025-02-15")},
		domain.Discharged{Patient: cleo, Reason: domain.DischargeTransferred, Level: domain.Residential, Program: "res", OccurredAt: on(t, "2025-02-20")},
	}
}

func levelRow(t *testing.T, o Outcomes, level string) LevelCompletion {
	t.Helper()
	for _, c := range o.CompletionByLevel {
		if c.Level == level {
			return c
		}
	}
	t.Fatalf("no completion row for %s", level)
	return LevelCompletion{}
}

func stayRow(t *testing.T, o Outcomes, scope, level string) StayStats {
	t.Helper()
	for _, s := range o.LengthOfStay {
		if s.Scope == scope && s.Level == level {
			return s
		}
	}
	t.Fatalf("no length-of-stay row for %s %s", scope, level)
	return StayStats{}
}

func measureRow(t *testing.T, o Outcomes, instrument, population string) MeasureOutcome {
	t.Helper()
	for _, m := range o.Measures {
		if m.Instrument == instrument && m.Population == population {
			return m
		}
	}
	t.Fatalf("no measure row for %s %s", instrument, population)
	return MeasureOutcome{}
}

func TestEpisodesAndCompletion(t *testing.T) {
	r := fold(t, Options{}, clinicHistory(t)...)
	if r.EventsReplayed != 14 || r.EventsAfterAsOf != 0 {
		t.Errorf("events replayed %d, after as-of %d; want 14, 0", r.EventsReplayed, r.EventsAfterAsOf)
	}
	if r.Horizon == nil || *r.Horizon != "2025-02-20" {
		t.Errorf("horizon %v, want the day of the latest event, 2025-02-20", r.Horizon)
	}
	want := EpisodeCounts{Total: 4, Closed: 3, Open: 1, Completed: 1, CompletionRate: f64(1.0 / 3)}
	if !reflect.DeepEqual(r.Episodes, want) {
		t.Errorf("episodes %+v, want %+v", r.Episodes, want)
	}
	tests := []struct {
		level                     string
		episodes, completed, open int
		rate                      *float64
	}{
		{"inpatient", 0, 0, 0, nil},
		{"residential", 1, 0, 0, f64(0)},
		{"php", 1, 1, 0, f64(1)},
		{"iop", 1, 0, 1, f64(0)},
		{"outpatient", 0, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			c := levelRow(t, r.Outcomes, tt.level)
			if c.Episodes != tt.episodes || c.Completed != tt.completed || c.Open != tt.open {
				t.Errorf("%+v, want episodes %d completed %d open %d", c, tt.episodes, tt.completed, tt.open)
			}
			sameRate(t, "rate", c.Rate, tt.rate)
		})
	}
	reasons := map[string]int{}
	for _, c := range r.CompletionByReason {
		reasons[c.Reason] = c.Episodes
		if c.Episodes == 1 {
			sameRate(t, c.Reason+" share", c.Rate, f64(1.0/3))
		} else {
			sameRate(t, c.Reason+" share", c.Rate, f64(0))
		}
	}
	if reasons["completed"] != 1 || reasons["dropped_out"] != 1 || reasons["transferred"] != 1 || len(reasons) != 7 {
		t.Errorf("reasons %v, want one each of completed, dropped_out, transferred among 7 rows", reasons)
	}
}

func TestLengthOfStay(t *testing.T) {
	r := fold(t, Options{}, clinicHistory(t)...)
	// Stays: PHP 10 (Ann) and 21 (Cleo); IOP 20 (Ann) and 10 (Ben), Ben's
	// second still open; residential 10 and 10 (Cleo). Episodes: Ann 30
	// (PHP), Ben 10 (IOP), Cleo 41 (residential).
	tests := []struct {
		name, scope, level   string
		count, open          int
		median, p25, p75, mu *float64
	}{
		{"php stays", "stay", "php", 2, 0, f64(15.5), f64(12.75), f64(18.25), f64(15.5)},
		{"iop stays", "stay", "iop", 2, 1, f64(15), f64(12.5), f64(17.5), f64(15)},
		{"residential stays", "stay", "residential", 2, 0, f64(10), f64(10), f64(10), f64(10)},
		{"no inpatient stays", "stay", "inpatient", 0, 0, nil, nil, nil, nil},
		{"all stays", "stay", "all", 6, 1, f64(10), f64(10), f64(17.5), f64(13.5)},
		{"all episodes", "episode", "all", 3, 1, f64(30), f64(20), f64(35.5), f64(27)},
		{"episodes starting in IOP", "episode", "iop", 1, 1, f64(10), f64(10), f64(10), f64(10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stayRow(t, r.Outcomes, tt.scope, tt.level)
			if s.Count != tt.count || s.Open != tt.open || s.UnknownLength != 0 {
				t.Errorf("count %d open %d unknown %d, want %d %d 0", s.Count, s.Open, s.UnknownLength, tt.count, tt.open)
			}
			sameRate(t, "median", s.Median, tt.median)
			sameRate(t, "p25", s.P25, tt.p25)
			sameRate(t, "p75", s.P75, tt.p75)
			sameRate(t, "mean", s.Mean, tt.mu)
		})
	}
}

func TestTransitionsStepsAndReadmission(t *testing.T) {
	r := fold(t, Options{}, clinicHistory(t)...)
	wantTransitions := []Transition{
		{From: "residential", To: "php", Count: 1, Rate: f64(0.5)},
		{From: "residential", To: "discharged", Count: 1, Rate: f64(0.5)},
		{From: "php", To: "residential", Count: 1, Rate: f64(0.5)},
		{From: "php", To: "iop", Count: 1, Rate: f64(0.5)},
		{From: "iop", To: "discharged", Count: 2, Rate: f64(1)},
	}
	if !reflect.DeepEqual(r.Transitions, wantTransitions) {
		t.Errorf("transitions\n got %s\nwant %s", mustJSON(t, r.Transitions), mustJSON(t, wantTransitions))
	}
	// Ann's step-down on 12 Jan had 39 days without a step-up: success.
	// Cleo's on 20 Jan was followed by a step-up 21 days later: failure.
	wantDown := StepDownOutcome{StepDowns: 2, Successful: 1, Failed: 1, Rate: f64(0.5)}
	if !reflect.DeepEqual(r.StepDown, wantDown) {
		t.Errorf("step-down %s, want %s", mustJSON(t, r.StepDown), mustJSON(t, wantDown))
	}
	wantUp := StepUpOutcome{Episodes: 3, SteppedUp: 1, Rate: f64(1.0 / 3)}
	if !reflect.DeepEqual(r.StepUp, wantUp) {
		t.Errorf("step-up %s, want %s", mustJSON(t, r.StepUp), mustJSON(t, wantUp))
	}
	// Ben came back exactly 30 days after dropping out: readmitted. Ann
	// (19 days before the horizon) and Cleo (0 days) are still pending.
	wantReadmit := ReadmissionOutcome{Discharges: 3, Readmitted: 1, Pending: 2, Rate: f64(1)}
	if !reflect.DeepEqual(r.Readmission, wantReadmit) {
		t.Errorf("readmission %s, want %s", mustJSON(t, r.Readmission), mustJSON(t, wantReadmit))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMeasures(t *testing.T) {
	r := fold(t, Options{}, clinicHistory(t)...)
	// Ann: PHQ-9 20 → 8 (drop 12: response, reliable, no remission);
	// GAD-7 10 → 5 (drop 5: response, reliable, no remission). Ben has only
	// the intake's baseline (PHQ-9 8, GAD-7 6, both below the cut-offs).
	tests := []struct {
		instrument, population        string
		withBaseline, followedUp      int
		baseline, last, change        *float64
		response, remission, reliable int
	}{
		{"phq9", "all", 2, 1, f64(20), f64(8), f64(-12), 1, 0, 1},
		{"phq9", "clinical", 1, 1, f64(20), f64(8), f64(-12), 1, 0, 1},
		{"gad7", "all", 2, 1, f64(10), f64(5), f64(-5), 1, 0, 1},
		{"gad7", "clinical", 1, 1, f64(10), f64(5), f64(-5), 1, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.instrument+"/"+tt.population, func(t *testing.T) {
			m := measureRow(t, r.Outcomes, tt.instrument, tt.population)
			if m.WithBaseline != tt.withBaseline || m.FollowedUp != tt.followedUp {
				t.Errorf("with baseline %d, followed up %d; want %d, %d", m.WithBaseline, m.FollowedUp, tt.withBaseline, tt.followedUp)
			}
			sameRate(t, "baseline mean", m.BaselineMean, tt.baseline)
			sameRate(t, "last mean", m.LastMean, tt.last)
			sameRate(t, "change mean", m.ChangeMean, tt.change)
			if m.Response != tt.response || m.Remission != tt.remission || m.ReliableImprovement != tt.reliable {
				t.Errorf("response %d remission %d reliable %d, want %d %d %d", m.Response, m.Remission, m.ReliableImprovement, tt.response, tt.remission, tt.reliable)
			}
			sameRate(t, "response rate", m.ResponseRate, ratio(tt.response, tt.followedUp))
			sameRate(t, "remission rate", m.RemissionRate, ratio(tt.remission, tt.followedUp))
			sameRate(t, "reliable rate", m.ReliableImprovementRate, ratio(tt.reliable, tt.followedUp))
		})
	}
}

func TestMeasureThresholds(t *testing.T) {
	// One closed episode per case: baseline at intake, one later score.
	tests := []struct {
		name                          string
		instrument                    domain.Instrument
		baseline, last                int
		clinical                      bool
		response, remission, reliable bool
	}{
		{"PHQ-9 exactly half: response", domain.PHQ9, 18, 9, true, true, false, true},
		{"PHQ-9 just under half a drop", domain.PHQ9, 19, 10, true, false, false, true},
		{"PHQ-9 drop of 5 is not reliable", domain.PHQ9, 10, 5, true, true, false, false},
		{"PHQ-9 4 is remission", domain.PHQ9, 12, 4, true, true, true, true},
		{"PHQ-9 baseline 9 is below the cut-off", domain.PHQ9, 9, 3, false, true, true, true},
		{"PHQ-9 zero baseline cannot respond", domain.PHQ9, 0, 0, false, false, true, false},
		{"GAD-7 drop of 4 is reliable", domain.GAD7, 8, 4, true, true, true, true},
		{"GAD-7 drop of 3 is not", domain.GAD7, 7, 4, false, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phq, gad := 0, 0
			if tt.instrument == domain.PHQ9 {
				phq = tt.baseline
			} else {
				gad = tt.baseline
			}
			r := fold(t, Options{},
				domain.IntakeCompleted{Patient: ann, PHQ9: phq, GAD7: gad, RecommendedLevel: domain.IOP, OccurredAt: on(t, "2025-03-01")},
				domain.Admitted{Patient: ann, Program: "iop", Level: domain.IOP, OccurredAt: on(t, "2025-03-02")},
				domain.MeasureRecorded{Patient: ann, Instrument: tt.instrument, Score: tt.last, OccurredAt: on(t, "2025-04-01")},
				domain.Discharged{Patient: ann, Reason: domain.DischargeCompleted, Level: domain.IOP, Program: "iop", OccurredAt: on(t, "2025-04-02")},
			)
			all := measureRow(t, r.Outcomes, tt.instrument.String(), "all")
			if all.FollowedUp != 1 {
				t.Fatalf("followed up %d, want 1", all.FollowedUp)
			}
			if got := all.Response == 1; got != tt.response {
				t.Errorf("response %v, want %v", got, tt.response)
			}
			if got := all.Remission == 1; got != tt.remission {
				t.Errorf("remission %v, want %v", got, tt.remission)
			}
			if got := all.ReliableImprovement == 1; got != tt.reliable {
				t.Errorf("reliable improvement %v, want %v", got, tt.reliable)
			}
			clinical := measureRow(t, r.Outcomes, tt.instrument.String(), "clinical")
			if got := clinical.FollowedUp == 1; got != tt.clinical {
				t.Errorf("in the clinical population %v, want %v", got, tt.clinical)
			}
		})
	}
}

func TestUnknownBaselineScoresAreNotZero(t *testing.T) {
	r := fold(t, Options{},
		domain.IntakeCompleted{Patient: ann, RecommendedLevel: domain.IOP, ScoresUnknown: true, AgeUnknown: true, OccurredAt: on(t, "2025-03-01")},
		domain.Admitted{Patient: ann, Program: "iop", Level: domain.IOP, OccurredAt: on(t, "2025-03-01")},
		domain.MeasureRecorded{Patient: ann, Instrument: domain.PHQ9, Score: 12, OccurredAt: on(t, "2025-03-05")},
		domain.Discharged{Patient: ann, Reason: domain.DischargeCompleted, Level: domain.IOP, Program: "iop", OccurredAt: on(t, "2025-04-02")},
	)
	phq := measureRow(t, r.Outcomes, "phq9", "all")
	if phq.WithBaseline != 1 || phq.FollowedUp != 0 {
		t.Errorf("PHQ-9 with baseline %d, followed up %d; want the first real score as baseline and no follow-up", phq.WithBaseline, phq.FollowedUp)
	}
	if gad := measureRow(t, r.Outcomes, "gad7", "all"); gad.WithBaseline != 0 {
		t.Errorf("GAD-7 with baseline %d, want 0: the intake had no scores", gad.WithBaseline)
	}
}

func TestAsOf(t *testing.T) {
	// As of 31 January: Ann's discharge, Ben's readmission and Cleo's
	// step-up and discharge have not happened yet.
	r := fold(t, Options{AsOf: date(t, "2025-01-31")}, clinicHistory(t)...)
	if r.EventsReplayed != 14 || r.EventsAfterAsOf != 4 {
		t.Errorf("events replayed %d, after as-of %d; want 14, 4", r.EventsReplayed, r.EventsAfterAsOf)
	}
	if r.AsOf == nil || *r.AsOf != "2025-01-31" || r.Horizon == nil || *r.Horizon != "2025-01-31" {
		t.Errorf("as_of %v horizon %v, want both 2025-01-31", r.AsOf, r.Horizon)
	}
	want := EpisodeCounts{Total: 3, Closed: 1, Open: 2, Completed: 0, CompletionRate: f64(0)}
	if !reflect.DeepEqual(r.Episodes, want) {
		t.Errorf("episodes %+v, want %+v", r.Episodes, want)
	}
	// Open episodes are open, not drop-outs: PHP and residential have no
	// closed episode, so no rate.
	for _, level := range []string{"php", "residential"} {
		c := levelRow(t, r.Outcomes, level)
		if c.Episodes != 0 || c.Open != 1 {
			t.Errorf("%s: %+v, want 0 closed and 1 open", level, c)
		}
		sameRate(t, level+" rate", c.Rate, nil)
	}
	// Ben's window runs to 15 February: pending, not "not readmitted".
	wantReadmit := ReadmissionOutcome{Discharges: 1, Pending: 1}
	if !reflect.DeepEqual(r.Readmission, wantReadmit) {
		t.Errorf("readmission %s, want %s", mustJSON(t, r.Readmission), mustJSON(t, wantReadmit))
	}
	wantDown := StepDownOutcome{StepDowns: 2, Pending: 2}
	if !reflect.DeepEqual(r.StepDown, wantDown) {
		t.Errorf("step-down %s, want %s", mustJSON(t, r.StepDown), mustJSON(t, wantDown))
	}
	if s := stayRow(t, r.Outcomes, "stay", "php"); s.Count != 1 || s.Open != 1 {
		t.Errorf("PHP stays %+v, want Ann's 10 days ended and Cleo's open", s)
	}
}

func TestAsOfUsesTheReportTimeZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	// 03:00 UTC on 2 January is 22:00 on 1 January in New York.
	late := time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)
	events := []domain.Event{domain.Admitted{Patient: ann, Program: "iop", Level: domain.IOP, OccurredAt: late}}
	tests := []struct {
		name     string
		loc      *time.Location
		episodes int
	}{
		{"UTC: the admission is on 2 January", nil, 0},
		{"New York: the admission is on 1 January", ny, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fold(t, Options{AsOf: date(t, "2025-01-01"), Location: tt.loc}, events...)
			if r.Episodes.Total != tt.episodes {
				t.Errorf("episodes %d, want %d", r.Episodes.Total, tt.episodes)
			}
		})
	}
}

func TestReadmissionWindow(t *testing.T) {
	// Three people discharged on 1 March and readmitted 29, 30 and 31
	// days later; a fourth died. Within 30 days is inclusive.
	var events []domain.Event
	for i, p := range []domain.PatientID{ann, ben, cleo, dora} {
		reason := domain.DischargeCompleted
		if p == dora {
			reason = domain.DischargeDeath
		}
		events = append(events,
			domain.Admitted{Patient: p, Program: "iop", Level: domain.IOP, OccurredAt: on(t, "2025-02-01")},
			domain.Discharged{Patient: p, Reason: reason, Level: domain.IOP, Program: "iop", OccurredAt: on(t, "2025-03-01")},
		)
		if p != dora {
			events = append(events, domain.Readmitted{Patient: p, Program: "iop", Level: domain.IOP, OccurredAt: on(t, "2025-03-01").AddDate(0, 0, 29+i)})
		}
	}
	tests := []struct {
		name string
		asOf string
		want ReadmissionOutcome
	}{
		{"whole log", "", ReadmissionOutcome{Discharges: 3, Readmitted: 2, NotReadmitted: 1, Deaths: 1, Rate: f64(2.0 / 3)}},
		// On 30 March (day 29) only Ann is back; the others' windows are open.
		{"as of day 29", "2025-03-30", ReadmissionOutcome{Discharges: 3, Readmitted: 1, Pending: 2, Deaths: 1, Rate: f64(1)}},
		// On 31 March (day 30) the window has passed: Cleo, back on day 31,
		// is not a readmission.
		{"as of day 30", "2025-03-31", ReadmissionOutcome{Discharges: 3, Readmitted: 2, NotReadmitted: 1, Deaths: 1, Rate: f64(2.0 / 3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{}
			if tt.asOf != "" {
				opts.AsOf = date(t, tt.asOf)
			}
			r := fold(t, opts, events...)
			if !reflect.DeepEqual(r.Readmission, tt.want) {
				t.Errorf("readmission %s, want %s", mustJSON(t, r.Readmission), mustJSON(t, tt.want))
			}
		})
	}
}

func TestStepDownWindow(t *testing.T) {
	tests := []struct {
		name  string
		after []domain.Event
		want  StepDownOutcome
	}{
		{"step-up 30 days later fails", []domain.Event{
			domain.SteppedUp{Patient: ann, From: domain.IOP, To: domain.PHP, Program: "php", OccurredAt: on(t, "2025-03-31")},
		}, StepDownOutcome{StepDowns: 1, Failed: 1, Rate: f64(0)}},
		{"step-up 31 days later succeeds", []domain.Event{
			domain.SteppedUp{Patient: ann, From: domain.IOP, To: domain.PHP, Program: "php", OccurredAt: on(t, "2025-04-01")},
		}, StepDownOutcome{StepDowns: 1, Successful: 1, Rate: f64(1)}},
		{"readmission within 30 days fails", []domain.Event{
			domain.Discharged{Patient: ann, Reason: domain.DischargeDroppedOut, Level: domain.IOP, Program: "iop", OccurredAt: on(t, "2025-03-05")},
			domain.Readmitted{Patient: ann, Program: "php", Level: domain.PHP, OccurredAt: on(t, "2025-03-20")},
		}, StepDownOutcome{StepDowns: 1, Failed: 1, Rate: f64(0)}},
		{"nothing yet, 29 days on: pending", []domain.Event{
			domain.MeasureRecorded{Patient: ann, Instrument: domain.PHQ9, Score: 3, OccurredAt: on(t, "2025-03-30")},
		}, StepDownOutcome{StepDowns: 1, Pending: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := []domain.Event{
				domain.Admitted{Patient: ann, Program: "php", Level: domain.PHP, OccurredAt: on(t, "2025-02-01")},
				domain.SteppedDown{Patient: ann, From: domain.PHP, To: domain.IOP, Program: "iop", OccurredAt: on(t, "2025-03-01")},
			}
			r := fold(t, Options{}, append(events, tt.after...)...)
			if !reflect.DeepEqual(r.StepDown, tt.want) {
				t.Errorf("step-down %s, want %s", mustJSON(t, r.StepDown), mustJSON(t, tt.want))
			}
		})
	}
}

func TestCohortsProgramsAndWindow(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		total    int
		cohorts  map[string]int
		programs map[string]int
	}{
		{"by month", Options{}, 4, map[string]int{"2025-01": 3, "2025-02": 1}, map[string]int{"php": 1, "iop": 2, "res": 1}},
		{"by quarter", Options{Cohort: CohortQuarter}, 4, map[string]int{"2025-Q1": 4}, map[string]int{"php": 1, "iop": 2, "res": 1}},
		{"from 6 to 31 January", Options{From: date(t, "2025-01-06"), To: date(t, "2025-01-31")}, 2,
			map[string]int{"2025-01": 2}, map[string]int{"iop": 1, "res": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fold(t, tt.opts, clinicHistory(t)...)
			if r.Episodes.Total != tt.total {
				t.Errorf("episodes %d, want %d", r.Episodes.Total, tt.total)
			}
			cohorts := map[string]int{}
			for _, c := range r.ByCohort {
				cohorts[c.Cohort] = c.Episodes.Total
			}
			programs := map[string]int{}
			for _, p := range r.ByProgram {
				programs[p.Program] = p.Episodes.Total
			}
			if !reflect.DeepEqual(cohorts, tt.cohorts) || !reflect.DeepEqual(programs, tt.programs) {
				t.Errorf("cohorts %v programs %v, want %v %v", cohorts, programs, tt.cohorts, tt.programs)
			}
		})
	}
	// Ben's first episode is in the window, his readmission is not: it
	// still counts as his readmission.
	r := fold(t, Options{From: date(t, "2025-01-06"), To: date(t, "2025-01-31")}, clinicHistory(t)...)
	if r.Readmission.Readmitted != 1 {
		t.Errorf("readmission %+v, want Ben's readmission counted", r.Readmission)
	}
}

func TestImportedEpisodes(t *testing.T) {
	f := NewFold(Options{})
	for i, e := range []domain.Event{
		domain.Admitted{Patient: ann, Program: "tedsd", Level: domain.Residential, SourceSetting: "5", OccurredAt: on(t, "2024-01-01")},
		domain.Discharged{Patient: ann, Reason: domain.DischargeCompleted, Level: domain.Residential, Program: "tedsd", StayUnknown: true, OccurredAt: on(t, "2024-01-01")},
		domain.Admitted{Patient: ben, Program: "tedsd", Level: domain.Outpatient, SourceSetting: "10", OccurredAt: on(t, "2024-01-01")},
		domain.Discharged{Patient: ben, Reason: domain.DischargeDroppedOut, Level: domain.Outpatient, Program: "tedsd", OccurredAt: on(t, "2024-02-01")},
		domain.Admitted{Patient: cleo, Program: "tedsd", Level: domain.Outpatient, SourceSetting: "7", OccurredAt: on(t, "2024-01-01")},
	} {
		f.Apply(e, i%2 == 0)
	}
	r := f.Report()
	want := []SettingCompletion{
		{Setting: "5", Episodes: 1, Completed: 1, Rate: f64(1)},
		{Setting: "7", Open: 1},
		{Setting: "10", Episodes: 1, Completed: 0, Rate: f64(0)},
	}
	if !reflect.DeepEqual(r.CompletionBySourceSetting, want) {
		t.Errorf("by source setting\n got %s\nwant %s", mustJSON(t, r.CompletionBySourceSetting), mustJSON(t, want))
	}
	if r.Episodes.EstimatedDates != 3 {
		t.Errorf("estimated dates %d, want 3", r.Episodes.EstimatedDates)
	}
	if s := stayRow(t, r.Outcomes, "episode", "residential"); s.Count != 0 || s.UnknownLength != 1 || s.Median != nil {
		t.Errorf("residential episode stays %+v, want the unknown length left out", s)
	}
	if s := stayRow(t, r.Outcomes, "episode", "outpatient"); s.Count != 1 || *s.Median != 31 {
		t.Errorf("outpatient episode stays %+v, want one of 31 days", s)
	}
}

func TestGroupsModulesAndAttendance(t *testing.T) {
	const g = domain.GroupID("cbt-anxiety")
	at := on(t, "2025-03-03")
	r := fold(t, Options{},
		domain.GroupCreated{Group: g, GroupSpec: domain.GroupSpec{Program: "group-center"}, OccurredAt: at},
		domain.MemberJoined{Group: g, Patient: ann, Module: 1, OccurredAt: at},
		domain.MemberJoined{Group: g, Patient: ben, Module: 1, OccurredAt: at},
		domain.WaitlistPromoted{Group: g, Patient: cleo, Module: 1, OccurredAt: at},
		domain.AttendanceRecorded{Group: g, Session: "s1", Patient: ann, Status: domain.Present, OccurredAt: at},
		domain.AttendanceRecorded{Group: g, Session: "s2", Patient: ann, Status: domain.Absent, OccurredAt: at},
		domain.AttendanceRecorded{Group: g, Session: "s1", Patient: ben, Status: domain.Absent, OccurredAt: at},
		domain.AttendanceRecorded{Group: g, Session: "s1", Patient: cleo, Status: domain.Present, OccurredAt: at},
		// A correction: Ann had called ahead.
		domain.AttendanceRecorded{Group: g, Session: "s2", Patient: ann, Status: domain.Excused, OccurredAt: at.Add(time.Hour)},
		domain.ModuleCompleted{Group: g, Patient: ann, Module: 1, OccurredAt: at},
		domain.ModuleCompleted{Group: g, Patient: ben, Module: 1, OccurredAt: at},
		domain.ModuleCompleted{Group: g, Patient: ann, Module: 2, OccurredAt: at},
		domain.GroupCompleted{Group: g, Patient: ann, OccurredAt: at},
		domain.MemberLeft{Group: g, Patient: ben, Reason: domain.LeaveWithdrew, OccurredAt: at},
	)
	wantGroups := []GroupOutcome{{
		Group: "cbt-anxiety", Program: "group-center", Members: 3, Seatings: 3, Completed: 1, Left: 1, Active: 1,
		CompletionRate: f64(0.5), Recorded: 4, Present: 2, Absent: 1, Excused: 1, AttendanceRate: f64(0.5),
	}}
	if !reflect.DeepEqual(r.Groups, wantGroups) {
		t.Errorf("groups\n got %s\nwant %s", mustJSON(t, r.Groups), mustJSON(t, wantGroups))
	}
	wantModules := []ModuleOutcome{
		{Group: "cbt-anxiety", Module: 1, Members: 3, Completed: 2, Rate: f64(2.0 / 3)},
		{Group: "cbt-anxiety", Module: 2, Members: 3, Completed: 1, Rate: f64(1.0 / 3)},
	}
	if !reflect.DeepEqual(r.Modules, wantModules) {
		t.Errorf("modules\n got %s\nwant %s", mustJSON(t, r.Modules), mustJSON(t, wantModules))
	}
	wantPeople := []PersonAttendance{
		{Person: "P0000001", Recorded: 2, Present: 1, Excused: 1, Rate: f64(0.5)},
		{Person: "P0000002", Recorded: 1, Absent: 1, Rate: f64(0)},
		{Person: "P0000003", Recorded: 1, Present: 1, Rate: f64(1)},
	}
	if !reflect.DeepEqual(r.AttendanceByPerson, wantPeople) {
		t.Errorf("attendance by person\n got %s\nwant %s", mustJSON(t, r.AttendanceByPerson), mustJSON(t, wantPeople))
	}
}

func TestEmptyLogRatesAreNull(t *testing.T) {
	r := fold(t, Options{})
	var out bytes.Buffer
	if err := r.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		EventsReplayed    *int64          `json:"events_replayed"`
		AsOf              json.RawMessage `json:"as_of"`
		CompletionByLevel []struct {
			Level     string          `json:"level"`
			Episodes  *int            `json:"episodes"`
			Completed *int            `json:"completed"`
			Rate      json.RawMessage `json:"rate"`
		} `json:"completion_by_level"`
		CompletionBySourceSetting []json.RawMessage `json:"completion_by_source_setting"`
		Readmission               struct {
			Rate json.RawMessage `json:"rate"`
		} `json:"readmission_30d"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.EventsReplayed == nil || *doc.EventsReplayed != 0 || string(doc.AsOf) != "null" {
		t.Errorf("events_replayed %v as_of %s, want 0 and null", doc.EventsReplayed, doc.AsOf)
	}
	if len(doc.CompletionByLevel) != 5 {
		t.Fatalf("completion_by_level has %d rows, want the 5 levels", len(doc.CompletionByLevel))
	}
	for i, c := range doc.CompletionByLevel {
		if c.Level != domain.Levels()[i].String() || c.Episodes == nil || *c.Episodes != 0 || c.Completed == nil || string(c.Rate) != "null" {
			t.Errorf("row %d: %+v (rate %s), want level %s, 0 episodes, rate null", i, c, c.Rate, domain.Levels()[i])
		}
	}
	if doc.CompletionBySourceSetting == nil || string(doc.Readmission.Rate) != "null" {
		t.Errorf("source settings %v, readmission rate %s; want [] and null", doc.CompletionBySourceSetting, doc.Readmission.Rate)
	}
	if strings.Contains(out.String(), "NaN") {
		t.Error("the report has a NaN")
	}
}

func TestFoldedTypes(t *testing.T) {
	ignored := map[string]bool{
		"Referred": true, "SessionHeld": true, "MemberWaitlisted": true, "WaitlistLeft": true,
		"ProgramCreated": true, "ProgramChanged": true,
	}
	for _, typ := range domain.EventTypes() {
		if folded(typ) == ignored[typ] {
			t.Errorf("%s: folded %v, but the fold %s it", typ, folded(typ), map[bool]string{true: "ignores", false: "uses"}[ignored[typ]])
		}
	}
}

func TestPatientIDsThatAreNotUUIDsAreEachTheirOwnPerson(t *testing.T) {
	// The domain writes only UUIDs, but a log written by another system
	// through the EventStoreDB protocol need not.
	odd, other := domain.PatientID("legacy-7"), domain.PatientID("legacy-8")
	r := fold(t, Options{},
		domain.Admitted{Patient: odd, Program: "iop", Level: domain.IOP, OccurredAt: on(t, "2025-01-02")},
		domain.Admitted{Patient: other, Program: "iop", Level: domain.IOP, OccurredAt: on(t, "2025-01-03")},
		domain.Admitted{Patient: ann, Program: "iop", Level: domain.IOP, OccurredAt: on(t, "2025-01-04")},
		domain.Discharged{Patient: odd, Reason: domain.DischargeCompleted, Level: domain.IOP, Program: "iop", OccurredAt: on(t, "2025-01-09")},
	)
	want := EpisodeCounts{Total: 3, Closed: 1, Open: 2, Completed: 1, CompletionRate: f64(1)}
	if !reflect.DeepEqual(r.Episodes, want) {
		t.Errorf("episodes %+v, want %+v", r.Episodes, want)
	}
}
