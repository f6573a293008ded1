package workload

import (
	"strings"
	"testing"

	"github.com/continuum-care/continuum/domain"
)

// foldOf folds the first n events of the history with the given seed.
func foldOf(t *testing.T, seed uint64, n int) Fold {
	t.Helper()
	h := NewHistory(seed)
	var f Fold
	for f.Events < n {
		for _, e := range h.Next().Events {
			f.Apply(e)
		}
	}
	return f
}

func TestHistoryIsDeterministic(t *testing.T) {
	a, b, c := foldOf(t, 1, 20_000), foldOf(t, 1, 20_000), foldOf(t, 2, 20_000)
	if a.Digest() != b.Digest() {
		t.Errorf("same seed, different digests: %s and %s", a.Digest(), b.Digest())
	}
	if a.Digest() == c.Digest() {
		t.Errorf("different seeds, same digest %s", a.Digest())
	}
}

func TestHistoryIsRealistic(t *testing.T) {
	f := foldOf(t, 7, 50_000)
	if f.Admissions == 0 || f.Discharges != f.Admissions {
		t.Errorf("admissions %d, discharges %d: every stay should end in a discharge", f.Admissions, f.Discharges)
	}
	for level, n := range f.Census {
		if n != 0 {
			t.Errorf("census at level %d is %d after every stay ended", level, n)
		}
	}
	attendance := f.Attendance[domain.Present] + f.Attendance[domain.Absent] + f.Attendance[domain.Excused]
	measures := f.ScoreCount[domain.PHQ9] + f.ScoreCount[domain.GAD7]
	if attendance < f.Events/3 || measures < f.Events/5 || attendance+measures > f.Events*95/100 {
		t.Errorf("mix of %d events: %d attendance, %d measures; want attendance first, then measures, then the rest",
			f.Events, attendance, measures)
	}
	if f.StepDowns == 0 || f.Sessions == 0 {
		t.Errorf("no step-downs (%d) or sessions (%d)", f.StepDowns, f.Sessions)
	}
}

func TestEveryEventRoundTripsThroughTheCodec(t *testing.T) {
	h := NewHistory(3)
	seen := map[string]bool{}
	for range 2 * (patientsPerCohort + groupsPerCohort) {
		b := h.Next()
		for _, e := range b.Events {
			if e.StreamName() != b.Stream {
				t.Fatalf("%s in a batch of stream %s belongs to %s", e.EventType(), b.Stream, e.StreamName())
			}
			eventType, data, err := domain.Encode(e)
			if err != nil {
				t.Fatalf("encode %s: %v", e.EventType(), err)
			}
			back, err := domain.DecodeData(eventType, data, domain.EncodeMetadata(domain.MetadataFor(e, "", "")))
			if err != nil {
				t.Fatalf("decode %s: %v", eventType, err)
			}
			if _, again, _ := domain.Encode(back); string(again) != string(data) {
				t.Fatalf("%s does not round-trip:\n%s\n%s", eventType, data, again)
			}
			seen[eventType] = true
		}
	}
	for _, want := range []string{"Referred", "IntakeCompleted", "Admitted", "MeasureRecorded", "SteppedDown", "Discharged",
		"GroupCreated", "MemberJoined", "SessionHeld", "AttendanceRecorded", "GroupCompleted"} {
		if !seen[want] {
			t.Errorf("two cohorts hold no %s", want)
		}
	}
}

func TestNextOfTakesOnlyTheAskedKind(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
	}{
		{name: "patients", prefix: domain.PatientStreamPrefix},
		{name: "groups", prefix: domain.GroupStreamPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHistory(4)
			streams := map[string]bool{}
			for range 100 {
				b := h.NextOf(tt.prefix)
				if !strings.HasPrefix(b.Stream, tt.prefix) || len(b.Events) == 0 {
					t.Fatalf("NextOf(%q) gave stream %q with %d events", tt.prefix, b.Stream, len(b.Events))
				}
				if streams[b.Stream] {
					t.Fatalf("stream %q given twice", b.Stream)
				}
				streams[b.Stream] = true
			}
		})
	}
}
