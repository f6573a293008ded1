package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	cmds "github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/importer/tedsd"
)

// importers are the kinds of files `continuum import` reads.
var importers = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"tedsd": runImportTEDSD,
}

// runImportHelp explains the kinds of import.
const runImportHelp = "usage: continuum import tedsd --data DIR [--store URL] FILE…\n\n" +
	"  tedsd   SAMHSA TEDS-D discharge public-use files (CSV): one episode per row\n"

// runImport is `continuum import KIND …`.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, runImportHelp)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	run, ok := importers[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "continuum import: unknown kind %q\n\n%s", args[0], runImportHelp)
		return errUsage
	}
	return run(ctx, args[1:], stdout, stderr)
}

// runImportTEDSD imports TEDS-D files through the command service, each
// row one episode. Malformed rows are listed on stderr with their line
// numbers; each file ends with a summary on stdout.
func runImportTEDSD(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import tedsd", stderr)
	dataDir := fs.String("data", "./continuum-data", "data directory of the embedded store")
	storeURL := fs.String("store", "", "EventStoreDB/KurrentDB connection string (esdb://…); empty writes to the embedded store in --data")
	workers := fs.Int("workers", tedsd.DefaultWorkers, "rows imported at once")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	files := fs.Args()
	if len(files) == 0 {
		fmt.Fprintln(stderr, "continuum import tedsd: name at least one file")
		fs.Usage()
		return errUsage
	}
	if *workers <= 0 {
		return fmt.Errorf("%w: --workers must be positive", errUsage)
	}
	store, err := openStore(*dataDir, *storeURL)
	if err != nil {
		return err
	}
	defer store.Close()
	svc := cmds.New(store)
	for _, name := range files {
		if err := importTEDSDFile(ctx, svc, name, *workers, stdout, stderr); err != nil {
			return err
		}
	}
	return nil
}

// importTEDSDFile imports one file with a progress bar on stderr.
func importTEDSDFile(ctx context.Context, svc *cmds.Service, name string, workers int, stdout, stderr io.Writer) error {
	file, err := os.Open(name)
	if err != nil {
		return err
	}
	defer file.Close()
	var size int64
	if info, err := file.Stat(); err == nil && info.Mode().IsRegular() {
		size = info.Size()
	}
	progress := newProgressLine(stderr)
	started := time.Now()
	var last tedsd.Progress
	defer tedsd.BatchGC()()
	summary, err := tedsd.Import(ctx, svc, file, tedsd.Options{
		Workers:  workers,
		Problems: stderr,
		Progress: func(p tedsd.Progress) {
			last = p
			progress.show(func() string { return progressBar(p, size, time.Since(started)) })
		},
	})
	progress.done(func() string { return progressBar(last, size, time.Since(started)) })
	fmt.Fprintf(stdout, "%s:\n", name)
	summary.WriteTo(stdout)
	fmt.Fprintf(stdout, "took %s (%.0f rows/s)\n", time.Since(started).Round(time.Millisecond), perSecond(int64(summary.Rows), time.Since(started)))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// progressBar renders "[=====>    ]  45.2 %  650000 rows  52000 rows/s";
// without a known size it shows the counts only.
func progressBar(p tedsd.Progress, size int64, elapsed time.Duration) string {
	counts := fmt.Sprintf("%d rows, %d imported, %d skipped, %.0f rows/s", p.Rows, p.Imported, p.Skipped, perSecond(p.Rows, elapsed))
	if size <= 0 {
		return counts
	}
	const width = 30
	share := min(float64(p.BytesRead)/float64(size), 1)
	filled := int(share * width)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return fmt.Sprintf("[%s] %5.1f %%  %s", bar, share*100, counts)
}
