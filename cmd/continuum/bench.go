package main

import (
	"context"
	"fmt"
	"io"

	"github.com/continuum-care/continuum/bench"
)

// runBench is `continuum bench`: it measures the disk, the embedded store
// (and an esdb server with --store, and the peer library with --peers) and
// prints the figures and goals; progress goes to stderr.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := bench.DefaultConfig()
	fs := newFlagSet("bench", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	fs.IntVar(&cfg.Events, "events", cfg.Events, "events to fill and replay")
	fs.StringVar(&cfg.Dir, "dir", "", "where to make the temporary working directory (default: the system's temporary directory)")
	fs.StringVar(&cfg.StoreURL, "store", "", "also measure through the esdb adapter against this server (esdb://host:port?tls=false)")
	fs.StringVar(&cfg.PeersCommand, "peers", "", "also run this peer benchmark executable (built from bench/peers) and compare")
	fs.DurationVar(&cfg.AppendDuration, "duration", cfg.AppendDuration, "how long each append workload runs")
	fs.IntVar(&cfg.SubscribeEvents, "subscribe-events", cfg.SubscribeEvents, "live events a subscriber must receive")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "continuum bench: %v\n", err)
		return errUsage
	}
	cfg.Progress = stderr
	report, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return report.WriteJSON(stdout)
	}
	return report.WriteTable(stdout)
}
