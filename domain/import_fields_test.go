package domain

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestImportFieldsDecode holds the fast readers to encoding/json on the
// optional members imports write (source setting, unknown stay, unknown
// scores and age), which the golden files show only in part.
func TestImportFieldsDecode(t *testing.T) {
	tests := []struct {
		name  string
		event Event
	}{
		{"admission with a source setting", Admitted{Patient: alice, Program: "tedsd-st06", Level: Residential, SourceSetting: "5", OccurredAt: t0}},
		{"readmission with a source setting", Readmitted{Patient: alice, Program: "tedsd", Level: Outpatient, SourceSetting: "7", OccurredAt: t0}},
		{"discharge with an unknown stay", Discharged{Patient: alice, Reason: DischargeDroppedOut, Level: IOP, Program: "tedsd", StayUnknown: true, OccurredAt: t0}},
		{"intake with unknown scores and age", IntakeCompleted{Patient: alice, RecommendedLevel: IOP, ScoresUnknown: true, AgeUnknown: true, OccurredAt: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, data, err := Encode(tt.event)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeData(typ, data, EncodeMetadata(MetadataFor(tt.event, "", "")))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.event) {
				t.Errorf("fast decoder\n got: %#v\nwant: %#v", got, tt.event)
			}
			want := reflect.New(reflect.TypeOf(tt.event))
			if err := json.Unmarshal(data, want.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want.Elem().Interface()) {
				t.Errorf("fast decoder and encoding/json differ\nfast: %#v\njson: %#v", got, want.Elem().Interface())
			}
		})
	}
}

// TestImportFieldsDecide checks that the placeholders of unknown values are
// zero and that source codes stay short and plain.
func TestImportFieldsDecide(t *testing.T) {
	yesterday := now.Add(-day)
	assessed := []Event{referred, intake}
	tests := []struct {
		name    string
		history []Event
		cmd     PatientCommand
		want    decision
	}{
		{"intake with unknown scores and age", []Event{referred},
			CompleteIntake{Patient: alice, RecommendedLevel: IOP, ScoresUnknown: true, AgeUnknown: true, At: yesterday},
			accept(IntakeCompleted{Patient: alice, RecommendedLevel: IOP, ScoresUnknown: true, AgeUnknown: true, OccurredAt: yesterday})},
		{"unknown scores with a score given", []Event{referred},
			CompleteIntake{Patient: alice, PHQ9: 3, RecommendedLevel: IOP, ScoresUnknown: true, At: yesterday},
			refuse(ErrInvalid, CodeInvalidInput)},
		{"unknown age with an age given", []Event{referred},
			CompleteIntake{Patient: alice, RecommendedLevel: IOP, AgeYears: 30, AgeUnknown: true, At: yesterday},
			refuse(ErrInvalid, CodeInvalidInput)},
		{"admission keeps the source setting", assessed,
			Admit{Patient: alice, Program: "tedsd", Level: Residential, SourceSetting: "4", At: yesterday},
			accept(Admitted{Patient: alice, Program: "tedsd", Level: Residential, SourceSetting: "4", OccurredAt: yesterday})},
		{"source setting with punctuation", assessed,
			Admit{Patient: alice, Program: "tedsd", Level: Residential, SourceSetting: "4;x", At: yesterday},
			refuse(ErrInvalid, CodeInvalidInput)},
		{"source setting too long", assessed,
			Admit{Patient: alice, Program: "tedsd", Level: Residential, SourceSetting: strings.Repeat("9", 17), At: yesterday},
			refuse(ErrInvalid, CodeInvalidInput)},
		{"readmission keeps the source setting", []Event{referred, intake, admitted, discharge},
			Readmit{Patient: alice, Program: "tedsd", Level: Outpatient, SourceSetting: "7", At: yesterday},
			accept(Readmitted{Patient: alice, Program: "tedsd", Level: Outpatient, SourceSetting: "7", OccurredAt: yesterday})},
		{"discharge with an unknown stay", []Event{referred, intake, admitted},
			Discharge{Patient: alice, Reason: DischargeDroppedOut, StayUnknown: true, At: yesterday},
			accept(Discharged{Patient: alice, Reason: DischargeDroppedOut, Level: PHP, Program: "php", StayUnknown: true, OccurredAt: yesterday})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := foldPatient(t, tt.history...)
			got, err := p.Decide(tt.cmd, now)
			checkDecision(t, got, err, tt.want)
		})
	}
}
