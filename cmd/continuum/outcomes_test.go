package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/importer/tedsd/tedsdtest"
)

// runCLI runs a command line and returns its exit status and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// levelOfSetting is the codebook's table of SERVICES codes and levels of
// care, written out again here so the test does not trust the importer's.
var levelOfSetting = map[string]string{
	"1": "inpatient", "2": "residential", "3": "inpatient", "4": "residential",
	"5": "residential", "6": "iop", "7": "outpatient", "8": "outpatient",
}

// tally is what a table of completion counts holds per key.
type tally struct{ Episodes, Completed int }

// tabulate counts episodes and completions (REASON 1) straight from a
// TEDS-D file, per SERVICES code and per level, skipping rows an episode
// cannot be made of.
func tabulate(t *testing.T, path string) (bySetting, byLevel map[string]tally, rows int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	column := map[string]int{}
	for i, name := range records[0] {
		column[name] = i
	}
	bySetting, byLevel = map[string]tally{}, map[string]tally{}
	for _, rec := range records[1:] {
		if len(rec) != len(records[0]) {
			continue
		}
		setting, reason := rec[column["SERVICES"]], rec[column["REASON"]]
		level, ok := levelOfSetting[setting]
		if n, err := strconv.Atoi(reason); !ok || err != nil || n < 1 || n > 7 {
			continue
		}
		rows++
		s, l := bySetting[setting], byLevel[level]
		s.Episodes++
		l.Episodes++
		if reason == "1" {
			s.Completed++
			l.Completed++
		}
		bySetting[setting], byLevel[level] = s, l
	}
	return bySetting, byLevel, rows
}

// outcomesDoc is the part of the JSON report this test reads.
type outcomesDoc struct {
	EventsReplayed    int64   `json:"events_replayed"`
	AsOf              *string `json:"as_of"`
	CompletionByLevel []struct {
		Level     string   `json:"level"`
		Episodes  int      `json:"episodes"`
		Completed int      `json:"completed"`
		Rate      *float64 `json:"rate"`
	} `json:"completion_by_level"`
	CompletionBySourceSetting []struct {
		Setting   string   `json:"setting"`
		Episodes  int      `json:"episodes"`
		Completed int      `json:"completed"`
		Rate      *float64 `json:"rate"`
	} `json:"completion_by_source_setting"`
}

func TestImportedTEDSDFileOutcomesMatchTheFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	path := filepath.Join(dir, "tedsd_puf_2022.csv")
	var file bytes.Buffer
	if err := tedsdtest.Write(&file, tedsdtest.Options{Rows: 1500, Seed: 42, Year: 2022, FirstCaseID: 500000, MissingShare: 0.05}); err != nil {
		t.Fatal(err)
	}
	// Two malformed rows: an unknown reason and a row cut short.
	bad := strings.Repeat("-9,", len(tedsdtest.Header)-1) + "-9\n"
	file.WriteString(bad)
	file.WriteString("2022,6\n")
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	bySetting, byLevel, rows := tabulate(t, path)

	code, out, errOut := runCLI(t, "import", "tedsd", "--data", data, path)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"rows read:          1502", "episodes imported:  " + strconv.Itoa(rows), "rows skipped:       2"} {
		if !strings.Contains(out, want) {
			t.Errorf("import summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "line 1502: CASEID missing") || !strings.Contains(errOut, "line 1503: row wrong number of fields") {
		t.Errorf("stderr does not list the malformed rows by line:\n%s", errOut)
	}

	code, report, errOut := runCLI(t, "outcomes", "--data", data, "--format", "json")
	if code != 0 {
		t.Fatalf("outcomes: exit %d\n%s", code, errOut)
	}
	var doc outcomesDoc
	if err := json.Unmarshal([]byte(report), &doc); err != nil {
		t.Fatal(err)
	}
	gotSetting := map[string]tally{}
	for _, s := range doc.CompletionBySourceSetting {
		gotSetting[s.Setting] = tally{s.Episodes, s.Completed}
		checkRate(t, "setting "+s.Setting, s.Rate, s.Completed, s.Episodes)
	}
	if !reflect.DeepEqual(gotSetting, bySetting) {
		t.Errorf("by source setting\n got %v\nwant %v (from the file)", gotSetting, bySetting)
	}
	gotLevel := map[string]tally{}
	for _, l := range doc.CompletionByLevel {
		if l.Episodes > 0 {
			gotLevel[l.Level] = tally{l.Episodes, l.Completed}
		}
		checkRate(t, "level "+l.Level, l.Rate, l.Completed, l.Episodes)
	}
	if !reflect.DeepEqual(gotLevel, byLevel) {
		t.Errorf("by level\n got %v\nwant %v (from the file)", gotLevel, byLevel)
	}
	if doc.AsOf != nil || doc.EventsReplayed < int64(4*rows) {
		t.Errorf("as_of %v, events_replayed %d; want null and at least 4 events per episode", doc.AsOf, doc.EventsReplayed)
	}

	// The same file again appends nothing, and the report is the same to the byte.
	code, out, errOut = runCLI(t, "import", "tedsd", "--data", data, path)
	if code != 0 || !strings.Contains(out, "already imported:   "+strconv.Itoa(rows)) || !strings.Contains(out, "episodes imported:  0") {
		t.Errorf("second import: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, again, _ := runCLI(t, "outcomes", "--data", data, "--format", "json"); again != report {
		t.Error("a second replay wrote different bytes")
	}
}

func checkRate(t *testing.T, what string, rate *float64, completed, episodes int) {
	t.Helper()
	switch {
	case episodes == 0 && rate != nil:
		t.Errorf("%s: rate %v with no episodes, want null", what, *rate)
	case episodes > 0 && (rate == nil || *rate != float64(completed)/float64(episodes)):
		t.Errorf("%s: rate %v, want %d/%d", what, rate, completed, episodes)
	}
}

func TestOutcomesFormats(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	path := filepath.Join(dir, "tedsd.csv")
	var file bytes.Buffer
	if err := tedsdtest.Write(&file, tedsdtest.Options{Rows: 50, Seed: 1, Year: 2021, FirstCaseID: 1}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "import", "tedsd", "--data", data, path); code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	page := filepath.Join(dir, "report.html")
	if code, _, errOut := runCLI(t, "outcomes", "--data", data, "--format", "html", "--out", page, "--cohort", "quarter"); code != 0 {
		t.Fatalf("html: exit %d\n%s", code, errOut)
	}
	html, err := os.ReadFile(page)
	if err != nil || !bytes.Contains(html, []byte("<svg")) || !bytes.Contains(html, []byte("2021-Q")) {
		t.Errorf("the HTML report has no chart or no quarterly cohort (%v)", err)
	}
	tables := filepath.Join(dir, "tables")
	if code, _, errOut := runCLI(t, "outcomes", "--data", data, "--format", "csv", "--out", tables, "--as-of", "2021-06-30"); code != 0 {
		t.Fatalf("csv: exit %d\n%s", code, errOut)
	}
	summary, err := os.ReadFile(filepath.Join(tables, "summary.csv"))
	if err != nil || !bytes.Contains(summary, []byte("as_of,2021-06-30\n")) {
		t.Errorf("summary.csv: %s (%v)", summary, err)
	}

	tests := []struct {
		name string
		args []string
	}{
		{"unknown format", []string{"outcomes", "--data", data, "--format", "xml"}},
		{"csv needs a directory", []string{"outcomes", "--data", data, "--format", "csv"}},
		{"bad date", []string{"outcomes", "--data", data, "--as-of", "31/12/2021"}},
		{"window backwards", []string{"outcomes", "--data", data, "--from", "2021-06-01", "--to", "2021-01-01"}},
		{"unknown import kind", []string{"import", "hl7", path}},
		{"import without files", []string{"import", "tedsd", "--data", data}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, _ := runCLI(t, tt.args...); code != 2 {
				t.Errorf("exit %d, want 2 (usage)", code)
			}
		})
	}
}
