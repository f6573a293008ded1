package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/projections"
)

// The person the erasure test refers: distinctive enough that finding any
// of these in a file can only mean the file holds their personal data.
const (
	erasedName    = "Zbigniew Quarrington-Erasmus"
	erasedBirth   = "1971-03-14"
	erasedContact = "zq-erasmus@example.org"
)

// filesHolding answers which files of dir (recursively) hold any of needles.
func filesHolding(t *testing.T, dir string, needles ...[]byte) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(data, n) {
				found = append(found, filepath.Base(path)+" holds "+string(n))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// personalData are the byte strings that must never be in a data file.
func personalData() [][]byte {
	return [][]byte{[]byte(erasedName), []byte("Quarrington"), []byte(erasedBirth), []byte(erasedContact)}
}

// keyOf reads a person's key from a stopped server's key store.
func keyOf(t *testing.T, dir, patient string) []byte {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, keysFile), 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var key []byte
	db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket([]byte("keys")); b != nil {
			key = bytes.Clone(b.Get([]byte(patient)))
		}
		return nil
	})
	return key
}

// keyFileHolds reports whether the raw key store file holds b.
func keyFileHolds(t *testing.T, dir string, b []byte) bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, keysFile))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(data, b)
}

// outcomeFigures runs `continuum outcomes` on a stopped server's store and
// answers the report without the count of events read (the audit adds some).
func outcomeFigures(t *testing.T, dir string) map[string]any {
	t.Helper()
	code, stdout, stderr := runCommand(t, "outcomes", "--data", dir, "--format", "json")
	if code != 0 {
		t.Fatalf("outcomes: exit %d: %s", code, stderr)
	}
	var report map[string]any
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatal(err)
	}
	delete(report, "events_replayed")
	return report
}

// patientPage reads a person's page as the clinician.
func patientPage(t *testing.T, base, id string) (status int, page struct {
	Patient struct {
		Name, DateOfBirth, Contact, Status string
		Erased                             bool
	}
}) {
	t.Helper()
	status = getJSON(t, base+"/api/patients/"+id, &page)
	return status, page
}

// TestErasureLeavesNoTrace is crypto-shredding end to end on the embedded
// store: the name, birth date and contact are never in the event store or
// the projections' snapshot at all (only sealed); forgetting destroys the
// key, and the key store no longer holds it; every view shows the person
// as erased, a projection rebuilt from zero too; the outcome figures stay.
func TestErasureLeavesNoTrace(t *testing.T) {
	dir := t.TempDir()
	base, _, stop := startMain(t, dir)
	waitReady(t, base)
	status, answer := postCommand(t, base, "/api/patients",
		`{"source":"self","name":"`+erasedName+`","dateOfBirth":"`+erasedBirth+`","contact":"`+erasedContact+`"}`)
	id, _ := answer["patient"].(string)
	if status != http.StatusCreated || id == "" {
		t.Fatalf("referral: %d %v", status, answer)
	}
	for _, c := range []struct{ path, body string }{
		{"/intake", `{"phq9":18,"gad7":14,"recommendedLevel":"php","ageYears":55,"primaryCare":true,"individualTherapy":true}`},
		{"/admit", `{"program":"php","level":"php"}`},
		{"/measures", `{"instrument":"phq9","score":8}`},
		{"/discharge", `{"reason":"completed"}`},
	} {
		if status, answer := postCommand(t, base, "/api/patients/"+id+c.path, c.body); status >= 300 {
			t.Fatalf("%s: %d %v", c.path, status, answer)
		}
	}
	if _, page := patientPage(t, base, id); page.Patient.Name != erasedName || page.Patient.DateOfBirth != erasedBirth {
		t.Fatalf("before: %+v", page.Patient)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Before: the key store has the key; no file holds the personal data.
	key := keyOf(t, dir, id)
	if len(key) != 32 || !keyFileHolds(t, dir, key) || !keyFileHolds(t, dir, []byte(id)) {
		t.Fatalf("the key store file holds no key for %s", id)
	}
	if found := filesHolding(t, dir, personalData()...); len(found) > 0 {
		t.Fatalf("personal data in plain text before any erasure: %v", found)
	}
	if _, err := os.Stat(filepath.Join(dir, projections.SnapshotFile)); err != nil {
		t.Fatalf("no projections snapshot to check: %v", err)
	}
	figures := outcomeFigures(t, dir)

	// Forget through the running server's API, as its admin.
	base, _, stop = startMain(t, dir)
	waitReady(t, base)
	code, stdout, stderr := runCommand(t, "forget", "--addr", base, "--token-file", credentialsFor(t, base).adminTokenFile, id)
	if code != 0 || !strings.Contains(stdout, "erased") {
		t.Fatalf("forget: exit %d: %s %s", code, stdout, stderr)
	}
	status, page := patientPage(t, base, id)
	if status != http.StatusOK || page.Patient.Name != "erased" || !page.Patient.Erased || page.Patient.DateOfBirth != "" || page.Patient.Contact != "" {
		t.Fatalf("after: %d %+v", status, page.Patient)
	}
	if page.Patient.Status != "discharged" {
		t.Fatalf("the clinical facts went too: %+v", page.Patient)
	}
	code, stdout, stderr = runCommand(t, "audit", "--addr", base, "--token-file", credentialsFor(t, base).adminTokenFile, "--patient", id, "--action", "PersonErased")
	if code != 0 || !strings.Contains(stdout, "PersonErased") || !strings.Contains(stdout, testAdmin) || !strings.Contains(stdout, id) {
		t.Fatalf("audit: exit %d: %s %s", code, stdout, stderr)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// After: the key is gone from the key file, the personal data is in
	// no file, and projections rebuilt from zero still show "erased".
	if keyFileHolds(t, dir, key) || keyFileHolds(t, dir, []byte(id)) {
		t.Fatal("the key store file still holds the key or its subject")
	}
	if err := os.Remove(filepath.Join(dir, projections.SnapshotFile)); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCommand(t, "rebuild", "--data", dir, "--tz", "UTC"); code != 0 {
		t.Fatalf("rebuild: exit %d: %s", code, stderr)
	}
	if found := filesHolding(t, dir, personalData()...); len(found) > 0 {
		t.Fatalf("personal data in plain text after the erasure: %v", found)
	}
	after := outcomeFigures(t, dir)
	if b, a := mustJSON(t, figures), mustJSON(t, after); b != a {
		t.Fatalf("the outcome figures changed:\nbefore %s\nafter  %s", b, a)
	}
	base, _, _ = startMain(t, dir)
	waitReady(t, base)
	if _, page := patientPage(t, base, id); page.Patient.Name != "erased" || !page.Patient.Erased {
		t.Fatalf("after the rebuild: %+v", page.Patient)
	}
	var list struct {
		Patients []struct {
			Patient, Name string
			Erased        bool
		}
	}
	getJSON(t, base+"/api/patients", &list)
	for _, p := range list.Patients {
		if p.Patient == id && (p.Name != "erased" || !p.Erased) {
			t.Fatalf("the list shows %+v", p)
		}
	}
}

// TestForgetOffline erases on a stopped server's data directory, refuses
// while a server holds it, and audits the erasure as the machine's user.
func TestForgetOffline(t *testing.T) {
	dir := t.TempDir()
	base, _, stop := startMain(t, dir)
	waitReady(t, base)
	id := refer(t, base, "Ottilie Offline")
	if code, _, stderr := runCommand(t, "forget", "--data", dir, id); code != 1 || !strings.Contains(stderr, "--addr") {
		t.Fatalf("forget while the server runs: exit %d: %s", code, stderr)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		output string
	}{
		{name: "erase", args: []string{"forget", "--data", dir, id}, code: 0, output: "erased"},
		{name: "again", args: []string{"forget", id, "--data", dir}, code: 0, output: "already erased"},
		{name: "nobody", args: []string{"forget", "--data", dir, "6f1e1c52-7a35-4c3e-9a7d-0d1c2b3a4f5e"}, code: 1, output: "no patient"},
		{name: "not an ID", args: []string{"forget", "--data", dir, "bob"}, code: 2},
		{name: "no ID", args: []string{"forget", "--data", dir}, code: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.output) {
				t.Fatalf("exit %d, output %s%s; want %d and %q", code, stdout, stderr, tc.code, tc.output)
			}
		})
	}
	if key := keyOf(t, dir, id); key != nil {
		t.Fatal("the key survived")
	}
	code, stdout, stderr := runCommand(t, "audit", "--data", dir, "--patient", id, "--json")
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var newest struct{ Action, User, Route string }
	if err := json.Unmarshal([]byte(lines[0]), &newest); err != nil {
		t.Fatal(err)
	}
	// Newest first: this very read, then the two erasures.
	if len(lines) < 3 || newest.Action != "AuditViewed" || !strings.HasPrefix(newest.User, "local:") ||
		!strings.Contains(lines[1], `"PersonErased"`) || !strings.Contains(lines[1], `"continuum forget"`) {
		t.Fatalf("offline audit:\n%s", stdout)
	}
	if v, err := bolt.Verify(filepath.Join(dir, bolt.FileName)); err != nil || v.Events == 0 {
		t.Fatalf("the store after offline erasures: %+v %v", v, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
