package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// runCompact rewrites a stopped server's embedded store file in log order.
func runCompact(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compact", stderr)
	dataDir := fs.String("data", "./continuum-data", "data directory of the embedded store")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: compact takes no arguments, got %q", errUsage, fs.Args())
	}
	return compactStore(*dataDir, stdout, stderr)
}

// compactStore compacts the embedded store in dataDir, saying so on stderr
// while it runs and what it did on stdout.
func compactStore(dataDir string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "compacting the store in %s…\n", dataDir)
	started := time.Now()
	done, err := bolt.Compact(dataDir)
	if errors.Is(err, eventstore.ErrUnavailable) {
		return fmt.Errorf("%w: %v; stop continuum first", errDataDirInUse, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "compacted the store file: %.1f MB → %.1f MB in %s\n",
		float64(done.Before)/1e6, float64(done.After)/1e6, time.Since(started).Round(time.Millisecond))
	return nil
}
