// Package bench measures continuum where it matters (issue #2): the disk's
// own limits first, then durable appends from many concurrent writers
// against the disk's fsync rate, batch appends, live delivery to a
// subscriber, and a full replay of $all with typed decoding. It runs on the
// embedded store in a temporary directory, optionally also through the esdb
// adapter against an EventStoreDB-protocol server, and optionally next to
// the same workload on a peer library (bench/peers), and judges the results
// against the project's goals. `continuum bench` is its command line.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/continuum-care/continuum/bench/workload"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/esdb"
	"github.com/continuum-care/continuum/projections/replay"
)

// GoalReplayEvents is the history size the replay goal is stated for.
const GoalReplayEvents = 10_000_000

// Goals of issue #2.
const (
	// GoalReplayPerSecond: a full replay with typed decoding of 10 million
	// events at a million events per second or more.
	GoalReplayPerSecond = 1_000_000
	// GoalConcurrentVsPeer: concurrent durable appends at least ten times the peer's.
	GoalConcurrentVsPeer = 10
	// GoalReplayVsPeer: replay at least five times the peer's.
	GoalReplayVsPeer = 5
)

// Config says what to measure. DefaultConfig is the full run.
type Config struct {
	// Events is the size of the history filled and replayed.
	Events int
	// Dir is where the temporary working directory is made ("" for the
	// system's); it is removed afterwards. Measure the disk you will run on.
	Dir string
	// StoreURL, if set (esdb://…), also runs the store workloads through the
	// esdb adapter against that server.
	StoreURL string
	// PeersCommand, if set, is the peer benchmark's executable (built from
	// bench/peers), run with the same workload so the results can be compared.
	PeersCommand string
	// AppendDuration is how long each append workload runs.
	AppendDuration time.Duration
	// SyncDuration is how long the fsync probe runs.
	SyncDuration time.Duration
	// SeqWriteBytes is how much the sequential-write probe writes.
	SeqWriteBytes int64
	// SubscribeEvents is how many live events the subscriber must receive.
	SubscribeEvents int
	// Progress receives a line per step; nil discards it.
	Progress io.Writer
}

// DefaultConfig is the full run: ten million events, five seconds per
// append workload.
func DefaultConfig() Config {
	return Config{
		Events:          GoalReplayEvents,
		AppendDuration:  5 * time.Second,
		SyncDuration:    2 * time.Second,
		SeqWriteBytes:   1 << 30,
		SubscribeEvents: 100_000,
	}
}

// Validate rejects a configuration that cannot measure anything.
func (c Config) Validate() error {
	switch {
	case c.Events <= 0:
		return errors.New("events must be positive")
	case c.AppendDuration <= 0 || c.SyncDuration <= 0:
		return errors.New("durations must be positive")
	case c.SeqWriteBytes <= 0:
		return errors.New("the sequential write size must be positive")
	case c.SubscribeEvents <= 0:
		return errors.New("subscribe events must be positive")
	}
	if c.StoreURL != "" {
		if _, err := url.Parse(c.StoreURL); err != nil {
			return errors.New("the store address is not a URL")
		}
	}
	return nil
}

// Workload describes the shapes the figures were measured with.
type Workload struct {
	ConcurrentWriters int     `json:"append_concurrent_writers"`
	BatchWriters      int     `json:"append_batch_writers"`
	BatchSize         int     `json:"append_batch_size"`
	AppendSeconds     float64 `json:"append_seconds"`
	ReplayDecoders    int     `json:"replay_decoders"`
	ReplayPageSize    int     `json:"replay_page_size"`
	HistorySeed       uint64  `json:"history_seed"`
}

// StoreResult is one store's figures.
type StoreResult struct {
	// Store names the store measured: "bolt" or the server's address.
	Store string `json:"store"`
	// AppendConcurrentEPS is durable single-event appends per second from
	// ConcurrentWriters writers, each to its own stream.
	AppendConcurrentEPS float64 `json:"append_concurrent_eps"`
	// AppendConcurrentVsFsync is AppendConcurrentEPS over the disk's fsync
	// rate: above 1 only because many appends share one commit.
	AppendConcurrentVsFsync float64 `json:"append_concurrent_vs_fsync"`
	// AppendBatchEPS is events per second appended BatchSize at a time by BatchWriters writers.
	AppendBatchEPS float64 `json:"append_batch_eps"`
	SubscribeResult
	// FillEPS is how fast the replay's history was written (whole streams, concurrently).
	FillEPS float64 `json:"fill_eps"`
	// ReplayEvents is how many events the replay read and folded.
	ReplayEvents int `json:"replay_events"`
	// ReplayColdEPS is the first typed replay after the fill, before
	// anything else read the history back: it pays for whatever part of the
	// store the operating system no longer keeps in memory.
	ReplayColdEPS float64 `json:"replay_cold_eps"`
	// ReplayRawEPS is a read of the history without decoding (the store's
	// share of a replay), after the cold replay.
	ReplayRawEPS float64 `json:"replay_raw_eps"`
	// ReplayEPS is a full read of the history with typed decoding of every
	// event into a fold, in events per second, with the store in memory:
	// the figure the replay goal is judged on, where decoding is the cost.
	ReplayEPS float64 `json:"replay_eps"`
	// FoldDigest summarizes the fold; equal digests mean equal folded facts.
	FoldDigest string `json:"fold_digest"`
}

// Goal is one target of issue #2 and whether this run met it.
type Goal struct {
	Name     string  `json:"name"`
	Target   float64 `json:"target"`
	Measured float64 `json:"measured"`
	Pass     bool    `json:"pass"`
	Note     string  `json:"note,omitempty"`
}

// Report is everything one run measured.
type Report struct {
	GoVersion string `json:"go_version"`
	Cores     int    `json:"cores"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	Events    int    `json:"events"`
	Workload
	DiskResult
	// StoreResult holds the embedded store's figures, measured in this process.
	StoreResult
	// ESDB holds the figures through the esdb adapter when a server was given.
	ESDB *StoreResult `json:"esdb,omitempty"`
	// Peers holds the peer benchmark's figures when it was run.
	Peers *PeerResult `json:"peers,omitempty"`
	// VsPeers is the embedded store's figures over the peer's.
	VsPeers *PeerRatios `json:"vs_peers,omitempty"`
	Goals   []Goal      `json:"goals"`
}

// Run measures everything cfg asks for, reporting progress as it goes.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	work, err := os.MkdirTemp(cfg.Dir, "continuum-bench-")
	if err != nil {
		return nil, fmt.Errorf("working directory: %w", err)
	}
	defer os.RemoveAll(work)

	r := &Report{
		GoVersion: runtime.Version(),
		Cores:     runtime.NumCPU(),
		GOOS:      runtime.GOOS,
		GOARCH:    runtime.GOARCH,
		Events:    cfg.Events,
		Workload: Workload{
			ConcurrentWriters: ConcurrentWriters,
			BatchWriters:      BatchWriters,
			BatchSize:         BatchSize,
			AppendSeconds:     cfg.AppendDuration.Seconds(),
			ReplayDecoders:    runtime.GOMAXPROCS(0),
			ReplayPageSize:    replay.PageSize,
			HistorySeed:       historySeed,
		},
	}
	fmt.Fprintf(progress, "disk: %s of 4 KiB appends with fdatasync, then %d MiB sequential\n", cfg.SyncDuration, cfg.SeqWriteBytes>>20)
	if r.DiskResult, err = measureDisk(ctx, work, cfg.SyncDuration, cfg.SeqWriteBytes); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "  %.0f fsync/s, %.0f MB/s\n", r.FsyncPerSecond, r.SeqWriteMBPerSecond)

	embedded, err := bolt.Open(filepath.Join(work, "store"), bolt.Options{})
	if err != nil {
		return nil, err
	}
	r.StoreResult, err = measureStore(ctx, embedded, "bolt", cfg, r.DiskResult, progress)
	if cerr := embedded.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}

	if cfg.StoreURL != "" {
		remote, err := esdb.Open(cfg.StoreURL)
		if err != nil {
			return nil, err
		}
		res, err := measureStore(ctx, remote, serverAddress(cfg.StoreURL), cfg, r.DiskResult, progress)
		if cerr := remote.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("esdb store: %w", err)
		}
		r.ESDB = &res
	}

	if cfg.PeersCommand != "" {
		if r.Peers, err = runPeers(ctx, cfg, work, progress); err != nil {
			return nil, err
		}
		r.VsPeers = compareToPeers(r.StoreResult, *r.Peers)
	}
	r.Goals = judge(r)
	return r, nil
}

// measureStore runs the append, subscribe, fill and replay workloads on one store.
func measureStore(ctx context.Context, store eventstore.Store, name string, cfg Config, disk DiskResult, progress io.Writer) (StoreResult, error) {
	res := StoreResult{Store: name}
	if err := measureWrites(ctx, store, cfg, disk, progress, &res); err != nil {
		return res, err
	}
	err := measureReplays(ctx, store, cfg, progress, &res)
	return res, err
}

// measureWrites runs the two append workloads and the subscriber.
func measureWrites(ctx context.Context, store eventstore.Store, cfg Config, disk DiskResult, progress io.Writer, res *StoreResult) error {
	// Fresh streams every run, so a shared server's earlier runs never clash.
	appends := workload.NewHistory(rand.Uint64())
	var err error

	fmt.Fprintf(progress, "%s: %d writers appending 1 event each, durable, for %s\n", res.Store, ConcurrentWriters, cfg.AppendDuration)
	concurrent := appendWorkload{writers: ConcurrentWriters, perCall: 1, prefix: domain.PatientStreamPrefix, duration: cfg.AppendDuration}
	if res.AppendConcurrentEPS, err = concurrent.run(ctx, store, appends); err != nil {
		return err
	}
	if disk.FsyncPerSecond > 0 {
		res.AppendConcurrentVsFsync = res.AppendConcurrentEPS / disk.FsyncPerSecond
	}
	fmt.Fprintf(progress, "  %.0f events/s (%.1f× the disk's fsync rate)\n", res.AppendConcurrentEPS, res.AppendConcurrentVsFsync)

	fmt.Fprintf(progress, "%s: %d writers appending %d events each, durable, for %s\n", res.Store, BatchWriters, BatchSize, cfg.AppendDuration)
	batch := appendWorkload{writers: BatchWriters, perCall: BatchSize, prefix: domain.GroupStreamPrefix, duration: cfg.AppendDuration}
	if res.AppendBatchEPS, err = batch.run(ctx, store, appends); err != nil {
		return err
	}
	fmt.Fprintf(progress, "  %.0f events/s\n", res.AppendBatchEPS)

	fmt.Fprintf(progress, "%s: a subscriber to $all receiving %d live events\n", res.Store, cfg.SubscribeEvents)
	if res.SubscribeResult, err = measureSubscribe(ctx, store, appends, cfg.SubscribeEvents); err != nil {
		return err
	}
	fmt.Fprintf(progress, "  %.2f s (%.0f events/s)\n", res.Seconds, res.PerSec)
	return nil
}

// serverAddress names a server by scheme and host only: connection strings
// may carry credentials, which a report must not repeat.
func serverAddress(connection string) string {
	u, err := url.Parse(connection)
	if err != nil || u.Host == "" {
		return "esdb"
	}
	return u.Scheme + "://" + u.Host
}

// judge compares the run with the goals. The replay goal is stated for ten
// million events: a smaller run reports its rate but cannot pass.
func judge(r *Report) []Goal {
	replay := Goal{
		Name:     "replay_eps: typed replay of 10M events",
		Target:   GoalReplayPerSecond,
		Measured: r.ReplayEPS,
		Pass:     r.ReplayEPS >= GoalReplayPerSecond && r.Events >= GoalReplayEvents,
	}
	if r.Events < GoalReplayEvents {
		replay.Note = fmt.Sprintf("measured over %d events; the goal is stated for %d", r.Events, GoalReplayEvents)
	}
	goals := []Goal{replay}
	if r.VsPeers != nil {
		goals = append(goals,
			Goal{Name: "append_concurrent_eps vs peer", Target: GoalConcurrentVsPeer, Measured: r.VsPeers.AppendConcurrent,
				Pass: r.VsPeers.AppendConcurrent >= GoalConcurrentVsPeer},
			Goal{Name: "replay_eps vs peer", Target: GoalReplayVsPeer, Measured: r.VsPeers.Replay,
				Pass: r.VsPeers.Replay >= GoalReplayVsPeer},
		)
	}
	return goals
}
