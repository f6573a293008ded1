package simulate

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/privacy"
)

// day parses a test date.
func day(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// newKeys opens a key store in the test's directory.
func newKeys(t *testing.T) *privacy.KeyStore {
	t.Helper()
	keys, err := privacy.OpenKeyStore(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	return keys
}

// newStore returns an empty in-memory store closed at the end of the test.
func newStore(t *testing.T) *memstore.Store {
	t.Helper()
	s := memstore.New()
	t.Cleanup(func() { s.Close() })
	return s
}

// run simulates cfg on store and fails the test on an error.
func run(t *testing.T, store eventstore.Store, keys *privacy.KeyStore, cfg Config) Stats {
	t.Helper()
	var sealer commands.Sealer
	if keys != nil {
		sealer = keys
	}
	st, err := Run(context.Background(), store, sealer, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return st
}

// readLog returns every event of the store in $all order.
func readLog(t *testing.T, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	recs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{From: eventstore.Start})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// decoded is one event of the log with its stream.
type decoded struct {
	stream string
	event  domain.Event
}

func decodeLog(t *testing.T, recs []eventstore.RecordedEvent) []decoded {
	t.Helper()
	out := make([]decoded, len(recs))
	for i, r := range recs {
		ev, err := domain.DecodeData(r.Type, r.Data, r.Metadata)
		if err != nil {
			t.Fatalf("event %d (%s): %v", i, r.Type, err)
		}
		out[i] = decoded{stream: r.Stream, event: ev}
	}
	return out
}

// summary is what a history looks like to a clinic director.
type summary struct {
	types           map[string]int
	firstAdmissions map[domain.Level]int
	stays           map[domain.Level][]int // days at a level, for stays that ended
	present, total  int
	improved, worse int // people whose last PHQ-9 is below / above the intake's
	readmitted      int
	readmitted30    int
	reasons         map[domain.DischargeReason]int
	referrals       int
}

func summarize(t *testing.T, log []decoded) summary {
	t.Helper()
	s := summary{types: map[string]int{}, firstAdmissions: map[domain.Level]int{}, stays: map[domain.Level][]int{}, reasons: map[domain.DischargeReason]int{}}
	type placement struct {
		level domain.Level
		since domain.Date
	}
	current := map[domain.PatientID]placement{}
	baseline, last := map[domain.PatientID]int{}, map[domain.PatientID]int{}
	discharged := map[domain.PatientID]domain.Date{}
	endStay := func(id domain.PatientID, d domain.Date) {
		c := current[id]
		s.stays[c.level] = append(s.stays[c.level], d.DaysSince(c.since))
	}
	for _, x := range log {
		s.types[x.event.EventType()]++
		d := domain.DateOf(x.event.When())
		switch e := x.event.(type) {
		case domain.Referred:
			s.referrals++
		case domain.IntakeCompleted:
			if _, ok := baseline[e.Patient]; !ok {
				baseline[e.Patient] = e.PHQ9
			}
		case domain.MeasureRecorded:
			if e.Instrument == domain.PHQ9 {
				last[e.Patient] = e.Score
			}
		case domain.Admitted:
			s.firstAdmissions[e.Level]++
			current[e.Patient] = placement{e.Level, d}
		case domain.Readmitted:
			s.readmitted++
			if d.DaysSince(discharged[e.Patient]) <= 30 {
				s.readmitted30++
			}
			current[e.Patient] = placement{e.Level, d}
		case domain.SteppedDown:
			endStay(e.Patient, d)
			current[e.Patient] = placement{e.To, d}
		case domain.SteppedUp:
			endStay(e.Patient, d)
			current[e.Patient] = placement{e.To, d}
		case domain.Discharged:
			endStay(e.Patient, d)
			delete(current, e.Patient)
			discharged[e.Patient] = d
			s.reasons[e.Reason]++
		case domain.AttendanceRecorded:
			s.total++
			if e.Status == domain.Present {
				s.present++
			}
		}
	}
	for id, b := range baseline {
		if l, ok := last[id]; ok {
			switch {
			case l < b:
				s.improved++
			case l > b:
				s.worse++
			}
		}
	}
	return s
}

func median(v []int) int {
	v = slices.Clone(v)
	sort.Ints(v)
	return v[len(v)/2]
}

func TestHistoryIsRealistic(t *testing.T) {
	store := newStore(t)
	cfg := Config{Seed: 11, Start: day(t, "2026-08-01"), Days: 200}
	st := run(t, store, newKeys(t), cfg)
	log := decodeLog(t, readLog(t, store))
	s := summarize(t, log)

	t.Run("every event type", func(t *testing.T) {
		for _, typ := range domain.EventTypes() {
			if s.types[typ] == 0 {
				t.Errorf("no %s event in %d days", typ, cfg.Days)
			}
		}
	})
	t.Run("refusals foreseen and answered", func(t *testing.T) {
		if len(st.Unexpected) != 0 {
			t.Errorf("the command service refused %v", st.Unexpected)
		}
		for _, code := range []string{domain.CodeGroupFull, domain.CodeEntryClosed, domain.CodeRequirementUnmet} {
			if st.Refusals[code] == 0 {
				t.Errorf("no %s refusal met by the clinicians (refusals %v)", code, st.Refusals)
			}
		}
	})
	t.Run("stats match the log", func(t *testing.T) {
		created := s.types["ProgramCreated"] + s.types["GroupCreated"]
		if got, want := st.Events, int64(len(log)-created); got != want {
			t.Errorf("Stats.Events = %d, the log holds %d simulated events", got, want)
		}
		if st.Patients != s.referrals {
			t.Errorf("Stats.Patients = %d, %d referrals", st.Patients, s.referrals)
		}
		if st.Duplicates != 0 {
			t.Errorf("Stats.Duplicates = %d on a fresh store", st.Duplicates)
		}
	})
	checks := []struct {
		name    string
		got     float64
		lo, hi  float64
		explain string
	}{
		{"referrals per day", float64(s.referrals) / float64(cfg.Days), 1.4, 2.6, "2.5 a weekday, a third on weekends"},
		{"attendance present", float64(s.present) / float64(s.total), 0.75, 0.88, "about 80 %"},
		{"median inpatient stay", float64(median(s.stays[domain.Inpatient])), 5, 10, "5–10 days"},
		{"median residential stay", float64(median(s.stays[domain.Residential])), 20, 40, "about 30 days"},
		{"median PHP stay", float64(median(s.stays[domain.PHP])), 12, 22, "2–3 weeks"},
		{"median IOP stay", float64(median(s.stays[domain.IOP])), 38, 60, "6–8 weeks"},
		{"median outpatient stay", float64(median(s.stays[domain.Outpatient])), 30, 150, "months"},
		{"share of people improving", float64(s.improved) / float64(s.improved+s.worse), 0.7, 0.95, "most improve, some don't"},
		{"readmissions per discharge", float64(s.readmitted) / float64(s.types["Discharged"]), 0.03, 0.25, "some come back"},
		{"completed discharges", float64(s.reasons[domain.DischargeCompleted]) / float64(s.types["Discharged"]), 0.5, 0.85, "most complete"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got < c.lo || c.got > c.hi {
				t.Errorf("%s = %.2f, want %v–%v (%s)", c.name, c.got, c.lo, c.hi, c.explain)
			}
		})
	}
	t.Run("more outpatient and IOP admissions than inpatient", func(t *testing.T) {
		a := s.firstAdmissions
		if a[domain.Outpatient] <= a[domain.Inpatient] || a[domain.IOP] <= a[domain.Inpatient] {
			t.Errorf("first admissions %v", a)
		}
		for _, l := range domain.Levels() {
			if a[l] == 0 {
				t.Errorf("no first admission at %s", l)
			}
		}
	})
	t.Run("some readmissions within 30 days", func(t *testing.T) {
		if s.readmitted30 == 0 {
			t.Errorf("%d of %d readmissions within 30 days", s.readmitted30, s.readmitted)
		}
	})
	t.Run("dropouts and step-ups", func(t *testing.T) {
		if s.reasons[domain.DischargeDroppedOut]+s.reasons[domain.DischargeAgainstAdvice] == 0 {
			t.Errorf("no dropout among %v", s.reasons)
		}
		if s.types["SteppedUp"] == 0 || s.types["SteppedDown"] <= s.types["SteppedUp"] {
			t.Errorf("%d step-downs, %d step-ups", s.types["SteppedDown"], s.types["SteppedUp"])
		}
	}) // serve starts the seat releaser on a store the simulator filled: it
	// replays every old discharge, and must find nothing to release (the
	// simulator leaves groups itself; people who came back keep their seats).
	t.Run("a seat releaser started afterwards appends nothing", func(t *testing.T) {
		before := len(readLog(t, store))
		last := lastPosition(t, store, "Discharged", "GroupCreated")
		clock := cfg.Start.AddDays(cfg.Days + 1).Time()
		svc := commands.New(store, commands.WithClock(func() time.Time { return clock }))
		path := filepath.Join(t.TempDir(), "releaser.json")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- commands.NewSeatReleaser(svc, path, slog.New(slog.DiscardHandler)).Run(ctx) }()
		deadline := time.Now().Add(30 * time.Second)
		for !checkpointReached(path, last) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !checkpointReached(path, last) {
			t.Fatal("the releaser did not reach the last discharge within 30 s")
		}
		if after := len(readLog(t, store)); after != before {
			var extra []string
			for _, d := range decodeLog(t, readLog(t, store)[before:]) {
				extra = append(extra, d.event.EventType())
			}
			t.Errorf("the releaser appended %d events: %v", after-before, extra)
		}
	})
}

// lastPosition is the $all position of the last event of the given types.
func lastPosition(t *testing.T, store eventstore.Store, types ...string) eventstore.Position {
	t.Helper()
	var last eventstore.Position
	for _, r := range readLog(t, store) {
		if slices.Contains(types, r.Type) {
			last = r.Position
		}
	}
	return last
}

// checkpointReached reports whether the seat releaser's checkpoint file is
// at or past p.
func checkpointReached(path string, p eventstore.Position) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var st struct {
		Position eventstore.Position `json:"position"`
	}
	return json.Unmarshal(b, &st) == nil && !st.Position.Less(p)
}

// TestModulesCompleteInOrder checks that every member completes a modular
// group's modules in cycle order from their entry module, and completes the
// group only after all of them.
func TestModulesCompleteInOrder(t *testing.T) {
	store := newStore(t)
	run(t, store, nil, Config{Seed: 5, Start: day(t, "2026-08-15"), Days: 160})
	type key struct {
		group   domain.GroupID
		patient domain.PatientID
	}
	entry := map[key]int{}
	done := map[key][]int{}
	modules := map[domain.GroupID]int{}
	completions := 0
	for _, x := range decodeLog(t, readLog(t, store)) {
		switch e := x.event.(type) {
		case domain.GroupCreated:
			modules[e.Group] = len(e.Modules)
		case domain.MemberJoined:
			entry[key{e.Group, e.Patient}], done[key{e.Group, e.Patient}] = e.Module, nil
		case domain.WaitlistPromoted:
			entry[key{e.Group, e.Patient}], done[key{e.Group, e.Patient}] = e.Module, nil
		case domain.ModuleCompleted:
			k := key{e.Group, e.Patient}
			n := modules[e.Group]
			want := entry[k]
			if len(done[k]) > 0 {
				want = done[k][len(done[k])-1]%n + 1
			}
			if e.Module != want {
				t.Errorf("group %s: module %d completed, want %d", e.Group, e.Module, want)
			}
			done[k] = append(done[k], e.Module)
			completions++
		case domain.GroupCompleted:
			k := key{e.Group, e.Patient}
			if n := modules[e.Group]; len(done[k]) < n {
				t.Errorf("group %s completed after %d of %d modules", e.Group, len(done[k]), n)
			}
		}
	}
	if completions == 0 {
		t.Fatal("no module completed")
	}
}

// comparable turns a log into per-stream sequences that two runs of the
// same simulation must share. The sealed personal data is left out: its
// keys and nonces are random by design.
func comparableLog(t *testing.T, store eventstore.Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range readLog(t, store) {
		data := r.Data
		if r.Type == (domain.Referred{}).EventType() {
			ev, err := domain.DecodeData(r.Type, r.Data, r.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			ref := ev.(domain.Referred)
			if ref.Personal == nil {
				t.Fatal("a simulated referral without personal data")
			}
			ref.Personal = nil
			if _, data, err = domain.Encode(ref); err != nil {
				t.Fatal(err)
			}
		}
		out[r.Stream] = append(out[r.Stream], r.ID.String()+" "+r.Type+" "+string(data)+" "+string(r.Metadata))
	}
	return out
}

func TestSameSeedSameLog(t *testing.T) {
	start := day(t, "2026-09-07")
	simulate := func(cfg Config) map[string][]string {
		store := newStore(t)
		run(t, store, newKeys(t), cfg)
		return comparableLog(t, store)
	}
	first := simulate(Config{Seed: 3, Start: start, Days: 60, Sites: 2})
	tests := []struct {
		name string
		cfg  Config
		same bool
	}{
		{"same seed, same sites", Config{Seed: 3, Start: start, Days: 60, Sites: 2, Workers: 7}, true},
		{"another seed", Config{Seed: 4, Start: start, Days: 60, Sites: 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := simulate(tt.cfg)
			if same := reflect.DeepEqual(got, first); same != tt.same {
				t.Errorf("logs equal = %v, want %v (%d and %d streams)", same, tt.same, len(got), len(first))
			}
		})
	}
}

func TestRepeatedRunAppendsNothing(t *testing.T) {
	start := day(t, "2026-09-07")
	store := newStore(t)
	keys := newKeys(t)
	first := run(t, store, keys, Config{Seed: 9, Start: start, Days: 45})
	head := len(readLog(t, store))
	again := run(t, store, keys, Config{Seed: 9, Start: start, Days: 45})
	if n := len(readLog(t, store)); n != head {
		t.Fatalf("the repeat appended %d events", n-head)
	}
	if again.Events != 0 || again.Duplicates != first.Commands || len(again.Unexpected) != 0 {
		t.Errorf("repeat: %d events, %d duplicates of %d commands, unexpected %v", again.Events, again.Duplicates, first.Commands, again.Unexpected)
	}
}

func TestExtendedRunContinuesTheSameHistory(t *testing.T) {
	start := day(t, "2026-09-07")
	keys := newKeys(t)
	extended := newStore(t)
	run(t, extended, keys, Config{Seed: 2, Start: start, Days: 30})
	st := run(t, extended, keys, Config{Seed: 2, Start: start, Days: 70})
	whole := newStore(t)
	run(t, whole, newKeys(t), Config{Seed: 2, Start: start, Days: 70})
	if !reflect.DeepEqual(comparableLog(t, extended), comparableLog(t, whole)) {
		t.Error("30 days then 70 days differ from 70 days at once")
	}
	if st.Duplicates == 0 || len(st.Unexpected) != 0 {
		t.Errorf("extension: %d duplicates, unexpected %v", st.Duplicates, st.Unexpected)
	}
}

func TestPersonalDataIsSealed(t *testing.T) {
	store := newStore(t)
	keys := newKeys(t)
	run(t, store, keys, Config{Seed: 1, Start: day(t, "2026-09-07"), Days: 10})
	known := strings.Join(append(append(slices.Clone(femaleNames), maleNames...), familyNames...), "|")
	referrals := 0
	for _, r := range readLog(t, store) {
		for _, name := range familyNames {
			if strings.Contains(string(r.Data), name) || strings.Contains(string(r.Metadata), name) {
				t.Fatalf("a %s event holds a name in plain text", r.Type)
			}
		}
		if r.Type != (domain.Referred{}).EventType() {
			continue
		}
		referrals++
		ev, err := domain.DecodeData(r.Type, r.Data, r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		sealed := ev.(domain.Referred).Personal
		p, err := keys.Open(privacy.Sealed{KeyID: sealed.KeyID, Nonce: sealed.Nonce, Ciphertext: sealed.Ciphertext})
		if err != nil {
			t.Fatal(err)
		}
		given, family, ok := strings.Cut(p.Name, " ")
		if !ok || !strings.Contains(known, given) || !slices.Contains(familyNames, family) || p.DateOfBirth == "" || !strings.HasPrefix(p.Contact, "+1 555 01") {
			t.Errorf("unexpected personal data shape: %d characters of name, birth date set %v", len(p.Name), p.DateOfBirth != "")
		}
	}
	if referrals == 0 {
		t.Fatal("no referral in 10 days")
	}
}

func TestSitesAreSeparateClinics(t *testing.T) {
	store := newStore(t)
	run(t, store, nil, Config{Seed: 4, Start: day(t, "2026-09-07"), Days: 30, Sites: 3})
	programsUsed := map[string]bool{}
	for _, x := range decodeLog(t, readLog(t, store)) {
		if a, ok := x.event.(domain.Admitted); ok {
			programsUsed[string(a.Program)] = true
		}
	}
	for _, suffix := range []string{"", "-site-2", "-site-3"} {
		found := false
		for p := range programsUsed {
			if strings.HasSuffix(p, suffix) && (suffix != "" || !strings.Contains(p, "-site-")) {
				found = true
			}
		}
		if !found {
			t.Errorf("no admission to a program of site %q (programs %v)", suffix, programsUsed)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	start := day(t, "2026-09-07")
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no start", Config{Days: 1}},
		{"negative days", Config{Start: start, Days: -1}},
		{"negative sites", Config{Start: start, Days: 1, Sites: -2}},
		{"negative workers", Config{Start: start, Days: 1, Workers: -1}},
		{"negative referrals", Config{Start: start, Days: 1, ReferralsPerDay: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore(t)
			if _, err := Run(context.Background(), store, nil, tt.cfg); err == nil {
				t.Fatal("Run accepted an invalid configuration")
			}
			if n := len(readLog(t, store)); n != 0 {
				t.Errorf("an invalid configuration appended %d events", n)
			}
		})
	}
}

func TestProgressReportsEveryDay(t *testing.T) {
	var days []int
	cfg := Config{Seed: 1, Start: day(t, "2026-09-07"), Days: 12, Sites: 2, Progress: func(p Progress) {
		days = append(days, p.DaysDone)
	}}
	st := run(t, newStore(t), nil, cfg)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; !slices.Equal(days, want) {
		t.Errorf("progress days %v, want %v", days, want)
	}
	if st.Days != cfg.Days {
		t.Errorf("Stats.Days = %d", st.Days)
	}
}

func TestCancelledRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store := newStore(t)
	cfg := Config{Seed: 1, Start: day(t, "2026-09-07"), Days: 400, Progress: func(p Progress) {
		if p.DaysDone == 5 {
			cancel()
		}
	}}
	st, err := Run(ctx, store, nil, cfg)
	if err == nil {
		t.Fatal("a cancelled run reported success")
	}
	if st.Days >= cfg.Days {
		t.Errorf("Stats.Days = %d after cancelling at day 5", st.Days)
	}
}

func TestLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger", "simulate.json")
	l := OpenLedger(path)
	a := Config{Seed: 1, Start: day(t, "2026-09-07")}
	b := Config{Seed: 2, Start: day(t, "2026-09-07")}
	steps := []struct {
		name   string
		record *Config
		days   int
		check  Config
		want   int
	}{
		{"empty", nil, 0, a, 0},
		{"recorded", &a, 90, a, 90},
		{"other run untouched", nil, 0, b, 0},
		{"fewer days keep the most", &a, 30, a, 90},
		{"more days", &a, 120, a, 120},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.record != nil {
				if err := l.Record(*s.record, s.days); err != nil {
					t.Fatal(err)
				}
			}
			got, err := OpenLedger(path).Done(s.check)
			if err != nil {
				t.Fatal(err)
			}
			if got != s.want {
				t.Errorf("Done = %d, want %d", got, s.want)
			}
		})
	}
}

// TestSeatsFollowTheJourney checks, at the end of a history, that everyone
// seated or waiting in a group belongs there: a program's group holds only
// people in care in that program, an outpatient group only people in
// outpatient care, and only the alumni group people who were discharged.
func TestSeatsFollowTheJourney(t *testing.T) {
	store := newStore(t)
	run(t, store, nil, Config{Seed: 21, Start: day(t, "2026-08-01"), Days: 240})
	groups := map[domain.GroupID]*domain.Group{}
	people := map[domain.PatientID]*domain.Patient{}
	for _, x := range decodeLog(t, readLog(t, store)) {
		if id, err := domain.GroupIDFromStream(x.stream); err == nil {
			if groups[id] == nil {
				groups[id] = &domain.Group{}
			}
			groups[id].Evolve(x.event)
		}
		if id, err := domain.PatientIDFromStream(x.stream); err == nil {
			if people[id] == nil {
				people[id] = &domain.Patient{}
			}
			people[id].Evolve(x.event)
		}
	}
	seated := 0
	for gid, g := range groups {
		check := func(pid domain.PatientID, how string) {
			t.Helper()
			seated++
			p := people[pid]
			spec := g.Spec
			switch {
			case p == nil:
				t.Errorf("group %s: someone never referred is %s", gid, how)
			case gid == groupAlumni:
			case p.Status != domain.StatusInCare:
				t.Errorf("group %s: a person %s is %s", gid, how, p.Status)
			case spec.Program != "" && spec.Level != domain.Outpatient && p.Program != spec.Program:
				t.Errorf("group %s of program %s: a person %s is in program %s", gid, spec.Program, how, p.Program)
			case spec.Level == domain.Outpatient && p.Level != domain.Outpatient:
				t.Errorf("outpatient group %s: a person %s is at level %s", gid, how, p.Level)
			}
		}
		for pid := range g.Members {
			check(pid, "seated")
		}
		for _, pid := range g.Waitlist {
			check(pid, "waiting")
		}
	}
	if seated < 100 {
		t.Fatalf("only %d people in groups at the end", seated)
	}
}

func TestCyclesStartBeforeTheHistory(t *testing.T) {
	cbt := domain.GroupSpec{Modules: []domain.Module{{Name: "one", Weeks: 6}, {Name: "two", Weeks: 6}}, CycleStart: day(t, "2026-09-01")}
	tests := []struct {
		name  string
		first string
		want  string
	}{
		{"history after the catalog's cycle", "2026-10-01", "2026-09-01"},
		{"history starting on it", "2026-09-01", "2026-09-01"},
		{"one cycle earlier", "2026-08-01", "2026-06-09"},
		{"exactly one cycle earlier", "2026-06-09", "2026-06-09"},
		{"years earlier", "2016-01-01", "2015-11-10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := earliestCycle(cbt, day(t, tt.first))
			if got != day(t, tt.want) {
				t.Errorf("earliestCycle from %s = %s, want %s", tt.first, got, tt.want)
			}
			if first := day(t, tt.first); got.After(first) || got.DaysSince(cbt.CycleStart)%(12*7) != 0 ||
				got.Before(cbt.CycleStart) && got.AddDays(12*7).Before(first) {
				t.Errorf("%s is not the latest cycle start on or before %s", got, tt.first)
			}
		})
	}
	if got := earliestCycle(domain.GroupSpec{}, day(t, "2016-01-01")); !got.IsZero() {
		t.Errorf("a group without modules got cycle start %s", got)
	}
}
