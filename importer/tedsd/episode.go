package tedsd

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/google/uuid"
)

// patientNamespace roots the derivation of patient IDs from DISYR and
// CASEID, so every import of a row addresses the same patient stream.
var patientNamespace = uuid.MustParse("5f0c7e2a-1d3b-5a4e-8f6c-2b9d0e1a7c34")

// settings maps the SERVICES codes to continuum's levels of care. TEDS has
// no partial-hospitalization code.
var settings = map[int]domain.Level{
	1: domain.Inpatient,   // detox, 24-hour, hospital inpatient
	2: domain.Residential, // detox, 24-hour, free-standing residential
	3: domain.Inpatient,   // rehab/residential, hospital (non-detox)
	4: domain.Residential, // rehab/residential, short term (30 days or fewer)
	5: domain.Residential, // rehab/residential, long term (more than 30 days)
	6: domain.IOP,         // ambulatory, intensive outpatient
	7: domain.Outpatient,  // ambulatory, non-intensive outpatient
	8: domain.Outpatient,  // ambulatory, detoxification
}

// ambulatory reports whether a setting is one whose stays TEDS-D counts
// with one day added.
func ambulatory(setting int) bool { return setting >= 6 && setting <= 8 }

// reasons maps the REASON codes to discharge reasons. Termination by the
// facility is an administrative discharge; incarceration has no reason of
// its own and is "other".
var reasons = map[int]domain.DischargeReason{
	1: domain.DischargeCompleted,
	2: domain.DischargeDroppedOut,
	3: domain.DischargeAdministrative,
	4: domain.DischargeTransferred,
	5: domain.DischargeOther,
	6: domain.DischargeDeath,
	7: domain.DischargeOther,
}

// StayDays is the length of stay a LOS code stands for: the days for 1–30,
// the midpoint (rounded down) of the ranges 31–36, and 366 for 37 ("more
// than a year", which has no midpoint). ok is false for Missing and for
// codes outside 1–37.
func StayDays(los int) (days int, ok bool) {
	switch {
	case los >= 1 && los <= 30:
		return los, true
	case los >= 31 && los <= 36:
		ranges := [...][2]int{{31, 45}, {46, 60}, {61, 90}, {91, 120}, {121, 180}, {181, 365}}
		r := ranges[los-31]
		return (r[0] + r[1]) / 2, true
	case los == 37:
		return 366, true
	}
	return 0, false
}

// ageYears is the age an AGE group stands for: the midpoint (rounded down)
// of its range, 65 for "65 and over".
var ageYears = map[int]int{1: 13, 2: 16, 3: 19, 4: 22, 5: 27, 6: 32, 7: 37, 8: 42, 9: 47, 10: 52, 11: 59, 12: 65}

// Times of day of an episode's estimated events, in UTC: the file has no
// times, and a fixed schedule keeps the order referral, intake, admission.
const (
	referralHour  = 8
	admissionHour = 9
	dischargeHour = 15
)

// Episode is a validated row turned into the facts of one episode.
type Episode struct {
	Line    int
	Year    int
	CaseID  int64
	Patient domain.PatientID
	Program domain.ProgramID
	// Setting is the SERVICES code, kept on the admission.
	Setting string
	Level   domain.Level
	// MoveTo is the level at discharge when it differs from Level, else 0.
	MoveTo domain.Level
	Reason domain.DischargeReason
	// StayKnown is false when LOS was missing; Admitted and Discharged are
	// then on the same day and the discharge says the stay is unknown.
	StayKnown                                     bool
	AgeYears                                      int
	AgeKnown                                      bool
	Referred, Intake, Admitted, Moved, Discharged time.Time
}

// Plan validates a row and works out its episode. lastYear is the latest
// DISYR accepted: a year still running has no complete file, and its dates
// could fall in the future.
func Plan(row Row, lastYear int) (Episode, error) {
	bad := func(field, problem string, value int64) (Episode, error) {
		return Episode{}, &RowError{Line: row.Line, Field: field, Problem: problem, Detail: strconv.FormatInt(value, 10)}
	}
	switch {
	case row.CaseID == Missing:
		return bad(varCaseID, "missing", row.CaseID)
	case row.CaseID <= 0:
		return bad(varCaseID, "not a positive number", row.CaseID)
	case row.Year == Missing:
		return bad(varYear, "missing", int64(row.Year))
	case row.Year < 1900 || row.Year > lastYear:
		return bad(varYear, "not a past year", int64(row.Year))
	case row.Services == Missing:
		return bad(varServices, "missing", int64(row.Services))
	case settings[row.Services] == 0:
		return bad(varServices, "unknown code", int64(row.Services))
	case row.ServicesD != Missing && settings[row.ServicesD] == 0:
		return bad(varServicesD, "unknown code", int64(row.ServicesD))
	case row.Reason == Missing:
		return bad(varReason, "missing", int64(row.Reason))
	case reasons[row.Reason] == 0:
		return bad(varReason, "unknown code", int64(row.Reason))
	case row.LOS != Missing && (row.LOS < 1 || row.LOS > 37):
		return bad(varLOS, "unknown code", int64(row.LOS))
	case row.Age != Missing && ageYears[row.Age] == 0:
		return bad(varAge, "unknown code", int64(row.Age))
	case row.StateFIPS != Missing && (row.StateFIPS < 1 || row.StateFIPS > 99):
		return bad(varStateFIPS, "unknown code", int64(row.StateFIPS))
	}
	e := Episode{
		Line: row.Line, Year: row.Year, CaseID: row.CaseID,
		Patient: PatientID(row.Year, row.CaseID),
		Program: "tedsd",
		Setting: strconv.Itoa(row.Services),
		Level:   settings[row.Services],
		Reason:  reasons[row.Reason],
	}
	if row.StateFIPS != Missing {
		e.Program = domain.ProgramID(fmt.Sprintf("tedsd-st%02d", row.StateFIPS))
	}
	if row.ServicesD != Missing && settings[row.ServicesD] != e.Level {
		e.MoveTo = settings[row.ServicesD]
	}
	e.AgeYears, e.AgeKnown = ageYears[row.Age], row.Age != Missing
	stay, known := StayDays(row.LOS)
	e.StayKnown = known
	dischargeSetting := row.ServicesD
	if dischargeSetting == Missing {
		dischargeSetting = row.Services
	}
	if known && ambulatory(dischargeSetting) {
		stay-- // TEDS-D counted the first and the last day both
	}
	day := dischargeDay(row.Year, row.CaseID)
	e.Discharged = time.Date(row.Year, time.January, 1+day, dischargeHour, 0, 0, 0, time.UTC)
	admissionDay := time.Date(row.Year, time.January, 1+day-stay, 0, 0, 0, 0, time.UTC)
	e.Referred = admissionDay.Add(referralHour * time.Hour)
	e.Intake = e.Referred.Add(30 * time.Minute)
	e.Admitted = admissionDay.Add(admissionHour * time.Hour)
	if e.MoveTo != 0 {
		e.Moved = e.Admitted.Add(e.Discharged.Sub(e.Admitted) / 2).Truncate(time.Minute)
	}
	return e, nil
}

// PatientID is the patient of the episode with that DISYR and CASEID: a
// version-8 UUID that spells the year (16 bits) and the CASEID (64 bits)
// from its first bit on, around the version and variant fields, and fills
// the rest from a SHA-1 of both. The IDs sort as the episodes do, so an
// import of a file in CASEID order adds patient streams at the end of the
// store's stream index instead of all over it: imports of a million rows
// ran 1.7 times as fast (BENCHMARKS.md).
func PatientID(year int, caseID int64) domain.PatientID {
	id := episodeUUID(year, caseID)
	bits := [2]uint64{uint64(uint16(year))<<48 | uint64(caseID)>>16, uint64(caseID) << 48}
	at := 0 // the next bit of the UUID
	for i := range 80 {
		switch at {
		case 48: // the version nibble
			at += 4
		case 64: // the variant's two bits
			at += 2
		}
		mask := byte(0x80) >> (at % 8)
		if bits[i/64]>>(63-i%64)&1 == 1 {
			id[at/8] |= mask
		} else {
			id[at/8] &^= mask
		}
		at++
	}
	id[6] = id[6]&0x0f | 0x80 // version 8: custom
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return domain.PatientID(id.String())
}

// legacyPatientID is the patient ID builds before PatientID's ordered
// layout gave the episode (a plain name-based UUID): Import looks for it so
// that a file imported by such a build is not imported a second time.
func legacyPatientID(year int, caseID int64) domain.PatientID {
	return domain.PatientID(episodeUUID(year, caseID).String())
}

// episodeUUID is the name-based UUID of an episode's DISYR and CASEID.
func episodeUUID(year int, caseID int64) uuid.UUID {
	return uuid.NewSHA1(patientNamespace, []byte(episodeKey(year, caseID)))
}

func episodeKey(year int, caseID int64) string {
	return "tedsd/" + strconv.Itoa(year) + "/" + strconv.FormatInt(caseID, 10)
}

// dischargeDay spreads discharges over the year: a day (0-based) chosen by
// hashing the year and CASEID, the same for every import of the row.
func dischargeDay(year int, caseID int64) int {
	days := time.Date(year+1, time.January, 1, 0, 0, 0, 0, time.UTC).Sub(time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour)
	h := fnv.New64a()
	h.Write([]byte(episodeKey(year, caseID)))
	return int(h.Sum64() % uint64(days))
}

// step is one command of an episode with the suffix of its idempotency key.
type step struct {
	name string
	cmd  domain.PatientCommand
}

// steps are the episode's commands in the order they are executed.
func (e Episode) steps() []step {
	steps := append(make([]step, 0, 5),
		step{"refer", domain.Refer{Patient: e.Patient, Source: domain.SourceOther, At: e.Referred}},
		step{"intake", domain.CompleteIntake{
			Patient: e.Patient, RecommendedLevel: e.Level, ScoresUnknown: true,
			AgeYears: e.AgeYears, AgeUnknown: !e.AgeKnown, At: e.Intake,
		}},
		step{"admit", domain.Admit{Patient: e.Patient, Program: e.Program, Level: e.Level, SourceSetting: e.Setting, At: e.Admitted}},
	)
	switch {
	case e.MoveTo == 0:
	case e.MoveTo.LessIntensiveThan(e.Level):
		steps = append(steps, step{"move", domain.StepDown{Patient: e.Patient, To: e.MoveTo, Program: e.Program, At: e.Moved}})
	default:
		steps = append(steps, step{"move", domain.StepUp{Patient: e.Patient, To: e.MoveTo, Program: e.Program, At: e.Moved}})
	}
	return append(steps, step{"discharge", domain.Discharge{Patient: e.Patient, Reason: e.Reason, StayUnknown: !e.StayKnown, At: e.Discharged}})
}

// commands are the commands of the episode's steps, in order: referral,
// intake, admission, the level change if any, discharge.
func (e Episode) commands() []domain.PatientCommand {
	cmds := make([]domain.PatientCommand, 0, 5)
	for _, s := range e.steps() {
		cmds = append(cmds, s.cmd)
	}
	return cmds
}
