// Package memstore is an in-memory eventstore.Store with KurrentDB's
// semantics. It is a real implementation, not a mock: other packages' tests
// use it wherever they need a store but not durability, and it passes the
// same conformance suite (storetest) as the durable stores.
package memstore

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/google/uuid"
)

// positionStride spaces $all positions apart: KurrentDB's positions are byte
// offsets, so consumers must not assume consecutive events have consecutive
// positions, and a stride makes such an assumption fail here too.
const positionStride = 64

// defaultCheckpointInterval is how many non-matching events a filtered $all
// subscription skips before it reports a checkpoint when the caller asks for
// the store default (KurrentDB's default search window is 32 as well).
const defaultCheckpointInterval = 32

// Store keeps $all as a slice and one index per stream, behind one mutex.
// Subscriptions pull from the log themselves and wait on a channel that every
// append closes, so a writer never waits for a reader.
type Store struct {
	mu      sync.Mutex
	log     []eventstore.RecordedEvent
	streams map[string]*stream
	// appended is closed and replaced by every append that writes events.
	appended chan struct{}
	// done is closed by Close.
	done   chan struct{}
	closed bool
}

// stream is the index of one stream.
type stream struct {
	// events holds the log index of each revision.
	events []int
	// firstRevision maps an event ID to the first revision holding it, for
	// the idempotency check of appends with Any and StreamExists.
	firstRevision map[uuid.UUID]uint64
	// visibleFrom hides the revisions before it (soft delete).
	visibleFrom uint64
	// softDeleted is true from a soft delete until the next write.
	softDeleted bool
	tombstoned  bool
}

// last is the stream's last revision, hidden or not, or NoStreamRevision.
func (s *stream) last() int64 {
	if s == nil {
		return eventstore.NoStreamRevision
	}
	return int64(len(s.events)) - 1
}

// hasVisible reports whether any revision survives soft deletion.
func (s *stream) hasVisible() bool {
	return s != nil && uint64(len(s.events)) > s.visibleFrom
}

// New returns an empty store.
func New() *Store {
	return &Store{
		streams:  make(map[string]*stream),
		appended: make(chan struct{}),
		done:     make(chan struct{}),
	}
}

var _ eventstore.Store = (*Store)(nil)

// TellsReplays implements eventstore.ReplayTeller: an idempotent retry's
// result says it was one.
func (s *Store) TellsReplays() bool { return true }

// validStream refuses the names no stream operation accepts.
func validStream(name string) error {
	switch name {
	case "":
		return fmt.Errorf("%w: empty stream name", eventstore.ErrInvalidArgument)
	case eventstore.AllStream:
		return fmt.Errorf("%w: %s is not a stream", eventstore.ErrInvalidArgument, eventstore.AllStream)
	}
	return nil
}

// begin checks what every call checks first and takes the lock; the caller
// unlocks only when begin succeeded.
func (s *Store) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return eventstore.ErrClosed
	}
	return nil
}

func wrongExpected(name string, expected eventstore.ExpectedRevision, actual int64) error {
	return &eventstore.WrongExpectedVersionError{Stream: name, Expected: expected, Actual: actual}
}

func deleted(name string) error {
	return fmt.Errorf("%w: %s", eventstore.ErrStreamDeleted, name)
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, name string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := validStream(name); err != nil {
		return eventstore.AppendResult{}, err
	}
	for _, e := range events {
		if e.ID == uuid.Nil {
			return eventstore.AppendResult{}, fmt.Errorf("%w: nil event ID", eventstore.ErrInvalidArgument)
		}
	}
	if err := s.begin(ctx); err != nil {
		return eventstore.AppendResult{}, err
	}
	defer s.mu.Unlock()

	st := s.streams[name]
	retry, err := s.check(name, st, expected, events)
	switch {
	case err != nil:
		return eventstore.AppendResult{}, err
	case retry != nil:
		retry.Replayed = len(events) > 0
		return *retry, nil
	}
	if len(events) == 0 {
		// KurrentDB accepts an empty append and writes nothing; a stream
		// without events has no revision to report, so the result is zero.
		if st.last() < 0 {
			return eventstore.AppendResult{}, nil
		}
		return s.resultAt(st, uint64(st.last())), nil
	}
	if st == nil {
		st = &stream{firstRevision: make(map[uuid.UUID]uint64)}
		s.streams[name] = st
	}
	now := time.Now().UTC()
	for _, e := range events {
		revision := uint64(len(st.events))
		contentType := e.ContentType
		if contentType == "" {
			contentType = eventstore.ContentTypeJSON
		}
		s.log = append(s.log, eventstore.RecordedEvent{
			ID:          e.ID,
			Stream:      name,
			Revision:    revision,
			Position:    positionOf(len(s.log)),
			Type:        e.Type,
			ContentType: contentType,
			Data:        bytes.Clone(e.Data),
			Metadata:    bytes.Clone(e.Metadata),
			Created:     now,
		})
		st.events = append(st.events, len(s.log)-1)
		if _, seen := st.firstRevision[e.ID]; !seen {
			st.firstRevision[e.ID] = revision
		}
	}
	st.softDeleted = false
	close(s.appended)
	s.appended = make(chan struct{})
	return s.resultAt(st, uint64(st.last())), nil
}

// check decides an append the way KurrentDB does: it returns (nil, nil) to
// write, the earlier result when the events are already there (idempotent
// retry), or the refusal.
func (s *Store) check(name string, st *stream, expected eventstore.ExpectedRevision, events []eventstore.EventData) (*eventstore.AppendResult, error) {
	if st != nil && st.tombstoned {
		return nil, deleted(name)
	}
	switch {
	case expected.IsStreamExists():
		if !st.hasVisible() {
			if st != nil && st.softDeleted {
				// KurrentDB answers stream-deleted here, not wrong-expected-version.
				return nil, deleted(name)
			}
			return nil, wrongExpected(name, expected, st.last())
		}
		return s.checkRetry(name, st, expected, events)
	case expected.IsAny():
		return s.checkRetry(name, st, expected, events)
	case expected.IsNoStream():
		after := eventstore.NoStreamRevision
		if st != nil && st.softDeleted {
			// A soft-deleted stream counts as absent: writing recreates it
			// with the revisions that follow the hidden ones.
			after = st.last()
		}
		return s.checkAfter(name, st, expected, after, events)
	default:
		r, _ := expected.Revision()
		if r > math.MaxInt64 {
			return nil, wrongExpected(name, expected, st.last())
		}
		return s.checkAfter(name, st, expected, int64(r), events)
	}
}

// checkRetry is the idempotency check of Any and StreamExists: if the first
// event's ID is already in the stream, the append is a retry of the one that
// wrote it, and the rest must match too.
func (s *Store) checkRetry(name string, st *stream, expected eventstore.ExpectedRevision, events []eventstore.EventData) (*eventstore.AppendResult, error) {
	if st == nil || len(events) == 0 {
		return nil, nil
	}
	first, seen := st.firstRevision[events[0].ID]
	if !seen || first < st.visibleFrom {
		return nil, nil
	}
	return s.checkAfter(name, st, expected, int64(first)-1, events)
}

// checkAfter checks an append meant to follow revision after (or
// NoStreamRevision): it writes at the end of the stream, is a retry when the
// events already follow after, and is refused otherwise.
func (s *Store) checkAfter(name string, st *stream, expected eventstore.ExpectedRevision, after int64, events []eventstore.EventData) (*eventstore.AppendResult, error) {
	last := st.last()
	if after == last {
		return nil, nil
	}
	if after > last || len(events) == 0 {
		return nil, wrongExpected(name, expected, last)
	}
	for i, e := range events {
		revision := after + 1 + int64(i)
		if revision > last || s.log[st.events[revision]].ID != e.ID {
			return nil, wrongExpected(name, expected, last)
		}
	}
	result := s.resultAt(st, uint64(after)+uint64(len(events)))
	return &result, nil
}

func (s *Store) resultAt(st *stream, revision uint64) eventstore.AppendResult {
	return eventstore.AppendResult{
		NextExpectedRevision: revision,
		Position:             s.log[st.events[revision]].Position,
	}
}

func positionOf(index int) eventstore.Position {
	p := uint64(index+1) * positionStride
	return eventstore.Position{Commit: p, Prepare: p}
}

// copyEvent gives the caller its own byte slices, so nothing it does to them
// reaches the store.
func copyEvent(e eventstore.RecordedEvent) eventstore.RecordedEvent {
	e.Data = bytes.Clone(e.Data)
	e.Metadata = bytes.Clone(e.Metadata)
	return e
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, name string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if err := validStream(name); err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()

	st := s.streams[name]
	if st != nil && st.tombstoned {
		return nil, deleted(name)
	}
	if !st.hasVisible() {
		return nil, fmt.Errorf("%w: %s", eventstore.ErrStreamNotFound, name)
	}
	first, last := int64(st.visibleFrom), st.last()
	forwards := opts.Direction == eventstore.Forwards
	var from, step int64
	switch r, ok := opts.From.Revision(); {
	case ok && forwards:
		from, step = max(int64(min(r, uint64(last)+1)), first), 1
	case ok:
		from, step = int64(min(r, uint64(last))), -1
	case opts.From.IsStart() && forwards:
		from, step = first, 1
	case opts.From.IsEnd() && !forwards:
		from, step = last, -1
	default:
		// Forwards from the end, or backwards from the start, reads nothing.
		return nil, nil
	}
	var out []eventstore.RecordedEvent
	for r := from; r >= first && r <= last; r += step {
		if opts.Max > 0 && uint64(len(out)) == opts.Max {
			break
		}
		out = append(out, copyEvent(s.log[st.events[r]]))
	}
	return out, nil
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	match, err := opts.Filter.Matcher()
	if err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()

	// i is the first log index at or after opts.From.
	i := sort.Search(len(s.log), func(i int) bool { return !s.log[i].Position.Less(opts.From) })
	step := 1
	if opts.Direction == eventstore.Backwards {
		step = -1
		if i == len(s.log) || s.log[i].Position != opts.From {
			i-- // backwards starts at the last event at or before opts.From
		}
	}
	var out []eventstore.RecordedEvent
	for ; i >= 0 && i < len(s.log); i += step {
		if opts.Max > 0 && uint64(len(out)) == opts.Max {
			break
		}
		if e := s.log[i]; match(e.Stream, e.Type) {
			out = append(out, copyEvent(e))
		}
	}
	return out, nil
}

// Delete implements eventstore.Store.
func (s *Store) Delete(ctx context.Context, name string, expected eventstore.ExpectedRevision) error {
	return s.remove(ctx, name, expected, func(st *stream) {
		st.visibleFrom = uint64(len(st.events))
		st.softDeleted = true
	})
}

// Tombstone implements eventstore.Store.
func (s *Store) Tombstone(ctx context.Context, name string, expected eventstore.ExpectedRevision) error {
	return s.remove(ctx, name, expected, func(st *stream) { st.tombstoned = true })
}

// remove checks expected as an empty append would and then marks the stream;
// deleting a stream that never existed is allowed, as in KurrentDB.
func (s *Store) remove(ctx context.Context, name string, expected eventstore.ExpectedRevision, mark func(*stream)) error {
	if err := validStream(name); err != nil {
		return err
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()

	st := s.streams[name]
	if _, err := s.check(name, st, expected, nil); err != nil {
		return err
	}
	if st == nil {
		st = &stream{firstRevision: make(map[uuid.UUID]uint64)}
		s.streams[name] = st
	}
	mark(st)
	// Wake subscribers: a tombstone ends the subscriptions to its stream.
	close(s.appended)
	s.appended = make(chan struct{})
	return nil
}

// Close implements eventstore.Store. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	return nil
}
