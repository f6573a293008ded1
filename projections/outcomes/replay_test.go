package outcomes

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/projections/replay"
	"github.com/google/uuid"
)

// storeWith appends events to a fresh in-memory store, one append each, in
// order; estimated events get metadata marking their times as estimates.
func storeWith(t *testing.T, estimated bool, events ...domain.Event) eventstore.Store {
	t.Helper()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	for _, e := range events {
		typ, data, err := domain.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		m := domain.MetadataFor(e, "", "")
		m.Estimated = estimated
		_, err = store.Append(context.Background(), e.StreamName(), eventstore.Any, eventstore.EventData{
			ID: uuid.New(), Type: typ, ContentType: eventstore.ContentTypeJSON, Data: data, Metadata: domain.EncodeMetadata(m),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func TestReplayEqualsTheFold(t *testing.T) {
	events := clinicHistory(t)
	// Events nobody folds are still counted as replayed.
	events = append(events,
		domain.Referred{Patient: dora, Source: domain.SourceSelf, OccurredAt: on(t, "2025-02-01")},
		domain.SessionHeld{Group: "dbt", Session: "s1", Date: date(t, "2025-02-01"), OccurredAt: on(t, "2025-02-01")},
	)
	store := storeWith(t, false, events...)
	// Audit trails and user accounts share the log but are not replayed:
	// reading a report (which is audited) must not change the next one.
	for _, stream := range []string{"audit-2025-02-01", "user-dr.lee"} {
		_, err := store.Append(context.Background(), stream, eventstore.Any, eventstore.EventData{
			ID: uuid.New(), Type: "PatientRecordRead", ContentType: eventstore.ContentTypeJSON, Data: []byte(`{}`),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		opts Options
	}{
		{"whole log", Options{}},
		{"as of", Options{AsOf: date(t, "2025-01-31")}},
		{"window by quarter", Options{From: date(t, "2025-01-06"), Cohort: CohortQuarter}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []int64
			got, err := Replay(context.Background(), store, tt.opts, func(n int64) { calls = append(calls, n) })
			if err != nil {
				t.Fatal(err)
			}
			want := fold(t, tt.opts, events...)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("replay\n%s\nfold\n%s", mustJSON(t, got), mustJSON(t, want))
			}
			if len(calls) == 0 || calls[len(calls)-1] != int64(len(events)) {
				t.Errorf("progress calls %v, want the last at %d", calls, len(events))
			}
		})
	}
}

func TestReplayManyPagesInOrder(t *testing.T) {
	// More events than three pages, with admissions and discharges of
	// the same people on different pages: folding pages out of order would
	// lose episodes.
	var events []domain.Event
	for i := range 3*replay.PageSize + 7 {
		p := domain.PatientID(uuid.NewSHA1(uuid.Nil, []byte{byte(i), byte(i >> 8)}).String())
		events = append(events, domain.Admitted{Patient: p, Program: "iop", Level: domain.IOP, OccurredAt: on(t, "2025-01-01")})
	}
	for i := range 3*replay.PageSize + 7 {
		p := domain.PatientID(uuid.NewSHA1(uuid.Nil, []byte{byte(i), byte(i >> 8)}).String())
		events = append(events, domain.Discharged{Patient: p, Reason: domain.DischargeCompleted, Level: domain.IOP, Program: "iop", OccurredAt: on(t, "2025-01-08")})
	}
	store := storeWith(t, true, events...)
	r, err := Replay(context.Background(), store, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 3*replay.PageSize + 7
	if r.EventsReplayed != int64(2*n) || r.Episodes.Closed != n || r.Episodes.Completed != n || r.Episodes.EstimatedDates != n {
		t.Errorf("replayed %d, episodes %+v; want %d events and %d closed, completed, estimated episodes", r.EventsReplayed, r.Episodes, 2*n, n)
	}
}

func TestReplayRefusesAMalformedEvent(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	_, err := store.Append(context.Background(), "patient-x", eventstore.Any, eventstore.EventData{
		ID: uuid.New(), Type: "Admitted", Data: []byte(`{"level":"nowhere"}`), Metadata: []byte(`{"v":1}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Replay(context.Background(), store, Options{}, nil); err == nil {
		t.Fatal("replay accepted an admission to an unknown level")
	}
}

func TestReplayIsCancelled(t *testing.T) {
	store := storeWith(t, false, clinicHistory(t)...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Replay(ctx, store, Options{}, nil); err == nil {
		t.Fatal("a cancelled replay reported success")
	}
}

// render writes a report in all three formats.
func render(t *testing.T, r *Report) (jsonOut, htmlOut []byte, csvFiles map[string][]byte) {
	t.Helper()
	var j, h bytes.Buffer
	if err := r.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.WriteCSV(dir); err != nil {
		t.Fatal(err)
	}
	csvFiles = map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		csvFiles[e.Name()] = b
	}
	return j.Bytes(), h.Bytes(), csvFiles
}

func TestOutputIsByteIdenticalAcrossRuns(t *testing.T) {
	const g = domain.GroupID("dbt")
	events := append(clinicHistory(t),
		domain.MemberJoined{Group: g, Patient: ann, OccurredAt: on(t, "2025-01-03")},
		domain.MemberJoined{Group: g, Patient: ben, OccurredAt: on(t, "2025-01-07")},
		domain.AttendanceRecorded{Group: g, Session: "s1", Patient: ann, Status: domain.Present, OccurredAt: on(t, "2025-01-08")},
		domain.AttendanceRecorded{Group: g, Session: "s1", Patient: ben, Status: domain.Absent, OccurredAt: on(t, "2025-01-08")},
	)
	store := storeWith(t, false, events...)
	first, err := Replay(context.Background(), store, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Replay(context.Background(), store, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	j1, h1, c1 := render(t, first)
	j2, h2, c2 := render(t, second)
	if !bytes.Equal(j1, j2) || !bytes.Equal(h1, h2) || !reflect.DeepEqual(c1, c2) {
		t.Error("two replays of the same log wrote different bytes")
	}
	wantFiles := []string{"attendance_by_person.csv", "completion_by_level.csv", "completion_by_reason.csv", "completion_by_source_setting.csv",
		"episodes.csv", "groups.csv", "length_of_stay.csv", "length_of_stay_histogram.csv", "measure_trends.csv", "measures.csv",
		"modules.csv", "readmission_30d.csv", "step_down.csv", "step_up.csv", "summary.csv", "transitions.csv"}
	var gotFiles []string
	for name := range c1 {
		gotFiles = append(gotFiles, name)
	}
	if !sameSet(gotFiles, wantFiles) {
		t.Errorf("CSV files %v, want %v", gotFiles, wantFiles)
	}
	level := string(c1["completion_by_level.csv"])
	for _, line := range []string{
		"slice,key,level,episodes,completed,rate,open\n",
		"all,,php,1,1,1,0\n",
		"all,,inpatient,0,0,,0\n", // a null rate is an empty cell
		"cohort,2025-02,iop,0,0,,1\n",
		"program,res,residential,1,0,0,0\n",
	} {
		if !strings.Contains(level, line) {
			t.Errorf("completion_by_level.csv lacks %q:\n%s", line, level)
		}
	}
	if !strings.Contains(string(c1["attendance_by_person.csv"]), "P0000001,1,1,0,0,1\n") {
		t.Errorf("attendance_by_person.csv:\n%s", c1["attendance_by_person.csv"])
	}
}

func sameSet(a, b []string) bool {
	set := map[string]int{}
	for _, s := range a {
		set[s]++
	}
	for _, s := range b {
		set[s]--
	}
	for _, n := range set {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func TestHTMLIsSelfContained(t *testing.T) {
	r := fold(t, Options{}, clinicHistory(t)...)
	_, page, _ := render(t, r)
	html := string(page)
	for _, want := range []string{
		`aria-label="completion rate by level"`,
		`aria-label="length of stay at php"`,
		`aria-label="transitions between levels of care"`,
		`aria-label="mean scores by week of episode"`,
		`<polyline`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// Nothing is fetched: the only URL is the SVG namespace.
	for _, ref := range regexp.MustCompile(`(?:src|href)=|url\(|https?://[^"]*`).FindAllString(html, -1) {
		if ref != "http://www.w3.org/2000/svg" {
			t.Errorf("the page refers to %q", ref)
		}
	}
	for _, id := range []domain.PatientID{ann, ben, cleo} {
		if strings.Contains(html, string(id)) {
			t.Errorf("the page shows a patient ID")
		}
	}
}
