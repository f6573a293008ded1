package projections

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/projections/replay"
)

func newMemstore(t *testing.T) *memstore.Store {
	t.Helper()
	s := memstore.New()
	t.Cleanup(func() { s.Close() })
	return s
}

func openBolt(t testing.TB, dir string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatalf("open bolt: %v", err)
	}
	return s
}

// countingStore counts the events its $all subscriptions deliver, to tell
// a resume from a full replay.
type countingStore struct {
	eventstore.Store
	// delivered counts the events of both reads and subscriptions; read
	// only those of forward reads.
	delivered, read atomic.Int64
}

func (s *countingStore) SubscribeAll(ctx context.Context, opts eventstore.SubscribeAllOptions) (eventstore.Subscription, error) {
	sub, err := s.Store.SubscribeAll(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingSubscription{Subscription: sub, store: s}, nil
}

type countingSubscription struct {
	eventstore.Subscription
	store *countingStore
}

// ReadAll counts the events a forward read brings after its start (the
// catch-up's pages overlap by the event they start at).
func (s *countingStore) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	recs, err := s.Store.ReadAll(ctx, opts)
	if opts.Direction == eventstore.Forwards {
		for _, r := range recs {
			if opts.From.Less(r.Position) {
				s.delivered.Add(1)
				s.read.Add(1)
			}
		}
	}
	return recs, err
}

func (s *countingSubscription) Recv() (eventstore.Message, error) {
	m, err := s.Subscription.Recv()
	if err == nil && m.Event != nil {
		s.store.delivered.Add(1)
	}
	return m, err
}

// flakyStore fails its first forward read of $all and drops its first $all
// subscription after a number of events, both with ErrUnavailable, as a
// store restarting under the runner would.
type flakyStore struct {
	eventstore.Store
	dropAfter  int
	dropped    atomic.Bool
	readFailed atomic.Bool
}

func (s *flakyStore) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	if opts.Direction == eventstore.Forwards && !s.readFailed.Swap(true) {
		return nil, eventstore.ErrUnavailable
	}
	return s.Store.ReadAll(ctx, opts)
}

func (s *flakyStore) SubscribeAll(ctx context.Context, opts eventstore.SubscribeAllOptions) (eventstore.Subscription, error) {
	sub, err := s.Store.SubscribeAll(ctx, opts)
	if err != nil || s.dropped.Swap(true) {
		return sub, err
	}
	return &flakySubscription{Subscription: sub, left: s.dropAfter}, nil
}

type flakySubscription struct {
	eventstore.Subscription
	left int
}

func (s *flakySubscription) Recv() (eventstore.Message, error) {
	if s.left == 0 {
		return eventstore.Message{}, eventstore.ErrUnavailable
	}
	m, err := s.Subscription.Recv()
	if m.Event != nil {
		s.left--
	}
	return m, err
}

// updates collects listener updates without ever blocking the runner.
type updates struct {
	mu   sync.Mutex
	list []Update
}

func (u *updates) listen(up Update) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.list = append(u.list, up)
}

func (u *updates) all() []Update {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.list)
}

// waitFor polls cond, failing after a generous bound (a hang, not a
// performance threshold).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func runnerState(t *testing.T, r *Runner) []byte {
	t.Helper()
	var b []byte
	r.Read(func(m *Models) { b = stateBytes(t, m) })
	return b
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestRunnerCatchesUpThenFollowsLive(t *testing.T) {
	store := newMemstore(t)
	last := appendEvents(t, store, story()...)
	var got updates
	r, err := New(Options{Store: store, Now: fixedClock(at(101, 12))})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready() {
		t.Fatal("ready before starting")
	}
	remove := r.Listen(got.listen)
	defer remove()
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	waitReady(t, r)
	if !r.Ready() || r.Position() != last {
		t.Fatalf("ready %v at %v, want ready at %v", r.Ready(), r.Position(), last)
	}
	board, pos := r.Census(at(101, 12))
	if board.InCare != 3 || pos != last {
		t.Fatalf("census in care %d at %v, want 3 at %v", board.InCare, pos, last)
	}

	live := appendEvents(t, store, domain.Discharged{Patient: pid(1), Reason: domain.DischargeCompleted, Level: domain.IOP, Program: iopEvening, OccurredAt: at(101, 15)})
	waitFor(t, "the live update", func() bool {
		u := got.all()
		return len(u) > 0 && u[len(u)-1].Position == live
	})
	u := got.all()
	if want := []string{"census", "patient:" + string(pid(1))}; !slices.Equal(u[len(u)-1].Topics, want) {
		t.Errorf("live update topics %v, want %v", u[len(u)-1].Topics, want)
	}
	data, pos, err := r.View("census")
	if err != nil || pos != live {
		t.Fatalf("View(census) at %v, %v; want %v", pos, err, live)
	}
	var v CensusView
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if v.InCare != 2 || v.Movements.Today.Discharges != 1 || v.Today != date(101) {
		t.Errorf("census after the discharge: in care %d, discharges today %d on %v", v.InCare, v.Movements.Today.Discharges, v.Today)
	}
	// Positions only grow, and together the updates name every topic the
	// log touched.
	names := map[string]bool{}
	for i, up := range u {
		if i > 0 && !u[i-1].Position.Less(up.Position) {
			t.Errorf("update %d at %v does not follow %v", i, up.Position, u[i-1].Position)
		}
		for _, n := range up.Topics {
			names[n] = true
		}
	}
	want := []string{"census", "group:" + string(cbt), "group:" + string(process)}
	for n := 1; n <= 4; n++ {
		want = append(want, "patient:"+string(pid(n)))
	}
	var gotNames []string
	for n := range names {
		gotNames = append(gotNames, n)
	}
	slices.Sort(gotNames)
	if !slices.Equal(gotNames, want) {
		t.Errorf("topics over all updates %v, want %v", gotNames, want)
	}
}

func TestRunnerView(t *testing.T) {
	store := newMemstore(t)
	last := appendEvents(t, store, story()...)
	r := startRunner(t, Options{Store: store, Now: fixedClock(at(101, 12))})
	waitReady(t, r)
	tests := []struct {
		name     string
		topic    string
		wantErr  error
		contains string
	}{
		{"census for the injected clock", "census", nil, `"today":"2026-06-11"`},
		{"a roster", "group:cbt-anxiety", nil, `"name":"CBT for anxiety"`},
		{"a journey", "patient:" + string(pid(3)), nil, `"type":"Readmitted"`},
		{"an unknown kind", "program:php-day", ErrUnknownTopic, ""},
		{"a malformed id", "patient:not-a-uuid", ErrUnknownTopic, ""},
		{"a group never seen", "group:nobody", ErrNotFound, ""},
		{"a patient never seen", "patient:" + string(pid(99)), ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, pos, err := r.View(tt.topic)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("View(%q) error %v, want %v", tt.topic, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if pos != last || !strings.Contains(string(data), tt.contains) {
				t.Errorf("View(%q) at %v = %s; want %s at %v", tt.topic, pos, data, tt.contains, last)
			}
		})
	}
	journey, _, ok := r.Journey(pid(3))
	if !ok || len(journey.Levels) != 2 {
		t.Errorf("Journey = %+v, %v", journey, ok)
	}
	roster, _, ok := r.Roster(cbt)
	if !ok || len(roster.Members) != 1 {
		t.Errorf("Roster = %+v, %v", roster, ok)
	}
	row, _, ok := r.Patient(pid(1))
	if !ok || row.Personal == nil || row.Personal.KeyID != "key-1" {
		t.Errorf("Patient = %+v, %v", row, ok)
	}
	if list, _ := r.Patients(PatientFilter{Status: StatusAdmitted}); list.Total != 3 {
		t.Errorf("Patients(admitted) total %d, want 3", list.Total)
	}
}

func TestRunnerResumesFromItsSnapshotAfterARestart(t *testing.T) {
	storeDir, dataDir := t.TempDir(), t.TempDir()
	history := story()
	first, rest := history[:20], history[20:]

	store := openBolt(t, storeDir)
	stopped := appendEvents(t, store, first...)
	r1 := startRunner(t, Options{Store: store, Dir: dataDir})
	waitReady(t, r1)
	if err := r1.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if s := r1.Stats(); s.SnapshotsWritten != 1 || s.Position != stopped || s.Applied != uint64(len(first)) {
		t.Fatalf("after Stop: %+v, want one snapshot at %v of %d events", s, stopped, len(first))
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	store = openBolt(t, storeDir)
	t.Cleanup(func() { store.Close() })
	last := appendEvents(t, store, rest...)
	counting := &countingStore{Store: store}
	r2, err := New(Options{Store: counting, Dir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Position() != stopped {
		t.Fatalf("restored at %v, want the snapshot's %v", r2.Position(), stopped)
	}
	if err := r2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r2.Stop() })
	waitReady(t, r2)
	if got := counting.delivered.Load(); got != int64(len(rest)) {
		t.Errorf("the restart read %d events, want only the tail of %d", got, len(rest))
	}
	if r2.Position() != last || r2.Stats().Applied != uint64(len(history)) {
		t.Errorf("at %v with %d applied, want %v with %d", r2.Position(), r2.Stats().Applied, last, len(history))
	}
	full, _ := fold(t, history...)
	if !bytes.Equal(runnerState(t, r2), stateBytes(t, full)) {
		t.Error("snapshot + tail differs from a fold of the whole log")
	}
}

func TestRunnerIgnoresAnUnusableSnapshot(t *testing.T) {
	store := newMemstore(t)
	history := story()
	appendEvents(t, store, history...)
	goodDir := t.TempDir()
	r := startRunner(t, Options{Store: store, Dir: goodDir})
	waitReady(t, r)
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(goodDir, SnapshotFile))
	if err != nil {
		t.Fatal(err)
	}
	want := runnerState(t, r)
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}

	damage := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	tests := []struct {
		name     string
		file     []byte
		location *time.Location
		wantLog  string
	}{
		{"a flipped bit", damage(func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }), nil, "checksum mismatch"},
		{"a truncated file", damage(func(b []byte) []byte { return b[:len(b)-100] }), nil, "checksum mismatch"},
		{"an empty file", []byte{}, nil, "not a projections snapshot"},
		{"another file", []byte("hello, this is not a snapshot at all"), nil, "not a projections snapshot"},
		{"a newer version", damage(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[len(snapshotMagic):], snapshotVersion+1)
			return b
		}), nil, "snapshot version mismatch"},
		{"another time zone", good, newYork, "time zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, SnapshotFile), tt.file, 0o600); err != nil {
				t.Fatal(err)
			}
			logger, logs := newLogger()
			counting := &countingStore{Store: store}
			r, err := New(Options{Store: counting, Dir: dir, Logger: logger, Location: tt.location})
			if err != nil {
				t.Fatal(err)
			}
			if r.Position() != eventstore.Start {
				t.Fatalf("an unusable snapshot was restored at %v", r.Position())
			}
			if !strings.Contains(logs.String(), "ignoring the snapshot") || !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log %q does not say the snapshot was ignored because of %q", logs.String(), tt.wantLog)
			}
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer r.Stop()
			waitReady(t, r)
			if got := counting.delivered.Load(); got != int64(len(history)) {
				t.Errorf("replayed %d events, want the whole log of %d", got, len(history))
			}
			if tt.location == nil && !bytes.Equal(runnerState(t, r), want) {
				t.Error("the full replay differs from the original state")
			}
		})
	}
}

func TestRebuildIsByteIdenticalToIncrementalState(t *testing.T) {
	store := newMemstore(t)
	dataDir := t.TempDir()
	history := story()
	var got updates

	// Build incrementally, with a restart half-way.
	appendEvents(t, store, history[:15]...)
	r1 := startRunner(t, Options{Store: store, Dir: dataDir})
	waitReady(t, r1)
	if err := r1.Stop(); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, store, history[15:25]...)
	r2 := startRunner(t, Options{Store: store, Dir: dataDir})
	r2.Listen(got.listen)
	waitReady(t, r2)
	last := appendEvents(t, store, history[25:]...) // applied live
	waitPosition(t, r2, last)
	incremental, err := r2.encodeSnapshot()
	if err != nil {
		t.Fatal(err)
	}

	if err := r2.Rebuild(context.Background()); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	rebuilt, err := r2.encodeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rebuilt, incremental) {
		t.Error("rebuilt snapshot differs from the incrementally built one")
	}
	if !slices.ContainsFunc(got.all(), func(u Update) bool { return u.Reset }) {
		t.Error("listeners were not told to reset")
	}
	// A runner that never had a snapshot agrees too.
	r3 := startRunner(t, Options{Store: store})
	waitReady(t, r3)
	fresh, err := r3.encodeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, incremental) {
		t.Error("a full replay's snapshot differs from the incrementally built one")
	}
	// And the file written on Stop is that same snapshot.
	if err := r2.Stop(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(dataDir, SnapshotFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, incremental) {
		t.Error("the snapshot file differs from the incrementally built state")
	}
}

// TestCatchUpThenLiveMatchesOneByOne catches a runner up over several
// pages through the parallel replay, then feeds it live events, and checks
// its snapshot against a runner that received every event one by one from
// its subscription: the same bytes, with every event read once.
func TestCatchUpThenLiveMatchesOneByOne(t *testing.T) {
	store := newMemstore(t)
	history := generateHistory(3*replay.PageSize + 500)
	split := len(history) - 300

	oneByOne := startRunner(t, Options{Store: store})
	waitReady(t, oneByOne) // on an empty log: everything arrives live
	caughtUpTo := appendEvents(t, store, history[:split]...)

	counting := &countingStore{Store: store}
	var got updates
	r, err := New(Options{Store: counting})
	if err != nil {
		t.Fatal(err)
	}
	r.Listen(got.listen)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	waitReady(t, r)
	if r.Position() != caughtUpTo {
		t.Fatalf("ready at %v, want %v", r.Position(), caughtUpTo)
	}
	last := appendEvents(t, store, history[split:]...)
	waitPosition(t, r, last)
	waitPosition(t, oneByOne, last)

	if read, all := counting.read.Load(), counting.delivered.Load(); read != int64(split) || all != int64(len(history)) {
		t.Errorf("read %d events and received %d in all, want %d read and %d in all", read, all, split, len(history))
	}
	if s := r.Stats(); s.Applied != uint64(len(history)) || s.Unknown != 0 || s.Malformed != 0 {
		t.Errorf("applied %d (%d unknown, %d malformed), want %d", s.Applied, s.Unknown, s.Malformed, len(history))
	}
	want, err := oneByOne.encodeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	have, err := r.encodeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Errorf("the caught-up runner's snapshot (%d bytes) differs from the one-by-one runner's (%d bytes)", len(have), len(want))
	}
	// Both equal the sequential fold of $all, byte for byte.
	recs, err := store.ReadAll(context.Background(), eventstore.ReadAllOptions{From: eventstore.Start})
	if err != nil {
		t.Fatal(err)
	}
	folded := NewModels(time.UTC)
	for _, rec := range recs {
		e, err := domain.DecodeData(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		folded.Apply(e, nil)
	}
	if !bytes.Equal(runnerState(t, r), stateBytes(t, folded)) {
		t.Error("the runner's state differs from the sequential fold of $all")
	}
	u := got.all()
	for i := 1; i < len(u); i++ {
		if !u[i-1].Position.Less(u[i].Position) {
			t.Fatalf("update %d at %v does not follow %v", i, u[i].Position, u[i-1].Position)
		}
	}
	if len(u) == 0 || u[len(u)-1].Position != last {
		t.Errorf("the last update is not at %v", last)
	}
}

func TestRunnerSkipsUnknownAndMalformedEvents(t *testing.T) {
	store := newMemstore(t)
	appendEvents(t, store, catalogEvents()...)
	appendRaw(t, store, domain.PatientStream(pid(1)), "PatientTeleported", []byte(`{"patient":"`+string(pid(1))+`"}`))
	appendRaw(t, store, domain.PatientStream(pid(1)), "PatientTeleported", []byte(`{}`))
	const secret = "Jane Q. Example"
	appendRaw(t, store, domain.PatientStream(pid(1)), "Admitted", []byte(`{"patient":"`+string(pid(1))+`","program":"php-day","level":"`+secret+`","occurredAt":"2026-03-02T10:00:00Z"}`))
	appendRaw(t, store, domain.PatientStream(pid(1)), "Referred", []byte(`{"patient":"`+secret))
	last := appendEvents(t, store, admittedPatient(2, 0)...)

	logger, logs := newLogger()
	r := startRunner(t, Options{Store: store, Logger: logger})
	waitReady(t, r)
	s := r.Stats()
	if s.Unknown != 2 || s.Malformed != 2 || s.Applied != uint64(len(catalogEvents())+3) || s.Position != last {
		t.Errorf("stats %+v, want 2 unknown, 2 malformed, every valid event applied, at %v", s, last)
	}
	if _, _, ok := r.Patient(pid(2)); !ok {
		t.Error("the events after the bad ones were not applied")
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the log repeats a stored value: %s", logs.String())
	}
	if n := strings.Count(logs.String(), "unknown type"); n != 1 {
		t.Errorf("logged the unknown type %d times, want once: %s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "does not decode"); n != 2 {
		t.Errorf("logged %d undecodable events, want 2: %s", n, logs.String())
	}
}

func TestRunnerResubscribesWhenTheStoreDropsIt(t *testing.T) {
	store := newMemstore(t)
	history := story()
	half := len(history) / 2
	appendEvents(t, store, history[:half]...)
	flaky := &flakyStore{Store: store, dropAfter: 10}
	logger, logs := newLogger()
	// The first catch-up read fails; the retry catches up, and the live
	// subscription then drops in the middle of the second half.
	r := startRunner(t, Options{Store: flaky, Logger: logger})
	waitReady(t, r)
	last := appendEvents(t, store, history[half:]...)
	waitPosition(t, r, last)
	if !flaky.readFailed.Load() || !flaky.dropped.Load() {
		t.Fatalf("read failed %v, subscription dropped %v: the test did not stage both faults", flaky.readFailed.Load(), flaky.dropped.Load())
	}
	if r.Position() != last {
		t.Fatalf("at %v, want %v", r.Position(), last)
	}
	if !strings.Contains(logs.String(), "resubscribing") {
		t.Error("the drop was not logged")
	}
	full, _ := fold(t, history...)
	if !bytes.Equal(runnerState(t, r), stateBytes(t, full)) || r.Stats().Applied != uint64(len(history)) {
		t.Error("resuming after a drop lost or repeated events")
	}
}

func TestRunnerLag(t *testing.T) {
	store := newMemstore(t)
	history := story()
	appendEvents(t, store, history...)
	r, err := New(Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	lag, err := r.Lag(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if lag.Events != len(history) || lag.AtLeast || lag.Seconds < 0 {
		t.Errorf("lag before starting %+v, want %d events", lag, len(history))
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	waitReady(t, r)
	if lag, err := r.Lag(context.Background()); err != nil || lag != (Lag{}) {
		t.Errorf("lag when caught up %+v, %v; want none", lag, err)
	}
}

func TestRunnerLifecycle(t *testing.T) {
	store := newMemstore(t)
	r, err := New(Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Rebuild before Start: %v, want ErrNotRunning", err)
	}
	if err := r.Stop(); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Start: %v, want ErrAlreadyRunning", err)
	}
	waitReady(t, r)
	if err := r.Stop(); err != nil || r.Ready() {
		t.Errorf("Stop: %v, ready %v", err, r.Ready())
	}
	if err := r.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without a store succeeded")
	}
}

func TestRunnerWritesSnapshotsWhileRunning(t *testing.T) {
	store := newMemstore(t)
	dir := t.TempDir()
	r := startRunner(t, Options{Store: store, Dir: dir, SnapshotEvery: 5})
	waitReady(t, r)
	last := appendEvents(t, store, story()...)
	waitPosition(t, r, last)
	waitFor(t, "a snapshot while running", func() bool { return r.Stats().SnapshotsWritten > 0 })
	b, err := os.ReadFile(filepath.Join(dir, SnapshotFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := unmarshalSnapshot(b)
	if err != nil {
		t.Fatalf("the running snapshot does not read back: %v", err)
	}
	if s.progress.Position == eventstore.Start || last.Less(s.progress.Position) || s.progress.Applied < 5 {
		t.Errorf("running snapshot progress %+v, want some events up to %v", s.progress, last)
	}
	if _, err := decodeModels(time.UTC, s.table, s.body); err != nil {
		t.Errorf("the running snapshot's models do not decode: %v", err)
	}
}

func TestUntilMidnight(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	tests := []struct {
		name string
		loc  *time.Location
		now  time.Time
		want time.Duration
	}{
		{"half a minute before midnight", time.UTC, time.Date(2026, 3, 2, 23, 59, 30, 0, time.UTC), 30 * time.Second},
		{"just after midnight", time.UTC, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), 24 * time.Hour},
		{"in the clinic's zone", newYork, time.Date(2026, 3, 3, 4, 0, 0, 0, time.UTC), time.Hour},
		{"at midnight exactly never spins", time.UTC, time.Date(2026, 3, 2, 23, 59, 59, 999_999_999, time.UTC), time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(Options{Store: newMemstore(t), Location: tt.loc, Now: fixedClock(tt.now)})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.untilMidnight(); got != tt.want {
				t.Errorf("untilMidnight = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRunnerPreparesItsDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "projections")
	r, err := New(Options{Store: newMemstore(t), Dir: dir})
	if err != nil {
		t.Fatalf("New with a missing directory: %v", err)
	}
	stale := filepath.Join(dir, SnapshotFile+".tmp-123")
	if err := os.WriteFile(stale, []byte("half a snapshot"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Store: newMemstore(t), Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an interrupted write's temporary file survived: %v", err)
	}
	if r.Position() != eventstore.Start {
		t.Errorf("a fresh directory restored %v", r.Position())
	}
}

// TestCensusViewIsTaggedWithItsLastChange checks that the census served
// after events that did not touch it carries the position of the change
// that a subscriber was pushed, not the runner's later position: both
// ends of the websocket then agree on bytes and position.
func TestCensusViewIsTaggedWithItsLastChange(t *testing.T) {
	store := newMemstore(t)
	appendEvents(t, store, catalogEvents()...)
	admitted := appendEvents(t, store, admittedPatient(1, 0)...)
	r := startRunner(t, Options{Store: store})
	waitReady(t, r)
	measured := appendEvents(t, store, domain.MeasureRecorded{Patient: pid(1), Instrument: domain.PHQ9, Score: 9, OccurredAt: at(0, 12)})
	waitPosition(t, r, measured)
	_, pos, err := r.View(CensusTopic)
	if err != nil {
		t.Fatal(err)
	}
	if pos != admitted {
		t.Errorf("census tagged %v, want the admission's %v (the measure at %v changed no figure)", pos, admitted, measured)
	}
	if _, p := r.Census(at(0, 13)); p != admitted {
		t.Errorf("Census tagged %v, want %v", p, admitted)
	}
	if _, p, _ := r.View(PatientTopic(pid(1)).String()); p != measured {
		t.Errorf("the journey tagged %v, want the measure's %v", p, measured)
	}
	discharged := appendEvents(t, store, domain.Discharged{Patient: pid(1), Program: phpDay, Level: domain.PHP, Reason: domain.DischargeCompleted, OccurredAt: at(1, 9)})
	waitPosition(t, r, discharged)
	if _, pos, _ := r.View(CensusTopic); pos != discharged {
		t.Errorf("census tagged %v after a discharge, want %v", pos, discharged)
	}
}
