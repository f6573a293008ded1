package projections

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
)

func TestApplyReportsTheTopicsEachEventChanges(t *testing.T) {
	p := pid(1)
	census, group, patient := "census", "group:"+string(cbt), "patient:"+string(p)
	tests := []struct {
		name  string
		event domain.Event
		want  []string
	}{
		{"ProgramCreated", programCreated(phpDay, domain.PHP, 10), []string{census}},
		{"ProgramChanged", domain.ProgramChanged{Program: phpDay, ProgramSpec: domain.ProgramSpec{Name: "x", Level: domain.PHP, Capacity: 1}}, []string{census}},
		{"GroupCreated", domain.GroupCreated{Group: cbt, GroupSpec: cbtSpec()}, []string{census, group}},
		{"GroupChanged", domain.GroupChanged{Group: cbt, GroupSpec: cbtSpec()}, []string{census, group}},
		{"Referred", domain.Referred{Patient: p, Source: domain.SourceSelf}, []string{census, patient}},
		{"IntakeCompleted", domain.IntakeCompleted{Patient: p, RecommendedLevel: domain.IOP}, []string{census, patient}},
		{"Admitted", domain.Admitted{Patient: p, Program: phpDay, Level: domain.PHP}, []string{census, patient}},
		{"Readmitted", domain.Readmitted{Patient: p, Program: phpDay, Level: domain.PHP}, []string{census, patient}},
		{"SteppedDown", domain.SteppedDown{Patient: p, From: domain.PHP, To: domain.IOP, Program: iopEvening}, []string{census, patient}},
		{"SteppedUp", domain.SteppedUp{Patient: p, From: domain.IOP, To: domain.PHP, Program: phpDay}, []string{census, patient}},
		{"Discharged", domain.Discharged{Patient: p, Reason: domain.DischargeCompleted, Level: domain.PHP, Program: phpDay}, []string{census, patient}},
		{"MeasureRecorded", domain.MeasureRecorded{Patient: p, Instrument: domain.PHQ9, Score: 3}, []string{patient}},
		{"MemberJoined", domain.MemberJoined{Group: cbt, Patient: p}, []string{census, group, patient}},
		{"MemberWaitlisted", domain.MemberWaitlisted{Group: cbt, Patient: p}, []string{census, group, patient}},
		{"WaitlistPromoted", domain.WaitlistPromoted{Group: cbt, Patient: p}, []string{census, group, patient}},
		{"WaitlistLeft", domain.WaitlistLeft{Group: cbt, Patient: p, Reason: domain.LeaveOther}, []string{census, group, patient}},
		{"MemberLeft", domain.MemberLeft{Group: cbt, Patient: p, Reason: domain.LeaveOther}, []string{census, group, patient}},
		{"GroupCompleted", domain.GroupCompleted{Group: cbt, Patient: p}, []string{census, group, patient}},
		{"SessionHeld", domain.SessionHeld{Group: cbt, Session: "s1", Date: date(0)}, []string{group}},
		{"AttendanceRecorded", domain.AttendanceRecorded{Group: cbt, Session: "s1", Patient: p, Status: domain.Present}, []string{group, patient}},
		{"ModuleCompleted", domain.ModuleCompleted{Group: cbt, Patient: p, Module: 1}, []string{group, patient}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.event.EventType()] = true
		t.Run(tt.name, func(t *testing.T) {
			m := NewModels(time.UTC)
			changed := TopicSet{}
			m.Apply(tt.event, changed)
			if got := changed.Names(); !slices.Equal(got, tt.want) {
				t.Errorf("topics %v, want %v", got, tt.want)
			}
		})
	}
	for _, typ := range domain.EventTypes() {
		if !covered[typ] {
			t.Errorf("event type %s has no topics case", typ)
		}
	}
}

func TestParseTopic(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Topic
		wantErr bool
	}{
		{"census", "census", Topic{Kind: TopicCensus}, false},
		{"group", "group:cbt-anxiety", GroupTopic(cbt), false},
		{"patient, canonicalized", "patient:" + "ABCDEF00-0000-4000-8000-000000000001", PatientTopic("abcdef00-0000-4000-8000-000000000001"), false},
		{"unknown kind", "program:php-day", Topic{}, true},
		{"bad group id", "group:../etc", Topic{}, true},
		{"bad patient id", "patient:jane", Topic{}, true},
		{"empty", "", Topic{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTopic(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseTopic(%q) = %+v, %v", tt.in, got, err)
			}
			if err != nil && !errors.Is(err, ErrUnknownTopic) {
				t.Errorf("error %v is not ErrUnknownTopic", err)
			}
			if err == nil && tt.in != "patient:ABCDEF00-0000-4000-8000-000000000001" && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestModelsEncodeIsDeterministicAndRoundTrips(t *testing.T) {
	a, _ := fold(t, story()...)
	b, _ := fold(t, story()...)
	encoded := stateBytes(t, a)
	if !bytes.Equal(encoded, stateBytes(t, b)) {
		t.Fatal("the same log folded twice encodes differently")
	}
	table, body, err := a.encode()
	if err != nil {
		t.Fatal(err)
	}
	restored, err := decodeModels(time.UTC, table, body)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !bytes.Equal(stateBytes(t, restored), encoded) {
		t.Fatal("a decoded snapshot encodes differently")
	}
	now := at(101, 12)
	views := func(m *Models) string {
		var out string
		out += mustJSON(t, m.Census.View(now))
		out += mustJSON(t, m.Patients.Patients(PatientFilter{}))
		for _, g := range []domain.GroupID{cbt, process} {
			v, _ := m.Rosters.Roster(g)
			out += mustJSON(t, v)
		}
		for n := 1; n <= 4; n++ {
			v, _ := m.Journeys.Journey(pid(n))
			out += mustJSON(t, v)
		}
		return out
	}
	if got, want := views(restored), views(a); got != want {
		t.Errorf("views after a round trip differ:\n got %s\nwant %s", got, want)
	}
	// Folding on from the restored state gives what folding on from the
	// original gives.
	more := []domain.Event{
		domain.AttendanceRecorded{Group: cbt, Session: "2026-04-14-1730", Patient: pid(1), Status: domain.Excused, OccurredAt: at(130, 8)},
		domain.Discharged{Patient: pid(1), Reason: domain.DischargeCompleted, Level: domain.IOP, Program: iopEvening, OccurredAt: at(131, 9)},
	}
	for _, e := range more {
		a.Apply(e, nil)
		restored.Apply(e, nil)
	}
	if !bytes.Equal(stateBytes(t, restored), stateBytes(t, a)) {
		t.Error("folding on from a restored state diverges")
	}
}

func TestDecodeModelsRejectsDamageWithoutPanicking(t *testing.T) {
	m, _ := fold(t, story()...)
	table, body, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		table, body []byte
	}{
		{"truncated body", table, body[:len(body)/2]},
		{"body with trailing bytes", table, append(slices.Clone(body), 0)},
		{"truncated table", table[:len(table)-3], body},
		{"empty table", nil, body},
		{"huge count", table, append([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, body...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeModels(time.UTC, tt.table, tt.body); !errors.Is(err, errCorrupt) {
				t.Errorf("decode error %v, want errCorrupt", err)
			}
		})
	}
	// Every truncation of the body fails cleanly.
	for n := 0; n < len(body); n++ {
		if _, err := decodeModels(time.UTC, table, body[:n]); err == nil {
			t.Fatalf("a body truncated to %d of %d bytes decoded", n, len(body))
		}
	}
}

// TestSealedPersonalIsFullyEncoded fails when the domain adds a field to
// SealedPersonal that the snapshot does not store yet.
func TestSealedPersonalIsFullyEncoded(t *testing.T) {
	typ := reflect.TypeFor[domain.SealedPersonal]()
	var fields []string
	for f := range typ.Fields() {
		fields = append(fields, f.Name)
	}
	if want := []string{"KeyID", "Nonce", "Ciphertext"}; !slices.Equal(fields, want) {
		t.Fatalf("SealedPersonal has fields %v; the patient list encodes %v: update PatientList.encode/decode", fields, want)
	}
}

func TestUnrenderableDefinitionIsIgnored(t *testing.T) {
	broken := cbtSpec()
	broken.Modality = 0 // what a GroupChanged missing its modality decodes to
	m, _ := fold(t, then(catalogEvents(),
		domain.GroupChanged{Group: cbt, GroupSpec: broken, OccurredAt: at(0, 9)},
		domain.GroupCreated{Group: "broken-group", GroupSpec: broken, OccurredAt: at(0, 9)},
		domain.MemberJoined{Group: "broken-group", Patient: pid(1), OccurredAt: at(0, 10)},
	)...)
	v, ok := m.Rosters.Roster(cbt)
	if !ok || v.Definition == nil || v.Definition.Modality != domain.ModalitySkills {
		t.Errorf("cbt definition %+v; want the last renderable one kept", v.Definition)
	}
	v, ok = m.Rosters.Roster("broken-group")
	if !ok || v.Definition != nil || len(v.Members) != 1 {
		t.Errorf("broken group roster %+v, %v; want its members without a definition", v, ok)
	}
	mustJSON(t, v)
	mustJSON(t, m.Census.View(at(0, 12)))
	stateBytes(t, m)
}
