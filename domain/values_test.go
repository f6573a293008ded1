package domain

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestLevelOrderAndParsing(t *testing.T) {
	tests := []struct {
		name        string
		a, b        Level
		moreIntense bool
		lessIntense bool
	}{
		{"inpatient is more intensive than residential", Inpatient, Residential, true, false},
		{"php is more intensive than iop", PHP, IOP, true, false},
		{"outpatient is less intensive than iop", Outpatient, IOP, false, true},
		{"a level is not more intensive than itself", IOP, IOP, false, false},
		{"the zero level compares with nothing", 0, Outpatient, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.MoreIntensiveThan(tt.b); got != tt.moreIntense {
				t.Errorf("%v.MoreIntensiveThan(%v) = %v", tt.a, tt.b, got)
			}
			if got := tt.a.LessIntensiveThan(tt.b); got != tt.lessIntense {
				t.Errorf("%v.LessIntensiveThan(%v) = %v", tt.a, tt.b, got)
			}
		})
	}
	for _, l := range Levels() {
		got, err := ParseLevel(l.String())
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
		b, err := json.Marshal(l)
		if err != nil || string(b) != `"`+l.String()+`"` {
			t.Errorf("json.Marshal(%v) = %s, %v", l, b, err)
		}
	}
	for _, bad := range []string{"", "PHP", "day", "php "} {
		if _, err := ParseLevel(bad); !errors.Is(err, ErrInvalid) || ErrorCode(err) != CodeInvalidInput {
			t.Errorf("ParseLevel(%q) error %v, want invalid_input", bad, err)
		}
	}
	var l Level
	if err := json.Unmarshal([]byte(`"residential"`), &l); err != nil || l != Residential {
		t.Errorf("json.Unmarshal = %v, %v", l, err)
	}
	if _, err := json.Marshal(Level(0)); err == nil {
		t.Error("marshalling the zero level succeeded")
	}
}

func TestEnumsRoundTrip(t *testing.T) {
	type enum interface {
		String() string
		Valid() bool
	}
	tests := []struct {
		name   string
		values []enum
		parse  func(string) (enum, error)
	}{
		{"referral source", []enum{SourceAccessLine, SourceSelf, SourcePrimaryCare, SourcePsychiatry, SourceEmergency, SourceHospital, SourceCommunity, SourceOther},
			func(s string) (enum, error) { return ParseReferralSource(s) }},
		{"discharge reason", []enum{DischargeCompleted, DischargeAgainstAdvice, DischargeDroppedOut, DischargeTransferred, DischargeAdministrative, DischargeDeath, DischargeOther},
			func(s string) (enum, error) { return ParseDischargeReason(s) }},
		{"leave reason", []enum{LeaveWithdrew, LeaveDischarged, LeaveLevelChanged, LeaveNonAttendance, LeaveClinicalDecision, LeaveTransferred, LeaveOther},
			func(s string) (enum, error) { return ParseLeaveReason(s) }},
		{"attendance", []enum{Present, Absent, Excused}, func(s string) (enum, error) { return ParseAttendanceStatus(s) }},
		{"modality", []enum{ModalityProcess, ModalityPsychoeducational, ModalitySkills, ModalityRelapsePrevention, ModalitySupport},
			func(s string) (enum, error) { return ParseModality(s) }},
		{"entry policy", []enum{EntryAnyTime, EntryModuleStart, EntryRolling}, func(s string) (enum, error) { return ParseEntryPolicy(s) }},
		{"cadence", []enum{Weekly, Monthly}, func(s string) (enum, error) { return ParseCadence(s) }},
		{"group status", []enum{Running, NotRunning}, func(s string) (enum, error) { return ParseGroupStatus(s) }},
		{"weekday", []enum{Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday}, func(s string) (enum, error) { return ParseWeekday(s) }},
		{"instrument", []enum{PHQ9, GAD7}, func(s string) (enum, error) { return ParseInstrument(s) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			for _, v := range tt.values {
				if !v.Valid() || seen[v.String()] {
					t.Errorf("%v invalid or duplicate name", v)
				}
				seen[v.String()] = true
				got, err := tt.parse(v.String())
				if err != nil || got != v {
					t.Errorf("parse(%q) = %v, %v", v.String(), got, err)
				}
			}
			if _, err := tt.parse("nonsense"); !errors.Is(err, ErrInvalid) {
				t.Errorf("parse(nonsense) error %v", err)
			}
		})
	}
	if WeekdayOf(time.Sunday) != Sunday || Sunday.TimeWeekday() != time.Sunday || Monday.TimeWeekday() != time.Monday {
		t.Error("weekday conversion")
	}
}

func TestInstrumentFacts(t *testing.T) {
	tests := []struct {
		name                              string
		in                                Instrument
		loinc                             string
		max, cutoff, reliable, remissionB int
	}{
		{"PHQ-9", PHQ9, "44261-6", 27, 10, 6, 5},
		{"GAD-7", GAD7, "70274-6", 21, 8, 4, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in.LOINC() != tt.loinc || tt.in.MaxScore() != tt.max || tt.in.ClinicalCutoff() != tt.cutoff ||
				tt.in.ReliableChange() != tt.reliable || tt.in.RemissionBelow() != tt.remissionB {
				t.Errorf("facts of %v", tt.in)
			}
			if !tt.in.InRange(0) || !tt.in.InRange(tt.max) || tt.in.InRange(-1) || tt.in.InRange(tt.max+1) {
				t.Errorf("range of %v", tt.in)
			}
			if got, err := InstrumentByLOINC(tt.loinc); err != nil || got != tt.in {
				t.Errorf("InstrumentByLOINC(%s) = %v, %v", tt.loinc, got, err)
			}
		})
	}
	if Instrument(0).InRange(0) || Instrument(9).LOINC() != "" {
		t.Error("an invalid instrument has facts")
	}
}

func TestIDs(t *testing.T) {
	tests := []struct {
		name    string
		parse   func(string) (string, error)
		input   string
		want    string
		invalid bool
	}{
		{"canonical UUID", func(s string) (string, error) { p, err := ParsePatientID(s); return string(p), err }, string(alice), string(alice), false},
		{"upper-case UUID is canonicalized", func(s string) (string, error) { p, err := ParsePatientID(s); return string(p), err }, "0B9F3C2E-6F1A-4D5B-9C8E-1A2B3C4D5E6F", string(alice), false},
		{"UUID without dashes", func(s string) (string, error) { p, err := ParsePatientID(s); return string(p), err }, "0b9f3c2e6f1a4d5b9c8e1a2b3c4d5e6f", "", true},
		{"UUID with a non-hex digit", func(s string) (string, error) { p, err := ParsePatientID(s); return string(p), err }, "0b9f3c2e-6f1a-4d5b-9c8e-1a2b3c4d5e6g", "", true},
		{"UUID with misplaced dash", func(s string) (string, error) { p, err := ParsePatientID(s); return string(p), err }, "0b9f3c2e6-f1a-4d5b-9c8e-1a2b3c4d5e6f", "", true},
		{"group slug", func(s string) (string, error) { g, err := ParseGroupID(s); return string(g), err }, "cbt-anxiety", "cbt-anxiety", false},
		{"group slug with capital", func(s string) (string, error) { g, err := ParseGroupID(s); return string(g), err }, "CBT-anxiety", "", true},
		{"group slug with double dash", func(s string) (string, error) { g, err := ParseGroupID(s); return string(g), err }, "cbt--anxiety", "", true},
		{"group slug ending in dash", func(s string) (string, error) { g, err := ParseGroupID(s); return string(g), err }, "cbt-", "", true},
		{"empty program", func(s string) (string, error) { p, err := ParseProgramID(s); return string(p), err }, "", "", true},
		{"program slug", func(s string) (string, error) { p, err := ParseProgramID(s); return string(p), err }, "iop-evening", "iop-evening", false},
		{"session slug", func(s string) (string, error) { p, err := ParseSessionID(s); return string(p), err }, "2026-09-01-1730", "2026-09-01-1730", false},
		{"session with slash", func(s string) (string, error) { p, err := ParseSessionID(s); return string(p), err }, "2026/09/01", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.input)
			if tt.invalid {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if got := NewSessionID(Date{2026, 9, 1}, 17*60+30); got != "2026-09-01-1730" || !got.Valid() {
		t.Errorf("NewSessionID = %q", got)
	}
}

func TestStreamNames(t *testing.T) {
	if s := PatientStream(alice); s != "patient-"+string(alice) {
		t.Errorf("PatientStream = %s", s)
	}
	if id, err := PatientIDFromStream(PatientStream(alice)); err != nil || id != alice {
		t.Errorf("PatientIDFromStream = %s, %v", id, err)
	}
	if id, err := GroupIDFromStream(GroupStream("cbt-anxiety")); err != nil || id != "cbt-anxiety" {
		t.Errorf("GroupIDFromStream = %s, %v", id, err)
	}
	if id, err := ProgramIDFromStream(ProgramStream("php")); err != nil || id != "php" {
		t.Errorf("ProgramIDFromStream = %s, %v", id, err)
	}
	for _, bad := range []string{"group-cbt-anxiety", "patient-nope", "$all", ""} {
		if _, err := PatientIDFromStream(bad); err == nil {
			t.Errorf("PatientIDFromStream(%q) accepted", bad)
		}
	}
	if _, err := GroupIDFromStream(PatientStream(alice)); err == nil {
		t.Error("GroupIDFromStream accepted a patient stream")
	}
	for _, e := range canonicalEvents() {
		prefix := PatientStreamPrefix
		switch e.(type) {
		case GroupCreated, GroupChanged, MemberJoined, MemberWaitlisted, WaitlistPromoted, WaitlistLeft, MemberLeft,
			SessionHeld, AttendanceRecorded, ModuleCompleted, GroupCompleted:
			prefix = GroupStreamPrefix
		case ProgramCreated, ProgramChanged:
			prefix = ProgramStreamPrefix
		}
		if s := e.StreamName(); len(s) <= len(prefix) || s[:len(prefix)] != prefix {
			t.Errorf("%s stream %q, want prefix %q", e.EventType(), s, prefix)
		}
		if !e.When().Equal(t0) && e.EventType() != "AttendanceRecorded" {
			t.Errorf("%s When = %v", e.EventType(), e.When())
		}
	}
}

func TestDateAndClock(t *testing.T) {
	d, err := ParseDate("2026-12-01")
	if err != nil || d != (Date{2026, time.December, 1}) || d.String() != "2026-12-01" || d.Weekday() != Tuesday {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	if d.AddDays(31) != (Date{2027, time.January, 1}) || d.AddDays(-1) != (Date{2026, time.November, 30}) {
		t.Error("AddDays across month and year")
	}
	if d.DaysSince(Date{2026, time.September, 1}) != 91 || !d.After(Date{2026, 9, 1}) || d.Before(d) {
		t.Error("day arithmetic")
	}
	if DateOf(time.Date(2026, 3, 1, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))) != (Date{2026, time.March, 1}) {
		t.Error("DateOf must use the time's own location")
	}
	for _, bad := range []string{"2026-13-01", "01/12/2026", ""} {
		if _, err := ParseDate(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	c, err := ParseClockTime("09:05")
	if err != nil || c != 9*60+5 || c.String() != "09:05" {
		t.Errorf("ParseClockTime = %v, %v", c, err)
	}
	for _, bad := range []string{"24:00", "9:05", "09:60", "0905", "ab:cd"} {
		if _, err := ParseClockTime(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseClockTime(%q) accepted", bad)
		}
	}
	var s Slot
	if err := json.Unmarshal([]byte(`{"day":"friday","start":"15:00","end":"16:15","weekOfMonth":1}`), &s); err != nil ||
		s != (Slot{Day: Friday, Start: 15 * 60, End: 16*60 + 15, WeekOfMonth: 1}) {
		t.Errorf("slot = %+v, %v", s, err)
	}
}
