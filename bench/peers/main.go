// Command peers runs continuum's benchmark workloads on a peer library,
// github.com/hallgren/eventsourcing v0.9.1 with its SQL event store v0.7.0 on
// SQLite (modernc.org/sqlite v1.61.1, pure Go), and prints one JSON object
// with the same keys as `continuum bench --json`, so `continuum bench
// --peers` can put the two side by side. It writes and folds exactly the
// history continuum's benchmark does (bench/workload, same seed), through the
// library's own aggregate and projection APIs.
//
// It is a separate module so that neither the library nor SQLite enters
// continuum's dependencies, and so `go test ./...` of continuum skips it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// Workload shapes: the same as continuum's benchmark (bench.ConcurrentWriters…).
const (
	concurrentWriters = 64
	batchWriters      = 8
	batchSize         = 100
)

// result has the keys of continuum's report that apply to a peer.
type result struct {
	Store               string  `json:"store"`
	GoVersion           string  `json:"go_version"`
	Cores               int     `json:"cores"`
	GOOS                string  `json:"goos"`
	GOARCH              string  `json:"goarch"`
	Events              int     `json:"events"`
	ConcurrentWriters   int     `json:"append_concurrent_writers"`
	BatchWriters        int     `json:"append_batch_writers"`
	BatchSize           int     `json:"append_batch_size"`
	AppendSeconds       float64 `json:"append_seconds"`
	AppendConcurrentEPS float64 `json:"append_concurrent_eps"`
	AppendBatchEPS      float64 `json:"append_batch_eps"`
	FillEPS             float64 `json:"fill_eps"`
	ReplayEvents        int     `json:"replay_events"`
	ReplayColdEPS       float64 `json:"replay_cold_eps"`
	ReplayRawEPS        float64 `json:"replay_raw_eps"`
	ReplayEPS           float64 `json:"replay_eps"`
	FoldDigest          string  `json:"fold_digest"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "peers: %v\n", err)
		os.Exit(1)
	}
}

// run parses the flags continuum's benchmark passes, measures, and prints
// the result on stdout.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	events := fs.Int("events", 10_000_000, "events to fill and replay")
	dir := fs.String("dir", "", "where to make the temporary working directory (default: the system's)")
	duration := fs.Duration("duration", 5*time.Second, "how long each append workload runs")
	seed := fs.Uint64("seed", 2026, "history seed (continuum's benchmark passes its own)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *events <= 0 || *duration <= 0 {
		return errors.New("events and duration must be positive")
	}
	work, err := os.MkdirTemp(*dir, "continuum-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	registerOnce.Do(registerAggregates)

	res := result{
		Store:             storeDescription,
		GoVersion:         runtime.Version(),
		Cores:             runtime.NumCPU(),
		GOOS:              runtime.GOOS,
		GOARCH:            runtime.GOARCH,
		Events:            *events,
		ConcurrentWriters: concurrentWriters,
		BatchWriters:      batchWriters,
		BatchSize:         batchSize,
		AppendSeconds:     duration.Seconds(),
	}
	if err := measureAppends(ctx, filepath.Join(work, "appends.db"), *duration, &res); err != nil {
		return err
	}
	if err := measureReplay(ctx, filepath.Join(work, "replay.db"), *seed, *events, &res); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// registerOnce fills the library's global registry once per process,
// however often run is called.
var registerOnce sync.Once

// logf reports progress on stderr, which continuum's benchmark passes through.
func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func perSecond(n int, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(n) / elapsed.Seconds()
}
