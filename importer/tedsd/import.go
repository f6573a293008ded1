package tedsd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
)

// Commander executes a patient's commands as one atomic append;
// *commands.Service is one.
type Commander interface {
	PatientBatch(ctx context.Context, m commands.Meta, cmds []domain.PatientCommand) (commands.Result, error)
}

// Defaults of Options.
const (
	// DefaultWorkers is how many rows are imported at once. Each row's
	// commands wait for the store's group commit; many rows in flight let
	// one commit carry many of them. Every row opens a new stream, whose
	// name lands at a random place in the store's B+tree, so a commit of
	// more rows shares more of the pages it rewrites. Measured back to back
	// (BENCHMARKS.md): 256 workers 20.7-23.7k rows/s; 2,048 39-43k; 3,072
	// 41-44.5k; 4,096 and 6,144 no better (the collector then scans too
	// many goroutine stacks).
	DefaultWorkers = 3072
	// DefaultMaxProblems bounds the malformed rows listed one by one; the
	// summary counts them all.
	DefaultMaxProblems = 1000
	// progressEvery is how many rows pass between progress reports.
	progressEvery = 2048
)

// Options tune an import.
type Options struct {
	// Workers is how many rows are imported concurrently; 0 means DefaultWorkers.
	Workers int
	// Now is the clock that decides which years are past; nil means time.Now.
	Now func() time.Time
	// Problems receives one line per malformed or refused row; nil discards them.
	Problems io.Writer
	// MaxProblems bounds the lines written to Problems; 0 means DefaultMaxProblems.
	MaxProblems int
	// Progress, if set, is called from the reading goroutine every few
	// thousand rows and once at the end.
	Progress func(Progress)
}

// Progress is how far an import has come.
type Progress struct {
	// Rows read so far and the bytes of input they took.
	Rows      int64
	BytesRead int64
	// Imported and Skipped count rows finished so far.
	Imported int64
	Skipped  int64
}

// Summary is what an import did.
type Summary struct {
	// Rows counts the rows read, malformed ones included.
	Rows int
	// Imported counts the episodes that got events now (a row an earlier,
	// interrupted import had half written included).
	Imported int
	// AlreadyImported counts the rows whose episode was complete already.
	AlreadyImported int
	// Skipped counts the malformed or refused rows, by kind in SkippedBy.
	Skipped   int
	SkippedBy map[string]int
}

// WriteTo prints the summary for people.
func (s Summary) WriteTo(w io.Writer) (int64, error) {
	var n int64
	p := func(format string, args ...any) {
		m, _ := fmt.Fprintf(w, format, args...)
		n += int64(m)
	}
	p("rows read:          %d\n", s.Rows)
	p("episodes imported:  %d\n", s.Imported)
	p("already imported:   %d\n", s.AlreadyImported)
	p("rows skipped:       %d\n", s.Skipped)
	kinds := slices.SortedFunc(maps.Keys(s.SkippedBy), func(a, b string) int {
		return cmp.Or(cmp.Compare(s.SkippedBy[b], s.SkippedBy[a]), cmp.Compare(a, b))
	})
	for _, kind := range kinds {
		p("  %-28s %d\n", kind+":", s.SkippedBy[kind])
	}
	return n, nil
}

// errAborted marks rows left undone because the import stopped early.
var errAborted = errors.New("import stopped")

// Import reads a TEDS-D file and imports each valid row as one episode
// through cmd, rows in parallel. A malformed row is reported to
// opts.Problems with its line and reason and skipped whole; a failure of
// the store stops the import and is returned with the summary so far.
func Import(ctx context.Context, cmd Commander, in io.Reader, opts Options) (Summary, error) {
	workers := cmp.Or(opts.Workers, DefaultWorkers)
	maxProblems := cmp.Or(opts.MaxProblems, DefaultMaxProblems)
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	lastYear := now().UTC().Year() - 1
	reader, err := NewReader(in)
	if err != nil {
		return Summary{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu       sync.Mutex
		summary  = Summary{SkippedBy: map[string]int{}}
		listed   int
		failure  error
		imported atomic.Int64
		skipped  atomic.Int64
	)
	skip := func(rowErr *RowError) {
		skipped.Add(1)
		mu.Lock()
		defer mu.Unlock()
		summary.Skipped++
		summary.SkippedBy[rowErr.Kind()]++
		if opts.Problems != nil {
			switch {
			case listed < maxProblems:
				fmt.Fprintln(opts.Problems, rowErr.Error())
			case listed == maxProblems:
				fmt.Fprintf(opts.Problems, "(more malformed rows are not listed; the summary counts them)\n")
			}
			listed++
		}
	}
	episodes := make(chan Episode, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range episodes {
				fresh, err := importEpisode(ctx, cmd, e)
				var rowErr *RowError
				switch {
				case errors.As(err, &rowErr):
					skip(rowErr)
				case err != nil:
					mu.Lock()
					if failure == nil {
						failure = fmt.Errorf("line %d: %w", e.Line, err)
					}
					mu.Unlock()
					cancel()
				default:
					imported.Add(1)
					mu.Lock()
					if fresh {
						summary.Imported++
					} else {
						summary.AlreadyImported++
					}
					mu.Unlock()
				}
			}
		}()
	}
	var rows int64
	report := func() {
		if opts.Progress != nil {
			opts.Progress(Progress{Rows: rows, BytesRead: reader.BytesRead(), Imported: imported.Load(), Skipped: skipped.Load()})
		}
	}
	readErr := func() error {
		defer close(episodes)
		for {
			row, err := reader.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			var rowErr *RowError
			if err != nil && !errors.As(err, &rowErr) {
				return fmt.Errorf("reading line %d: %w", reader.line, err)
			}
			rows++
			if rows%progressEvery == 0 {
				report()
			}
			if rowErr == nil {
				var e Episode
				if e, err = Plan(row, lastYear); err == nil {
					select {
					case episodes <- e:
						continue
					case <-ctx.Done():
						return errAborted
					}
				}
				errors.As(err, &rowErr)
			}
			skip(rowErr)
		}
	}()
	wg.Wait()
	report()
	summary.Rows = int(rows)
	switch {
	case failure != nil:
		return summary, failure
	case readErr != nil && !errors.Is(readErr, errAborted):
		return summary, readErr
	}
	return summary, ctx.Err()
}

// importEpisode appends an episode's events (referral, intake, admission,
// level change, discharge) in one atomic append, so a crash or a refusal
// never leaves half an episode. fresh reports whether it appended events
// (rather than finding them from an earlier import). A refusal by the
// domain is a *RowError.
func importEpisode(ctx context.Context, cmd Commander, e Episode) (fresh bool, err error) {
	key := episodeKey(e.Year, e.CaseID)
	steps := e.steps()
	cmds := make([]domain.PatientCommand, len(steps))
	for i, s := range steps {
		cmds[i] = s.cmd
	}
	res, err := cmd.PatientBatch(ctx, commands.Meta{IdempotencyKey: key, CorrelationID: key, Estimated: true}, cmds)
	if code := domain.ErrorCode(err); code != "" {
		return false, &RowError{Line: e.Line, Field: "row", Problem: "refused", Detail: code}
	}
	if err != nil {
		return false, err
	}
	return !res.Duplicate, nil
}

// BatchGC raises the garbage collector's target for a batch import and
// returns the function that restores it. An import allocates fast over a
// small live heap, so at the default GOGC of 100 the collector took about a
// fifth of its CPU; 300 imported about 20 % more rows/s here (BENCHMARKS.md)
// for a heap of tens of megabytes more. A GOGC set in the environment is
// the operator's choice and is left alone.
func BatchGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	previous := debug.SetGCPercent(batchGCPercent)
	return func() { debug.SetGCPercent(previous) }
}

// batchGCPercent is BatchGC's collector target.
const batchGCPercent = 300
