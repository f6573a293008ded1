package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/projections"
	"github.com/continuum-care/continuum/web"
)

// runRebuild replays the whole log into fresh projections while the server
// is stopped and leaves their snapshot for the next start.
func runRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("rebuild", stderr)
	m := &Main{}
	flags.StringVar(&m.DataDir, "data", "./continuum-data", "data directory of the stopped server (its embedded store, and where the snapshot goes)")
	flags.StringVar(&m.StoreURL, "store", "", "EventStoreDB/KurrentDB connection string (esdb://…) when the server runs on one; empty uses the embedded store in --data")
	tz := flags.String("tz", "", "the clinic's time zone, as given to serve --tz (a snapshot folded in another zone is ignored at start); empty uses the machine's")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	loc := time.Local
	if *tz != "" {
		var err error
		if loc, err = time.LoadLocation(*tz); err != nil {
			return fmt.Errorf("%w: --tz: %v", errUsage, err)
		}
	}
	res, err := m.rebuild(ctx, loc, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "continuum rebuild: %d events in %s (%.0f events/s): %d applied, %d of unknown types, %d malformed; up to position %s\n",
		res.events(), res.replay.Round(time.Millisecond), res.rate(), res.stats.Applied, res.stats.Unknown, res.stats.Malformed,
		web.FormatPosition(res.stats.Position))
	fmt.Fprintf(stdout, "  snapshot %s: %d bytes, written in %s\n",
		filepath.Join(m.DataDir, projections.SnapshotFile), res.stats.LastSnapshotBytes, res.snapshot.Round(time.Millisecond))
	return nil
}

// rebuildResult is what a rebuild did and how long it took.
type rebuildResult struct {
	stats            projections.Stats
	replay, snapshot time.Duration
}

// events counts every event the replay went through, skipped ones included.
func (r rebuildResult) events() uint64 {
	return r.stats.Applied + r.stats.Unknown + r.stats.Malformed
}

// rate is the replay's throughput in events per second.
func (r rebuildResult) rate() float64 {
	if r.replay <= 0 {
		return 0
	}
	return float64(r.events()) / r.replay.Seconds()
}

// rebuild drops the snapshot, replays the log from the start until caught
// up, and writes the new snapshot. The server must be stopped: it would
// keep writing its own snapshot (and holds the store's lock).
func (m *Main) rebuild(ctx context.Context, loc *time.Location, log *slog.Logger) (rebuildResult, error) {
	if err := refuseIfInUse(m.DataDir); err != nil {
		return rebuildResult{}, err
	}
	if m.StoreURL == "" {
		// Opening would create an empty store: a mistyped --data must not
		// "rebuild" nothing and leave a stray store behind.
		if _, err := os.Stat(filepath.Join(m.DataDir, bolt.FileName)); err != nil {
			return rebuildResult{}, fmt.Errorf("no embedded store in %s: %w", m.DataDir, err)
		}
	}
	store, err := m.openStore(prometheus.NewRegistry())
	if err != nil {
		return rebuildResult{}, err
	}
	defer store.Close()
	if err := os.Remove(filepath.Join(m.DataDir, projections.SnapshotFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return rebuildResult{}, fmt.Errorf("dropping the old snapshot: %w", err)
	}
	runner, err := projections.New(projections.Options{Store: store, Dir: m.DataDir, Location: loc, Logger: log})
	if err != nil {
		return rebuildResult{}, err
	}
	started := time.Now()
	if err := runner.Start(ctx); err != nil {
		return rebuildResult{}, err
	}
	if err := runner.WaitReady(ctx); err != nil {
		runner.Stop()
		return rebuildResult{}, fmt.Errorf("rebuild interrupted: %w", err)
	}
	res := rebuildResult{replay: time.Since(started), stats: runner.Stats()}
	stopped := time.Now()
	if err := runner.Stop(); err != nil {
		return rebuildResult{}, err
	}
	res.snapshot = time.Since(stopped)
	res.stats = runner.Stats()
	return res, nil
}
