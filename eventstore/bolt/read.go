package bolt

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore"
)

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if err := validStreamName(stream); err != nil {
		return nil, err
	}
	var out []eventstore.RecordedEvent
	err := s.view(func(tx *bbolt.Tx) error {
		r := newReader(s, tx)
		st, exists, err := loadStream(r.streams, stream)
		switch {
		case err != nil:
			return err
		case !exists:
			return eventstore.ErrStreamNotFound
		case st.tombstoned():
			return eventstore.ErrStreamDeleted
		case !st.visible():
			return eventstore.ErrStreamNotFound
		}
		first, ok := firstStreamRevision(st, opts.From, opts.Direction)
		if !ok {
			return nil
		}
		out, err = r.streamRange(ctx, stream, st, first, opts.Direction, opts.Max)
		return err
	})
	return out, err
}

// firstStreamRevision turns an inclusive read start into a revision within the
// stream's visible events, or false when the read returns nothing.
func firstStreamRevision(st streamState, from eventstore.StreamPosition, dir eventstore.Direction) (uint64, bool) {
	last := st.next - 1
	if dir == eventstore.Backwards {
		r, ok := from.Revision()
		switch {
		case from.IsEnd():
			r = last
		case !ok: // StreamStart
			return 0, false
		}
		r = min(r, last)
		return r, r >= st.truncateBefore
	}
	r, ok := from.Revision()
	switch {
	case from.IsEnd():
		return 0, false
	case !ok: // StreamStart
		r = st.truncateBefore
	}
	r = max(r, st.truncateBefore)
	return r, r <= last
}

// ReadAll implements eventstore.Store. A read is one bbolt read transaction;
// replays of long histories should page with Max, because a transaction open
// when the file outgrows its memory mapping holds up the writer's remap.
func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	return s.readAll(ctx, opts, nil)
}

// ReadAllRecycled implements eventstore.RecyclingReader: the page's events
// and bytes come from, and go back to, a pool of page buffers.
func (s *Store) ReadAllRecycled(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, func(), error) {
	buf, _ := s.pageBuffers.Get().(*pageBuffer)
	if buf == nil {
		buf = &pageBuffer{}
	}
	events, err := s.readAll(ctx, opts, buf)
	if err != nil {
		s.pageBuffers.Put(buf)
		return nil, nil, err
	}
	return events, func() {
		buf.events = events[:0]
		s.pageBuffers.Put(buf)
	}, nil
}

// pageBuffer is the storage of a recycled read: its events, and the chunks
// their bytes were copied into, which the next read reuses in order.
type pageBuffer struct {
	events []eventstore.RecordedEvent
	chunks [][]byte
	// strings interns event and content types across reads.
	strings map[string]string
}

// streamVerdicts remembers, by stream number, which streams a filter on
// stream names keeps: a replay asks it of the same few hundred thousand
// streams millions of times, and every answer would otherwise read the
// stream's name from memory the processor has long evicted.
type streamVerdicts struct {
	filter eventstore.Filter
	// kept holds, per stream number, 0 when not asked yet, 1 when
	// dropped, 2 when kept.
	kept []uint8
}

// maxVerdicts bounds the stream numbers remembered (64 MB).
const maxVerdicts = 1 << 26

// verdictCache holds the store's verdicts, lent to one recycled read at a
// time: the pages of a replay are read one after another, so they share
// them (and keep one small array warm in the processor's caches); a read
// that finds them lent out does without.
type verdictCache struct {
	mu       sync.Mutex
	verdicts *streamVerdicts
}

// lend returns the verdicts for filter, forgetting those of another filter,
// and the function that gives them back; nil when verdicts do not apply (a
// read that is not recycled, no filter, a filter on event types) or are
// lent out.
func (c *verdictCache) lend(recycled bool, filter *eventstore.Filter) (*streamVerdicts, func()) {
	if !recycled || filter == nil || filter.Target != eventstore.FilterStreamName || !c.mu.TryLock() {
		return nil, func() {}
	}
	v := c.verdicts
	if v == nil || v.filter.Regex != filter.Regex || !slices.Equal(v.filter.Prefixes, filter.Prefixes) {
		v = &streamVerdicts{filter: eventstore.Filter{Target: filter.Target, Regex: filter.Regex, Prefixes: slices.Clone(filter.Prefixes)}}
		c.verdicts = v
	}
	return v, c.mu.Unlock
}

// lookup returns whether the stream numbered n is kept, if known.
func (v *streamVerdicts) lookup(n uint64) (keep, known bool) {
	if v == nil || n >= uint64(len(v.kept)) {
		return false, false
	}
	k := v.kept[n]
	return k == 2, k != 0
}

// remember notes whether the stream numbered n is kept.
func (v *streamVerdicts) remember(n uint64, keep bool) {
	if v == nil || n >= maxVerdicts {
		return
	}
	if n >= uint64(len(v.kept)) {
		grown := slices.Grow(v.kept, int(n+1)-len(v.kept))
		v.kept = grown[:cap(grown)]
	}
	v.kept[n] = 1
	if keep {
		v.kept[n] = 2
	}
}

// recycledChunk is the size of a page buffer's byte chunks.
const recycledChunk = 256 << 10

// readAll reads $all, into buf's storage when buf is not nil.
func (s *Store) readAll(ctx context.Context, opts eventstore.ReadAllOptions, buf *pageBuffer) ([]eventstore.RecordedEvent, error) {
	match, err := opts.Filter.Matcher()
	if err != nil {
		return nil, err
	}
	first := seqAtOrAfter(opts.From)
	if opts.Direction == eventstore.Backwards {
		first = seqAtOrBefore(opts.From)
	}
	var out []eventstore.RecordedEvent
	if buf != nil {
		out = buf.events[:0]
	}
	verdicts, giveBack := s.verdicts.lend(buf != nil, opts.Filter)
	defer giveBack()
	if opts.Max > 0 && cap(out) == 0 {
		out = make([]eventstore.RecordedEvent, 0, min(opts.Max, 1<<16))
	}
	err = s.view(func(tx *bbolt.Tx) error {
		r := newReader(s, tx)
		r.buffer = buf
		if buf != nil {
			r.strings = buf.strings
		}
		if opts.Direction == eventstore.Forwards {
			if k, _ := r.events.Cursor().Last(); k != nil {
				s.maybeWarm(first, seqFromKey(k))
			}
		}
		_, err := r.scanAll(ctx, first, opts.Direction, func(seq uint64, rec record) (bool, error) {
			keep, known := verdicts.lookup(rec.stream)
			if known && !keep {
				return true, nil
			}
			name, err := r.streamName(rec.stream)
			if err != nil {
				return false, err
			}
			eventType := r.intern(rec.eventType)
			if !known {
				keep = match(name, eventType)
				verdicts.remember(rec.stream, keep)
			}
			if keep {
				r.materialize(grow(&out), seq, name, eventType, rec)
			}
			return opts.Max == 0 || uint64(len(out)) < opts.Max, nil
		})
		if buf != nil {
			buf.strings = r.strings
		}
		return err
	})
	return out, err
}

// seqAtOrAfter is the first sequence number whose position is at or after p.
// An event's position is (seq, seq), so for p = (c, q) that is c when c >= q.
func seqAtOrAfter(p eventstore.Position) uint64 {
	if p.Commit >= p.Prepare {
		return p.Commit
	}
	return p.Commit + 1
}

// seqAtOrBefore is the last sequence number whose position is at or before p.
func seqAtOrBefore(p eventstore.Position) uint64 {
	if p.Commit <= p.Prepare {
		return p.Commit
	}
	return p.Commit - 1
}

// reader reads events inside one read transaction and copies what it
// returns out of bbolt's memory map, which is only valid until the
// transaction ends.
type reader struct {
	s       *Store
	tx      *bbolt.Tx
	events  *bbolt.Bucket
	index   *bbolt.Bucket
	streams *bbolt.Bucket
	names   *bbolt.Bucket
	// strings interns event and content types: a read returns thousands of
	// events with a handful of distinct types.
	strings map[string]string
	// arena holds copied bytes; one allocation serves many small events.
	arena []byte
	// buffer, when set, lends the arena's chunks; used counts those taken.
	buffer *pageBuffer
	used   int
	// lastNumber and lastName remember the previous stream: consecutive
	// events of $all often belong to the same append.
	lastNumber uint64
	lastName   string
}

const arenaChunk = 64 << 10

func newReader(s *Store, tx *bbolt.Tx) *reader {
	return &reader{
		s:       s,
		tx:      tx,
		events:  tx.Bucket(bucketEvents),
		index:   tx.Bucket(bucketStreamIndex),
		streams: tx.Bucket(bucketStreams),
		names:   tx.Bucket(bucketStreamNames),
	}
}

// scanAll visits $all from sequence number first (inclusive) in direction
// dir until visit says stop. It reports whether it ran off the end of the
// log, which subscriptions use to know they have caught up.
func (r *reader) scanAll(ctx context.Context, first uint64, dir eventstore.Direction, visit func(seq uint64, rec record) (bool, error)) (bool, error) {
	c := r.events.Cursor()
	k, v := c.Seek(seqKey(first))
	step := c.Next
	if dir == eventstore.Backwards {
		step = c.Prev
		switch {
		case k == nil:
			k, v = c.Last()
		case seqFromKey(k) > first:
			k, v = c.Prev()
		}
	}
	scanned := 0
	defer func() { r.s.scanned(r.tx, scanned) }()
	for n := 0; k != nil; k, v = step() {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		scanned += len(v)
		rec, err := decodeRecord(v)
		if err != nil {
			return false, err
		}
		more, err := visit(seqFromKey(k), rec)
		if err != nil || !more {
			return false, err
		}
	}
	return true, nil
}

// streamRange reads at most max (0: no limit) events of a stream from
// revision first, in direction dir, within its visible revisions. An
// append's events are adjacent in $all, so each run is one cursor walk.
func (r *reader) streamRange(ctx context.Context, name string, st streamState, first uint64, dir eventstore.Direction, max uint64) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	c := r.events.Cursor()
	step := c.Next
	if dir == eventstore.Backwards {
		step = c.Prev
	}
	err := streamRuns(r.index, st, first, dir, func(revision, seq, count uint64) (bool, error) {
		if dir == eventstore.Backwards {
			// Walk the run from its end; revisions are at seq + offset.
			revision, seq = revision+count-1, seq+count-1
		}
		k, v := c.Seek(seqKey(seq))
		for i := range count {
			if revision < st.truncateBefore || (max > 0 && uint64(len(out)) >= max) {
				return false, nil
			}
			if len(out)%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return false, err
				}
			}
			if k == nil || seqFromKey(k) != seq {
				return false, errCorruptIndex
			}
			rec, err := decodeRecord(v)
			if err != nil {
				return false, err
			}
			r.materialize(grow(&out), seq, name, r.intern(rec.eventType), rec)
			if i+1 < count {
				k, v = step()
				if dir == eventstore.Backwards {
					revision, seq = revision-1, seq-1
				} else {
					revision, seq = revision+1, seq+1
				}
			}
		}
		return true, nil
	})
	return out, err
}

// streamName resolves a stream number, from the shared cache when it can.
func (r *reader) streamName(number uint64) (string, error) {
	if number == r.lastNumber && r.lastName != "" {
		return r.lastName, nil
	}
	name, ok := r.s.names.get(number)
	if !ok {
		v := r.names.Get(seqKey(number))
		if v == nil {
			return "", errCorruptRecord
		}
		name = string(v)
		r.s.names.set(number, name)
	}
	r.lastNumber, r.lastName = number, name
	return name, nil
}

func (r *reader) intern(b []byte) string {
	if s, ok := r.strings[string(b)]; ok {
		return s
	}
	s := string(b)
	if r.strings == nil {
		// Made on first use: most reads of a missing or short stream
		// never intern anything.
		r.strings = make(map[string]string)
	}
	r.strings[s] = s
	return s
}

// materialize fills e with an event that owns its bytes. It writes in
// place: results are appended by the thousand, and copying each 176-byte
// event again would cost as much as decoding it.
func (r *reader) materialize(e *eventstore.RecordedEvent, seq uint64, stream, eventType string, rec record) {
	contentType := eventstore.ContentTypeJSON
	if len(rec.contentType) > 0 {
		contentType = r.intern(rec.contentType)
	}
	e.ID = rec.id
	e.Stream = stream
	e.Revision = rec.revision
	e.Position = eventstore.Position{Commit: seq, Prepare: seq}
	e.Type = eventType
	e.ContentType = contentType
	e.Data = r.copy(rec.data)
	e.Metadata = r.copy(rec.metadata)
	e.Created = time.Unix(0, rec.created).UTC()
}

// grow extends events by one event for materialize to fill, reusing spare
// capacity without clearing it first (materialize sets every field).
func grow(events *[]eventstore.RecordedEvent) *eventstore.RecordedEvent {
	n := len(*events)
	if n < cap(*events) {
		*events = (*events)[:n+1]
	} else {
		*events = append(*events, eventstore.RecordedEvent{})
	}
	return &(*events)[n]
}

// copy copies b out of the memory map. Small slices share arena chunks; the
// three-index slice keeps an append by the caller from spilling into a
// neighbour.
func (r *reader) copy(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if len(b) > arenaChunk/8 {
		return bytes.Clone(b)
	}
	if cap(r.arena)-len(r.arena) < len(b) {
		r.arena = r.chunk(len(b))
	}
	start := len(r.arena)
	r.arena = append(r.arena, b...)
	return r.arena[start:len(r.arena):len(r.arena)]
}

// chunk returns an empty arena chunk with room for n bytes: the buffer's
// next spare one, or a new one. Unbuffered chunks grow from small, so
// reading one short stream stays cheap.
func (r *reader) chunk(n int) []byte {
	buf := r.buffer
	if buf == nil {
		return make([]byte, 0, max(min(2*cap(r.arena), arenaChunk), 4<<10, n))
	}
	for r.used < len(buf.chunks) {
		c := buf.chunks[r.used]
		r.used++
		if cap(c) >= n {
			return c[:0]
		}
	}
	c := make([]byte, 0, max(recycledChunk, n))
	buf.chunks = append(buf.chunks, c)
	r.used = len(buf.chunks)
	return c
}
