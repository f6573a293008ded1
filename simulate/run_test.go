package simulate

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/privacy"
)

// simulated runs a short history on a fresh in-memory store.
func simulated(t *testing.T, seed uint64, days int) (eventstore.Store, Stats) {
	t.Helper()
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	keys, err := privacy.OpenKeyStore(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	start, err := domain.ParseDate("2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	st, err := Run(context.Background(), store, keys, Config{Seed: seed, Start: start, Days: days})
	if err != nil {
		t.Fatal(err)
	}
	return store, st
}

// clinicalLog is the stream, type and data of every event, stream by
// stream: commands on different people run concurrently, so $all
// interleaves streams differently from run to run, while every stream's
// own history is the seed's.
func clinicalLog(t *testing.T, store eventstore.Store) []string {
	t.Helper()
	recs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		if r.Type == "Referred" {
			// Sealed personal data is encrypted with a random nonce.
			out = append(out, r.Stream+" "+r.Type)
			continue
		}
		out = append(out, r.Stream+" "+r.Type+" "+string(r.Data))
	}
	sort.SliceStable(out, func(i, j int) bool { return streamOf(out[i]) < streamOf(out[j]) })
	return out
}

func streamOf(line string) string { s, _, _ := strings.Cut(line, " "); return s }

func TestHistoryIsRealisticAndComplete(t *testing.T) {
	store, st := simulated(t, 7, 240)
	if len(st.Unexpected) > 0 {
		t.Fatalf("commands refused unexpectedly: %v", st.Unexpected)
	}
	// Every kind of clinical event a history should hold.
	for _, typ := range []string{
		"Referred", "IntakeCompleted", "Admitted", "MeasureRecorded", "SteppedDown", "SteppedUp", "Discharged",
		"GroupCreated", "MemberJoined", "MemberWaitlisted", "MemberLeft", "SessionHeld", "AttendanceRecorded",
		"ModuleCompleted", "GroupCompleted", "ProgramCreated", "Readmitted", "WaitlistPromoted",
	} {
		if n := countType(t, store, typ); n == 0 {
			t.Errorf("no %s in 240 simulated days", typ)
		}
	}
	if st.Patients < 100 {
		t.Errorf("%d people referred in 240 days; want a realistic flow (≥ 100)", st.Patients)
	}
	// Attendance is mostly present (~80 %), measured on what was recorded.
	present, all := presentShare(t, st)
	if all == 0 || present < 0.65 || present > 0.95 {
		t.Errorf("attendance present share %.2f over %d records, want about 0.8", present, all)
	}
}

func countType(t *testing.T, store eventstore.Store, typ string) int {
	t.Helper()
	recs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{Filter: &eventstore.Filter{Target: eventstore.FilterEventType, Regex: "^" + typ + "$"}})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// presentShare replays the attendance of a run and returns the share present.
func presentShare(t *testing.T, st Stats) (float64, int64) {
	t.Helper()
	store, _ := simulated(t, 7, 240)
	recs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{Filter: &eventstore.Filter{Target: eventstore.FilterEventType, Prefixes: []string{"AttendanceRecorded"}}})
	if err != nil {
		t.Fatal(err)
	}
	var present int64
	for _, r := range recs {
		ev, err := domain.DecodeData(r.Type, r.Data, r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if ev.(domain.AttendanceRecorded).Status == domain.Present {
			present++
		}
	}
	if int64(len(recs)) != st.EventsByType["AttendanceRecorded"] {
		t.Fatalf("the same seed recorded %d attendances, then %d", st.EventsByType["AttendanceRecorded"], len(recs))
	}
	return float64(present) / float64(len(recs)), int64(len(recs))
}

func TestSameSeedSameLog(t *testing.T) {
	a, _ := simulated(t, 11, 45)
	b, _ := simulated(t, 11, 45)
	la, lb := clinicalLog(t, a), clinicalLog(t, b)
	if fmt.Sprint(la) != fmt.Sprint(lb) {
		t.Fatalf("two runs with seed 11 differ (%d and %d events)", len(la), len(lb))
	}
	c, _ := simulated(t, 12, 45)
	if fmt.Sprint(clinicalLog(t, c)) == fmt.Sprint(la) {
		t.Fatal("seeds 11 and 12 gave the same history")
	}
}

func TestRerunAppendsNothing(t *testing.T) {
	store, first := simulated(t, 5, 30)
	keys, err := privacy.OpenKeyStore(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	start, _ := domain.ParseDate("2026-03-02")
	again, err := Run(context.Background(), store, keys, Config{Seed: 5, Start: start, Days: 30})
	if err != nil {
		t.Fatal(err)
	}
	if again.Events != 0 || first.Events == 0 {
		t.Fatalf("first run appended %d events, the rerun %d; want the rerun to append nothing", first.Events, again.Events)
	}
}
