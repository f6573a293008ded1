package domain

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// TestFastEncodersMatchEncodingJSON holds the hand-written encoders to
// encoding/json's bytes, on the goldens and on random events with strings
// that need escaping, invalid enums, nil and empty byte slices, and times
// in other zones and at odd precisions.
func TestFastEncodersMatchEncodingJSON(t *testing.T) {
	fastPaths := 0
	check := func(t *testing.T, e Event) {
		t.Helper()
		want, wantErr := json.Marshal(e)
		got, ok := encodeFast(e)
		if !ok {
			return // left to encoding/json
		}
		fastPaths++
		if wantErr != nil {
			t.Fatalf("%T: the fast encoder wrote %s where encoding/json fails: %v", e, got, wantErr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%T differs\nfast: %s\njson: %s", e, got, want)
		}
	}
	fast := 0
	for _, e := range canonicalEvents() {
		if _, ok := encodeFast(e); ok {
			fast++
		}
		check(t, e)
	}
	if fast < 9 {
		t.Fatalf("only %d golden events took the fast path", fast)
	}

	fastPaths = 0
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "php-day", "0b7f6a2e-9c1d-4e5f-8a7b-1c2d3e4f5a6b", "a\"b", `back\slash`, "<b>&", "tab\there", "é", "\u2028", "\xff"}
	str := func() string { return strs[rng.IntN(len(strs))] }
	level := func() Level { return Level(rng.IntN(8)) }
	at := func() time.Time {
		t := time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)*int64(rng.IntN(2)))
		switch rng.IntN(4) {
		case 0:
			return t.In(time.FixedZone("x", 3600))
		case 1:
			return t.UTC().Truncate(time.Second)
		}
		return t.UTC()
	}
	bytesOrNil := func() []byte {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return []byte{}
		}
		return []byte(str())
	}
	for range 20000 {
		var personal *SealedPersonal
		if rng.IntN(2) == 0 {
			personal = &SealedPersonal{KeyID: str(), Nonce: bytesOrNil(), Ciphertext: bytesOrNil()}
		}
		for _, e := range []Event{
			Referred{Patient: PatientID(str()), Source: ReferralSource(rng.IntN(12)), Personal: personal, OccurredAt: at()},
			IntakeCompleted{Patient: PatientID(str()), PHQ9: rng.IntN(40) - 5, GAD7: rng.IntN(30), RecommendedLevel: level(),
				PrimaryCare: rng.IntN(2) == 0, IndividualTherapy: rng.IntN(2) == 0, AgeYears: rng.IntN(120),
				ScoresUnknown: rng.IntN(2) == 0, AgeUnknown: rng.IntN(2) == 0, OccurredAt: at()},
			Admitted{Patient: PatientID(str()), Program: ProgramID(str()), Level: level(), SourceSetting: str(), OccurredAt: at()},
			Readmitted{Patient: PatientID(str()), Program: ProgramID(str()), Level: level(), SourceSetting: str(), OccurredAt: at()},
			MeasureRecorded{Patient: PatientID(str()), Instrument: Instrument(rng.IntN(4)), Score: rng.IntN(30), OccurredAt: at()},
			SteppedDown{Patient: PatientID(str()), From: level(), To: level(), Program: ProgramID(str()), OccurredAt: at()},
			SteppedUp{Patient: PatientID(str()), From: level(), To: level(), Program: ProgramID(str()), OccurredAt: at()},
			Discharged{Patient: PatientID(str()), Reason: DischargeReason(rng.IntN(10)), Level: level(), Program: ProgramID(str()),
				AlumniGroup: GroupID(str()), StayUnknown: rng.IntN(2) == 0, OccurredAt: at()},
			AttendanceRecorded{Group: GroupID(str()), Session: SessionID(str()), Patient: PatientID(str()),
				Status: AttendanceStatus(rng.IntN(6)), OccurredAt: at()},
		} {
			check(t, e)
		}
	}
	if fastPaths < 5000 {
		t.Fatalf("only %d of 180,000 random events took the fast path", fastPaths)
	}
}
