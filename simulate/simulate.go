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
	// DefaultWorkers is how many commands run at once: enough to fill the
	// store's group commits, few enough to keep the memory small.
	DefaultWorkers = 64
	// DefaultReferralsPerDay is the mean number of referrals a site gets on
	// a weekday, which keeps the default catalog's programs near capacity.
	DefaultReferralsPerDay = 2.5
	// serviceCacheSize is how many folded streams the simulator's command
	// service keeps: every person in care and every group of a large run.
	serviceCacheSize = 1 << 15
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
	// Workers bounds the commands in flight; 0 means DefaultWorkers.
	Workers int
	// ReferralsPerDay is the mean number of referrals per site per weekday
	// (weekends get a third); 0 means DefaultReferralsPerDay.
	ReferralsPerDay float64
	// Progress, if set, is called after every simulated day.
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

// Run simulates cfg.Days days from cfg.Start on store, through a command
// service whose clock is the simulated one, sealing invented personal data
// with sealer. It seeds the sites' catalogs first (existing programs and
// groups are kept). On a store that already holds the same run, every
// command is found already applied and nothing is appended.
func Run(ctx context.Context, store eventstore.Store, sealer commands.Sealer, cfg Config) (Stats, error) {
	started := time.Now()
	if err := cfg.validate(); err != nil {
		return Stats{}, err
	}
	e, err := newEngine(store, sealer, cfg, nil)
	if err != nil {
		return Stats{}, err
	}
	e.svc = commands.New(store, commands.WithClock(e.now), commands.WithCacheSize(serviceCacheSize))
	if err := e.seedCatalogs(ctx); err != nil {
		return Stats{}, err
	}
	if err := e.loadGroups(ctx); err != nil {
		return Stats{}, err
	}
	for i := 0; i < cfg.Days; i++ {
		d := cfg.Start.AddDays(i)
		if err := e.simulateDay(ctx, d, i); err != nil {
			st := e.stats()
			st.Days, st.Elapsed = i, time.Since(started)
			return st, err
		}
		if cfg.Progress != nil {
			cfg.Progress(Progress{Day: d, DaysDone: i + 1, Days: cfg.Days, Events: e.count.events.Load(), Elapsed: time.Since(started)})
		}
	}
	st := e.stats()
	st.Days, st.Elapsed = cfg.Days, time.Since(started)
	e.log.Info("simulation done", "days", cfg.Days, "events", st.Events, "duplicates", st.Duplicates, "elapsed", st.Elapsed.Round(time.Millisecond))
	return st, nil
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

// engine is the simulated health system: its sites, groups and people, and
// the clinicians' decisions, day by day.
type engine struct {
	cfg    Config
	svc    *commands.Service
	store  eventstore.Store
	sealer commands.Sealer
	log    *slog.Logger
	// live is set in Live mode: commands are paced and dated now.
	live *pacer
	// runID prefixes keys; correlation is every event's correlation ID.
	runID, correlation string
	sites              []*site
	groups             map[domain.GroupID]*group
	groupOrder         []*group
	patients           map[domain.PatientID]*patient
	active             []*patient
	nextIndex          int
	arrivals           *rand.Rand
	clock              atomic.Int64 // decision time in Unix nanoseconds (history)
	count              *counters
}

func newEngine(store eventstore.Store, sealer commands.Sealer, cfg Config, live *pacer) (*engine, error) {
	cat, err := catalog.Default()
	if err != nil {
		return nil, err
	}
	e := &engine{
		cfg: cfg, store: store, sealer: sealer, log: cfg.Logger, live: live,
		runID: cfg.RunID(), groups: map[domain.GroupID]*group{}, patients: map[domain.PatientID]*patient{},
		count: newCounters(),
	}
	e.correlation = e.runID
	e.arrivals = newRand(cfg.Seed, "arrivals", 0)
	for i := 0; i < cfg.Sites; i++ {
		s, err := newSite(cat, i)
		if err != nil {
			return nil, err
		}
		e.sites = append(e.sites, s)
		for _, g := range s.catalog.Groups {
			gr := &group{id: g.ID, base: s.base[g.ID], site: s, revision: -1, known: -1, seen: map[domain.PatientID]*memberStats{}}
			e.groups[g.ID] = gr
			e.groupOrder = append(e.groupOrder, gr)
		}
	}
	sort.Slice(e.groupOrder, func(i, j int) bool { return e.groupOrder[i].id < e.groupOrder[j].id })
	return e, nil
}

// now is the command service's clock in a history run: the end of the
// simulated day, so every fact of the day may be recorded and none after.
func (e *engine) now() time.Time { return time.Unix(0, e.clock.Load()).In(e.cfg.Location) }

// at is the clinical time of minute m of day d; in Live, now.
func (e *engine) at(d domain.Date, minute int) time.Time {
	if e.live != nil {
		return e.live.now()
	}
	return time.Date(d.Year, d.Month, d.Day, 0, minute, 0, 0, e.cfg.Location)
}

// endOfDay is the last instant of day d.
func (e *engine) endOfDay(d domain.Date) time.Time {
	next := d.AddDays(1)
	return time.Date(next.Year, next.Month, next.Day, 0, 0, 0, 0, e.cfg.Location).Add(-time.Nanosecond)
}

func (e *engine) stats() Stats {
	st := e.count.snapshot()
	st.Patients = e.nextIndex
	return st
}

// seedCatalogs creates every site's programs and groups, dated at the
// start of the first day; ones that exist are kept as they are.
func (e *engine) seedCatalogs(ctx context.Context) error {
	e.clock.Store(e.endOfDay(e.cfg.Start).UnixNano())
	for _, s := range e.sites {
		programs, groups := s.catalog.Commands(e.at(e.cfg.Start, 0))
		if _, err := e.svc.SeedCatalog(ctx, programs, groups); err != nil {
			return err
		}
	}
	return nil
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
	if e.live == nil {
		e.clock.Store(e.endOfDay(d).UnixNano())
	}
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
