package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/google/uuid"
)

// day0 is a Monday, the first day of the fixture's module cycle.
var day0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// at is hour h of day d of the fixture's calendar.
func at(d, h int) time.Time { return day0.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }

// date is day d of the fixture's calendar.
func date(d int) domain.Date { return domain.DateOf(at(d, 0)) }

// pid is the nth fixture patient.
func pid(n int) domain.PatientID {
	return domain.PatientID(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
}

// Fixture catalog: two programs, a module-start group with two seats and
// an open-ended group.
const (
	phpDay     domain.ProgramID = "php-day"
	iopEvening domain.ProgramID = "iop-evening"
	cbt        domain.GroupID   = "cbt-anxiety"
	process    domain.GroupID   = "process-monday"
)

func programCreated(id domain.ProgramID, level domain.Level, capacity int) domain.ProgramCreated {
	return domain.ProgramCreated{Program: id, ProgramSpec: domain.ProgramSpec{Name: "Program " + string(id), Level: level, Capacity: capacity}, OccurredAt: at(-30, 8)}
}

func cbtSpec() domain.GroupSpec {
	return domain.GroupSpec{
		Name: "CBT for anxiety", Modality: domain.ModalitySkills, Level: domain.IOP, Program: iopEvening,
		Capacity: 2, Status: domain.Running, Cadence: domain.Weekly,
		Slots:      []domain.Slot{{Day: domain.Tuesday, Start: 17*60 + 30, End: 18*60 + 45}},
		Modules:    []domain.Module{{Name: "Psychoeducation", Weeks: 6}, {Name: "Behavioral change", Weeks: 6}},
		CycleStart: date(0), Entry: domain.EntryModuleStart,
	}
}

func processSpec() domain.GroupSpec {
	return domain.GroupSpec{
		Name: "Process group", Modality: domain.ModalityProcess, Level: domain.Outpatient,
		Capacity: 8, Status: domain.Running, Cadence: domain.Weekly,
		Slots: []domain.Slot{{Day: domain.Monday, Start: 10 * 60, End: 11 * 60}},
		Entry: domain.EntryAnyTime,
	}
}

// catalogEvents defines the fixture's programs and groups.
func catalogEvents() []domain.Event {
	return []domain.Event{
		programCreated(phpDay, domain.PHP, 20),
		programCreated(iopEvening, domain.IOP, 15),
		domain.GroupCreated{Group: cbt, GroupSpec: cbtSpec(), OccurredAt: at(-30, 9)},
		domain.GroupCreated{Group: process, GroupSpec: processSpec(), OccurredAt: at(-30, 9)},
	}
}

func sealed(n int) *domain.SealedPersonal {
	return &domain.SealedPersonal{KeyID: fmt.Sprintf("key-%d", n), Nonce: []byte{1, 2, 3}, Ciphertext: []byte{byte(n), 0xEE, 0xFF}}
}

// admittedPatient refers, assesses and admits patient n to PHP on day d.
func admittedPatient(n, d int) []domain.Event {
	p := pid(n)
	return []domain.Event{
		domain.Referred{Patient: p, Source: domain.SourcePrimaryCare, Personal: sealed(n), OccurredAt: at(d, 8)},
		domain.IntakeCompleted{Patient: p, PHQ9: 18, GAD7: 14, RecommendedLevel: domain.PHP, AgeYears: 40, OccurredAt: at(d, 9)},
		domain.Admitted{Patient: p, Program: phpDay, Level: domain.PHP, OccurredAt: at(d, 10)},
	}
}

// story is a small history touching every event type.
func story() []domain.Event {
	var s []domain.Event
	s = append(s, catalogEvents()...)
	s = append(s, admittedPatient(1, 0)...)
	s = append(s, admittedPatient(2, 1)...)
	s = append(s, admittedPatient(3, 2)...)
	s = append(s,
		domain.MeasureRecorded{Patient: pid(1), Instrument: domain.PHQ9, Score: 12, OccurredAt: at(7, 9)},
		domain.SteppedDown{Patient: pid(1), From: domain.PHP, To: domain.IOP, Program: iopEvening, OccurredAt: at(8, 9)},
		domain.MemberJoined{Group: cbt, Patient: pid(1), Module: 2, OccurredAt: at(42, 9)},
		domain.MemberJoined{Group: cbt, Patient: pid(2), Module: 2, OccurredAt: at(42, 10)},
		domain.MemberWaitlisted{Group: cbt, Patient: pid(3), OccurredAt: at(43, 9)},
		domain.SessionHeld{Group: cbt, Session: "2026-04-14-1730", Date: date(43), Module: 2, OccurredAt: at(43, 17)},
		domain.AttendanceRecorded{Group: cbt, Session: "2026-04-14-1730", Patient: pid(1), Status: domain.Present, OccurredAt: at(44, 8)},
		domain.AttendanceRecorded{Group: cbt, Session: "2026-04-14-1730", Patient: pid(2), Status: domain.Absent, OccurredAt: at(44, 8)},
		domain.ModuleCompleted{Group: cbt, Patient: pid(1), Module: 2, OccurredAt: at(84, 18)},
		domain.MemberLeft{Group: cbt, Patient: pid(2), Reason: domain.LeaveWithdrew, OccurredAt: at(85, 9)},
		domain.WaitlistPromoted{Group: cbt, Patient: pid(3), Module: 1, OccurredAt: at(85, 9)},
		domain.SteppedUp{Patient: pid(2), From: domain.PHP, To: domain.Residential, Program: "residential-house", OccurredAt: at(86, 9)},
		domain.Discharged{Patient: pid(3), Reason: domain.DischargeCompleted, Level: domain.PHP, Program: phpDay, OccurredAt: at(90, 9)},
		domain.Readmitted{Patient: pid(3), Program: phpDay, Level: domain.PHP, OccurredAt: at(100, 9)},
		domain.MemberWaitlisted{Group: process, Patient: pid(4), OccurredAt: at(100, 9)},
		domain.WaitlistLeft{Group: process, Patient: pid(4), Reason: domain.LeaveOther, OccurredAt: at(101, 9)},
		domain.GroupChanged{Group: process, GroupSpec: func() domain.GroupSpec { s := processSpec(); s.Capacity = 6; return s }(), OccurredAt: at(101, 10)},
		domain.ProgramChanged{Program: phpDay, ProgramSpec: domain.ProgramSpec{Name: "PHP day", Level: domain.PHP, Capacity: 25}, OccurredAt: at(101, 11)},
		domain.GroupCompleted{Group: cbt, Patient: pid(1), OccurredAt: at(126, 18)},
	)
	return s
}

// then returns a copy of history followed by more, so table cases built
// from one base never share a backing array.
func then(history []domain.Event, more ...domain.Event) []domain.Event {
	return append(slices.Clone(history), more...)
}

// fold applies events to fresh models and returns the topics they changed.
func fold(t *testing.T, events ...domain.Event) (*Models, TopicSet) {
	t.Helper()
	m := NewModels(time.UTC)
	changed := TopicSet{}
	for _, e := range events {
		m.Apply(e, changed)
	}
	return m, changed
}

// stateBytes is the models' encoded state: what must be identical for the
// same log however it was folded.
func stateBytes(t testing.TB, m *Models) []byte {
	t.Helper()
	table, body, err := m.encode()
	if err != nil {
		t.Fatalf("encode models: %v", err)
	}
	return append(table, body...)
}

// eventData encodes events as the command layer stores them.
func eventData(t testing.TB, events ...domain.Event) []eventstore.EventData {
	t.Helper()
	out := make([]eventstore.EventData, 0, len(events))
	for _, e := range events {
		typ, data, err := domain.Encode(e)
		if err != nil {
			t.Fatalf("encode %T: %v", e, err)
		}
		out = append(out, eventstore.EventData{
			ID: uuid.New(), Type: typ, ContentType: eventstore.ContentTypeJSON, Data: data,
			Metadata: domain.EncodeMetadata(domain.MetadataFor(e, "", "")),
		})
	}
	return out
}

// appendEvents appends each event to its stream and returns the position
// of the last one.
func appendEvents(t testing.TB, s eventstore.Store, events ...domain.Event) eventstore.Position {
	t.Helper()
	var last eventstore.Position
	for _, e := range events {
		res, err := s.Append(context.Background(), e.StreamName(), eventstore.Any, eventData(t, e)...)
		if err != nil {
			t.Fatalf("append %s: %v", e.EventType(), err)
		}
		last = res.Position
	}
	return last
}

// appendRaw appends one event with arbitrary bytes.
func appendRaw(t testing.TB, s eventstore.Store, stream, typ string, data []byte) eventstore.Position {
	t.Helper()
	res, err := s.Append(context.Background(), stream, eventstore.Any, eventstore.EventData{ID: uuid.New(), Type: typ, Data: data, Metadata: []byte(`{"v":1}`)})
	if err != nil {
		t.Fatalf("append %s: %v", typ, err)
	}
	return res.Position
}

// logBuffer collects log lines for assertions; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// startRunner starts a runner and stops it when the test ends.
func startRunner(t *testing.T, opts Options) *Runner {
	t.Helper()
	r, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return r
}

// waitReady waits for the runner to catch up, failing the test after a
// generous bound (a hang, not a performance threshold).
func waitReady(t *testing.T, r *Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.WaitReady(ctx); err != nil {
		t.Fatalf("runner not ready: %v", err)
	}
}

// waitPosition waits until the runner has considered pos.
func waitPosition(t *testing.T, r *Runner, pos eventstore.Position) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for r.Position().Less(pos) {
		if time.Now().After(deadline) {
			t.Fatalf("runner stuck at %v, want %v", r.Position(), pos)
		}
		time.Sleep(time.Millisecond)
	}
}

// mustJSON renders a view for comparisons.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}
