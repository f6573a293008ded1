package tedsd

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/google/uuid"
)

// row is a valid 2021 row: long-term residential, completed, 20 days.
func row() Row {
	return Row{Line: 7, CaseID: 1234, Year: 2021, Services: 5, ServicesD: 5, Reason: 1, LOS: 20, Age: 6, StateFIPS: 6}
}

func TestPlanMapsCodes(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(r *Row)
		level    domain.Level
		moveTo   domain.Level
		reason   domain.DischargeReason
		stayDays int // days from admission to discharge; -1: unknown
		program  domain.ProgramID
	}{
		{"residential, completed, 20 days", func(r *Row) {}, domain.Residential, 0, domain.DischargeCompleted, 20, "tedsd-st06"},
		{"hospital detox is inpatient", func(r *Row) { r.Services, r.ServicesD = 1, 1 }, domain.Inpatient, 0, domain.DischargeCompleted, 20, "tedsd-st06"},
		{"hospital rehab is inpatient", func(r *Row) { r.Services, r.ServicesD = 3, 3 }, domain.Inpatient, 0, domain.DischargeCompleted, 20, "tedsd-st06"},
		{"residential detox to short-term rehab is no move", func(r *Row) { r.Services, r.ServicesD = 2, 4 }, domain.Residential, 0, domain.DischargeCompleted, 20, "tedsd-st06"},
		{"residential stepping down to intensive outpatient", func(r *Row) { r.ServicesD = 6 }, domain.Residential, domain.IOP, domain.DischargeCompleted, 19, "tedsd-st06"},
		{"outpatient stepping up to hospital", func(r *Row) { r.Services, r.ServicesD = 7, 1 }, domain.Outpatient, domain.Inpatient, domain.DischargeCompleted, 20, "tedsd-st06"},
		{"outpatient stays lose TEDS-D's added day", func(r *Row) { r.Services, r.ServicesD = 7, 7 }, domain.Outpatient, 0, domain.DischargeCompleted, 19, "tedsd-st06"},
		{"one outpatient day is the same day", func(r *Row) { r.Services, r.ServicesD, r.LOS = 8, 8, 1 }, domain.Outpatient, 0, domain.DischargeCompleted, 0, "tedsd-st06"},
		{"unknown discharge setting: no move, admission setting's rule", func(r *Row) { r.Services, r.ServicesD = 6, Missing }, domain.IOP, 0, domain.DischargeCompleted, 19, "tedsd-st06"},
		{"31–45 days is 38", func(r *Row) { r.LOS = 31 }, domain.Residential, 0, domain.DischargeCompleted, 38, "tedsd-st06"},
		{"61–90 days is 75", func(r *Row) { r.LOS = 33 }, domain.Residential, 0, domain.DischargeCompleted, 75, "tedsd-st06"},
		{"181–365 days is 273", func(r *Row) { r.LOS = 36 }, domain.Residential, 0, domain.DischargeCompleted, 273, "tedsd-st06"},
		{"over a year is 366", func(r *Row) { r.LOS = 37 }, domain.Residential, 0, domain.DischargeCompleted, 366, "tedsd-st06"},
		{"unknown stay", func(r *Row) { r.LOS = Missing }, domain.Residential, 0, domain.DischargeCompleted, -1, "tedsd-st06"},
		{"dropped out", func(r *Row) { r.Reason = 2 }, domain.Residential, 0, domain.DischargeDroppedOut, 20, "tedsd-st06"},
		{"terminated by the facility", func(r *Row) { r.Reason = 3 }, domain.Residential, 0, domain.DischargeAdministrative, 20, "tedsd-st06"},
		{"transferred", func(r *Row) { r.Reason = 4 }, domain.Residential, 0, domain.DischargeTransferred, 20, "tedsd-st06"},
		{"incarcerated", func(r *Row) { r.Reason = 5 }, domain.Residential, 0, domain.DischargeOther, 20, "tedsd-st06"},
		{"death", func(r *Row) { r.Reason = 6 }, domain.Residential, 0, domain.DischargeDeath, 20, "tedsd-st06"},
		{"other", func(r *Row) { r.Reason = 7 }, domain.Residential, 0, domain.DischargeOther, 20, "tedsd-st06"},
		{"unknown state", func(r *Row) { r.StateFIPS = Missing }, domain.Residential, 0, domain.DischargeCompleted, 20, "tedsd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := row()
			tt.edit(&r)
			e, err := Plan(r, 2025)
			if err != nil {
				t.Fatal(err)
			}
			if e.Level != tt.level || e.MoveTo != tt.moveTo || e.Reason != tt.reason || e.Program != tt.program {
				t.Errorf("level %s, move to %s, reason %s, program %s; want %s, %s, %s, %s", e.Level, e.MoveTo, e.Reason, e.Program, tt.level, tt.moveTo, tt.reason, tt.program)
			}
			if e.Setting != strconv.Itoa(r.Services) {
				t.Errorf("setting %q, want the SERVICES code %d", e.Setting, r.Services)
			}
			days := domain.DateOf(e.Discharged).DaysSince(domain.DateOf(e.Admitted))
			if tt.stayDays < 0 {
				if e.StayKnown || days != 0 {
					t.Errorf("stay known %v over %d days, want unknown on one day", e.StayKnown, days)
				}
			} else if !e.StayKnown || days != tt.stayDays {
				t.Errorf("stay known %v over %d days, want %d", e.StayKnown, days, tt.stayDays)
			}
			if e.Discharged.Year() != r.Year {
				t.Errorf("discharged %s, not in DISYR %d", e.Discharged, r.Year)
			}
			if !(e.Referred.Before(e.Intake) && e.Intake.Before(e.Admitted) && e.Admitted.Before(e.Discharged)) {
				t.Errorf("times out of order: %s %s %s %s", e.Referred, e.Intake, e.Admitted, e.Discharged)
			}
			if tt.moveTo != 0 && !(e.Admitted.Before(e.Moved) && e.Moved.Before(e.Discharged)) {
				t.Errorf("move at %s, not between %s and %s", e.Moved, e.Admitted, e.Discharged)
			}
		})
	}
}

func TestPlanIsDeterministicAndSpreadsDates(t *testing.T) {
	first, err := Plan(row(), 2025)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Plan(row(), 2025)
	if first.Patient != again.Patient || !first.Discharged.Equal(again.Discharged) {
		t.Error("the same row planned twice differs")
	}
	other := row()
	other.Year = 2020
	inOtherYear, _ := Plan(other, 2025)
	if inOtherYear.Patient == first.Patient {
		t.Error("the same CASEID in another year is the same patient")
	}
	months := map[time.Month]bool{}
	for id := int64(1); id <= 500; id++ {
		r := row()
		r.CaseID = id
		e, err := Plan(r, 2025)
		if err != nil {
			t.Fatal(err)
		}
		months[e.Discharged.Month()] = true
	}
	if len(months) != 12 {
		t.Errorf("500 discharges fell in %d months, want all 12", len(months))
	}
}

func TestPlanRefusesRows(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *Row)
		kind string
	}{
		{"missing CASEID", func(r *Row) { r.CaseID = Missing }, "CASEID missing"},
		{"zero CASEID", func(r *Row) { r.CaseID = 0 }, "CASEID not a positive number"},
		{"missing year", func(r *Row) { r.Year = Missing }, "DISYR missing"},
		{"a year not over", func(r *Row) { r.Year = 2026 }, "DISYR not a past year"},
		{"missing setting", func(r *Row) { r.Services = Missing }, "SERVICES missing"},
		{"unknown setting", func(r *Row) { r.Services = 9 }, "SERVICES unknown code"},
		{"unknown discharge setting", func(r *Row) { r.ServicesD = 0 }, "SERVICES_D unknown code"},
		{"missing reason", func(r *Row) { r.Reason = Missing }, "REASON missing"},
		{"unknown reason", func(r *Row) { r.Reason = 8 }, "REASON unknown code"},
		{"unknown length of stay", func(r *Row) { r.LOS = 38 }, "LOS unknown code"},
		{"unknown age group", func(r *Row) { r.Age = 13 }, "AGE unknown code"},
		{"unknown state", func(r *Row) { r.StateFIPS = 100 }, "STFIPS unknown code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := row()
			tt.edit(&r)
			_, err := Plan(r, 2025)
			var rowErr *RowError
			if !errors.As(err, &rowErr) || rowErr.Kind() != tt.kind || rowErr.Line != 7 {
				t.Errorf("error %v, want %q on line 7", err, tt.kind)
			}
		})
	}
}

func TestStepsOfAnEpisode(t *testing.T) {
	r := row()
	r.ServicesD, r.LOS, r.Age = 7, Missing, Missing
	e, err := Plan(r, 2025)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range e.steps() {
		names = append(names, s.name)
		switch c := s.cmd.(type) {
		case domain.CompleteIntake:
			if !c.ScoresUnknown || !c.AgeUnknown || c.AgeYears != 0 || c.PHQ9 != 0 {
				t.Errorf("intake %+v, want unknown scores and age, not zeros taken as facts", c)
			}
		case domain.Admit:
			if c.SourceSetting != "5" || c.Level != domain.Residential {
				t.Errorf("admission %+v, want setting 5 at residential", c)
			}
		case domain.StepDown:
			if c.To != domain.Outpatient {
				t.Errorf("step-down to %s, want outpatient", c.To)
			}
		case domain.Discharge:
			if !c.StayUnknown || c.Reason != domain.DischargeCompleted {
				t.Errorf("discharge %+v, want completed with an unknown stay", c)
			}
		}
	}
	if want := "refer intake admit move discharge"; strings.Join(names, " ") != want {
		t.Errorf("steps %q, want %q", strings.Join(names, " "), want)
	}
}

func TestPatientIDsSortAsTheirYearAndCaseID(t *testing.T) {
	// In (year, CASEID) order, with CASEIDs that differ only in the bits
	// next to the UUID's version and variant fields, and at both ends.
	keys := []struct {
		year int
		id   int64
	}{
		{1999, 1}, {1999, 1 << 40}, {2021, 1}, {2021, 2}, {2021, 1<<31 - 1}, {2021, 1 << 31},
		{2021, 1 << 32}, {2021, 1<<32 + 1}, {2021, 1 << 47}, {2021, 1 << 48}, {2021, 1<<62 + 5}, {2022, 1},
	}
	var previous domain.PatientID
	for i, k := range keys {
		id := PatientID(k.year, k.id)
		parsed, err := uuid.Parse(string(id))
		if err != nil || parsed.Version() != 8 || parsed.Variant() != uuid.RFC4122 {
			t.Fatalf("%d/%d: %s is not a version-8 RFC 9562 UUID (%v)", k.year, k.id, id, err)
		}
		if _, err := domain.ParsePatientID(string(id)); err != nil {
			t.Fatalf("%d/%d: %v", k.year, k.id, err)
		}
		if i > 0 && id <= previous {
			t.Errorf("%d/%d: %s sorts at or before %s", k.year, k.id, id, previous)
		}
		if id == legacyPatientID(k.year, k.id) {
			t.Errorf("%d/%d: the ordered ID is the legacy one", k.year, k.id)
		}
		previous = id
	}
	if got, want := PatientID(2022, 259), domain.PatientID("07e60000-0000-8000-8004-0f93be73674f"); got != want {
		t.Errorf("PatientID(2022, 259) = %s, want %s: a changed derivation would import every file again", got, want)
	}
	if got, want := legacyPatientID(2022, 259), domain.PatientID("282df4d3-185e-5725-a537-7393be73674f"); got != want {
		t.Errorf("legacyPatientID(2022, 259) = %s, want %s, the ID earlier builds gave", got, want)
	}
}
