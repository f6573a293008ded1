package projections

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/projections/replay"
)

// historyGenerator writes a plausible history day by day: referrals,
// intakes and admissions at every level, weekly measures, step-downs and
// step-ups, discharges, group joins (waitlists when full), weekly sessions
// with attendance, group completions with waitlist promotions. It is
// deterministic for a seed and does not go through the deciders: the
// benchmarks measure the projections, not the domain.
type historyGenerator struct {
	rng      *rand.Rand
	emit     func(domain.Event)
	day      int
	patients int
	inCare   []*genPatient
	groups   []*genGroup
}

type genPatient struct {
	id     domain.PatientID
	level  domain.Level
	groups []*genGroup
}

type genGroup struct {
	id       domain.GroupID
	members  map[domain.PatientID]int // session count at joining
	order    []domain.PatientID       // members in joining order, for determinism
	waitlist []domain.PatientID
	sessions int
}

const (
	genGroups        = 100
	genGroupCapacity = 8
	genReferralsADay = 30
)

func genProgram(l domain.Level) domain.ProgramID { return domain.ProgramID("program-" + l.String()) }

func newHistoryGenerator(seed uint64, emit func(domain.Event)) *historyGenerator {
	g := &historyGenerator{rng: rand.New(rand.NewPCG(seed, seed)), emit: emit}
	for _, l := range domain.Levels() {
		emit(domain.ProgramCreated{Program: genProgram(l), ProgramSpec: domain.ProgramSpec{Name: "Program " + l.String(), Level: l, Capacity: 300}, OccurredAt: g.at(8)})
	}
	for i := range genGroups {
		id := domain.GroupID(fmt.Sprintf("group-%03d", i))
		spec := processSpec()
		spec.Name, spec.Capacity, spec.Level = fmt.Sprintf("Group %d", i), genGroupCapacity, domain.Levels()[2+i%3]
		emit(domain.GroupCreated{Group: id, GroupSpec: spec, OccurredAt: g.at(8)})
		g.groups = append(g.groups, &genGroup{id: id, members: map[domain.PatientID]int{}})
	}
	return g
}

func (g *historyGenerator) at(hour int) time.Time {
	return day0.AddDate(0, 0, g.day).Add(time.Duration(hour) * time.Hour)
}

// nextDay writes one day of history.
func (g *historyGenerator) nextDay() {
	for range genReferralsADay {
		g.admitNew()
	}
	kept := g.inCare[:0]
	for _, p := range g.inCare {
		if g.liveADay(p) {
			kept = append(kept, p)
		}
	}
	g.inCare = kept
	for i, gr := range g.groups {
		if i%7 == g.day%7 {
			g.holdSession(gr)
		}
	}
	g.day++
}

func (g *historyGenerator) admitNew() {
	g.patients++
	id := domain.PatientID(fmt.Sprintf("%08x-0000-4000-8000-%012d", g.patients, g.patients))
	level := domain.Levels()[g.rng.IntN(5)]
	cipher := make([]byte, 64)
	for i := range cipher {
		cipher[i] = byte(g.rng.Uint32())
	}
	g.emit(domain.Referred{Patient: id, Source: domain.SourcePrimaryCare, Personal: &domain.SealedPersonal{KeyID: "k-" + string(id[:8]), Nonce: cipher[:12], Ciphertext: cipher}, OccurredAt: g.at(8)})
	g.emit(domain.IntakeCompleted{Patient: id, PHQ9: 10 + g.rng.IntN(17), GAD7: 8 + g.rng.IntN(13), RecommendedLevel: level, AgeYears: 18 + g.rng.IntN(60), OccurredAt: g.at(9)})
	g.emit(domain.Admitted{Patient: id, Program: genProgram(level), Level: level, OccurredAt: g.at(10)})
	p := &genPatient{id: id, level: level}
	g.inCare = append(g.inCare, p)
	if level >= domain.PHP {
		g.join(p, g.groups[g.rng.IntN(len(g.groups))])
	}
}

func (g *historyGenerator) join(p *genPatient, gr *genGroup) {
	switch {
	case len(gr.members) < genGroupCapacity:
		gr.members[p.id] = gr.sessions
		gr.order = append(gr.order, p.id)
		g.emit(domain.MemberJoined{Group: gr.id, Patient: p.id, OccurredAt: g.at(11)})
	case g.rng.IntN(2) == 0:
		gr.waitlist = append(gr.waitlist, p.id)
		g.emit(domain.MemberWaitlisted{Group: gr.id, Patient: p.id, OccurredAt: g.at(11)})
	default:
		return
	}
	p.groups = append(p.groups, gr)
}

// liveADay moves one person through a day; false once discharged.
func (g *historyGenerator) liveADay(p *genPatient) bool {
	switch r := g.rng.IntN(420); {
	case r < 60:
		g.emit(domain.MeasureRecorded{Patient: p.id, Instrument: domain.Instruments()[r%2], Score: g.rng.IntN(22), OccurredAt: g.at(12)})
	case r < 74 && p.level < domain.Outpatient:
		g.emit(domain.SteppedDown{Patient: p.id, From: p.level, To: p.level + 1, Program: genProgram(p.level + 1), OccurredAt: g.at(13)})
		p.level++
	case r < 81 && p.level > domain.Inpatient:
		g.emit(domain.SteppedUp{Patient: p.id, From: p.level, To: p.level - 1, Program: genProgram(p.level - 1), OccurredAt: g.at(13)})
		p.level--
	case r < 90:
		g.emit(domain.Discharged{Patient: p.id, Reason: domain.DischargeCompleted, Level: p.level, Program: genProgram(p.level), OccurredAt: g.at(14)})
		for _, gr := range p.groups {
			g.release(gr, p.id, func(inSeat bool) domain.Event {
				if inSeat {
					return domain.MemberLeft{Group: gr.id, Patient: p.id, Reason: domain.LeaveDischarged, OccurredAt: g.at(14)}
				}
				return domain.WaitlistLeft{Group: gr.id, Patient: p.id, Reason: domain.LeaveDischarged, OccurredAt: g.at(14)}
			})
		}
		return false
	}
	return true
}

// release takes a person out of a group and gives a freed seat to the
// head of the waitlist.
func (g *historyGenerator) release(gr *genGroup, id domain.PatientID, event func(inSeat bool) domain.Event) {
	if _, ok := gr.members[id]; !ok {
		for i, w := range gr.waitlist {
			if w == id {
				gr.waitlist = append(gr.waitlist[:i], gr.waitlist[i+1:]...)
				g.emit(event(false))
				return
			}
		}
		return
	}
	delete(gr.members, id)
	for i, m := range gr.order {
		if m == id {
			gr.order = append(gr.order[:i], gr.order[i+1:]...)
			break
		}
	}
	g.emit(event(true))
	if len(gr.waitlist) > 0 {
		next := gr.waitlist[0]
		gr.waitlist = gr.waitlist[1:]
		gr.members[next] = gr.sessions
		gr.order = append(gr.order, next)
		g.emit(domain.WaitlistPromoted{Group: gr.id, Patient: next, OccurredAt: g.at(15)})
	}
}

func (g *historyGenerator) holdSession(gr *genGroup) {
	gr.sessions++
	session := domain.SessionID("s-" + strconv.Itoa(gr.sessions))
	g.emit(domain.SessionHeld{Group: gr.id, Session: session, Date: domain.DateOf(g.at(16)), OccurredAt: g.at(16)})
	var done []domain.PatientID
	for _, id := range gr.order {
		status := domain.Present
		switch r := g.rng.IntN(20); {
		case r < 3:
			status = domain.Absent
		case r < 4:
			status = domain.Excused
		}
		g.emit(domain.AttendanceRecorded{Group: gr.id, Session: session, Patient: id, Status: status, OccurredAt: g.at(17)})
		if gr.sessions-gr.members[id] >= 12 {
			done = append(done, id)
		}
	}
	for _, id := range done {
		g.release(gr, id, func(bool) domain.Event {
			return domain.GroupCompleted{Group: gr.id, Patient: id, OccurredAt: g.at(18)}
		})
	}
}

// generateHistory returns at least n events of generated history.
func generateHistory(n int) []domain.Event {
	events := make([]domain.Event, 0, n+1024)
	g := newHistoryGenerator(1, func(e domain.Event) { events = append(events, e) })
	for len(events) < n {
		g.nextDay()
	}
	return events
}

// fillStore appends events with concurrent writers so the store's group
// commit shares fsyncs. Each stream's events go to one writer, in order and
// in batches, so streams interleave in $all differently from the generated
// order; the folds depend only on each stream's order (and clinical times).
func fillStore(tb testing.TB, store eventstore.Store, events []domain.Event) {
	tb.Helper()
	const writers, batch = 32, 256
	var streams []string
	byStream := map[string][]domain.Event{}
	for _, e := range events {
		name := e.StreamName()
		if _, ok := byStream[name]; !ok {
			streams = append(streams, name)
		}
		byStream[name] = append(byStream[name], e)
	}
	var wg sync.WaitGroup
	var once sync.Once
	var failure error
	work := make(chan string)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				all := byStream[name]
				for len(all) > 0 {
					n := min(len(all), batch)
					if _, err := store.Append(context.Background(), name, eventstore.Any, eventData(tb, all[:n]...)...); err != nil {
						once.Do(func() { failure = err })
					}
					all = all[n:]
				}
			}
		}()
	}
	for _, name := range streams {
		work <- name
	}
	close(work)
	wg.Wait()
	if failure != nil {
		tb.Fatalf("fill store: %v", failure)
	}
}

// benchFixtures caches the benchmark's filled store across the runs the
// testing package makes of one benchmark (b.N = 1 first, then more).
var benchFixtures struct {
	sync.Mutex
	stores map[int]*bolt.Store
	dirs   []string
}

// filledStore returns an embedded store holding about n generated events.
func filledStore(b *testing.B, n int) *bolt.Store {
	benchFixtures.Lock()
	defer benchFixtures.Unlock()
	if s, ok := benchFixtures.stores[n]; ok {
		return s
	}
	dir, err := os.MkdirTemp("", "continuum-projections-bench-")
	if err != nil {
		b.Fatal(err)
	}
	benchFixtures.dirs = append(benchFixtures.dirs, dir)
	store := openBolt(b, dir)
	start := time.Now()
	fillStore(b, store, generateHistory(n))
	b.Logf("filled the store with %d+ events in %v", n, time.Since(start).Round(time.Millisecond))
	if benchFixtures.stores == nil {
		benchFixtures.stores = map[int]*bolt.Store{}
	}
	benchFixtures.stores[n] = store
	return store
}

// TestMain removes the benchmark fixtures when the package's run ends.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, s := range benchFixtures.stores {
		s.Close()
	}
	for _, dir := range benchFixtures.dirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// benchEventCount is the size of the restart benchmark's history:
// CONTINUUM_BENCH_EVENTS overrides the default million for quick runs.
func benchEventCount(b *testing.B) int {
	if s := os.Getenv("CONTINUUM_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("CONTINUUM_BENCH_EVENTS: %v", err)
		}
		return n
	}
	return 1_000_000
}

// BenchmarkRestartToReady measures a restart of the projections over an
// embedded store of a million events: load the snapshot, subscribe from
// its checkpoint, catch up. The first, cold start replays the whole log
// and is reported as the replay rate; the snapshot is written on its Stop.
//
//	go test -run '^$' -bench RestartToReady -benchtime 5x ./projections/
func BenchmarkRestartToReady(b *testing.B) {
	n := benchEventCount(b)
	store := filledStore(b, n)
	dataDir := b.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()

	cold, err := New(Options{Store: store, Dir: dataDir, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	// The label lets a CPU profile single out the cold replay from the
	// fixture's fill: go tool pprof -tagfocus phase=cold.
	start := time.Now()
	pprof.Do(ctx, pprof.Labels("phase", "cold"), func(ctx context.Context) {
		if err := cold.Start(ctx); err != nil {
			b.Fatal(err)
		}
		if err := cold.WaitReady(ctx); err != nil {
			b.Fatal(err)
		}
	})
	took := time.Since(start)
	if err := cold.Stop(); err != nil {
		b.Fatal(err)
	}
	stats := cold.Stats()
	b.Logf("cold replay of %d events: %v (%.0f events/s); snapshot %d bytes, encoded and written in %v",
		stats.Applied, took.Round(time.Millisecond), float64(stats.Applied)/took.Seconds(),
		stats.LastSnapshotBytes, stats.LastSnapshotDuration.Round(time.Millisecond))
	b.ReportMetric(float64(stats.Applied)/took.Seconds(), "replay-events/s")
	b.ReportMetric(float64(stats.LastSnapshotBytes), "snapshot-bytes")
	scanned, scan := rawScan(b, store)
	b.Logf("raw scan of %d events (read only, no decoding): %v (%.0f events/s)", scanned, scan.Round(time.Millisecond), float64(scanned)/scan.Seconds())
	b.ReportMetric(float64(scanned)/scan.Seconds(), "raw-scan-events/s")

	b.ResetTimer()
	for range b.N {
		r, err := New(Options{Store: store, Dir: dataDir, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			b.Fatal(err)
		}
		if err := r.WaitReady(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if r.Stats().Applied != stats.Applied {
			b.Fatalf("restarted with %d events applied, want %d", r.Stats().Applied, stats.Applied)
		}
		if err := r.Stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// rawScan reads the clinical streams of the whole log page by page, as the
// catch-up does, without decoding: the bound a replay's rate compares with.
func rawScan(b *testing.B, store eventstore.Store) (int, time.Duration) {
	start := time.Now()
	n := 0
	err := replay.Pages(context.Background(), store, replay.Options{Filter: ClinicalStreams()}, func(_ int, events []eventstore.RecordedEvent) error {
		n += len(events)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n, time.Since(start)
}

// BenchmarkApply measures the cost of folding one more event after
// histories of different lengths: it must not grow with the history.
//
//	go test -run '^$' -bench Apply ./projections/
func BenchmarkApply(b *testing.B) {
	const tail = 100_000
	for _, history := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			events := generateHistory(history + tail)
			m := NewModels(time.UTC)
			for _, e := range events[:history] {
				m.Apply(e, nil)
			}
			next := events[history:]
			changed := TopicSet{}
			b.ResetTimer()
			for i := range b.N {
				m.Apply(next[i%len(next)], changed)
				if len(changed) > 64 {
					clear(changed)
				}
			}
		})
	}
}

// BenchmarkFold measures folding a million decoded events into empty
// models, as a cold replay does on its one applying goroutine: the bound of
// the replay's rate however many cores decode.
//
//	go test -run '^$' -bench Fold -benchtime 3x ./projections/
func BenchmarkFold(b *testing.B) {
	events := generateHistory(1_000_000)
	b.ResetTimer()
	for range b.N {
		m := NewModels(time.UTC)
		for _, e := range events {
			m.Apply(e, nil)
		}
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSnapshotEncode measures encoding the models of a million events,
// which the applying goroutine does every SnapshotEvery events.
func BenchmarkSnapshotEncode(b *testing.B) {
	m := NewModels(time.UTC)
	for _, e := range generateHistory(1_000_000) {
		m.Apply(e, nil)
	}
	b.ResetTimer()
	for range b.N {
		table, body, err := m.encode()
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(table) + len(body)))
	}
}

func TestGeneratedHistoryFillsTheStore(t *testing.T) {
	// The benchmarks' helpers must deliver every generated event, each
	// stream in order, or the figures they give would mean nothing.
	events := generateHistory(5_000)
	store := openBolt(t, t.TempDir())
	t.Cleanup(func() { store.Close() })
	fillStore(t, store, events)
	r := startRunner(t, Options{Store: store})
	waitReady(t, r)
	if s := r.Stats(); s.Applied != uint64(len(events)) || s.Unknown+s.Malformed != 0 {
		t.Fatalf("stats %+v, want all %d events applied", s, len(events))
	}
	var got, want CensusView
	r.Read(func(m *Models) { got = m.Census.View(at(30, 0)) })
	folded, _ := fold(t, events...)
	want = folded.Census.View(at(30, 0))
	if got.InCare == 0 || mustJSON(t, got) != mustJSON(t, want) {
		t.Errorf("census over the store\n%s\nwant the fold's\n%s", mustJSON(t, got), mustJSON(t, want))
	}
}
