package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/projections"
)

// patientName fetches a patient's name, or "" with the status when the
// server does not know them.
func patientName(t *testing.T, base, id string) (int, string) {
	t.Helper()
	var page struct {
		Patient struct{ Name string }
	}
	status := getJSON(t, base+"/api/patients/"+id, &page)
	return status, page.Patient.Name
}

// TestBackupRestoreRoundTrip takes a backup of a running server, records
// more, restores the backup into the stopped server's directory and
// starts it again: what was recorded before the backup is back, what came
// after is gone, the projections were rebuilt from the restored log, and
// the replaced store was kept.
func TestBackupRestoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	base, _, stop := startMain(t, dir)
	waitReady(t, base)
	before := refer(t, base, "Rosa Restored")
	backup := filepath.Join(t.TempDir(), "backup.db")
	backupFrom(t, base, backup)
	after := refer(t, base, "Otto Overwritten")

	t.Run("refused while the server runs", func(t *testing.T) {
		code, _, stderr := runCommand(t, "restore", "--data", dir, backup)
		if code != 1 || !strings.Contains(stderr, "in use") {
			t.Fatalf("restore into a running server's directory: exit %d, %q", code, stderr)
		}
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, projections.SnapshotFile)); err != nil {
		t.Fatalf("serve left no snapshot to drop: %v", err)
	}
	replaced, err := bolt.Verify(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCommand(t, "restore", "--data", dir, backup)
	if code != 0 {
		t.Fatalf("restore: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"dropped " + projections.SnapshotFile, "previous store is kept as"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("restore printed %q, want it to say %q", stdout, want)
		}
	}
	kept, err := filepath.Glob(filepath.Join(dir, bolt.FileName+".before-restore-*"))
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept stores: %v (%v)", kept, err)
	}
	if sum, err := bolt.Verify(kept[0]); err != nil || sum.Events != replaced.Events {
		t.Fatalf("the kept store holds %+v (%v), want the replaced store's %d events", sum, err, replaced.Events)
	}

	base, _, _ = startMain(t, dir)
	waitReady(t, base)
	if status, name := patientName(t, base, before); status != http.StatusOK || name != "Rosa Restored" {
		t.Errorf("the person referred before the backup: status %d, name %q", status, name)
	}
	if status, _ := patientName(t, base, after); status != http.StatusNotFound {
		t.Errorf("the person referred after the backup: status %d, want 404", status)
	}
	// The restored store takes new commands.
	refer(t, base, "Nina New")
}

func TestRestoreRefusesABadBackupAndChangesNothing(t *testing.T) {
	dir := t.TempDir()
	base, _, stop := startMain(t, dir)
	waitReady(t, base)
	good := filepath.Join(t.TempDir(), "good.db")
	backupFrom(t, base, good)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, bolt.FileName)
	original, err := os.ReadFile(live)
	if err != nil {
		t.Fatal(err)
	}
	snapshot := filepath.Join(dir, projections.SnapshotFile)
	_, snapErr := os.Stat(snapshot)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{name: "truncated", data: whole[:len(whole)/2], want: "not a usable backup"},
		{name: "not a store", data: []byte("PK\x03\x04 a zip file"), want: "not a usable backup"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.db")
			if err := os.WriteFile(bad, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCommand(t, "restore", "--data", dir, bad)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("restore: exit %d, %q; want 1 and %q", code, stderr, tc.want)
			}
			now, err := os.ReadFile(live)
			if err != nil || !bytes.Equal(now, original) {
				t.Fatalf("the store was changed (%v)", err)
			}
			if _, err := os.Stat(snapshot); (err == nil) != (snapErr == nil) {
				t.Fatalf("the snapshot was dropped for a backup that was refused")
			}
			assertNoPartials(t, dir)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if code, _, _ := runCommand(t, "restore", "--data", dir, filepath.Join(dir, "nope.db")); code != 1 {
			t.Fatalf("restore of a missing file: exit %d", code)
		}
	})
	t.Run("no file given", func(t *testing.T) {
		if code, _, _ := runCommand(t, "restore", "--data", dir); code != 2 {
			t.Fatalf("restore without a file: exit %d, want 2", code)
		}
	})
}

func TestRestoreIntoAnEmptyDirectory(t *testing.T) {
	src := t.TempDir()
	base, _, _ := startMain(t, src)
	waitReady(t, base)
	refer(t, base, "Fern Fresh")
	backup := filepath.Join(t.TempDir(), "backup.db")
	backupFrom(t, base, backup)

	dir := filepath.Join(t.TempDir(), "new-site")
	code, stdout, stderr := runCommand(t, "restore", "--data", dir, backup)
	if code != 0 {
		t.Fatalf("restore: exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout, "previous store") || !strings.Contains(stdout, "warning") || !strings.Contains(stdout, keysFile) {
		t.Errorf("restore into a new directory printed %q; want no previous store and a warning about the key store", stdout)
	}
	want, err := bolt.Verify(backup)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := bolt.Verify(filepath.Join(dir, bolt.FileName)); err != nil || got.Events != want.Events {
		t.Fatalf("restored store: %+v (%v), want %d events", got, err, want.Events)
	}
}
