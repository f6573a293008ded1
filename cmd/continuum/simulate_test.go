package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// countEvents opens the embedded store in dir and counts its events.
func countEvents(t *testing.T, dir string) int {
	t.Helper()
	store, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{From: eventstore.Start})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func TestSimulateCommand(t *testing.T) {
	dir := t.TempDir()
	args := []string{"simulate", "--data", dir, "--days", "60", "--seed", "3", "--start", "2026-09-07"}
	code, stdout, stderr := runCommand(t, args...)
	if code != 0 || !strings.Contains(stdout, "events appended") || !strings.Contains(stdout, "AttendanceRecorded") || !strings.Contains(stdout, "compacted the store file") {
		t.Fatalf("simulate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	written := countEvents(t, dir)
	if written < 1000 {
		t.Fatalf("60 simulated days wrote %d events", written)
	}

	t.Run("repeat", func(t *testing.T) {
		code, stdout, stderr := runCommand(t, args...)
		if code != 0 || !strings.Contains(stdout, "nothing to do") {
			t.Fatalf("repeat: exit %d\n%s\n%s", code, stdout, stderr)
		}
		if n := countEvents(t, dir); n != written {
			t.Errorf("the repeat appended %d events", n-written)
		}
	})

	t.Run("bad command lines", func(t *testing.T) {
		for _, bad := range [][]string{
			{"simulate", "--data", dir, "--days", "0"},
			{"simulate", "--data", dir, "--start", "September"},
			{"simulate", "--data", dir, "--sites", "-1"},
			{"simulate", "--data", dir, "--tz", "Mars/Olympus"},
		} {
			if code, _, _ := runCommand(t, bad...); code != 2 {
				t.Errorf("%v: exit %d, want 2", bad, code)
			}
		}
		if n := countEvents(t, dir); n != written {
			t.Errorf("bad command lines appended %d events", n-written)
		}
	})

	t.Run("served", func(t *testing.T) {
		base, _, stop := startMain(t, dir)
		waitReady(t, base)
		var census struct {
			InCare int
			Levels []struct {
				Level  string
				People int
			}
		}
		if status := getJSON(t, base+"/api/census", &census); status != http.StatusOK {
			t.Fatalf("census: status %d", status)
		}
		people := 0
		for _, l := range census.Levels {
			people += l.People
		}
		if census.InCare == 0 || people != census.InCare {
			t.Errorf("the census of a simulated store shows %d in care, %d by level", census.InCare, people)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestServeDemoFillsTheBoard runs serve --demo with the simulator: the
// history fills an empty store before the server listens, so the census
// shows a populated clinic from the start.
func TestServeDemoFillsTheBoard(t *testing.T) {
	out := &lockedBuffer{}
	base, stop, err := runMainStoppable(t, &Main{DataDir: t.TempDir(), Demo: true, Stdout: out})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	director := regexp.MustCompile(`(?m)^\s+director\s+(\S+)\s+(\S+)$`).FindStringSubmatch(out.String())
	if director == nil {
		t.Fatalf("serve --demo printed %q, want the director's sign-in", out.String())
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	signIn, err := client.Post(base+"/api/auth/signin", "application/json",
		strings.NewReader(`{"name":"`+director[1]+`","password":"`+director[2]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	signIn.Body.Close()
	if signIn.StatusCode != http.StatusOK {
		t.Fatalf("sign-in as the demo director: %d", signIn.StatusCode)
	}
	var census struct {
		InCare int
		Levels []struct {
			Level  string
			People int
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for census.InCare == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the census never showed the simulated history")
		}
		resp, err := client.Get(base + "/api/census")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&census); err != nil {
				t.Fatal(err)
			}
		}
		resp.Body.Close()
		time.Sleep(20 * time.Millisecond)
	}
	// Six months of a clinic: well over a hundred people in care, most of
	// them outpatients (small levels may be empty on a given day).
	busiest := ""
	most := 0
	for _, l := range census.Levels {
		if l.People > most {
			busiest, most = l.Level, l.People
		}
	}
	if census.InCare < 60 || busiest != "outpatient" {
		t.Errorf("after the demo history %d people are in care, most at %q (%+v)", census.InCare, busiest, census.Levels)
	}
}
