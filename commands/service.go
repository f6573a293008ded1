// Package commands is the write side: one entry point per domain command.
// Each loads the target stream, folds it into the aggregate's state, lets the
// domain decide, and appends the resulting events with the expected revision,
// retrying a bounded number of times when another writer got there first.
// Event IDs derive from the caller's idempotency key, so a repeated request
// appends nothing and answers like the first.
package commands

import (
	"container/list"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/google/uuid"
)

// MaxAttempts bounds the retries of one command on concurrency conflicts.
const MaxAttempts = 5

// maxKeyLen bounds idempotency keys: they are hashed, never stored, but a
// bound keeps requests honest.
const maxKeyLen = 200

// ErrInvalidKey: the idempotency key is missing or too long.
var ErrInvalidKey = errors.New("idempotency key must be 1 to 200 characters")

// ErrConflictRetriesExhausted: the stream kept changing under the command.
var ErrConflictRetriesExhausted = errors.New("too many concurrent changes to the same record; try again")

// idNamespace roots the derivation of event IDs from idempotency keys.
var idNamespace = uuid.MustParse("4b8d3c6e-2f1a-5e7b-9c0d-1a2b3c4d5e6f")

// Meta is what every command request carries besides the command.
type Meta struct {
	// IdempotencyKey identifies the request: the same key on the same stream
	// appends nothing the second time.
	IdempotencyKey string
	// CorrelationID ties the events of one request or process together;
	// CausationID names what caused them (an event ID for reactions).
	CorrelationID string
	CausationID   string
	// Actor is the signed-in user issuing the command, recorded on every
	// event it appends.
	Actor string
	// Estimated marks the clinical times as estimates (imports).
	Estimated bool
}

// Result says where a command's events landed.
type Result struct {
	Stream string `json:"stream"`
	// Revision is the stream's revision after the command.
	Revision uint64 `json:"revision"`
	// Position is the $all position of the command's last event; readers
	// wait for their projections to reach it to read their own writes.
	Position eventstore.Position `json:"position"`
	// Events names the event types appended (or found, for a duplicate).
	Events []string `json:"events"`
	// Duplicate is true when the idempotency key had been used before and
	// nothing was appended now.
	Duplicate bool `json:"duplicate"`
}

// Service executes commands against a store.
type Service struct {
	store eventstore.Store
	now   func() time.Time

	mu      sync.Mutex
	streams map[string]*list.Element // of *streamEntry, most recently used first in lru
	lru     *list.List
	maxLive int
	// tellsReplays: the store reports idempotent retries (see decideAndAppendTo).
	tellsReplays bool
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the decision clock (tests, simulations).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithCacheSize sets how many folded streams stay in memory (default
// 4096); the least recently used is forgotten first.
func WithCacheSize(n int) Option { return func(s *Service) { s.maxLive = n } }

// New returns a Service on store.
func New(store eventstore.Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, streams: map[string]*list.Element{}, lru: list.New(), maxLive: 4096}
	for _, o := range opts {
		o(s)
	}
	if teller, ok := store.(eventstore.ReplayTeller); ok {
		s.tellsReplays = teller.TellsReplays()
	}
	return s
}

// Now is the service's decision time.
func (s *Service) Now() time.Time { return s.now() }

// Store is the store the service writes to.
func (s *Service) Store() eventstore.Store { return s.store }

// aggregate is the shape every domain aggregate shares: Evolve folds in
// place, Decide answers events or a typed error.
type aggregate[C any] interface {
	Evolve(domain.Event)
	Decide(C, time.Time) ([]domain.Event, error)
}

// idempotencyWindow is how many recent events per stream are remembered
// for duplicate detection. A request retried after that many newer events
// on the same stream is decided again (and usually refused as a conflict).
const idempotencyWindow = 10000

// streamEntry is one stream's folded state in memory. Its lock serialises
// the commands of this process on the stream, so they rarely conflict.
type streamEntry struct {
	name string // the stream, for eviction
	mu   sync.Mutex
	// state is a pointer to the aggregate (e.g. *domain.Patient).
	state any
	// revision is the last folded revision; -1 for an empty stream.
	revision int64
	// loaded is set once the state is known to be the stream's (read, or
	// written from nothing).
	loaded bool
	// recent remembers the newest events by ID, for idempotent replies.
	recent map[uuid.UUID]eventRecord
	order  []uuid.UUID
}

type eventRecord struct {
	revision uint64
	position eventstore.Position
	typ      string
}

func (e *streamEntry) remember(id uuid.UUID, r eventRecord) {
	if len(e.order) >= idempotencyWindow {
		delete(e.recent, e.order[0])
		e.order = e.order[1:]
	}
	e.recent[id] = r
	e.order = append(e.order, id)
}

// duplicate answers the result of an earlier append made with the same key.
func (e *streamEntry) duplicate(stream, key string) (Result, bool) {
	first, ok := e.recent[eventID(stream, key, 0)]
	if !ok {
		return Result{}, false
	}
	res := Result{Stream: stream, Revision: first.revision, Position: first.position, Events: []string{first.typ}, Duplicate: true}
	for i := 1; ; i++ {
		r, ok := e.recent[eventID(stream, key, i)]
		if !ok {
			return res, true
		}
		res.Revision, res.Position = r.revision, r.position
		res.Events = append(res.Events, r.typ)
	}
}

// entry returns the cached entry of stream, creating it empty. The cache
// forgets the least recently used stream beyond its size, so a busy
// stream (a group's, written every session) stays folded while many
// one-off streams (an import's patients) pass through. An evicted entry
// stays valid for a holder and is read again from the store next time.
func (s *Service) entry(stream string) *streamEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.streams[stream]; ok {
		s.lru.MoveToFront(el)
		return el.Value.(*streamEntry)
	}
	e := &streamEntry{name: stream, revision: -1, recent: map[uuid.UUID]eventRecord{}}
	s.streams[stream] = s.lru.PushFront(e)
	for s.lru.Len() > max(s.maxLive, 1) {
		oldest := s.lru.Back()
		s.lru.Remove(oldest)
		delete(s.streams, oldest.Value.(*streamEntry).name)
	}
	return e
}

// execute runs one command on one stream: catch up, check the idempotency
// key, decide, append with the expected revision, retry on conflict.
func execute[S any, C any, P interface {
	*S
	aggregate[C]
}](ctx context.Context, s *Service, stream string, m Meta, cmd C) (Result, error) {
	return decideAndAppend[S, C, P](ctx, s, stream, m, func(state P, now time.Time) ([]domain.Event, error) {
		return state.Decide(cmd, now)
	})
}

// decideAndAppend is execute with any decision over the folded state:
// one command, or several decided in order and appended as one.
func decideAndAppend[S any, C any, P interface {
	*S
	aggregate[C]
}](ctx context.Context, s *Service, stream string, m Meta, decide func(P, time.Time) ([]domain.Event, error)) (Result, error) {
	return decideAndAppendTo[S, C, P](ctx, s, stream, m, false, decide)
}

// decideAndAppendTo is decideAndAppend; expectNew says the request opens
// the stream (a referral), so on a store that tells replays (see
// eventstore.ReplayTeller) it first decides against the empty state and
// appends with NoStream without reading the stream: an import's rows then
// skip a read that would find nothing. A stream that exists after all
// fails that append and takes the ordinary path; a retry of the same
// request is answered as the duplicate it is.
func decideAndAppendTo[S any, C any, P interface {
	*S
	aggregate[C]
}](ctx context.Context, s *Service, stream string, m Meta, expectNew bool, decide func(P, time.Time) ([]domain.Event, error)) (Result, error) {
	if m.IdempotencyKey == "" || len(m.IdempotencyKey) > maxKeyLen {
		return Result{}, ErrInvalidKey
	}
	e := s.entry(stream)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == nil {
		e.state = P(new(S))
	}
	state := e.state.(P)
	for attempt := 0; attempt < MaxAttempts; attempt++ {
		blind := attempt == 0 && expectNew && !e.loaded && s.tellsReplays
		if !blind {
			if err := s.catchUp(ctx, stream, e, state.Evolve); err != nil {
				return Result{}, err
			}
			if res, ok := e.duplicate(stream, m.IdempotencyKey); ok {
				return res, nil
			}
		}
		events, err := decide(state, s.now())
		if blind && err != nil {
			continue // decide again against what the stream really holds
		}
		if err != nil {
			return Result{}, err
		}
		if len(events) == 0 {
			return Result{Stream: stream, Revision: uint64(max(e.revision, 0)), Events: []string{}}, nil
		}
		data, types, err := encode(stream, m, events)
		if err != nil {
			return Result{}, err
		}
		expected := eventstore.NoStream
		if e.revision >= 0 {
			expected = eventstore.Exact(uint64(e.revision))
		}
		res, err := s.store.Append(ctx, stream, expected, data...)
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			continue // another writer got there first: catch up and decide again
		}
		if err != nil {
			return Result{}, fmt.Errorf("append: %w", err)
		}
		if res.Replayed {
			// Only a blind append can replay: the stream holds this
			// request's events already. The entry stays unloaded, so the
			// next command reads the stream.
			return Result{Stream: stream, Revision: res.NextExpectedRevision, Position: res.Position, Events: types, Duplicate: true}, nil
		}
		first := res.NextExpectedRevision + 1 - uint64(len(events))
		for i, ev := range events {
			state.Evolve(ev)
			// Positions of all but the last event are not reported by the
			// store; the last one's is what read-your-writes needs.
			e.remember(data[i].ID, eventRecord{revision: first + uint64(i), position: res.Position, typ: types[i]})
		}
		e.revision, e.loaded = int64(res.NextExpectedRevision), true
		return Result{Stream: stream, Revision: res.NextExpectedRevision, Position: res.Position, Events: types}, nil
	}
	return Result{}, ErrConflictRetriesExhausted
}

// catchUpPage is how many events one read of a stream returns.
const catchUpPage = 4096

// catchUp folds the events appended to stream after the entry's revision.
func (s *Service) catchUp(ctx context.Context, stream string, e *streamEntry, evolve func(domain.Event)) error {
	for {
		from := eventstore.StreamStart
		if e.revision >= 0 {
			from = eventstore.At(uint64(e.revision) + 1)
		}
		recs, err := s.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: from, Max: catchUpPage})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			e.loaded = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		for i := range recs {
			r := &recs[i]
			ev, err := domain.DecodeData(r.Type, r.Data, r.Metadata)
			if err != nil {
				return fmt.Errorf("fold: %w", err)
			}
			evolve(ev)
			e.revision = int64(r.Revision)
			e.remember(r.ID, eventRecord{revision: r.Revision, position: r.Position, typ: r.Type})
		}
		if len(recs) < catchUpPage {
			e.loaded = true
			return nil
		}
	}
}

// eventID derives the ID of the i-th event a request appends to stream, so
// retrying the request re-appends the same IDs.
func eventID(stream, key string, i int) uuid.UUID {
	// uuid.NewSHA1(idNamespace, stream+"\n"+key+"\n"+i), computed on the
	// stack: every event of every command derives its ID here.
	var buf [16 + 2*maxKeyLen + 24]byte
	b := append(buf[:0], idNamespace[:]...)
	b = append(b, stream...)
	b = append(b, '\n')
	b = append(b, key...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, int64(i), 10)
	sum := sha1.Sum(b)
	var id uuid.UUID
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 0x50 // version 5 (SHA-1, name-based)
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

// encode turns domain events into store events with the request's metadata.
func encode(stream string, m Meta, events []domain.Event) ([]eventstore.EventData, []string, error) {
	data := make([]eventstore.EventData, len(events))
	types := make([]string, len(events))
	for i, ev := range events {
		typ, body, err := domain.Encode(ev)
		if err != nil {
			return nil, nil, err
		}
		md := domain.MetadataFor(ev, m.CorrelationID, m.CausationID)
		md.Estimated = m.Estimated
		md.Actor = m.Actor
		data[i] = eventstore.EventData{
			ID:          eventID(stream, m.IdempotencyKey, i),
			Type:        typ,
			ContentType: eventstore.ContentTypeJSON,
			Data:        body,
			Metadata:    domain.EncodeMetadata(md),
		}
		types[i] = typ
	}
	return data, types, nil
}
