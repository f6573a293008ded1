package tedsd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"reflect"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/importer/tedsd/tedsdtest"
)

// clock is the import's "now": 2024's files are complete.
var clock = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newService(t *testing.T) (*commands.Service, eventstore.Store) {
	t.Helper()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	return commands.New(store, commands.WithClock(func() time.Time { return clock })), store
}

func importFile(t *testing.T, svc Commander, file []byte, problems io.Writer) Summary {
	t.Helper()
	s, err := Import(context.Background(), svc, bytes.NewReader(file), Options{Workers: 8, Now: func() time.Time { return clock }, Problems: problems})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// countAll counts the events in the store.
func countAll(t *testing.T, store eventstore.Store) int {
	t.Helper()
	evs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{From: eventstore.Start})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func TestImportIsIdempotentAndSkipsMalformedRows(t *testing.T) {
	var file bytes.Buffer
	if err := tedsdtest.Write(&file, tedsdtest.Options{Rows: 300, Seed: 7, Year: 2023, FirstCaseID: 1000, MissingShare: 0.05}); err != nil {
		t.Fatal(err)
	}
	width := len(tedsdtest.Header)
	badRow := func(edit func(cells []string)) string {
		cells := make([]string, width)
		for i, name := range tedsdtest.Header {
			cells[i] = map[string]string{"DISYR": "2023", "CASEID": "999999", "SERVICES": "7", "SERVICES_D": "7", "REASON": "1", "LOS": "5"}[name]
			if cells[i] == "" {
				cells[i] = "-9"
			}
		}
		edit(cells)
		return strings.Join(cells, ",") + "\n"
	}
	col := func(name string) int {
		for i, n := range tedsdtest.Header {
			if n == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return 0
	}
	file.WriteString(badRow(func(c []string) { c[col("REASON")] = "9" }))             // line 302
	file.WriteString(badRow(func(c []string) { c[col("SERVICES")] = "-9" }))          // line 303
	file.WriteString(badRow(func(c []string) { c[col("LOS")] = "ten" }))              // line 304
	file.WriteString(strings.TrimSuffix(badRow(func(c []string) {}), ",-9\n") + "\n") // line 305: a field short
	file.WriteString(badRow(func(c []string) { c[col("REASON")] = "0" }))             // line 306

	svc, store := newService(t)
	var problems bytes.Buffer
	first := importFile(t, svc, file.Bytes(), &problems)
	want := Summary{Rows: 305, Imported: 300, Skipped: 5, SkippedBy: map[string]int{
		"REASON unknown code": 2, "SERVICES missing": 1, "LOS not an integer": 1, "row wrong number of fields": 1,
	}}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("summary %+v, want %+v", first, want)
	}
	for _, line := range []string{"line 302: REASON unknown code (9)", "line 303: SERVICES missing", `line 304: LOS not an integer ("ten")`, "line 305: row wrong number of fields", "line 306: REASON unknown code (0)"} {
		if !strings.Contains(problems.String(), line) {
			t.Errorf("problems lack %q:\n%s", line, problems.String())
		}
	}
	// A skipped row wrote nothing: CASEID 999999 has no stream.
	if _, err := store.ReadStream(context.Background(), domain.PatientStream(PatientID(2023, 999999)), eventstore.ReadStreamOptions{From: eventstore.StreamStart}); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Errorf("a malformed row's patient stream: %v, want none", err)
	}
	events := countAll(t, store)

	// The same file again, through a fresh service (a new process): nothing new.
	second := importFile(t, commands.New(store, commands.WithClock(func() time.Time { return clock })), file.Bytes(), nil)
	want.Imported, want.AlreadyImported = 0, 300
	if !reflect.DeepEqual(second, want) {
		t.Errorf("second summary %+v, want %+v", second, want)
	}
	if n := countAll(t, store); n != events {
		t.Errorf("the second import appended %d events", n-events)
	}
}

func TestImportedEpisodeEvents(t *testing.T) {
	file := "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS,AGE,STFIPS\n42,2022,5,7,2,-9,-9,36\n"
	svc, store := newService(t)
	s := importFile(t, svc, []byte(file), nil)
	if s.Imported != 1 {
		t.Fatalf("summary %+v, want one episode", s)
	}
	evs, err := store.ReadStream(context.Background(), domain.PatientStream(PatientID(2022, 42)), eventstore.ReadStreamOptions{From: eventstore.StreamStart})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, rec := range evs {
		e, m, err := domain.Decode(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, rec.Type)
		if !m.Estimated {
			t.Errorf("%s: clinical time not marked estimated", rec.Type)
		}
		switch e := e.(type) {
		case domain.Admitted:
			if e.SourceSetting != "5" || e.Level != domain.Residential || e.Program != "tedsd-st36" {
				t.Errorf("admission %+v", e)
			}
		case domain.IntakeCompleted:
			if !e.ScoresUnknown || !e.AgeUnknown {
				t.Errorf("intake %+v, want unknown scores and age", e)
			}
		case domain.SteppedDown:
			if e.To != domain.Outpatient {
				t.Errorf("step-down %+v", e)
			}
		case domain.Discharged:
			if !e.StayUnknown || e.Reason != domain.DischargeDroppedOut || e.Level != domain.Outpatient {
				t.Errorf("discharge %+v", e)
			}
		}
	}
	want := []string{"Referred", "IntakeCompleted", "Admitted", "SteppedDown", "Discharged"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("events %v, want %v", types, want)
	}
}

// failingOnce is a Commander whose store fails on the first append.
type failingOnce struct {
	Commander
	failed bool
}

var errDiskFull = errors.New("disk full")

func (f *failingOnce) PatientBatch(ctx context.Context, m commands.Meta, cmds []domain.PatientCommand) (commands.Result, error) {
	if !f.failed {
		f.failed = true
		return commands.Result{}, errDiskFull
	}
	return f.Commander.PatientBatch(ctx, m, cmds)
}

func TestAFailedImportLeavesNoHalfEpisodeAndCompletesOnTheNextRun(t *testing.T) {
	svc, store := newService(t)
	failThenComplete(t, &failingOnce{Commander: svc}, svc, store, 1)
}

// failThenComplete imports a one-row file through failing, whose store
// fails the first append: the import stops with that failure and writes
// nothing; importing again through svc writes the whole episode.
func failThenComplete(t *testing.T, failing, svc Commander, store eventstore.Store, workers int) {
	t.Helper()
	file := "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS\n1,2022,7,7,1,10\n"
	_, err := Import(context.Background(), failing, strings.NewReader(file), Options{Workers: workers, Now: func() time.Time { return clock }})
	if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("error %v, want the store's failure on line 2", err)
	}
	if n := countAll(t, store); n != 0 {
		t.Fatalf("%d events after the failure, want none: an episode is written whole or not at all", n)
	}
	s := importFile(t, svc, []byte(file), nil)
	if s.Imported != 1 || s.AlreadyImported != 0 {
		t.Errorf("summary %+v, want the row imported", s)
	}
	if n := countAll(t, store); n != 4 {
		t.Errorf("%d events, want referral, intake, admission, discharge", n)
	}
}

func TestImportReportsProgress(t *testing.T) {
	var file bytes.Buffer
	if err := tedsdtest.Write(&file, tedsdtest.Options{Rows: 3 * progressEvery, Seed: 1, Year: 2022, FirstCaseID: 1}); err != nil {
		t.Fatal(err)
	}
	svc, _ := newService(t)
	var reports []Progress
	_, err := Import(context.Background(), svc, bytes.NewReader(file.Bytes()), Options{
		Workers: 16, Now: func() time.Time { return clock }, Progress: func(p Progress) { reports = append(reports, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	last := reports[len(reports)-1]
	if len(reports) != 4 || last.Rows != 3*progressEvery || last.Imported != 3*progressEvery || last.BytesRead != int64(file.Len()) {
		t.Errorf("%d reports, the last %+v; want 4, the last at every row and byte", len(reports), last)
	}
}

func TestBatchGCRaisesTheTargetAndRestoresIt(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set in the environment; BatchGC leaves it alone")
	}
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	restore := BatchGC()
	if got := debug.SetGCPercent(batchGCPercent); got != batchGCPercent {
		t.Errorf("during the import GOGC = %d, want %d", got, batchGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after the import GOGC = %d, want 100 again", got)
	}
	t.Setenv("GOGC", "50")
	BatchGC()()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set by the operator, BatchGC changed the target to %d", got)
	}
}

// failingStore is an embedded store (it tells replays, so Import decides
// rows ahead of their appends) whose first append fails.
type failingStore struct {
	*memstore.Store
	failed atomic.Bool
}

func (f *failingStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if f.failed.CompareAndSwap(false, true) {
		return eventstore.AppendResult{}, errDiskFull
	}
	return f.Store.Append(ctx, stream, expected, events...)
}

func TestAFailedPipelinedAppendStopsTheImportAndTheNextRunCompletesIt(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	store := &failingStore{Store: mem}
	svc := commands.New(store, commands.WithClock(func() time.Time { return clock }))
	failThenComplete(t, svc, svc, store, 4)
}

// hiddenReplays is a store that does not say it tells replays, as the
// EventStoreDB client: Import runs each row through PatientBatch.
type hiddenReplays struct{ eventstore.Store }

func TestImportOnAStoreThatDoesNotTellReplays(t *testing.T) {
	var file bytes.Buffer
	if err := tedsdtest.Write(&file, tedsdtest.Options{Rows: 200, Seed: 5, Year: 2022, FirstCaseID: 1}); err != nil {
		t.Fatal(err)
	}
	_, mem := newService(t)
	store := hiddenReplays{mem}
	svc := func() *commands.Service {
		return commands.New(store, commands.WithClock(func() time.Time { return clock }))
	}
	first := importFile(t, svc(), file.Bytes(), nil)
	events := countAll(t, store)
	second := importFile(t, svc(), file.Bytes(), nil)
	if first.Imported != 200 || second.AlreadyImported != 200 || second.Imported != 0 {
		t.Errorf("summaries %+v and %+v, want 200 rows imported, then found", first, second)
	}
	if n := countAll(t, store); n != events || events < 4*200 {
		t.Errorf("%d events after the first import, %d after the second", events, n)
	}
}

func TestARowWhosePatientExistsIsDecidedAgainstTheStream(t *testing.T) {
	file := "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS\n1,2022,7,7,1,10\n2,2022,6,6,1,20\n"
	svc, store := newService(t)
	// Patient 1 was referred before, under another request: the row's
	// referral is refused by the domain, and the row writes nothing.
	ctx := context.Background()
	refer := domain.Refer{Patient: PatientID(2022, 1), Source: domain.SourceOther, At: clock.AddDate(-3, 0, 0)}
	if _, err := svc.Patient(ctx, commands.Meta{IdempotencyKey: "earlier"}, refer); err != nil {
		t.Fatal(err)
	}
	var problems bytes.Buffer
	s := importFile(t, commands.New(store, commands.WithClock(func() time.Time { return clock })), []byte(file), &problems)
	if s.Imported != 1 || s.Skipped != 1 || !strings.Contains(problems.String(), "line 2: row refused") {
		t.Errorf("summary %+v, problems %q; want line 2 refused, line 3 imported", s, problems.String())
	}
	if n := countAll(t, store); n != 1+4 {
		t.Errorf("%d events, want the earlier referral and line 3's four", n)
	}
}

// failingAt is an embedded store whose n-th append fails.
type failingAt struct {
	*memstore.Store
	n, appends atomic.Int64
}

func (f *failingAt) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if f.appends.Add(1) == f.n.Load() {
		return eventstore.AppendResult{}, errDiskFull
	}
	return f.Store.Append(ctx, stream, expected, events...)
}

func TestAnImportOfManySortedWindowsStoppedMidwayCompletesOnTheNextRun(t *testing.T) {
	rows := firstSortWindow + 2*firstSortWindow + 1000 // three windows
	var file bytes.Buffer
	if err := tedsdtest.Write(&file, tedsdtest.Options{Rows: rows, Seed: 9, Year: 2022, FirstCaseID: 1}); err != nil {
		t.Fatal(err)
	}
	mem := memstore.New()
	t.Cleanup(func() { mem.Close() })
	store := &failingAt{Store: mem}
	store.n.Store(int64(rows / 2))
	svc := commands.New(store, commands.WithClock(func() time.Time { return clock }))
	first, err := Import(context.Background(), svc, bytes.NewReader(file.Bytes()), Options{Workers: 64, Now: func() time.Time { return clock }})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("error %v, want the store's failure", err)
	}
	if first.Imported == 0 || first.Imported >= rows {
		t.Fatalf("first run imported %d of %d rows, want it stopped midway", first.Imported, rows)
	}
	second := importFile(t, svc, file.Bytes(), nil)
	if second.Imported+second.AlreadyImported != rows || second.AlreadyImported != first.Imported {
		t.Errorf("second run %+v after a first that imported %d, want the rest of %d rows imported", second, first.Imported, rows)
	}
	third := importFile(t, svc, file.Bytes(), nil)
	if third.AlreadyImported != rows || third.Imported != 0 {
		t.Errorf("third run %+v, want every row found", third)
	}
}

// importAsLegacyBuild imports a file's rows as builds before the ordered
// patient IDs did: each episode under its legacy ID.
func importAsLegacyBuild(t *testing.T, svc *commands.Service, file string) {
	t.Helper()
	reader, err := NewReader(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	for {
		row, err := reader.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		e, err := Plan(row, clock.Year()-1)
		if err != nil {
			t.Fatal(err)
		}
		e.Patient = legacyPatientID(e.Year, e.CaseID)
		if _, err := svc.PatientBatch(context.Background(), episodeMeta(e), e.commands()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRowsImportedByALegacyBuildAreNotImportedAgain(t *testing.T) {
	const header = "CASEID,DISYR,SERVICES,SERVICES_D,REASON,LOS\n"
	old := header + "1,2022,7,7,1,10\n2,2022,6,7,2,20\n"
	for name, wrap := range map[string]func(eventstore.Store) eventstore.Store{
		"embedded":                  func(s eventstore.Store) eventstore.Store { return s },
		"store not telling replays": func(s eventstore.Store) eventstore.Store { return hiddenReplays{s} },
	} {
		t.Run(name, func(t *testing.T) {
			_, mem := newService(t)
			store := wrap(mem)
			svc := commands.New(store, commands.WithClock(func() time.Time { return clock }))
			importAsLegacyBuild(t, svc, old)
			before := countAll(t, store)
			if before != 4+5 {
				t.Fatalf("%d events from the legacy import, want 4 + 5", before)
			}
			// The same rows and one new row, imported by this build,
			// through a service that has not seen the legacy appends.
			s := importFile(t, commands.New(store, commands.WithClock(func() time.Time { return clock })), []byte(old+"3,2022,7,7,1,10\n"), nil)
			if s.Imported != 1 || s.AlreadyImported != 2 {
				t.Errorf("summary %+v, want rows 1 and 2 already imported and row 3 imported", s)
			}
			if n := countAll(t, store); n != before+4 {
				t.Errorf("%d events, want the %d of the legacy import and row 3's four", n, before)
			}
			for id, want := range map[domain.PatientID]bool{
				PatientID(2022, 1): false, legacyPatientID(2022, 1): true,
				PatientID(2022, 3): true, legacyPatientID(2022, 3): false,
			} {
				if found, err := svc.PatientExists(context.Background(), id); err != nil || found != want {
					t.Errorf("patient %s exists: %v (%v), want %v", id, found, err, want)
				}
			}
		})
	}
}
