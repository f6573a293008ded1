// Package simulate writes a realistic history of a behavioral-health care
// continuum through the real command path: referrals at a realistic rate,
// intakes with baseline PHQ-9 and GAD-7, admissions at every level,
// step-downs and step-ups, group joins that follow the catalog's rules,
// sessions and attendance, module and group completions, measures that
// mostly improve, dropouts, discharges and readmissions.
//
// Every fact is a command to the commands package, decided by the domain
// and appended like a clinician's. The simulated clinicians know the
// catalog's rules: before asking for a seat they check the join against
// the group's folded state with the domain's own decider, and react to a
// refusal as a person would (a full group: the waitlist; CBT for anxiety
// between modules: wait for the next start; an unmet requirement or a
// paused group: another group). So the command service refuses nothing
// the simulator did not foresee, which is what makes a run repeatable.
//
// Run (the history) is deterministic for a seed, a start day and a number
// of sites: the same configuration issues the same commands with the same
// idempotency keys, so running it again on the same store appends nothing,
// and two runs on fresh stores write the same streams. Live keeps a demo
// moving at a pace a person can watch.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/domain/catalog"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/google/uuid"
)

// Defaults of Config.
const (
	// DefaultWorkers is how many commands a site runs at once: enough to
	// fill the store's group commits, few enough to keep the memory small.
	DefaultWorkers = 64
	// DefaultReferralsPerDay is the mean number of referrals a site gets on
	// a weekday: the default catalog's IOP runs near capacity and the
	// group center at about three quarters of it.
	DefaultReferralsPerDay = 2.5
	// serviceCacheSize is how many folded streams the simulator's command
	// service keeps per site: its groups and the people recently in care
	// (older ones are read again if they return).
	serviceCacheSize = 1024
)

// Config says what to simulate.
type Config struct {
	// Seed makes the run reproducible.
	Seed uint64
	// Start is the first simulated day, in Location.
	Start domain.Date
	// Days is how many days to simulate.
	Days int
	// Sites is how many clinics run the catalog (each a copy with its own
	// IDs, "-site-2" and so on); more sites give more events per day for
	// volume tests. 0 means 1.
	Sites int
	// Location is the clinic's time zone; nil means UTC.
	Location *time.Location
	// Workers bounds the commands in flight at each site; 0 means
	// DefaultWorkers.
	Workers int
	// ReferralsPerDay is the mean number of referrals per site per weekday
	// (weekends get a third); 0 means DefaultReferralsPerDay.
	ReferralsPerDay float64
	// Progress, if set, is called each time every site has simulated one
	// more day.
	Progress func(Progress)
	// Logger receives a few lines about the run (never personal data); nil
	// means slog.Default().
	Logger *slog.Logger
}

// Progress reports how far a run got.
type Progress struct {
	Day      domain.Date
	DaysDone int
	Days     int
	// Events counts the events appended so far.
	Events  int64
	Elapsed time.Duration
}

// Stats summarises a run.
type Stats struct {
	Days int
	// Commands is the number of commands sent to the command service.
	Commands int64
	// Events is the number of events appended by this run; Duplicates the
	// commands that the store already held (a repeated run).
	Events     int64
	Duplicates int64
	// EventsByType counts the events of each type the run's commands
	// appended or found already appended.
	EventsByType map[string]int64
	// Refusals counts, by error code, the refusals the simulated clinicians
	// met when checking a join against the catalog's rules, and answered
	// (waitlist, next module start, another group).
	Refusals map[string]int64
	// Unexpected counts, by error code, the refusals of the command service
	// that the simulator's checks did not foresee. A history run on a store
	// nobody else writes has none; Live meets them when people act on the
	// same patients, and answers by reading the person's state again.
	Unexpected map[string]int64
	// Patients is the number of people referred.
	Patients int
	Elapsed  time.Duration
}

// counters are the run's statistics, updated from many goroutines.
type counters struct {
	commands, events, duplicates atomic.Int64
	mu                           sync.Mutex
	byType, refusals, unexpected map[string]int64
}

func newCounters() *counters {
	return &counters{byType: map[string]int64{}, refusals: map[string]int64{}, unexpected: map[string]int64{}}
}

func (c *counters) recordResult(res commands.Result) {
	c.commands.Add(1)
	if res.Duplicate {
		c.duplicates.Add(1)
	} else {
		c.events.Add(int64(len(res.Events)))
	}
	c.mu.Lock()
	for _, t := range res.Events {
		c.byType[t]++
	}
	c.mu.Unlock()
}

func (c *counters) refused(code string) {
	c.mu.Lock()
	c.refusals[code]++
	c.mu.Unlock()
}

func (c *counters) unexpectedRefusal(code string) {
	c.commands.Add(1)
	c.mu.Lock()
	c.unexpected[code]++
	c.mu.Unlock()
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	clone := func(m map[string]int64) map[string]int64 {
		out := make(map[string]int64, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return Stats{
		Commands: c.commands.Load(), Events: c.events.Load(), Duplicates: c.duplicates.Load(),
		EventsByType: clone(c.byType), Refusals: clone(c.refusals), Unexpected: clone(c.unexpected),
	}
}

// simNamespace roots the patient IDs derived from a run's identity.
var simNamespace = uuid.MustParse("6f1d1c8e-0b7a-5d43-9a51-3c2e8f4b7d10")

// Run simulates cfg.Days days from cfg.Start on store, sealing invented
// personal data with sealer (nil refers people without personal data). It
// seeds the sites' catalogs first (programs and groups that exist are
// kept). Sites are independent clinics, so each runs its days on its own,
// through its own command service whose clock is the simulated one. On a
// store that already holds the same run, every command is found already
// applied and nothing is appended.
func Run(ctx context.Context, store eventstore.Store, sealer commands.Sealer, cfg Config) (Stats, error) {
	started := time.Now()
	if err := cfg.validate(); err != nil {
		return Stats{}, err
	}
	sh := newShared(store, sealer, cfg, nil)
	sh.raiseClock(sh.endOfDay(cfg.Start))
	engines, err := sh.engines()
	if err != nil {
		return Stats{}, err
	}
	for _, e := range engines {
		e.svc = commands.New(store, commands.WithClock(sh.now), commands.WithCacheSize(serviceCacheSize))
		if err := e.seedCatalog(ctx); err != nil {
			return Stats{}, err
		}
		if err := e.loadGroups(ctx); err != nil {
			return Stats{}, err
		}
	}
	progress := newProgressTracker(cfg, len(engines), started, sh.count)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for _, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < cfg.Days; i++ {
				d := cfg.Start.AddDays(i)
				sh.raiseClock(sh.endOfDay(d))
				if err := e.simulateDay(ctx, d, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				progress.dayDone(e.site.index, d)
			}
		}()
	}
	wg.Wait()
	st := sh.stats(engines)
	st.Days, st.Elapsed = progress.completed(), time.Since(started)
	if firstErr != nil {
		return st, firstErr
	}
	sh.log.Info("simulation done", "days", cfg.Days, "sites", len(engines), "events", st.Events, "duplicates", st.Duplicates, "elapsed", st.Elapsed.Round(time.Millisecond))
	return st, nil
}

// progressTracker reports a day once every site has simulated it.
type progressTracker struct {
	cfg     Config
	started time.Time
	count   *counters
	mu      sync.Mutex
	done    []int // days done per site
	minDone int
}

func newProgressTracker(cfg Config, sites int, started time.Time, count *counters) *progressTracker {
	return &progressTracker{cfg: cfg, started: started, count: count, done: make([]int, sites)}
}

func (t *progressTracker) dayDone(site int, d domain.Date) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done[site]++
	low := slices.Min(t.done)
	if low == t.minDone {
		return
	}
	t.minDone = low
	if t.cfg.Progress != nil {
		t.cfg.Progress(Progress{Day: t.cfg.Start.AddDays(low - 1), DaysDone: low, Days: t.cfg.Days, Events: t.count.events.Load(), Elapsed: time.Since(t.started)})
	}
}

// completed is the number of days every site has simulated.
func (t *progressTracker) completed() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.minDone
}

// validate checks the configuration and fills its defaults.
func (cfg *Config) validate() error {
	switch {
	case cfg.Start.IsZero():
		return errors.New("simulate: the start day is not set")
	case cfg.Days < 0:
		return errors.New("simulate: the number of days is negative")
	case cfg.Sites < 0:
		return errors.New("simulate: the number of sites is negative")
	case cfg.Workers < 0:
		return errors.New("simulate: the number of workers is negative")
	case cfg.ReferralsPerDay < 0:
		return errors.New("simulate: the referral rate is negative")
	}
	if cfg.Sites == 0 {
		cfg.Sites = 1
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.ReferralsPerDay == 0 {
		cfg.ReferralsPerDay = DefaultReferralsPerDay
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
}

// RunID names a run: the configuration that decides every command. It
// prefixes the idempotency keys and the correlation ID of the run's events.
func (cfg Config) RunID() string {
	sites := max(cfg.Sites, 1)
	return fmt.Sprintf("sim-%d-%s-%d", cfg.Seed, cfg.Start, sites)
}

// shared is what the sites of one simulation share: the configuration, the
// store, the counters and the simulated clock.
type shared struct {
	cfg    Config
	store  eventstore.Store
	sealer commands.Sealer
	log    *slog.Logger
	// live is set in Live mode: commands are paced and dated now.
	live *pacer
	// runID prefixes keys; correlation is every event's correlation ID.
	runID, correlation string
	count              *counters
	clock              atomic.Int64 // decision time in Unix nanoseconds (history)
}

func newShared(store eventstore.Store, sealer commands.Sealer, cfg Config, live *pacer) *shared {
	sh := &shared{cfg: cfg, store: store, sealer: sealer, log: cfg.Logger, live: live, runID: cfg.RunID(), count: newCounters()}
	sh.correlation = sh.runID
	return sh
}

// engine is one site's simulation: its groups and people, and the
// clinicians' decisions, day by day.
type engine struct {
	*shared
	svc        *commands.Service
	site       *site
	groups     map[domain.GroupID]*group
	groupOrder []*group
	patients   map[domain.PatientID]*patient
	active     []*patient
	nextIndex  int
	arrivals   *rand.Rand
}

// engines builds one engine per site of the default catalog.
func (sh *shared) engines() ([]*engine, error) {
	cat, err := catalog.Default()
	if err != nil {
		return nil, err
	}
	var engines []*engine
	for i := 0; i < sh.cfg.Sites; i++ {
		s, err := newSite(cat, i, sh.cfg.Start)
		if err != nil {
			return nil, err
		}
		e := &engine{
			shared: sh, site: s, groups: map[domain.GroupID]*group{}, patients: map[domain.PatientID]*patient{},
			arrivals: newRand(sh.cfg.Seed, sh.runID+"/arrivals", uint64(i)),
		}
		for _, g := range s.catalog.Groups {
			gr := &group{id: g.ID, base: s.base[g.ID], site: s, revision: -1, known: -1, seen: map[domain.PatientID]*memberStats{}}
			e.groups[g.ID] = gr
			e.groupOrder = append(e.groupOrder, gr)
		}
		sort.Slice(e.groupOrder, func(i, j int) bool { return e.groupOrder[i].id < e.groupOrder[j].id })
		engines = append(engines, e)
	}
	return engines, nil
}

// now is the command services' clock in a history run: the end of the
// latest day a site is simulating, so every fact of the day may be
// recorded and none after it.
func (sh *shared) now() time.Time { return time.Unix(0, sh.clock.Load()).In(sh.cfg.Location) }

// raiseClock moves the clock forward to t (never back: sites run ahead
// of each other).
func (sh *shared) raiseClock(t time.Time) {
	n := t.UnixNano()
	for {
		cur := sh.clock.Load()
		if cur >= n || sh.clock.CompareAndSwap(cur, n) {
			return
		}
	}
}

// at is the clinical time of minute m of day d; in Live, now.
func (sh *shared) at(d domain.Date, minute int) time.Time {
	if sh.live != nil {
		return sh.live.now()
	}
	return time.Date(d.Year, d.Month, d.Day, 0, minute, 0, 0, sh.cfg.Location)
}

// endOfDay is the last instant of day d.
func (sh *shared) endOfDay(d domain.Date) time.Time {
	next := d.AddDays(1)
	return time.Date(next.Year, next.Month, next.Day, 0, 0, 0, 0, sh.cfg.Location).Add(-time.Nanosecond)
}

func (sh *shared) stats(engines []*engine) Stats {
	st := sh.count.snapshot()
	for _, e := range engines {
		st.Patients += e.nextIndex
	}
	return st
}

// seedCatalog creates the site's programs and groups, dated at the start
// of the first day; ones that exist are kept as they are.
func (e *engine) seedCatalog(ctx context.Context) error {
	programs, groups := e.site.catalog.Commands(e.at(e.cfg.Start, 0))
	_, err := e.svc.SeedCatalog(ctx, programs, groups)
	return err
}

// loadGroups folds every group's stream as it was before this run wrote to
// it: to its end on a fresh store, and up to the run's first event when the
// run is repeated, so the repeat decides exactly as the first run did.
func (e *engine) loadGroups(ctx context.Context) error {
	for _, g := range e.groupOrder {
		if err := e.foldGroup(ctx, g, foldUntilRun); err != nil {
			return err
		}
		g.known = g.revision
	}
	return nil
}

// simulateDay runs one day: arrivals, the clinicians' plans, the patients'
// commands, the groups' day (joins, leaves, sessions, attendance,
// completions), then discharges, and finally what the groups' logs tell
// about each person.
func (e *engine) simulateDay(ctx context.Context, d domain.Date, dayIndex int) error {
	if err := e.operations(ctx, d, dayIndex); err != nil {
		return err
	}
	e.arrive(d)
	for _, p := range e.active {
		p.startDay(e, d)
		e.plan(p, d)
	}
	var early, late []*patient
	for _, p := range e.active {
		if len(p.ops) > 0 {
			early = append(early, p)
		}
		if len(p.late) > 0 {
			late = append(late, p)
		}
	}
	if err := e.parallel(ctx, len(early), func(ctx context.Context, i int) error {
		return e.runPatientOps(ctx, early[i], early[i].ops)
	}); err != nil {
		return err
	}
	var busy []*group
	for _, g := range e.groupOrder {
		if len(g.ops) > 0 || len(e.sessionsOn(g, d)) > 0 {
			busy = append(busy, g)
		}
	}
	if err := e.parallel(ctx, len(busy), func(ctx context.Context, i int) error {
		return e.groupDay(ctx, busy[i], d, dayIndex)
	}); err != nil {
		return err
	}
	if err := e.parallel(ctx, len(late), func(ctx context.Context, i int) error {
		return e.runPatientOps(ctx, late[i], late[i].late)
	}); err != nil {
		return err
	}
	for _, g := range busy {
		for _, c := range g.changes {
			e.observe(c, d)
		}
		g.changes, g.ops = g.changes[:0], g.ops[:0]
	}
	return e.endDay(ctx, d)
}

// endDay re-reads the people whose commands were unexpectedly refused and
// forgets the people the simulation is done with.
func (e *engine) endDay(ctx context.Context, d domain.Date) error {
	kept := e.active[:0]
	for _, p := range e.active {
		p.ops, p.late = p.ops[:0], p.late[:0]
		if p.resync {
			if err := e.resync(ctx, p, d); err != nil {
				return err
			}
		}
		if p.done() {
			delete(e.patients, p.id)
			continue
		}
		kept = append(kept, p)
	}
	clear(e.active[len(kept):])
	e.active = kept
	return nil
}

// parallel runs fn for 0..n-1 on the configured number of workers and
// returns the first error; in Live, one at a time, in order.
func (e *engine) parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	if e.live != nil {
		for i := 0; i < n; i++ {
			if err := fn(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for w := 0; w < min(e.cfg.Workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// meta builds a command's metadata; key must be unique per stream.
func (e *engine) meta(key string) commands.Meta {
	return commands.Meta{IdempotencyKey: e.runID + "/" + key, CorrelationID: e.correlation}
}

// classify sorts a command's error: a domain refusal is answered by the
// caller (and counted), anything else ends the run.
func (e *engine) classify(err error) (refused bool, fatal error) {
	if err == nil {
		return false, nil
	}
	if code := domain.ErrorCode(err); code != "" {
		e.count.unexpectedRefusal(code)
		e.log.Debug("simulate: command refused", "code", code)
		return true, nil
	}
	return false, err
}
