package simulate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// LiveConfig says how Live paces the simulation.
type LiveConfig struct {
	// Location is the clinic's time zone; nil means UTC.
	Location *time.Location
	// MinPause and MaxPause bound the pause before each journey command
	// (a referral, an admission, a step, a discharge, a join); 0 means
	// DefaultMinPause and DefaultMaxPause.
	MinPause, MaxPause time.Duration
	// RoutinePause is the mean pause before a routine command (a measure,
	// a session, an attendance record); 0 means a fifth of MinPause.
	RoutinePause time.Duration
	// ReferralsPerDay is as in Config, per simulated day.
	ReferralsPerDay float64
	// Logger receives a few lines about the simulation; nil means slog.Default().
	Logger *slog.Logger
}

// Default pauses of Live: an event every one to three seconds, which a
// person watching the census board can follow.
const (
	DefaultMinPause = time.Second
	DefaultMaxPause = 3 * time.Second
)

// pacer spaces Live's commands and dates them at the wall clock.
type pacer struct {
	loc                      *time.Location
	rng                      *rand.Rand
	minPause, maxPause, rest time.Duration
}

func (p *pacer) now() time.Time { return time.Now().In(p.loc) }

// wait pauses before a command: long for a journey command, short for a
// routine one.
func (p *pacer) wait(ctx context.Context, journey bool) error {
	d := p.rest/2 + time.Duration(p.rng.Int64N(int64(p.rest)+1))
	if journey {
		d = p.minPause + time.Duration(p.rng.Int64N(int64(p.maxPause-p.minPause)+1))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// staleReferral is how old a referral or intake may be for Live to take
// the person over; older ones belong to people who never came.
const staleReferral = 14 * 24 * time.Hour

// liveRetryPause is how long Live waits after a failure (the store
// unavailable) before it carries on.
const liveRetryPause = 5 * time.Second

// Live keeps the health system moving until ctx ends, through svc (the
// application's own command service, whose clock is the wall clock):
// every command is dated now, and a simulated day passes in a minute or
// two, so stays are compressed but their order and proportions are the
// history's. It takes over the simulated people already in the store
// (those whose referral a simulation wrote, in care or referred in the
// last two weeks) and the groups as their logs say; people others act on
// meanwhile are read again when a command about them is refused. It
// returns nil when ctx ends.
func Live(ctx context.Context, svc *commands.Service, sealer commands.Sealer, cfg LiveConfig) error {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MinPause <= 0 {
		cfg.MinPause = DefaultMinPause
	}
	if cfg.MaxPause < cfg.MinPause {
		cfg.MaxPause = max(DefaultMaxPause, cfg.MinPause)
	}
	if cfg.RoutinePause <= 0 {
		cfg.RoutinePause = cfg.MinPause / 5
	}
	started := time.Now()
	store := svc.Store()
	sites, err := storeSites(ctx, store)
	if err != nil {
		return err
	}
	seed := uint64(started.UnixNano())
	pace := &pacer{loc: cfg.Location, rng: rand.New(rand.NewPCG(seed, 1)), minPause: cfg.MinPause, maxPause: cfg.MaxPause, rest: cfg.RoutinePause}
	first := domain.DateOf(started.In(cfg.Location))
	simCfg := Config{Seed: seed, Start: first, Sites: sites, Location: cfg.Location, Workers: 1, ReferralsPerDay: cfg.ReferralsPerDay, Logger: cfg.Logger}
	if simCfg.ReferralsPerDay <= 0 {
		simCfg.ReferralsPerDay = DefaultReferralsPerDay
	}
	sh := newShared(store, sealer, simCfg, pace)
	engines, err := sh.engines()
	if err != nil {
		return err
	}
	for _, e := range engines {
		e.svc = svc
		for _, g := range e.groupOrder {
			if err := e.foldGroup(ctx, g, foldToEnd); err != nil {
				return err
			}
			g.changes = g.changes[:0]
		}
	}
	people, err := readPeople(ctx, store)
	if err != nil {
		return err
	}
	adopted := 0
	for _, a := range people {
		switch a.state.Status {
		case domain.StatusInCare:
		case domain.StatusReferred, domain.StatusAssessed:
			if started.Sub(a.state.LastMoveAt) > staleReferral {
				continue // a referral nobody followed up for weeks is not picked up again
			}
		default:
			continue
		}
		if !a.simulated {
			continue
		}
		e := engines[0]
		for _, candidate := range engines {
			if candidate.site.byID[a.state.Program] != nil {
				e = candidate
			}
		}
		e.adoptPatient(a, first)
		adopted++
	}
	for _, e := range engines {
		e.seatAdopted(first)
	}
	sh.log.Info("live simulation started", "people", adopted, "sites", sites)
	for day := 0; ; day++ {
		d := first.AddDays(day)
		for _, e := range engines {
			err := e.liveDay(ctx, d, day)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				sh.log.Warn("live simulation: a day failed; carrying on", "err", err)
				if err := e.recover(ctx, d); ctx.Err() != nil {
					return nil
				} else if err != nil {
					sh.log.Warn("live simulation: re-reading people failed", "err", err)
				}
			}
		}
	}
}

// recover drops what was left of a failed day, waits a little (the store
// may be unavailable for a while) and reads everyone's state again.
func (e *engine) recover(ctx context.Context, d domain.Date) error {
	for _, p := range e.active {
		p.resync, p.ops, p.late = true, p.ops[:0], p.late[:0]
	}
	for _, g := range e.groupOrder {
		g.ops = g.ops[:0]
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(liveRetryPause):
	}
	return e.endDay(ctx, d)
}

// liveDay is a simulated day of Live: first what others wrote to the
// groups since the last day, then the day as in a history run.
func (e *engine) liveDay(ctx context.Context, d domain.Date, dayIndex int) error {
	for _, g := range e.groupOrder {
		if err := e.foldGroup(ctx, g, foldToEnd); err != nil {
			return err
		}
		for _, c := range g.changes {
			e.observe(c, d)
		}
		g.changes = g.changes[:0]
	}
	return e.simulateDay(ctx, d, dayIndex)
}

// storeSites counts the sites whose catalog copy is in the store (at least one).
func storeSites(ctx context.Context, store eventstore.Store) (int, error) {
	n := 0
	for ; ; n++ {
		stream := domain.ProgramStream(domain.ProgramID(string(programInpatient) + siteSuffix(n)))
		_, err := store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: eventstore.StreamStart, Max: 1})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return max(n, 1), nil
		}
		if err != nil {
			return 0, fmt.Errorf("reading the catalog: %w", err)
		}
	}
}

// adoptPage is how many events one read of $all returns while adopting.
const adoptPage = 4096

// adoption is what the log says about one person.
type adoption struct {
	state     domain.Patient
	simulated bool
	phq, gad  int
	measured  bool
}

// readPeople folds every patient stream of the log, in order of first
// appearance, noting who a simulation referred and their latest scores.
func readPeople(ctx context.Context, store eventstore.Store) ([]*adoption, error) {
	people := map[domain.PatientID]*adoption{}
	var order []*adoption
	from := eventstore.Start
	for {
		recs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{From: from, Max: adoptPage})
		if err != nil {
			return nil, fmt.Errorf("reading the log: %w", err)
		}
		for i := range recs {
			r := &recs[i]
			if r.Position == from && from != eventstore.Start || !strings.HasPrefix(r.Stream, domain.PatientStreamPrefix) {
				continue // reads start at the position inclusive; only people are adopted
			}
			ev, err := domain.DecodeData(r.Type, r.Data, r.Metadata)
			if err != nil {
				continue // another system's event in a patient stream: not ours to adopt
			}
			id, err := domain.PatientIDFromStream(r.Stream)
			if err != nil {
				continue
			}
			a := people[id]
			if a == nil {
				a = &adoption{}
				people[id] = a
				order = append(order, a)
			}
			switch ev := ev.(type) {
			case domain.Referred:
				md, err := domain.DecodeMetadata(r.Metadata)
				a.simulated = err == nil && strings.HasPrefix(md.CorrelationID, "sim-")
			case domain.MeasureRecorded:
				a.measured = true
				if ev.Instrument == domain.PHQ9 {
					a.phq = ev.Score
				} else {
					a.gad = ev.Score
				}
			}
			a.state.Evolve(ev)
		}
		if len(recs) < adoptPage {
			return order, nil
		}
		from = recs[len(recs)-1].Position
	}
}

// seatAdopted gives the adopted people their seats, waitlist places and
// completions as the groups' logs hold them.
func (e *engine) seatAdopted(today domain.Date) {
	for _, g := range e.groupOrder {
		for pid, m := range g.state.Members {
			if p := e.patients[pid]; p != nil {
				since := domain.DateOf(m.JoinedAt.In(e.cfg.Location))
				p.groups[g.id] = &seat{since: since}
				if g.state.Spec.Level == domain.Outpatient && len(g.state.Spec.Modules) == 0 {
					p.targets[g.id] = maxDate(since.AddDays(openEndedWeeks(p.rng, g.base)*7), today.AddDays(7+p.rng.IntN(28)))
				}
			}
		}
		for _, pid := range g.state.Waitlist {
			if p := e.patients[pid]; p != nil {
				p.groups[g.id] = &seat{waitlisted: true, since: today}
			}
		}
		for _, p := range e.active {
			p.completed = append(p.completed, g.state.CompletedBy(p.id)...)
		}
	}
}

// adoptPatient builds the model of a person from their folded stream.
func (e *engine) adoptPatient(a *adoption, today domain.Date) {
	st := a.state
	index := e.nextIndex
	e.nextIndex++
	r := newRand(e.cfg.Seed, e.runID+"/adopted", uint64(index))
	p := &patient{
		index: index, id: st.ID, site: e.site, rng: r,
		groups: map[domain.GroupID]*seat{}, targets: map[domain.GroupID]domain.Date{}, excluded: map[domain.GroupID]bool{},
		status: st.Status, episodes: st.Episodes,
	}
	p.cond = condition(pick(r, conditionWeights))
	p.female = chance(r, 0.55)
	p.attendance = attendancePropensity(r)
	p.age, p.primaryCare, p.individualTherapy = 40, true, chance(r, 0.4)
	p.target = domain.Level(pick(r, firstLevelWeights))
	phq, gad := 14.0, 11.0
	if in := st.Intake; in != nil {
		p.age, p.primaryCare, p.individualTherapy, p.target = in.AgeYears, in.PrimaryCare, in.IndividualTherapy, in.RecommendedLevel
		if !in.ScoresUnknown {
			phq, gad = float64(in.PHQ9), float64(in.GAD7)
		}
	}
	if a.measured {
		phq, gad = float64(a.phq), float64(a.gad)
	}
	p.traj = newTrajectory(r, today, phq, gad)
	// Spread the adopted people's next steps over the coming days, so Live
	// does not start with everyone's intake at once.
	p.due = today.AddDays(r.IntN(8))
	if st.Status == domain.StatusInCare {
		pr := e.programByID(st.Program)
		if pr == nil {
			pr = &program{id: st.Program, level: st.Level, capacity: 1 << 30}
		}
		p.enter(st.Level, pr, domain.DateOf(st.LastMoveAt.In(e.cfg.Location)))
		if p.due.Before(today) {
			p.due = today.AddDays(r.IntN(8))
		}
		p.nextMeasure = today.AddDays(r.IntN(measureEveryDays[st.Level]))
	}
	e.patients[p.id] = p
	e.active = append(e.active, p)
}
