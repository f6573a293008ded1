package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/privacy"
	"github.com/continuum-care/continuum/simulate"
)

// demoHistoryDays is how much history serve --demo writes into an empty
// store: long enough for the outpatient census (stays of months) to fill
// as it would in a running clinic.
const demoHistoryDays = 180

// simulateLedgerFile records, in the data directory, which simulations the
// store already holds, so repeating one costs nothing.
const simulateLedgerFile = "simulate-runs.json"

func init() {
	// serve --demo: a few months of history, then live simulation.
	demo = demoRunner{
		History: func(ctx context.Context, env DemoEnv) error {
			loc := env.Location
			today := domain.DateOf(time.Now().In(loc))
			_, err := simulate.Run(ctx, env.Store, env.Keys, simulate.Config{
				Seed: 1, Start: today.AddDays(-demoHistoryDays), Days: demoHistoryDays,
				Location: loc, Logger: env.Logger,
			})
			return err
		},
		Live: func(ctx context.Context, env DemoEnv) error {
			return simulate.Live(ctx, env.Commands, env.Keys, simulate.LiveConfig{Location: env.Location, Logger: env.Logger})
		},
	}
}

// runSimulate writes a simulated history through the real command path.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate", stderr)
	dataDir := fs.String("data", "./continuum-data", "data directory of the embedded store (and its key store)")
	storeURL := fs.String("store", "", "EventStoreDB/KurrentDB connection string (esdb://…); empty writes to the embedded store in --data")
	days := fs.Int("days", 90, "days of history to simulate")
	seed := fs.Uint64("seed", 1, "seed: the same seed, start and sites give the same history")
	start := fs.String("start", "", "first simulated day, YYYY-MM-DD (default: --days before today, so the history ends yesterday)")
	sites := fs.Int("sites", 1, "clinics running the catalog, for volume (each adds a copy of the catalog)")
	workers := fs.Int("workers", simulate.DefaultWorkers, "commands in flight per site")
	tz := fs.String("tz", "UTC", "the clinic's time zone (IANA name)")
	compact := fs.Bool("compact", true, "when done, rewrite the embedded store file in log order (as `continuum compact` does), so replays read it front to back")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return fmt.Errorf("%w: --tz: %v", errUsage, err)
	}
	if *days <= 0 || *sites <= 0 || *workers <= 0 {
		return fmt.Errorf("%w: --days, --sites and --workers must be positive", errUsage)
	}
	first := domain.DateOf(time.Now().In(loc)).AddDays(-*days)
	if *start != "" {
		if first, err = domain.ParseDate(*start); err != nil {
			return fmt.Errorf("%w: --start: %v", errUsage, err)
		}
	}
	cfg := simulate.Config{Seed: *seed, Start: first, Days: *days, Sites: *sites, Workers: *workers, Location: loc}
	ledger := simulate.OpenLedger(filepath.Join(*dataDir, simulateLedgerFile))
	done, err := ledger.Done(cfg)
	if err != nil {
		return err
	}
	if done >= *days {
		fmt.Fprintf(stdout, "the store already holds %d days of this simulation (seed %d from %s, %d sites): nothing to do\n", done, *seed, first, *sites)
		return nil
	}
	store, err := openStore(*dataDir, *storeURL)
	if err != nil {
		return err
	}
	defer store.Close()
	keys, err := privacy.OpenKeyStore(filepath.Join(*dataDir, keysFile))
	if err != nil {
		return err
	}
	defer keys.Close()

	progress := newProgressLine(stderr)
	var last simulate.Progress
	line := func() string {
		return fmt.Sprintf("simulated %d of %d days (%s), %d events, %.0f events/s",
			last.DaysDone, last.Days, last.Day, last.Events, perSecond(last.Events, last.Elapsed))
	}
	cfg.Progress = func(p simulate.Progress) { last = p; progress.show(line) }
	stats, err := simulate.Run(ctx, store, keys, cfg)
	progress.done(line)
	fmt.Fprintf(stdout, "simulated %d days from %s at %d sites: %d people, %d commands, %d events appended (%.0f events/s), %d already there, in %s\n",
		stats.Days, first, *sites, stats.Patients, stats.Commands, stats.Events, perSecond(stats.Events, stats.Elapsed),
		stats.Duplicates, stats.Elapsed.Round(time.Millisecond))
	types := make([]string, 0, len(stats.EventsByType))
	for t := range stats.EventsByType {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		fmt.Fprintf(stdout, "  %-20s %d\n", t, stats.EventsByType[t])
	}
	if err != nil {
		return err
	}
	if err := ledger.Record(cfg, stats.Days); err != nil {
		return err
	}
	if *storeURL != "" || !*compact {
		return nil
	}
	// Many small appends to interleaved streams scatter $all's pages over
	// the file; a bulk writer lays them out again once it is done.
	if err := errors.Join(keys.Close(), store.Close()); err != nil {
		return err
	}
	return compactStore(*dataDir, stdout, stderr)
}
