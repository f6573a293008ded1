package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/esdb"
	"github.com/continuum-care/continuum/projections/outcomes"
)

// runOutcomes is `continuum outcomes`: it replays the whole log (or the
// part known at --as-of) into the analyst's outcome figures and writes
// them as JSON, CSV tables or an HTML report. Progress goes to stderr, the
// report to stdout or --out, so the same log always writes the same bytes.
func runOutcomes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("outcomes", stderr)
	dataDir := fs.String("data", "./continuum-data", "data directory of the embedded store")
	storeURL := fs.String("store", "", "EventStoreDB/KurrentDB connection string (esdb://…); empty reads the embedded store in --data")
	asOf := fs.String("as-of", "", "report the world as known at the end of this clinical day, YYYY-MM-DD")
	from := fs.String("from", "", "keep episodes that started on or after this day, YYYY-MM-DD")
	to := fs.String("to", "", "keep episodes that started on or before this day, YYYY-MM-DD")
	cohort := fs.String("cohort", "month", "cohorts by month or quarter of admission")
	tz := fs.String("tz", "UTC", "time zone of clinical days (IANA name, e.g. America/Chicago)")
	format := fs.String("format", "json", "json, csv (one file per table into the --out directory) or html")
	out := fs.String("out", "", "file to write (a directory for csv); empty writes json or html to stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts, err := outcomeOptions(*asOf, *from, *to, *cohort, *tz)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case *format != "json" && *format != "csv" && *format != "html":
		return fmt.Errorf("%w: --format %q: want json, csv or html", errUsage, *format)
	case *format == "csv" && *out == "":
		return fmt.Errorf("%w: --format csv writes one file per table: give the directory with --out", errUsage)
	}
	store, err := openStore(*dataDir, *storeURL)
	if err != nil {
		return err
	}
	defer store.Close()

	progress := newProgressLine(stderr)
	started := time.Now()
	report, err := outcomes.Replay(ctx, store, opts, func(replayed int64) {
		progress.show(func() string {
			return fmt.Sprintf("replaying: %d events (%.0f events/s)", replayed, perSecond(replayed, time.Since(started)))
		})
	})
	progress.done(func() string {
		if report == nil {
			return ""
		}
		return fmt.Sprintf("replayed %d events in %s", report.EventsReplayed, time.Since(started).Round(time.Millisecond))
	})
	if err != nil {
		return err
	}
	return writeReport(report, *format, *out, stdout)
}

// outcomeOptions reads the replay's options from the flags.
func outcomeOptions(asOf, from, to, cohort, tz string) (outcomes.Options, error) {
	var opts outcomes.Options
	for _, d := range []struct {
		flag, value string
		into        *domain.Date
	}{{"--as-of", asOf, &opts.AsOf}, {"--from", from, &opts.From}, {"--to", to, &opts.To}} {
		if d.value == "" {
			continue
		}
		date, err := domain.ParseDate(d.value)
		if err != nil {
			return opts, fmt.Errorf("%s %q: want YYYY-MM-DD", d.flag, d.value)
		}
		*d.into = date
	}
	period, err := outcomes.ParseCohortPeriod(cohort)
	if err != nil {
		return opts, fmt.Errorf("--cohort: %v", err)
	}
	opts.Cohort = period
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return opts, fmt.Errorf("--tz: %v", err)
	}
	opts.Location = loc
	return opts, opts.Validate()
}

// writeReport writes the report in format to out (stdout when empty).
func writeReport(r *outcomes.Report, format, out string, stdout io.Writer) error {
	if format == "csv" {
		return r.WriteCSV(out)
	}
	write := r.WriteJSON
	if format == "html" {
		write = r.WriteHTML
	}
	if out == "" {
		w := bufio.NewWriter(stdout)
		if err := write(w); err != nil {
			return err
		}
		return w.Flush()
	}
	file, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(file)
	if err := write(w); err != nil {
		file.Close()
		return err
	}
	return errors.Join(w.Flush(), file.Close())
}

// openStore opens the embedded store in dataDir, or the
// EventStoreDB-protocol server storeURL names.
func openStore(dataDir, storeURL string) (eventstore.Store, error) {
	if storeURL != "" {
		return esdb.Open(storeURL)
	}
	store, err := bolt.Open(dataDir, bolt.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening the embedded store in %s (a running server holds it: stop it, or serve it with `continuum eventstore` and pass --store): %w", dataDir, err)
	}
	return store, nil
}

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// progressLine shows how a long job is going on stderr: rewritten in place
// on a terminal, a line every few seconds otherwise (logs, CI), and not at
// all for jobs that end within a second.
type progressLine struct {
	w        io.Writer
	terminal bool
	started  time.Time
	last     time.Time
	shown    bool
}

// Pauses between progress updates.
const (
	progressDelay        = time.Second
	terminalRefresh      = 200 * time.Millisecond
	nonTerminalLineEvery = 5 * time.Second
)

func newProgressLine(w io.Writer) *progressLine {
	p := &progressLine{w: w, started: time.Now()}
	if f, ok := w.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// show writes the text text() makes, if it is time to.
func (p *progressLine) show(text func() string) {
	now := time.Now()
	if now.Sub(p.started) < progressDelay {
		return
	}
	every := nonTerminalLineEvery
	if p.terminal {
		every = terminalRefresh
	}
	if p.shown && now.Sub(p.last) < every {
		return
	}
	p.last, p.shown = now, true
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", text())
	} else {
		fmt.Fprintln(p.w, text())
	}
}

// done ends the progress display with a final line, if any was shown.
func (p *progressLine) done(text func() string) {
	if !p.shown {
		return
	}
	final := text()
	switch {
	case p.terminal && final == "":
		fmt.Fprint(p.w, "\r\033[K")
	case p.terminal:
		fmt.Fprintf(p.w, "\r\033[K%s\n", final)
	case final != "":
		fmt.Fprintln(p.w, final)
	}
}
