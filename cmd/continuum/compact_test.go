package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// TestCompactCommand compacts a stopped store, keeping its events, and
// refuses a store a running process holds, changing nothing.
func TestCompactCommand(t *testing.T) {
	dir := t.TempDir()
	store, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		e := eventstore.EventData{ID: uuid.New(), Type: "Noted", Data: []byte(`{}`)}
		if _, err := store.Append(context.Background(), "patient-"+string(rune('a'+i%7)), eventstore.Any, e); err != nil {
			t.Fatal(err)
		}
	}

	code, stdout, stderr := runCommand(t, "compact", "--data", dir)
	if code != 1 || !strings.Contains(stderr, "in use") || !strings.Contains(stderr, "stop continuum first") {
		t.Errorf("compact of a store in use: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, dir); n != 50 {
		t.Fatalf("after the refused compaction: %d events, want 50", n)
	}

	code, stdout, stderr = runCommand(t, "compact", "--data", dir)
	if code != 0 || !strings.Contains(stdout, "compacted the store file") {
		t.Fatalf("compact: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := countEvents(t, dir); n != 50 {
		t.Errorf("after compaction: %d events, want 50", n)
	}
	if code, _, _ := runCommand(t, "compact", "--data", dir, "extra"); code != 2 {
		t.Errorf("compact with an argument: exit %d, want 2", code)
	}
}
