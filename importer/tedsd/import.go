package tedsd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
)

// Commander executes a patient's commands as one atomic append and tells
// whether a patient's stream, or any event, exists; *commands.Service is
// one.
type Commander interface {
	PatientBatch(ctx context.Context, m commands.Meta, cmds []domain.PatientCommand) (commands.Result, error)
	PatientExists(ctx context.Context, id domain.PatientID) (bool, error)
	StoreEmpty(ctx context.Context) (bool, error)
}

// Defaults of Options.
const (
	// DefaultWorkers is how many rows are imported at once: rows whose
	// append waits for the store's group commit. Many rows in flight let one
	// commit carry many of them, and with more rows in flight than one
	// commit takes (the embedded store's holds up to 16,384 events, 3,600
	// to 4,000 rows), the next commit's rows are decided, encoded and queued
	// while the store writes the last. Measured back to back on 2 cores
	// (BENCHMARKS.md), medians of 50,000-row imports: 4,096 in flight 56k
	// and 60k rows/s, 8,192 59k and 61k, 16,384 56k and 65k (a shared,
	// noisy disk); 8,192 keeps a commit's worth in reserve as the store
	// grows and its commits slow down.
	DefaultWorkers = 8192
	// DefaultMaxProblems bounds the malformed rows listed one by one; the
	// summary counts them all.
	DefaultMaxProblems = 1000
	// sortWindow is how many rows are read ahead and sorted by patient
	// stream before they are imported. Patient IDs are hashes, so the
	// streams of rows in file order land all over the store's B+tree of
	// stream names, and a commit of 4,000 rows rewrites a page of it for
	// almost every row; a commit of rows from a sorted window covers a
	// slice of the names and rewrites a fraction of those pages. A window
	// holds about 10 MB. The first windows are smaller, so that the
	// import starts at once; the store is small then, and so is the gain.
	sortWindow      = 1 << 15
	firstSortWindow = 1 << 13
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

// opener is a Commander that decides a batch opening a stream ahead of its
// append; *commands.Service is one. Import then decides and encodes rows on
// a few goroutines while many more wait for their appends' commits, so the
// store's writer finds the next commit's rows ready when it ends one.
type opener interface {
	PrepareOpening(m commands.Meta, cmds []domain.PatientCommand) (*commands.OpeningBatch, error)
	AppendOpening(ctx context.Context, b *commands.OpeningBatch) (commands.Result, error)
	AppendOpenings(ctx context.Context, bs []*commands.OpeningBatch) []commands.Outcome
}

// chunkRows is the most prepared rows handed to the store in one call.
const chunkRows = 256

// Import reads a TEDS-D file and imports each valid row as one episode
// through cmd, rows in parallel. A row's events (referral, intake,
// admission, level change, discharge) are one atomic append, so a crash or
// a refusal never leaves half an episode; a row whose events are in the
// store already appends nothing and counts as already imported. A
// malformed or refused row is reported to opts.Problems with its line and
// reason and skipped whole; a failure of the store stops the import and is
// returned with the summary so far. Memory stays constant: at most Workers
// rows (and a few hundred more queued) are held at once.
//
// When cmd is a *commands.Service (see opener), rows are decided and
// encoded by one goroutine per processor and handed to the store in
// chunks of up to chunkRows (AppendOpenings), up to Workers rows in
// flight; otherwise each of Workers goroutines runs PatientBatch for one
// row at a time. Rows are imported under ordered patient IDs (PatientID);
// in a store that held events when the import began, each is first looked
// up under its legacy ID, so files imported by earlier builds are found.
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
		mu        sync.Mutex
		summary   = Summary{SkippedBy: map[string]int{}}
		listed    int
		failure   error
		fresh     atomic.Int64
		duplicate atomic.Int64
		skipped   atomic.Int64
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
	// settle counts the outcome of one row's batch.
	settle := func(line int, res commands.Result, err error) {
		var rowErr *RowError
		switch {
		case domain.ErrorCode(err) != "":
			skip(&RowError{Line: line, Field: "row", Problem: "refused", Detail: domain.ErrorCode(err)})
		case errors.As(err, &rowErr):
			skip(rowErr)
		case err != nil:
			mu.Lock()
			if failure == nil {
				failure = fmt.Errorf("line %d: %w", line, err)
			}
			mu.Unlock()
			cancel()
		case res.Duplicate:
			duplicate.Add(1)
		default:
			fresh.Add(1)
		}
	}
	// Builds before PatientID's ordered layout gave episodes other IDs; a
	// store that held no events when the import began cannot have them.
	empty, err := cmd.StoreEmpty(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("reading the store: %w", err)
	}
	findLegacy := func(e *Episode) (bool, error) {
		if empty {
			return false, nil
		}
		return importedByLegacyBuild(ctx, cmd, e)
	}
	episodes := make(chan Episode, 256)
	var wg sync.WaitGroup
	if o, ok := cmd.(opener); ok {
		// Prepared rows go to the store in chunks, each appended by a
		// goroutine of its own that counts its rows once their commit
		// answers them; a chunk leaves when full, or as soon as no row is
		// ready to join it. Other rows (a legacy ID found, or a store a
		// round trip away) are appended by a goroutine each. Every row in
		// flight, chunked or not, holds a place in inFlight.
		inFlight := make(chan struct{}, workers)
		// appendAlone appends one row outside any chunk: under its legacy
		// ID when one was found (looking first if looked is false), else
		// the batch prepared for it.
		appendAlone := func(e Episode, b *commands.OpeningBatch, legacy, looked bool) {
			defer wg.Done()
			defer func() { <-inFlight }()
			var err error
			if !looked {
				legacy, err = findLegacy(&e)
			}
			var res commands.Result
			switch {
			case err != nil:
			case legacy:
				res, err = cmd.PatientBatch(ctx, episodeMeta(e), e.commands())
			default:
				res, err = o.AppendOpening(ctx, b)
			}
			settle(e.Line, res, err)
		}
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var chunk []*commands.OpeningBatch
				var lines []int
				flush := func() {
					if len(chunk) == 0 {
						return
					}
					bs, ls := chunk, lines
					chunk, lines = make([]*commands.OpeningBatch, 0, chunkRows), make([]int, 0, chunkRows)
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i, out := range o.AppendOpenings(ctx, bs) {
							settle(ls[i], out.Result, out.Err)
							<-inFlight
						}
					}()
				}
				defer flush()
				for {
					var e Episode
					var more bool
					select {
					case e, more = <-episodes:
					default:
						flush()
						e, more = <-episodes
					}
					if !more {
						return
					}
					b, err := o.PrepareOpening(episodeMeta(e), e.commands())
					// A row found under its legacy ID is executed there
					// through the ordinary path. A batch prepared for an
					// in-process store looks here, in microseconds (thousands
					// of appending goroutines' read transactions would
					// contend); any other looks on its appending goroutine,
					// as the lookup is a round trip.
					lookHere := err == nil && b.Prepared()
					var legacy bool
					if lookHere {
						legacy, err = findLegacy(&e)
					}
					if err != nil {
						settle(e.Line, commands.Result{}, err)
						continue
					}
					// The rows of an unsent chunk hold places too: send it
					// before waiting for one.
					select {
					case inFlight <- struct{}{}:
					default:
						flush()
						select {
						case inFlight <- struct{}{}:
						case <-ctx.Done():
							settle(e.Line, commands.Result{}, ctx.Err())
							continue
						}
					}
					if lookHere && !legacy {
						chunk, lines = append(chunk, b), append(lines, e.Line)
						if len(chunk) == chunkRows {
							flush()
						}
						continue
					}
					wg.Add(1)
					go appendAlone(e, b, legacy, lookHere)
				}
			}()
		}
	} else {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for e := range episodes {
					if _, err := findLegacy(&e); err != nil {
						settle(e.Line, commands.Result{}, err)
						continue
					}
					res, err := cmd.PatientBatch(ctx, episodeMeta(e), e.commands())
					settle(e.Line, res, err)
				}
			}()
		}
	}
	var rows int64
	report := func() {
		if opts.Progress != nil {
			opts.Progress(Progress{Rows: rows, BytesRead: reader.BytesRead(), Imported: fresh.Load() + duplicate.Load(), Skipped: skipped.Load()})
		}
	}
	// The reader plans rows into windows of sortWindow episodes, sorted by
	// patient stream; feed hands them to the workers in that order.
	windows := make(chan []Episode, 1)
	go func() {
		defer close(episodes)
		for window := range windows {
			for _, e := range window {
				select {
				case episodes <- e:
				case <-ctx.Done():
				}
			}
		}
	}()
	readErr := func() error {
		defer close(windows)
		var window []Episode
		size := firstSortWindow
		flush := func() bool {
			if len(window) == 0 {
				return true
			}
			slices.SortFunc(window, func(a, b Episode) int { return cmp.Compare(a.Patient, b.Patient) })
			select {
			case windows <- window:
				window, size = nil, min(2*size, sortWindow)
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			row, err := reader.Next()
			if errors.Is(err, io.EOF) {
				if !flush() {
					return errAborted
				}
				return nil
			}
			var rowErr *RowError
			if err != nil && !errors.As(err, &rowErr) {
				flush()
				return fmt.Errorf("reading line %d: %w", reader.line, err)
			}
			rows++
			if rows%progressEvery == 0 {
				report()
			}
			if rowErr == nil {
				var e Episode
				if e, err = Plan(row, lastYear); err == nil {
					if window == nil {
						window = make([]Episode, 0, size)
					}
					if window = append(window, e); len(window) == size && !flush() {
						return errAborted
					}
					continue
				}
				errors.As(err, &rowErr)
			}
			skip(rowErr)
		}
	}()
	wg.Wait()
	report()
	summary.Rows = int(rows)
	summary.Imported = int(fresh.Load())
	summary.AlreadyImported = int(duplicate.Load())
	switch {
	case failure != nil:
		return summary, failure
	case readErr != nil && !errors.Is(readErr, errAborted):
		return summary, readErr
	}
	return summary, ctx.Err()
}

// importedByLegacyBuild reports whether the episode's patient is in the
// store under its legacy ID, and if so readdresses e to that patient, so
// that importing it again finds the episode there instead of adding it
// anew under its ordered ID.
func importedByLegacyBuild(ctx context.Context, cmd Commander, e *Episode) (bool, error) {
	legacy := legacyPatientID(e.Year, e.CaseID)
	found, err := cmd.PatientExists(ctx, legacy)
	if found {
		e.Patient = legacy
	}
	return found, err
}

// episodeMeta is the metadata of an episode's batch: its idempotency key
// (and correlation ID) derive from DISYR and CASEID, and its clinical times
// are estimates.
func episodeMeta(e Episode) commands.Meta {
	key := episodeKey(e.Year, e.CaseID)
	return commands.Meta{IdempotencyKey: key, CorrelationID: key, Estimated: true}
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
