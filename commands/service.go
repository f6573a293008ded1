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
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
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
//
// Its memory is bounded by three settings: the folded states of at most
// WithCacheSize streams (the least recently used is forgotten first), the
// IDs of the WithIdempotencyWindow most recent events across all streams
// (about 120 bytes each), and indexes of the cached streams' older event
// IDs within WithIndexBudget bytes (11 to 21 bytes an ID).
type Service struct {
	store eventstore.Store
	now   func() time.Time
	// tellsReplays: the store reports idempotent retries (see PrepareOpening).
	tellsReplays bool

	// mu guards the cache, the window and every entry's index of older
	// IDs; it is held for map operations only, never across a store call.
	mu      sync.Mutex
	streams map[string]*list.Element // of *streamEntry, most recently used first in lru
	lru     *list.List
	maxLive int
	// window remembers the most recent event IDs of all streams.
	window recentIDs
	// indexBytes is the size of the cached entries' indexes of older IDs;
	// indexBudget bounds it.
	indexBytes  int
	indexBudget int
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the decision clock (tests, simulations).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithCacheSize sets how many folded streams stay in memory (default
// 4096); the least recently used is forgotten first.
func WithCacheSize(n int) Option { return func(s *Service) { s.maxLive = n } }

// DefaultIdempotencyWindow is how many recent event IDs a Service
// remembers across all streams unless told otherwise: about 8 MB (some
// 120 bytes an ID).
const DefaultIdempotencyWindow = 1 << 16

// WithIdempotencyWindow sets how many of the most recent event IDs, across
// all streams, are remembered with their revisions and positions (default
// DefaultIdempotencyWindow; 0 remembers none). A retry found there is
// answered from memory; an older one through the stream's index of older
// IDs and a read of its event, so the window bounds memory, not
// correctness.
func WithIdempotencyWindow(n int) Option {
	return func(s *Service) { s.window.limit = min(max(n, 0), math.MaxInt32) }
}

// DefaultIndexBudget is the memory, in bytes, the indexes of older event
// IDs may take across the cached streams unless told otherwise: about a
// million IDs.
const DefaultIndexBudget = 16 << 20

// WithIndexBudget bounds the bytes the cached streams' indexes of older
// event IDs (those out of the window) may take together (default
// DefaultIndexBudget); beyond it the least recently used streams are
// forgotten, as beyond the cache size. One stream's index grows to a
// quarter of the budget at most (at least 512 bytes); the IDs of that
// stream it then cannot hold cost a search of their part of the stream
// whenever a request is not found otherwise.
func WithIndexBudget(bytes int) Option {
	return func(s *Service) { s.indexBudget = max(bytes, 0) }
}

// New returns a Service on store.
func New(store eventstore.Store, opts ...Option) *Service {
	s := &Service{
		store: store, now: time.Now, streams: map[string]*list.Element{}, lru: list.New(), maxLive: 4096,
		window: recentIDs{limit: DefaultIdempotencyWindow}, indexBudget: DefaultIndexBudget,
	}
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

	// The fields below are guarded by Service.mu, not by mu.

	// cached is true while the entry is in the Service's cache.
	cached bool
	// older indexes the IDs of the stream's folded events that are not in
	// the Service's window: every folded event's ID is in one or the other.
	older olderIDs
}

type eventRecord struct {
	revision uint64
	position eventstore.Position
	typ      string
}

// remember records the events an append of e's stream just wrote in the
// window; the IDs the window forgets for them move to their streams'
// indexes of older IDs.
func (s *Service) remember(e *streamEntry, data []eventstore.EventData, types []string, first uint64, pos eventstore.Position) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range data {
		// Positions of all but the last event are not reported by the
		// store; the last one's is what read-your-writes needs.
		rec := eventRecord{revision: first + uint64(i), position: pos, typ: types[i]}
		old, evicted := s.window.add(data[i].ID, e.name, rec)
		switch {
		case s.window.limit == 0:
			s.addOlderLocked(e, data[i].ID, rec.revision)
		case evicted:
			if el, ok := s.streams[old.stream]; ok {
				s.addOlderLocked(el.Value.(*streamEntry), old.id, old.rec.revision)
			}
		}
	}
	s.trimLocked(e)
}

// rememberRead records events a catch-up folded: those the window does
// not hold go to the stream's index of older IDs. They are not put in the
// window, so loading a long stream does not push out others' recent IDs.
func (s *Service) rememberRead(e *streamEntry, recs []eventstore.RecordedEvent) {
	if len(recs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range recs {
		if !s.window.has(recs[i].ID) {
			s.addOlderLocked(e, recs[i].ID, recs[i].Revision)
		}
	}
	s.trimLocked(e)
}

// addOlderLocked adds id, the event at revision, to e's index of older
// IDs, accounting for its growth.
func (s *Service) addOlderLocked(e *streamEntry, id uuid.UUID, revision uint64) {
	if !e.cached {
		return // forgotten: its next holder reads the stream again
	}
	s.indexBytes += e.older.add(id, revision, max(s.indexBudget/4, olderBytes(olderFirstSlots)))
}

// trimLocked forgets least recently used streams other than keep while
// the indexes of older IDs exceed their budget.
func (s *Service) trimLocked(keep *streamEntry) {
	for el := s.lru.Back(); el != nil && s.indexBytes > s.indexBudget; {
		prev := el.Prev()
		if e := el.Value.(*streamEntry); e != keep {
			s.evictLocked(el)
		}
		el = prev
	}
}

// evictLocked forgets a cached stream. An entry held by a command stays
// valid for it; its index of older IDs is gone, so a lookup there
// searches the stream.
func (s *Service) evictLocked(el *list.Element) {
	e := el.Value.(*streamEntry)
	s.lru.Remove(el)
	delete(s.streams, e.name)
	e.cached = false
	s.indexBytes -= e.older.size()
	e.older.drop()
}

// duplicate answers the result of an earlier append to e's stream made
// with the same key: from the window when its first event is recent, else
// from the stream's index of older IDs and a read of the event it names.
func (s *Service) duplicate(ctx context.Context, e *streamEntry, key string) (Result, bool, error) {
	if e.revision < 0 {
		return Result{}, false, nil
	}
	stream, last := e.name, uint64(e.revision)
	id := eventID(stream, key, 0)
	s.mu.Lock()
	if first, ok := s.window.get(id); ok {
		defer s.mu.Unlock()
		res := Result{Stream: stream, Revision: first.revision, Position: first.position, Events: []string{first.typ}, Duplicate: true}
		for i := 1; ; i++ {
			r, ok := s.window.get(eventID(stream, key, i))
			if !ok {
				return res, true, nil
			}
			res.Revision, res.Position = r.revision, r.position
			res.Events = append(res.Events, r.typ)
		}
	}
	var buf [2]uint64
	candidates := e.older.lookup(id, buf[:0])
	dropped, partial, lo, hi := e.older.dropped, e.older.partial, e.older.lo, e.older.hi
	s.mu.Unlock()
	for _, r := range candidates {
		if r > last {
			continue
		}
		res, err := s.readRequest(ctx, stream, r, key)
		if err != nil || len(res.Events) > 0 {
			return res, err == nil, err
		}
	}
	switch {
	case dropped:
		return s.searchStream(ctx, stream, 0, last, key, id)
	case partial && lo <= last:
		return s.searchStream(ctx, stream, lo, min(hi, last), key, id)
	}
	return Result{}, false, nil
}

// searchPage is how many events one backward read of a search returns: a
// retry is usually of a recent request, near the end of the range.
const searchPage = 512

// searchStream looks for the request's first event (id) among the
// stream's revisions lo to hi, newest first, and answers the request.
func (s *Service) searchStream(ctx context.Context, stream string, lo, hi uint64, key string, id uuid.UUID) (Result, bool, error) {
	from := hi
	for {
		recs, err := s.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.At(from), Max: searchPage})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return Result{}, false, nil
		}
		if err != nil {
			return Result{}, false, fmt.Errorf("read: %w", err)
		}
		for i := range recs {
			if recs[i].Revision < lo {
				return Result{}, false, nil
			}
			if recs[i].ID == id {
				res, err := s.readRequest(ctx, stream, recs[i].Revision, key)
				return res, err == nil && len(res.Events) > 0, err
			}
		}
		if len(recs) < searchPage || recs[len(recs)-1].Revision <= lo {
			return Result{}, false, nil
		}
		from = recs[len(recs)-1].Revision - 1
	}
}

// readRequest reads the events one request appended, from its first at
// revision first: they are contiguous, with the IDs derived from its key.
// No events means the event at first is not the request's.
func (s *Service) readRequest(ctx context.Context, stream string, first uint64, key string) (Result, error) {
	res := Result{Stream: stream, Duplicate: true, Events: []string{}}
	for i, page := 0, uint64(1); ; page = catchUpPage {
		// The first read is of one event: most lookups end there.
		recs, err := s.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: eventstore.At(first + uint64(i)), Max: page})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return res, nil
		}
		if err != nil {
			return Result{}, fmt.Errorf("read: %w", err)
		}
		for j := range recs {
			if recs[j].ID != eventID(stream, key, i) {
				return res, nil
			}
			res.Revision, res.Position = recs[j].Revision, recs[j].Position
			res.Events = append(res.Events, recs[j].Type)
			i++
		}
		if uint64(len(recs)) < page {
			return res, nil
		}
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
	e := &streamEntry{name: stream, revision: -1, cached: true}
	s.streams[stream] = s.lru.PushFront(e)
	for s.lru.Len() > max(s.maxLive, 1) {
		s.evictLocked(s.lru.Back())
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
	return decideAndAppendTo[S, C, P](ctx, s, stream, m, nil, decide)
}

// decideAndAppendTo is decideAndAppend with, for a batch that opens its
// stream, the events PrepareOpening decided against the empty stream
// (prepared, or nil). While the service has not read the stream, its first
// attempt appends those with NoStream without reading: an import's rows
// skip a read that would find nothing. A stream that exists after all
// fails that append and takes the ordinary path; a retry of the same
// request is answered as the duplicate it is (the store tells replays, or
// PrepareOpening would not have prepared it).
func decideAndAppendTo[S any, C any, P interface {
	*S
	aggregate[C]
}](ctx context.Context, s *Service, stream string, m Meta, prepared *OpeningBatch, decide func(P, time.Time) ([]domain.Event, error)) (Result, error) {
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
		var (
			events []domain.Event
			data   []eventstore.EventData
			types  []string
		)
		if attempt == 0 && prepared != nil && prepared.data != nil && !e.loaded {
			events, data, types = prepared.events, prepared.data, prepared.types
		} else {
			if err := s.catchUp(ctx, stream, e, state.Evolve); err != nil {
				return Result{}, err
			}
			res, ok, err := s.duplicate(ctx, e, m.IdempotencyKey)
			if err != nil {
				return Result{}, err
			}
			if ok {
				return res, nil
			}
			if events, err = decide(state, s.now()); err != nil {
				return Result{}, err
			}
			if len(events) == 0 {
				return Result{Stream: stream, Revision: uint64(max(e.revision, 0)), Events: []string{}}, nil
			}
			if data, types, err = encode(stream, m, events); err != nil {
				return Result{}, err
			}
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
			// Only a prepared append can replay: the stream holds this
			// request's events already. The entry stays unloaded, so the
			// next command reads the stream.
			return Result{Stream: stream, Revision: res.NextExpectedRevision, Position: res.Position, Events: types, Duplicate: true}, nil
		}
		for _, ev := range events {
			state.Evolve(ev)
		}
		s.remember(e, data, types, res.NextExpectedRevision+1-uint64(len(events)), res.Position)
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
				s.rememberRead(e, recs[:i])
				return fmt.Errorf("fold: %w", err)
			}
			evolve(ev)
			e.revision = int64(r.Revision)
		}
		s.rememberRead(e, recs)
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

// recentIDs is the window: the most recent event IDs of all streams, with
// where they landed, in a ring that overwrites the oldest once full.
type recentIDs struct {
	limit int
	slots []recentSlot // grows up to limit, then wraps at next
	next  int
	index map[uuid.UUID]int32 // slot of each ID
}

type recentSlot struct {
	id     uuid.UUID
	stream string
	rec    eventRecord
}

// add remembers id; when the window was full it returns the slot it
// overwrote.
func (w *recentIDs) add(id uuid.UUID, stream string, rec eventRecord) (old recentSlot, evicted bool) {
	if w.limit == 0 {
		return recentSlot{}, false
	}
	if w.index == nil {
		w.index = map[uuid.UUID]int32{}
	}
	// An ID is added once: only an append that wrote it adds it. (Were
	// one added twice, its older slot's eviction would unindex the newer
	// one early, and the index of older IDs would answer for it.)
	slot := recentSlot{id: id, stream: stream, rec: rec}
	if len(w.slots) < w.limit {
		w.index[id] = int32(len(w.slots))
		w.slots = append(w.slots, slot)
		return recentSlot{}, false
	}
	old = w.slots[w.next]
	delete(w.index, old.id)
	w.slots[w.next] = slot
	w.index[id] = int32(w.next)
	w.next = (w.next + 1) % w.limit
	return old, true
}

func (w *recentIDs) get(id uuid.UUID) (eventRecord, bool) {
	i, ok := w.index[id]
	if !ok {
		return eventRecord{}, false
	}
	return w.slots[i].rec, true
}

func (w *recentIDs) has(id uuid.UUID) bool {
	_, ok := w.index[id]
	return ok
}

// olderIDs indexes the older event IDs of one stream, those not in the
// window: an open-addressing table of 8-byte slots, each a 32-bit
// fingerprint of an ID and the 32-bit revision of its event, kept between
// 3/8 and 3/4 full (11 to 21 bytes an ID). A lookup answers the revisions
// whose fingerprint matches, nearly always none or the one sought; one
// read of that event confirms it. Past its size bound, the table stops
// growing and remembers only the range of revisions it no longer holds,
// which a lookup then has to search. A dropped table holds nothing and
// makes every lookup search the whole stream.
type olderIDs struct {
	slots   []uint64 // fingerprint<<32 | revision; 0 is empty
	count   int
	shift   uint // 64 - log2(len(slots))
	partial bool // revisions lo..hi may hold IDs the table does not
	lo, hi  uint64
	dropped bool
}

// olderFirstSlots is the size of a table's first allocation (512 bytes).
const olderFirstSlots = 64

// olderBytes is the memory of a table of n slots.
func olderBytes(n int) int { return n * 8 }

// fingerprint is 32 bits of an ID, never 0 (the empty slot); event IDs are
// SHA-1 (or random) already, so any 32 of their bits will do.
func fingerprint(id uuid.UUID) uint64 {
	return uint64(max(binary.LittleEndian.Uint32(id[:4]), 1))
}

// add records that id is the event at revision and answers how many bytes
// the table grew by; it grows while it stays within maxBytes.
func (t *olderIDs) add(id uuid.UUID, revision uint64, maxBytes int) (grew int) {
	if t.dropped {
		return 0
	}
	if revision > math.MaxUint32 {
		t.notHeld(revision)
		return 0
	}
	if (t.count+1)*4 > len(t.slots)*3 {
		n := max(2*len(t.slots), olderFirstSlots)
		if len(t.slots) > 0 && olderBytes(n) > maxBytes {
			t.notHeld(revision)
			return 0
		}
		grew = olderBytes(n - len(t.slots))
		old := t.slots
		t.slots, t.shift = make([]uint64, n), uint(64-bits.TrailingZeros(uint(n)))
		for _, v := range old {
			if v != 0 {
				t.put(v)
			}
		}
	}
	t.put(fingerprint(id)<<32 | revision)
	t.count++
	return grew
}

func (t *olderIDs) slot(fp uint64) int { return int((fp * 0x9e3779b97f4a7c15) >> t.shift) }

func (t *olderIDs) put(v uint64) {
	mask := len(t.slots) - 1
	for i := t.slot(v >> 32); ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.slots[i] = v
			return
		}
	}
}

func (t *olderIDs) notHeld(revision uint64) {
	if !t.partial {
		t.partial, t.lo, t.hi = true, revision, revision
		return
	}
	t.lo, t.hi = min(t.lo, revision), max(t.hi, revision)
}

// lookup appends to revs the revisions whose fingerprint matches id's.
func (t *olderIDs) lookup(id uuid.UUID, revs []uint64) []uint64 {
	if len(t.slots) == 0 {
		return revs
	}
	fp, mask := fingerprint(id), len(t.slots)-1
	for i := t.slot(fp); t.slots[i] != 0; i = (i + 1) & mask {
		if t.slots[i]>>32 == fp {
			revs = append(revs, t.slots[i]&math.MaxUint32)
		}
	}
	return revs
}

// size is the table's memory in bytes.
func (t *olderIDs) size() int { return olderBytes(len(t.slots)) }

// drop frees the table; every lookup then searches the whole stream.
func (t *olderIDs) drop() { *t = olderIDs{dropped: true} }
