package domain

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

var (
	now       = time.Date(2026, 9, 10, 12, 0, 0, 0, time.UTC)
	day       = 24 * time.Hour
	referred  = Referred{Patient: alice, Source: SourceSelf, OccurredAt: now.Add(-9 * day)}
	intake    = IntakeCompleted{Patient: alice, PHQ9: 18, GAD7: 11, RecommendedLevel: PHP, PrimaryCare: true, AgeYears: 40, OccurredAt: now.Add(-8 * day)}
	admitted  = Admitted{Patient: alice, Program: "php", Level: PHP, OccurredAt: now.Add(-7 * day)}
	discharge = Discharged{Patient: alice, Reason: DischargeCompleted, Level: PHP, Program: "php", OccurredAt: now.Add(-2 * day)}
)

// foldPatient folds a history the way the command layer does.
func foldPatient(t *testing.T, history ...Event) Patient {
	t.Helper()
	var p Patient
	for _, e := range history {
		p.Evolve(e)
	}
	return p
}

// decision is the expected outcome of one Decide call: events, or an error
// with its category and code.
type decision struct {
	events   []Event
	category error
	code     string
}

func accept(events ...Event) decision { return decision{events: events} }

func refuse(category error, code string) decision { return decision{category: category, code: code} }

func checkDecision(t *testing.T, got []Event, err error, want decision) {
	t.Helper()
	if want.category != nil {
		if err == nil {
			t.Fatalf("accepted with %+v, want %s", got, want.code)
		}
		if !errors.Is(err, want.category) || ErrorCode(err) != want.code {
			t.Fatalf("error %v (code %q), want %v with code %q", err, ErrorCode(err), want.category, want.code)
		}
		if got != nil {
			t.Fatalf("refused but also returned events %+v", got)
		}
		return
	}
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if !reflect.DeepEqual(got, want.events) {
		t.Fatalf("events\n got: %#v\nwant: %#v", got, want.events)
	}
}

func TestPatientDecide(t *testing.T) {
	sealed := &SealedPersonal{KeyID: "k", Nonce: []byte{1}, Ciphertext: []byte{2}}
	yesterday := now.Add(-day)
	tests := []struct {
		name    string
		history []Event
		cmd     PatientCommand
		want    decision
	}{
		{"refer a new person", nil,
			Refer{Patient: alice, Source: SourceAccessLine, Personal: sealed, At: yesterday},
			accept(Referred{Patient: alice, Source: SourceAccessLine, Personal: sealed, OccurredAt: yesterday})},
		{"refer with a zero time means now", nil,
			Refer{Patient: alice, Source: SourceSelf},
			accept(Referred{Patient: alice, Source: SourceSelf, OccurredAt: now})},
		{"refer twice is a conflict", []Event{referred},
			Refer{Patient: alice, Source: SourceSelf, At: yesterday}, refuse(ErrConflict, CodeAlreadyExists)},
		{"refer with an invalid ID", nil,
			Refer{Patient: "alice", Source: SourceSelf}, refuse(ErrInvalid, CodeInvalidInput)},
		{"refer without a source", nil,
			Refer{Patient: alice}, refuse(ErrInvalid, CodeInvalidInput)},
		{"refer with a half-sealed blob", nil,
			Refer{Patient: alice, Source: SourceSelf, Personal: &SealedPersonal{KeyID: "k"}}, refuse(ErrInvalid, CodeInvalidInput)},
		{"refer in the future", nil,
			Refer{Patient: alice, Source: SourceSelf, At: now.Add(time.Minute)}, refuse(ErrInvalid, CodeOccurredInFuture)},

		{"intake after referral", []Event{referred},
			CompleteIntake{Patient: alice, PHQ9: 27, GAD7: 0, RecommendedLevel: IOP, AgeYears: 19, At: yesterday},
			accept(IntakeCompleted{Patient: alice, PHQ9: 27, GAD7: 0, RecommendedLevel: IOP, AgeYears: 19, OccurredAt: yesterday})},
		{"intake of an unknown person", nil,
			CompleteIntake{Patient: alice, RecommendedLevel: IOP, AgeYears: 19}, refuse(ErrNotFound, CodeNotFound)},
		{"intake with PHQ-9 over 27", []Event{referred},
			CompleteIntake{Patient: alice, PHQ9: 28, RecommendedLevel: IOP, AgeYears: 19}, refuse(ErrInvalid, CodeScoreOutOfRange)},
		{"intake with negative GAD-7", []Event{referred},
			CompleteIntake{Patient: alice, GAD7: -1, RecommendedLevel: IOP, AgeYears: 19}, refuse(ErrInvalid, CodeScoreOutOfRange)},
		{"intake without a recommended level", []Event{referred},
			CompleteIntake{Patient: alice, AgeYears: 19}, refuse(ErrInvalid, CodeInvalidInput)},
		{"intake with an impossible age", []Event{referred},
			CompleteIntake{Patient: alice, RecommendedLevel: IOP, AgeYears: 200}, refuse(ErrInvalid, CodeInvalidInput)},
		{"intake while in care", []Event{referred, intake, admitted},
			CompleteIntake{Patient: alice, RecommendedLevel: IOP, AgeYears: 40}, refuse(ErrRuleViolation, CodeAlreadyInCare)},
		{"re-assessment after discharge", []Event{referred, intake, admitted, discharge},
			CompleteIntake{Patient: alice, PHQ9: 8, GAD7: 6, RecommendedLevel: Outpatient, AgeYears: 40, At: yesterday},
			accept(IntakeCompleted{Patient: alice, PHQ9: 8, GAD7: 6, RecommendedLevel: Outpatient, AgeYears: 40, OccurredAt: yesterday})},
		{"intake dated before the referral", []Event{referred},
			CompleteIntake{Patient: alice, RecommendedLevel: IOP, AgeYears: 40, At: referred.OccurredAt.Add(-time.Hour)}, refuse(ErrRuleViolation, CodeOutOfOrder)},

		{"admit after intake", []Event{referred, intake},
			Admit{Patient: alice, Program: "php", Level: PHP, At: yesterday},
			accept(Admitted{Patient: alice, Program: "php", Level: PHP, OccurredAt: yesterday})},
		{"admit without intake", []Event{referred},
			Admit{Patient: alice, Program: "php", Level: PHP}, refuse(ErrRuleViolation, CodeIntakeRequired)},
		{"admit twice", []Event{referred, intake, admitted},
			Admit{Patient: alice, Program: "php", Level: PHP}, refuse(ErrRuleViolation, CodeAlreadyInCare)},
		{"admit after discharge needs readmission", []Event{referred, intake, admitted, discharge},
			Admit{Patient: alice, Program: "php", Level: PHP}, refuse(ErrRuleViolation, CodePatientDischarged)},
		{"admit without a level", []Event{referred, intake},
			Admit{Patient: alice, Program: "php"}, refuse(ErrInvalid, CodeInvalidInput)},
		{"admit to a malformed program", []Event{referred, intake},
			Admit{Patient: alice, Program: "P H P", Level: PHP}, refuse(ErrInvalid, CodeInvalidInput)},
		{"admit in the future", []Event{referred, intake},
			Admit{Patient: alice, Program: "php", Level: PHP, At: now.Add(day)}, refuse(ErrInvalid, CodeOccurredInFuture)},
		{"admit backdated before the intake", []Event{referred, intake},
			Admit{Patient: alice, Program: "php", Level: PHP, At: intake.OccurredAt.Add(-time.Minute)}, refuse(ErrRuleViolation, CodeOutOfOrder)},

		{"measure in care", []Event{referred, intake, admitted},
			RecordMeasure{Patient: alice, Instrument: GAD7, Score: 21, At: yesterday},
			accept(MeasureRecorded{Patient: alice, Instrument: GAD7, Score: 21, OccurredAt: yesterday})},
		{"follow-up measure after discharge", []Event{referred, intake, admitted, discharge},
			RecordMeasure{Patient: alice, Instrument: PHQ9, Score: 4, At: yesterday},
			accept(MeasureRecorded{Patient: alice, Instrument: PHQ9, Score: 4, OccurredAt: yesterday})},
		{"measure backdated before the last move is fine", []Event{referred, intake, admitted, discharge},
			RecordMeasure{Patient: alice, Instrument: PHQ9, Score: 4, At: admitted.OccurredAt},
			accept(MeasureRecorded{Patient: alice, Instrument: PHQ9, Score: 4, OccurredAt: admitted.OccurredAt})},
		{"measure out of range", []Event{referred, intake, admitted},
			RecordMeasure{Patient: alice, Instrument: GAD7, Score: 22}, refuse(ErrInvalid, CodeScoreOutOfRange)},
		{"measure without an instrument", []Event{referred, intake, admitted},
			RecordMeasure{Patient: alice, Score: 2}, refuse(ErrInvalid, CodeInvalidInput)},
		{"measure of an unknown person", nil,
			RecordMeasure{Patient: alice, Instrument: PHQ9, Score: 2}, refuse(ErrNotFound, CodeNotFound)},
		{"measure in the future", []Event{referred},
			RecordMeasure{Patient: alice, Instrument: PHQ9, Score: 2, At: now.Add(time.Second)}, refuse(ErrInvalid, CodeOccurredInFuture)},

		{"step down from PHP to IOP", []Event{referred, intake, admitted},
			StepDown{Patient: alice, To: IOP, Program: "iop-evening", At: yesterday},
			accept(SteppedDown{Patient: alice, From: PHP, To: IOP, Program: "iop-evening", OccurredAt: yesterday})},
		{"step down two levels", []Event{referred, intake, admitted},
			StepDown{Patient: alice, To: Outpatient, Program: "group-center", At: yesterday},
			accept(SteppedDown{Patient: alice, From: PHP, To: Outpatient, Program: "group-center", OccurredAt: yesterday})},
		{"step down to a more intensive level", []Event{referred, intake, admitted},
			StepDown{Patient: alice, To: Residential, Program: "residential"}, refuse(ErrRuleViolation, CodeNotAStepDown)},
		{"step down to the same level", []Event{referred, intake, admitted},
			StepDown{Patient: alice, To: PHP, Program: "php"}, refuse(ErrRuleViolation, CodeNotAStepDown)},
		{"step down before admission", []Event{referred, intake},
			StepDown{Patient: alice, To: IOP, Program: "iop-evening"}, refuse(ErrRuleViolation, CodeNotInCare)},
		{"step down after discharge", []Event{referred, intake, admitted, discharge},
			StepDown{Patient: alice, To: IOP, Program: "iop-evening"}, refuse(ErrRuleViolation, CodePatientDischarged)},
		{"step down dated before the admission", []Event{referred, intake, admitted},
			StepDown{Patient: alice, To: IOP, Program: "iop-evening", At: admitted.OccurredAt.Add(-time.Hour)}, refuse(ErrRuleViolation, CodeOutOfOrder)},
		{"step up from PHP to inpatient", []Event{referred, intake, admitted},
			StepUp{Patient: alice, To: Inpatient, Program: "inpatient-unit", At: yesterday},
			accept(SteppedUp{Patient: alice, From: PHP, To: Inpatient, Program: "inpatient-unit", OccurredAt: yesterday})},
		{"step up to a less intensive level", []Event{referred, intake, admitted},
			StepUp{Patient: alice, To: IOP, Program: "iop-morning"}, refuse(ErrRuleViolation, CodeNotAStepUp)},
		{"step up without a level", []Event{referred, intake, admitted},
			StepUp{Patient: alice, Program: "iop-morning"}, refuse(ErrInvalid, CodeInvalidInput)},
		{"step up after discharge", []Event{referred, intake, admitted, discharge},
			StepUp{Patient: alice, To: Inpatient, Program: "inpatient-unit"}, refuse(ErrRuleViolation, CodePatientDischarged)},

		{"discharge into an alumni group", []Event{referred, intake, admitted},
			Discharge{Patient: alice, Reason: DischargeCompleted, AlumniGroup: "alumni-support", At: yesterday},
			accept(Discharged{Patient: alice, Reason: DischargeCompleted, Level: PHP, Program: "php", AlumniGroup: "alumni-support", OccurredAt: yesterday})},
		{"discharge carries the level left after a step-down", []Event{referred, intake, admitted, SteppedDown{Patient: alice, From: PHP, To: IOP, Program: "iop-morning", OccurredAt: now.Add(-3 * day)}},
			Discharge{Patient: alice, Reason: DischargeDroppedOut, At: yesterday},
			accept(Discharged{Patient: alice, Reason: DischargeDroppedOut, Level: IOP, Program: "iop-morning", OccurredAt: yesterday})},
		{"discharge without a reason", []Event{referred, intake, admitted},
			Discharge{Patient: alice}, refuse(ErrInvalid, CodeInvalidInput)},
		{"discharge before admission", []Event{referred, intake},
			Discharge{Patient: alice, Reason: DischargeOther}, refuse(ErrRuleViolation, CodeNotInCare)},
		{"discharge twice", []Event{referred, intake, admitted, discharge},
			Discharge{Patient: alice, Reason: DischargeOther}, refuse(ErrRuleViolation, CodePatientDischarged)},

		{"readmit after discharge", []Event{referred, intake, admitted, discharge},
			Readmit{Patient: alice, Program: "inpatient-unit", Level: Inpatient, At: yesterday},
			accept(Readmitted{Patient: alice, Program: "inpatient-unit", Level: Inpatient, OccurredAt: yesterday})},
		{"readmit while in care", []Event{referred, intake, admitted},
			Readmit{Patient: alice, Program: "php", Level: PHP}, refuse(ErrRuleViolation, CodeAlreadyInCare)},
		{"readmit someone never admitted", []Event{referred, intake},
			Readmit{Patient: alice, Program: "php", Level: PHP}, refuse(ErrRuleViolation, CodeNotDischarged)},
		{"readmit dated before the discharge", []Event{referred, intake, admitted, discharge},
			Readmit{Patient: alice, Program: "php", Level: PHP, At: discharge.OccurredAt.Add(-time.Hour)}, refuse(ErrRuleViolation, CodeOutOfOrder)},
		{"step down after readmission", []Event{referred, intake, admitted, discharge, Readmitted{Patient: alice, Program: "inpatient-unit", Level: Inpatient, OccurredAt: now.Add(-day)}},
			StepDown{Patient: alice, To: Residential, Program: "residential", At: now},
			accept(SteppedDown{Patient: alice, From: Inpatient, To: Residential, Program: "residential", OccurredAt: now})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := foldPatient(t, tt.history...)
			got, err := p.Decide(tt.cmd, now)
			checkDecision(t, got, err, tt.want)
			if got != nil && got[0].StreamName() != tt.cmd.StreamName() {
				t.Errorf("event stream %s, command stream %s", got[0].StreamName(), tt.cmd.StreamName())
			}
		})
	}
}

func TestPatientStoresClinicalTimeInUTC(t *testing.T) {
	boston := time.FixedZone("EDT", -4*3600)
	at := time.Date(2026, 9, 9, 20, 0, 0, 0, boston)
	got, err := Patient{}.Decide(Refer{Patient: alice, Source: SourceSelf, At: at}, now)
	if err != nil {
		t.Fatal(err)
	}
	occurred := got[0].When()
	if occurred.Location() != time.UTC || !occurred.Equal(at) {
		t.Errorf("OccurredAt %v, want %v in UTC", occurred, at)
	}
}

func TestPatientFold(t *testing.T) {
	readmitted := Readmitted{Patient: alice, Program: "iop-evening", Level: IOP, OccurredAt: now.Add(-day)}
	tests := []struct {
		name    string
		history []Event
		want    Patient
	}{
		{"empty stream", nil, Patient{}},
		{"referred", []Event{referred}, Patient{ID: alice, Status: StatusReferred, Source: SourceSelf, LastMoveAt: referred.OccurredAt}},
		{"assessed", []Event{referred, intake}, Patient{ID: alice, Status: StatusAssessed, Source: SourceSelf, Intake: &intake, LastMoveAt: intake.OccurredAt}},
		{"in care after a step-up and a measure", []Event{referred, intake, admitted,
			SteppedUp{Patient: alice, From: PHP, To: Inpatient, Program: "inpatient-unit", OccurredAt: now.Add(-5 * day)},
			MeasureRecorded{Patient: alice, Instrument: PHQ9, Score: 20, OccurredAt: now}},
			Patient{ID: alice, Status: StatusInCare, Source: SourceSelf, Intake: &intake, Level: Inpatient, Program: "inpatient-unit",
				Episodes: 1, EpisodeStart: admitted.OccurredAt, LastMoveAt: now.Add(-5 * day)}},
		{"discharged", []Event{referred, intake, admitted, discharge},
			Patient{ID: alice, Status: StatusDischarged, Source: SourceSelf, Intake: &intake, Episodes: 1, EpisodeStart: admitted.OccurredAt, LastMoveAt: discharge.OccurredAt}},
		{"readmitted", []Event{referred, intake, admitted, discharge, readmitted},
			Patient{ID: alice, Status: StatusInCare, Source: SourceSelf, Intake: &intake, Level: IOP, Program: "iop-evening",
				Episodes: 2, EpisodeStart: readmitted.OccurredAt, LastMoveAt: readmitted.OccurredAt}},
		{"events of other streams are ignored", []Event{referred, MemberJoined{Group: "g", Patient: alice, OccurredAt: now}},
			Patient{ID: alice, Status: StatusReferred, Source: SourceSelf, LastMoveAt: referred.OccurredAt}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := foldPatient(t, tt.history...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("state\n got: %+v\nwant: %+v", got, tt.want)
			}
		})
	}
}

func TestPatientStatusString(t *testing.T) {
	if StatusInCare.String() != "in_care" || StatusNone.String() != "none" || PatientStatus(99).String() != "invalid" {
		t.Error("status names")
	}
}
