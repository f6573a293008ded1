package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/projections"
)

// TestRebuildEqualsTheCheckpointedState stops a server that followed the
// log live, rebuilds its projections from zero, and compares: the rebuilt
// snapshot is byte for byte the one the server wrote, and a server started
// on it serves the same person.
func TestRebuildEqualsTheCheckpointedState(t *testing.T) {
	dir := t.TempDir()
	base, _, stop := startMain(t, dir)
	waitReady(t, base)
	id := refer(t, base, "Reba Rebuilt")
	if status, answer := postCommand(t, base, "/api/patients/"+id+"/intake",
		`{"phq9":14,"gad7":11,"recommendedLevel":"php","primaryCare":true,"individualTherapy":true,"ageYears":34}`); status != 200 {
		t.Fatalf("intake: status %d: %v", status, answer)
	}

	t.Run("refused while the server runs", func(t *testing.T) {
		code, _, stderr := runCommand(t, "rebuild", "--data", dir, "--tz", "UTC")
		if code != 1 || !strings.Contains(stderr, "in use") {
			t.Fatalf("rebuild of a running server's directory: exit %d, %q", code, stderr)
		}
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	snapshot := filepath.Join(dir, projections.SnapshotFile)
	live, err := os.ReadFile(snapshot)
	if err != nil {
		t.Fatalf("serve wrote no snapshot: %v", err)
	}

	code, stdout, stderr := runCommand(t, "rebuild", "--data", dir, "--tz", "UTC")
	if code != 0 {
		t.Fatalf("rebuild: exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`(\d+) events in \S+ \((\d+) events/s\)`).FindStringSubmatch(stdout)
	if m == nil || m[1] == "0" {
		t.Fatalf("rebuild printed %q, want the events replayed and the rate", stdout)
	}
	t.Logf("rebuild: %s", strings.TrimSpace(stdout))
	rebuilt, err := os.ReadFile(snapshot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rebuilt, live) {
		t.Fatalf("the rebuilt snapshot (%d bytes) differs from the live one (%d bytes)", len(rebuilt), len(live))
	}

	base, _, _ = startMain(t, dir)
	waitReady(t, base)
	if status, name := patientName(t, base, id); status != 200 || name != "Reba Rebuilt" {
		t.Fatalf("after the rebuild: status %d, name %q", status, name)
	}
}

func TestRebuildUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "unknown time zone", args: []string{"--tz", "Mars/Olympus"}},
		{name: "stray argument", args: []string{"now"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"rebuild", "--data", t.TempDir()}, tc.args...)
			if code, _, _ := runCommand(t, args...); code != 2 {
				t.Fatalf("rebuild %v: exit %d, want 2", tc.args, code)
			}
		})
	}
}

func TestRebuildNeedsAStore(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCommand(t, "rebuild", "--data", dir)
	if code != 1 || !strings.Contains(stderr, "no embedded store") {
		t.Fatalf("rebuild of an empty directory: exit %d, %q", code, stderr)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("rebuild left %d files in an empty directory (%v)", len(entries), err)
	}
}
