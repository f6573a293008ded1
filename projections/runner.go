package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/projections/replay"
)

// Defaults of Options.
const (
	// DefaultSnapshotEvery bounds the tail a crash leaves to replay: about
	// half a second of events at the codec's decode rate.
	DefaultSnapshotEvery = 100_000
	// DefaultSnapshotInterval is how often a changed state is snapshotted
	// when fewer than SnapshotEvery events arrive.
	DefaultSnapshotInterval = time.Minute
)

const (
	// maxBatch bounds the events applied under one lock, so a query never
	// waits behind a long replay.
	maxBatch = 1024
	// receiveBuffer is how many decoded events may wait between the
	// decoding goroutine and the applying one.
	receiveBuffer = 4096
	// lagScanLimit bounds the events Lag reads to count how far behind the
	// runner is; beyond it the count is reported as a lower bound.
	lagScanLimit = 1000
	// Resubscription backoff after the store dropped the subscription.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Errors of the runner's lifecycle.
var (
	// ErrNotRunning: the runner was not started, or was stopped.
	ErrNotRunning = errors.New("projections runner not running")
	// ErrAlreadyRunning: Start was called on a running runner.
	ErrAlreadyRunning = errors.New("projections runner already running")
)

// Options configure a Runner.
type Options struct {
	// Store is the event store to follow. Required.
	Store eventstore.Store
	// Dir is the data directory holding the snapshot file; empty keeps no
	// snapshot, so every start replays the whole log.
	Dir string
	// Location is the clinic's time zone, which decides the clinical day of
	// every fact; nil means UTC. A snapshot folded under another zone is
	// ignored.
	Location *time.Location
	// Now is the clock the census is rendered with in View; nil means time.Now.
	Now func() time.Time
	// SnapshotEvery is how many events trigger a snapshot; 0 means
	// DefaultSnapshotEvery.
	SnapshotEvery int
	// SnapshotInterval is how often a changed state is snapshotted anyway; 0
	// means DefaultSnapshotInterval.
	SnapshotInterval time.Duration
	// Logger receives the runner's log lines; nil means slog.Default().
	Logger *slog.Logger
}

// Update tells listeners what one applied batch changed.
type Update struct {
	// Position is the position of the last event of the batch: a view
	// rendered now is at least this fresh.
	Position eventstore.Position
	// Topics are the wire names of the views that changed, sorted. The
	// slice is shared by every listener: read it, never modify it.
	Topics []string
	// Reset means every view may have changed (a rebuild started): send
	// every subscriber a fresh snapshot.
	Reset bool
}

// Listener is told about every applied batch. The runner calls listeners
// synchronously, one after the other, from the goroutine that applies
// events, so a listener must never block or do slow work: it must only hand
// the update off (a non-blocking send to a buffered channel, or a
// goroutine's queue). A blocked listener stalls every projection.
type Listener func(Update)

// Lag is how far the runner is behind the store's head.
type Lag struct {
	// Events is how many events the runner has not yet applied.
	Events int `json:"events"`
	// AtLeast means Events is a lower bound: counting stopped at a limit.
	AtLeast bool `json:"atLeast"`
	// Seconds is the store time between the last event applied and the head.
	Seconds float64 `json:"seconds"`
}

// Stats are the runner's counters, for metrics.
type Stats struct {
	Progress
	// SnapshotsWritten and SnapshotFailures count snapshot writes.
	SnapshotsWritten, SnapshotFailures uint64
	// LastSnapshotBytes and LastSnapshotDuration describe the latest
	// snapshot written (encoding and durable write).
	LastSnapshotBytes    int64
	LastSnapshotDuration time.Duration
}

// Runner keeps every read model up to date from $all. It catches up by
// reading the log in pages decoded on every core (projections/replay), then
// follows a subscription from where that stopped, one goroutine receiving
// and decoding; either way one goroutine applies the events in order to
// all models under a write lock, in batches, then tells the listeners
// which topics changed. Queries take the read lock, so each sees
// one consistent state tagged with its position.
type Runner struct {
	store eventstore.Store
	opts  Options
	log   *slog.Logger

	mu       sync.RWMutex
	models   *Models
	progress Progress
	// censusPos is the position of the last event that changed the census
	// board (censusSeen is the models' census version then): the census
	// view is tagged with it, so a board pushed at a change and the board
	// served later, after events that did not touch it, carry the same
	// position as well as the same bytes.
	censusPos  eventstore.Position
	censusSeen uint64

	ready   atomic.Bool
	readyMu sync.Mutex
	readyCh chan struct{} // closed while ready

	listenMu     sync.Mutex
	listeners    atomic.Pointer[[]listenerEntry]
	nextListener uint64

	// lifeMu serializes Start, Stop and Rebuild.
	lifeMu sync.Mutex
	base   context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// Owned by the applying goroutine, or by a lifecycle method while that
	// goroutine is stopped.
	sinceSnapshot  int
	lastSnapshotAt time.Time
	writing        *pendingWrite

	// unknownTypes remembers the unknown event types already logged, so
	// each is logged once; decoders on several goroutines share it.
	unknownMu    sync.Mutex
	unknownTypes map[string]bool

	snapshotsWritten, snapshotFailures atomic.Uint64
	lastSnapshotBytes                  atomic.Int64
	lastSnapshotNanos                  atomic.Int64
}

type listenerEntry struct {
	id uint64
	fn Listener
}

// pendingWrite is a snapshot being written in the background.
type pendingWrite struct {
	done   chan struct{}
	err    error // set before done is closed
	events int   // events the snapshot covers beyond the previous one
}

// New returns a runner with its models restored from the snapshot in
// opts.Dir when there is a usable one; a missing, corrupt, version- or
// zone-mismatched snapshot is logged and ignored, so the runner replays
// the log from the start.
func New(opts Options) (*Runner, error) {
	if opts.Store == nil {
		return nil, errors.New("projections: Options.Store is required")
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = DefaultSnapshotEvery
	}
	if opts.SnapshotInterval <= 0 {
		opts.SnapshotInterval = DefaultSnapshotInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Runner{
		store:        opts.Store,
		opts:         opts,
		log:          opts.Logger,
		models:       NewModels(opts.Location),
		readyCh:      make(chan struct{}),
		unknownTypes: map[string]bool{},
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("projections: data directory: %w", err)
		}
		r.removeStaleTemporaries()
		r.restore()
	}
	return r, nil
}

// removeStaleTemporaries deletes the temporary files of snapshot writes a
// crash interrupted; nothing else writes files by that name.
func (r *Runner) removeStaleTemporaries() {
	stale, _ := filepath.Glob(filepath.Join(r.opts.Dir, SnapshotFile+".tmp-*"))
	for _, name := range stale {
		if err := os.Remove(name); err != nil {
			r.log.Warn("projections: cannot remove an interrupted snapshot write", "file", name, "error", err)
		}
	}
}

func (r *Runner) snapshotPath() string { return filepath.Join(r.opts.Dir, SnapshotFile) }

func (r *Runner) restore() {
	path := r.snapshotPath()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		r.log.Info("projections: no snapshot, replaying the log from the start", "file", path)
		return
	}
	var s *snapshot
	if err == nil {
		s, err = unmarshalSnapshot(b)
	}
	if err == nil && s.location != r.opts.Location.String() {
		err = fmt.Errorf("snapshot was folded in time zone %q, the runner uses %q", s.location, r.opts.Location.String())
	}
	var m *Models
	if err == nil {
		m, err = decodeModels(r.opts.Location, s.table, s.body)
	}
	if err != nil {
		r.log.Warn("projections: ignoring the snapshot, replaying the log from the start", "file", path, "error", err)
		return
	}
	r.models, r.progress = m, s.progress
	r.censusPos, r.censusSeen = s.progress.Position, m.censusVersion()
	r.log.Info("projections: restored snapshot", "position", s.progress.Position.String(), "events", s.progress.Applied)
}

// Start follows $all from the checkpoint until Stop, or until ctx ends.
func (r *Runner) Start(ctx context.Context) error {
	r.lifeMu.Lock()
	defer r.lifeMu.Unlock()
	if r.cancel != nil {
		return ErrAlreadyRunning
	}
	r.base = ctx
	r.launch()
	return nil
}

func (r *Runner) launch() {
	ctx, cancel := context.WithCancel(r.base)
	r.cancel, r.done = cancel, make(chan struct{})
	go r.run(ctx, r.done)
}

// halt stops the goroutines and waits for a snapshot being written.
func (r *Runner) halt() {
	r.cancel()
	<-r.done
	r.cancel = nil
	r.collectWrite(true)
	r.setReady(false)
}

// Stop stops following the log and writes a final snapshot, so the next
// start resumes from here. Calling it on a stopped runner does nothing.
func (r *Runner) Stop() error {
	r.lifeMu.Lock()
	defer r.lifeMu.Unlock()
	if r.cancel == nil {
		return nil
	}
	r.halt()
	if r.opts.Dir == "" || r.sinceSnapshot == 0 {
		return nil
	}
	data, err := r.encodeSnapshot()
	if err == nil {
		err = r.writeSnapshot(data)
	}
	if err != nil {
		return fmt.Errorf("projections: final snapshot: %w", err)
	}
	r.sinceSnapshot = 0
	return nil
}

// Rebuild replays the whole log from the start into fresh models, then
// returns once they have caught up (or ctx ends; the rebuild goes on). The
// snapshot is removed first so a crash mid-way cannot resurrect the old
// state. Listeners get a Reset update; until caught up, Ready is false and
// queries see the partly rebuilt state.
func (r *Runner) Rebuild(ctx context.Context) error {
	r.lifeMu.Lock()
	if r.cancel == nil {
		r.lifeMu.Unlock()
		return ErrNotRunning
	}
	r.halt()
	if r.opts.Dir != "" {
		if err := os.Remove(r.snapshotPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.launch()
			r.lifeMu.Unlock()
			return fmt.Errorf("projections: remove the snapshot before a rebuild: %w", err)
		}
	}
	r.mu.Lock()
	r.models, r.progress = NewModels(r.opts.Location), Progress{}
	r.censusPos, r.censusSeen = eventstore.Start, 0
	r.mu.Unlock()
	r.sinceSnapshot = 0
	r.notify(Update{Position: eventstore.Start, Reset: true})
	r.launch()
	r.lifeMu.Unlock()
	return r.WaitReady(ctx)
}

// Ready reports whether the runner has caught up with the log since it
// started (or since its subscription was last re-established): what
// GET /readyz answers.
func (r *Runner) Ready() bool { return r.ready.Load() }

// WaitReady blocks until the runner is ready or ctx ends.
func (r *Runner) WaitReady(ctx context.Context) error {
	r.readyMu.Lock()
	ch := r.readyCh
	r.readyMu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Runner) setReady(ready bool) {
	r.readyMu.Lock()
	defer r.readyMu.Unlock()
	// The flag is set before the channel closes, so Ready is true for
	// anyone woken by WaitReady.
	was := r.ready.Swap(ready)
	switch {
	case ready && !was:
		close(r.readyCh)
	case !ready && was:
		r.readyCh = make(chan struct{})
	}
}

// Position is the position of the last event considered (applied or skipped).
func (r *Runner) Position() eventstore.Position {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.progress.Position
}

// Stats returns the runner's counters.
func (r *Runner) Stats() Stats {
	r.mu.RLock()
	p := r.progress
	r.mu.RUnlock()
	return Stats{
		Progress:             p,
		SnapshotsWritten:     r.snapshotsWritten.Load(),
		SnapshotFailures:     r.snapshotFailures.Load(),
		LastSnapshotBytes:    r.lastSnapshotBytes.Load(),
		LastSnapshotDuration: time.Duration(r.lastSnapshotNanos.Load()),
	}
}

// Lag measures how far behind the store's head the runner is. It costs one
// read of the newest event when the runner is caught up, and one bounded
// read (lagScanLimit events) when it is not, so it can back a metric.
func (r *Runner) Lag(ctx context.Context) (Lag, error) {
	filter := ClinicalStreams()
	head, err := r.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Max: 1, Filter: filter})
	if err != nil {
		return Lag{}, err
	}
	p := r.Stats().Progress
	if len(head) == 0 || !p.Position.Less(head[0].Position) {
		return Lag{}, nil
	}
	recent, err := r.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Max: lagScanLimit, Filter: filter})
	if err != nil {
		return Lag{}, err
	}
	var lag Lag
	for _, e := range recent {
		if !p.Position.Less(e.Position) {
			break
		}
		lag.Events++
	}
	lag.AtLeast = lag.Events == lagScanLimit
	since := p.Created
	if since.IsZero() && lag.Events > 0 {
		since = recent[lag.Events-1].Created // nothing applied yet: the oldest event seen
	}
	lag.Seconds = max(head[0].Created.Sub(since).Seconds(), 0)
	return lag, nil
}

// Listen registers a listener (see Listener for what it may do) and
// returns the function that removes it.
func (r *Runner) Listen(l Listener) (remove func()) {
	r.listenMu.Lock()
	defer r.listenMu.Unlock()
	r.nextListener++
	id := r.nextListener
	var list []listenerEntry
	if cur := r.listeners.Load(); cur != nil {
		list = append(list, *cur...)
	}
	list = append(list, listenerEntry{id: id, fn: l})
	r.listeners.Store(&list)
	return func() {
		r.listenMu.Lock()
		defer r.listenMu.Unlock()
		cur := *r.listeners.Load()
		next := make([]listenerEntry, 0, len(cur))
		for _, e := range cur {
			if e.id != id {
				next = append(next, e)
			}
		}
		r.listeners.Store(&next)
	}
}

func (r *Runner) hasListeners() bool {
	l := r.listeners.Load()
	return l != nil && len(*l) > 0
}

func (r *Runner) notify(u Update) {
	l := r.listeners.Load()
	if l == nil {
		return
	}
	for _, e := range *l {
		e.fn(u)
	}
}

// Read runs fn with the models under the read lock and returns the
// position the state is at. fn must not keep references into the models
// or modify them; the query methods return copies.
func (r *Runner) Read(fn func(m *Models)) eventstore.Position {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn(r.models)
	return r.progress.Position
}

// View renders a topic's current view as JSON, together with the position
// it is at, so the web hub can send "snapshot at P" and then updates after
// P. The census is rendered for the runner's clock and tagged with the
// position of its last change (see censusPos). An unknown topic name
// is ErrUnknownTopic; a group or patient never seen is ErrNotFound.
func (r *Runner) View(topic string) ([]byte, eventstore.Position, error) {
	t, err := ParseTopic(topic)
	if err != nil {
		return nil, eventstore.Position{}, err
	}
	now := r.opts.Now()
	r.mu.RLock()
	v, err := r.models.view(t, now)
	pos := r.progress.Position
	if t.Kind == TopicCensus {
		pos = r.censusPos
	}
	r.mu.RUnlock()
	if err != nil {
		return nil, pos, err
	}
	b, err := json.Marshal(v)
	return b, pos, err
}

// Census renders the census board for now.
func (r *Runner) Census(now time.Time) (v CensusView, pos eventstore.Position) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.models.Census.View(now), r.censusPos
}

// Patients lists the people matching f.
func (r *Runner) Patients(f PatientFilter) (v PatientsView, pos eventstore.Position) {
	pos = r.Read(func(m *Models) { v = m.Patients.Patients(f) })
	return v, pos
}

// Patient returns one person's row of the list.
func (r *Runner) Patient(id domain.PatientID) (v PatientRow, pos eventstore.Position, ok bool) {
	pos = r.Read(func(m *Models) { v, ok = m.Patients.Patient(id) })
	return v, pos, ok
}

// Roster returns a group's roster.
func (r *Runner) Roster(id domain.GroupID) (v RosterView, pos eventstore.Position, ok bool) {
	pos = r.Read(func(m *Models) { v, ok = m.Rosters.Roster(id) })
	return v, pos, ok
}

// Journey returns a person's journey.
func (r *Runner) Journey(id domain.PatientID) (v JourneyView, pos eventstore.Position, ok bool) {
	pos = r.Read(func(m *Models) { v, ok = m.Journeys.Journey(id) })
	return v, pos, ok
}

// item is one message of the subscription, decoded.
type item struct {
	err        error
	caughtUp   bool
	checkpoint bool
	pos        eventstore.Position
	created    time.Time
	// event is the decoded event; nil with pos set for a skipped one.
	event     domain.Event
	unknown   bool
	malformed bool
}

// run follows the log, resubscribing with backoff when the store drops the
// subscription, until ctx ends.
func (r *Runner) run(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	backoff := minBackoff
	for {
		progressed, err := r.catchUp(ctx)
		if err == nil {
			var followed bool
			followed, err = r.follow(ctx)
			progressed = progressed || followed
		}
		if ctx.Err() != nil {
			return
		}
		if progressed {
			backoff = minBackoff
		}
		r.setReady(false)
		r.log.Warn("projections: subscription ended, resubscribing", "error", err, "retryIn", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// catchUp applies the log from the current position to its end through the
// parallel replay pipeline (pages read ahead, decoded on every core, applied
// in order), which is several times faster than a subscription delivering
// events one by one. follow then subscribes from where it stopped, so no
// event is missed or applied twice; only the subscription's caught-up
// signal makes the runner ready. progressed reports whether anything was
// applied, to reset the backoff.
func (r *Runner) catchUp(ctx context.Context) (progressed bool, err error) {
	if r.lastSnapshotAt.IsZero() {
		r.lastSnapshotAt = time.Now()
	}
	opts := replay.Options{After: r.Position(), Filter: ClinicalStreams()}
	// The folded pages' item buffers go back to the decoders: a page's
	// items are a third of a megabyte, and allocating one per page made
	// the collector mark the growing models more often.
	free := replay.NewRecycler[item]()
	decode := func(page []eventstore.RecordedEvent) ([]item, error) {
		items := free.Get(len(page))
		for i := range page {
			items[i] = r.decode(&page[i])
		}
		return items, nil
	}
	err = replay.Run(ctx, r.store, opts, decode, func(items []item) {
		page := items
		for len(items) > 0 {
			n := min(len(items), maxBatch)
			// A catch-up's items hold no subscription error.
			_ = r.applyBatch(items[:n])
			items = items[n:]
			progressed = true
			r.snapshotIfDue(time.Since(r.lastSnapshotAt) >= r.opts.SnapshotInterval)
		}
		free.Put(page)
	})
	return progressed, err
}

// follow subscribes from the current position and applies what arrives
// until the subscription or ctx ends. progressed reports whether anything
// arrived, to reset the backoff.
func (r *Runner) follow(ctx context.Context) (progressed bool, err error) {
	sub, err := r.store.SubscribeAll(ctx, eventstore.SubscribeAllOptions{From: r.Position(), Filter: ClinicalStreams()})
	if err != nil {
		return false, err
	}
	items := make(chan item, receiveBuffer)
	stop := make(chan struct{})
	go r.receive(sub, items, stop)
	defer func() {
		close(stop)
		sub.Close()
		for range items {
		}
	}()
	ticker := time.NewTicker(r.opts.SnapshotInterval)
	defer ticker.Stop()
	midnight := time.NewTimer(r.untilMidnight())
	defer midnight.Stop()
	batch := make([]item, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case <-ticker.C:
			r.snapshotIfDue(true)
		case <-midnight.C:
			// "Today" and lengths of stay move at midnight without any event.
			r.notify(Update{Position: r.Position(), Topics: []string{CensusTopic}})
			midnight.Reset(r.untilMidnight())
		case it, ok := <-items:
			if !ok {
				return progressed, errors.New("subscription ended")
			}
			progressed = true
			batch = append(batch[:0], it)
		drain:
			for len(batch) < maxBatch {
				select {
				case it, ok := <-items:
					if !ok {
						break drain
					}
					batch = append(batch, it)
				default:
					break drain
				}
			}
			if err := r.applyBatch(batch); err != nil {
				return progressed, err
			}
			r.snapshotIfDue(false)
		}
	}
}

// receive pulls messages off the subscription and decodes events, in its
// own goroutine so decoding overlaps applying.
func (r *Runner) receive(sub eventstore.Subscription, items chan<- item, stop <-chan struct{}) {
	defer close(items)
	for {
		msg, err := sub.Recv()
		var it item
		switch {
		case err != nil:
			it.err = err
		case msg.Event != nil:
			it = r.decode(msg.Event)
		case msg.CaughtUp:
			it.caughtUp = true
		case msg.Checkpoint != nil:
			it.checkpoint, it.pos = true, *msg.Checkpoint
		default:
			continue
		}
		select {
		case items <- it:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// decode decodes one event. Failures are logged with the type and
// position, never the event's bytes or the error's text (see decodeFailure).
func (r *Runner) decode(rec *eventstore.RecordedEvent) item {
	it := item{pos: rec.Position, created: rec.Created}
	e, err := domain.DecodeData(rec.Type, rec.Data, rec.Metadata)
	switch {
	case err == nil:
		it.event = e
	case errors.Is(err, domain.ErrUnknownEventType):
		it.unknown = true
		r.unknownMu.Lock()
		first := !r.unknownTypes[rec.Type]
		r.unknownTypes[rec.Type] = true
		r.unknownMu.Unlock()
		if first {
			r.log.Info("projections: skipping events of an unknown type", "type", rec.Type, "position", rec.Position.String())
		}
	default:
		it.malformed = true
		r.log.Error("projections: skipping an event that does not decode",
			append([]any{"type", rec.Type, "position", rec.Position.String()}, decodeFailure(err)...)...)
	}
	return it
}

// decodeFailure describes a decode error for a log line without its text:
// the codec's messages can quote a stored value (an unknown enum name), and
// a garbled event may hold anything, personal data included. The schema
// version, the field and the kind of failure are enough to find the event
// (by its position) and the bug.
func decodeFailure(err error) []any {
	attrs := []any{"cause", fmt.Sprintf("%T", err)}
	var malformed *domain.MalformedEventError
	if errors.As(err, &malformed) {
		attrs = []any{"schemaVersion", malformed.SchemaVersion, "cause", fmt.Sprintf("%T", malformed.Err)}
	}
	var invalid *domain.InvalidError
	if errors.As(err, &invalid) {
		attrs = append(attrs, "field", invalid.Field)
	}
	return attrs
}

// applyBatch applies a batch under the write lock, then notifies the
// listeners and reports readiness. It returns the subscription's error if
// the batch ends with one.
func (r *Runner) applyBatch(batch []item) error {
	var changed TopicSet
	if r.hasListeners() {
		changed = TopicSet{}
	}
	var failure error
	caughtUp := false
	events := 0
	r.mu.Lock()
	for i := range batch {
		it := &batch[i]
		switch {
		case it.err != nil:
			failure = it.err
		case it.caughtUp:
			caughtUp = true
		case it.checkpoint:
			if r.progress.Position.Less(it.pos) {
				r.progress.Position = it.pos
			}
		default:
			switch {
			case it.event != nil:
				r.models.Apply(it.event, changed)
				r.progress.Applied++
				if v := r.models.censusVersion(); v != r.censusSeen {
					r.censusSeen, r.censusPos = v, it.pos
				}
			case it.unknown:
				r.progress.Unknown++
			default:
				r.progress.Malformed++
			}
			r.progress.Position, r.progress.Created = it.pos, it.created
			events++
		}
		it.event = nil // let the decoded event go while the batch buffer is reused
	}
	pos := r.progress.Position
	r.mu.Unlock()
	r.sinceSnapshot += events
	if len(changed) > 0 {
		r.notify(Update{Position: pos, Topics: changed.Names()})
	}
	if caughtUp {
		r.setReady(true)
	}
	return failure
}

// untilMidnight is the time to the next clinical midnight by the runner's clock.
func (r *Runner) untilMidnight() time.Duration {
	now := r.opts.Now().In(r.opts.Location)
	y, m, d := now.Date()
	next := time.Date(y, m, d+1, 0, 0, 0, 0, r.opts.Location)
	return max(next.Sub(now), time.Second)
}

// snapshotIfDue writes a snapshot in the background when SnapshotEvery
// events arrived since the last one, or, on the interval tick, when any
// did. While catching up, only the interval counts: encoding the growing
// models every so many events cost as much as the replay itself (1.2 s of
// a 2.4 s replay of a million events), and a catch-up runs at the replay
// rate, so a crash loses at most an interval of it. The first snapshot
// after catching up covers it all. One write is in flight at most;
// encoding happens here, on the applying goroutine, so the state cannot
// change under it.
func (r *Runner) snapshotIfDue(tick bool) {
	if r.opts.Dir == "" || r.sinceSnapshot == 0 {
		return
	}
	due := tick || r.sinceSnapshot >= r.opts.SnapshotEvery
	if !r.Ready() {
		due = tick
	}
	if !due {
		return
	}
	if !r.collectWrite(false) {
		return
	}
	data, err := r.encodeSnapshot()
	if err != nil {
		r.snapshotFailures.Add(1)
		r.log.Error("projections: cannot encode a snapshot", "error", err)
		return
	}
	w := &pendingWrite{done: make(chan struct{}), events: r.sinceSnapshot}
	r.writing, r.sinceSnapshot, r.lastSnapshotAt = w, 0, time.Now()
	go func() {
		defer close(w.done)
		w.err = r.writeSnapshot(data)
	}()
}

// collectWrite reaps the background write, waiting for it when wait is
// set. It reports whether no write is in flight any more; a failed write
// puts its events back so the next tick retries.
func (r *Runner) collectWrite(wait bool) bool {
	w := r.writing
	if w == nil {
		return true
	}
	if wait {
		<-w.done
	} else {
		select {
		case <-w.done:
		default:
			return false
		}
	}
	r.writing = nil
	if w.err != nil {
		r.sinceSnapshot += w.events
	}
	return true
}

// encodeSnapshot encodes the models and their progress. Only the applying
// goroutine (or a lifecycle method while it is stopped) calls it, so the
// read lock is enough.
func (r *Runner) encodeSnapshot() ([]byte, error) {
	start := time.Now()
	r.mu.RLock()
	table, body, err := r.models.encode()
	s := snapshot{progress: r.progress, location: r.opts.Location.String(), table: table, body: body}
	r.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	data := s.marshal()
	r.lastSnapshotNanos.Store(int64(time.Since(start)))
	return data, nil
}

func (r *Runner) writeSnapshot(data []byte) error {
	start := time.Now()
	if err := writeFileAtomic(r.opts.Dir, SnapshotFile, data); err != nil {
		r.snapshotFailures.Add(1)
		r.log.Error("projections: cannot write the snapshot", "file", r.snapshotPath(), "error", err)
		return err
	}
	r.snapshotsWritten.Add(1)
	r.lastSnapshotBytes.Store(int64(len(data)))
	r.lastSnapshotNanos.Add(int64(time.Since(start)))
	return nil
}
