package bolt

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore"
)

// Group-commit limits: a batch stops growing at either, bounding the
// transaction's memory and the latency of the appends queued behind it.
const (
	maxBatchEvents = 16 << 10
	maxBatchBytes  = 32 << 20
)

type requestKind uint8

const (
	kindAppend requestKind = iota
	kindDelete
	kindTombstone
)

// request is one append or delete waiting for the writer. Everything the
// writer needs is copied out of the caller's arguments first, so a caller
// that gives up (context cancelled) can reuse its buffers at once.
type request struct {
	ctx      context.Context
	kind     requestKind
	stream   string
	expected eventstore.ExpectedRevision
	ids      []uuid.UUID
	types    []string
	records  [][]byte
	bytes    int
	done     chan response
	// part is the request's place among the appends of one AppendMany,
	// which share done; the writer answers it in the response.
	part int
	// bundle, on the request AppendMany queues, holds its appends: the
	// writer takes them into its batch one by one.
	bundle []*request
}

type response struct {
	result eventstore.AppendResult
	err    error
	// wrote is false for an idempotent append, which wrote nothing.
	wrote bool
	part  int
}

// answer sends resp to the request's caller.
func (req *request) answer(resp response) {
	resp.part = req.part
	req.done <- resp
}

// parts are the appends a queued request stands for: its bundle's, or itself.
func (req *request) parts() []*request {
	if req.bundle != nil {
		return req.bundle
	}
	return []*request{req}
}

// Append implements eventstore.Store.
//
// An append of no events is checked like any other and writes nothing, as in
// KurrentDB; its result describes the stream's last event, or is zero for a
// stream without events.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	req, err := newAppendRequest(ctx, stream, expected, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	started := time.Now()
	resp := s.submit(req)
	if resp.err == nil && resp.wrote {
		s.observer.Appended(req.types, time.Since(started))
	}
	return resp.result, resp.err
}

// AppendMany implements eventstore.BatchAppender: the appends are queued
// for the writer together and answered together, each checked and written
// as Append would, so a caller with many rows to append needs neither a
// goroutine nor a wait per row.
func (s *Store) AppendMany(ctx context.Context, appends []eventstore.AppendRequest) []eventstore.AppendOutcome {
	out := make([]eventstore.AppendOutcome, len(appends))
	done := make(chan response, len(appends))
	// waiting holds the appends not answered yet, by their place; bundles
	// split them within a batch's limits, so one call cannot make one
	// transaction of any size.
	waiting := make([]*request, len(appends))
	pending := 0
	var bundles []*request
	events, size := 0, 0
	for i, a := range appends {
		req, err := newAppendRequest(ctx, a.Stream, a.Expected, a.Events)
		if err != nil {
			out[i].Err = err
			continue
		}
		req.part, req.done = i, done
		if len(bundles) == 0 || events+len(req.records) > maxBatchEvents || size+req.bytes > maxBatchBytes {
			bundles = append(bundles, &request{ctx: ctx, kind: kindAppend, done: done})
			events, size = 0, 0
		}
		last := bundles[len(bundles)-1]
		last.bundle = append(last.bundle, req)
		events, size = events+len(req.records), size+req.bytes
		waiting[i] = req
		pending++
	}
	answer := func(part int, o eventstore.AppendOutcome) {
		waiting[part] = nil
		pending--
		out[part] = o
	}
	started := time.Now()
	for k, b := range bundles {
		if err := s.enqueue(b); err != nil {
			for _, unsent := range bundles[k:] {
				for _, req := range unsent.bundle {
					answer(req.part, eventstore.AppendOutcome{Err: err})
				}
			}
			break
		}
	}
	take := func(resp response) {
		if req := waiting[resp.part]; resp.err == nil && resp.wrote {
			s.observer.Appended(req.types, time.Since(started))
		}
		answer(resp.part, eventstore.AppendOutcome{Result: resp.result, Err: resp.err})
	}
	if err := s.await(ctx, done, pending, take); err != nil {
		for i, req := range waiting {
			if req != nil {
				out[i].Err = err
			}
		}
	}
	return out
}

// newAppendRequest checks an append and copies what the writer needs out
// of its events.
func newAppendRequest(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (*request, error) {
	if err := validStreamName(stream); err != nil {
		return nil, err
	}
	req := &request{
		ctx:      ctx,
		kind:     kindAppend,
		stream:   stream,
		expected: expected,
		ids:      make([]uuid.UUID, len(events)),
		types:    make([]string, len(events)),
		records:  make([][]byte, len(events)),
	}
	for i, e := range events {
		if e.ID == uuid.Nil {
			return nil, fmt.Errorf("%w: event %d has no ID", eventstore.ErrInvalidArgument, i)
		}
		if e.Type == "" {
			return nil, fmt.Errorf("%w: event %d has no type", eventstore.ErrInvalidArgument, i)
		}
		if recordSize(e) > bbolt.MaxValueSize {
			return nil, fmt.Errorf("%w: event %d is larger than %d bytes", eventstore.ErrInvalidArgument, i, bbolt.MaxValueSize)
		}
		rec := encodeRecord(e)
		req.ids[i], req.types[i], req.records[i] = e.ID, e.Type, rec
		req.bytes += len(rec)
	}
	return req, nil
}

// Delete implements eventstore.Store.
func (s *Store) Delete(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	return s.deleteStream(ctx, kindDelete, stream, expected)
}

// Tombstone implements eventstore.Store.
func (s *Store) Tombstone(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	return s.deleteStream(ctx, kindTombstone, stream, expected)
}

func (s *Store) deleteStream(ctx context.Context, kind requestKind, stream string, expected eventstore.ExpectedRevision) error {
	if err := validStreamName(stream); err != nil {
		return err
	}
	return s.submit(&request{ctx: ctx, kind: kind, stream: stream, expected: expected}).err
}

// submit queues req for the writer and waits for its answer. A caller whose
// context ends stops waiting; its request may still be committed, as with
// any store where the client gives up first (idempotent retries cover it).
func (s *Store) submit(req *request) response {
	req.done = make(chan response, 1)
	if err := s.enqueue(req); err != nil {
		return response{err: err}
	}
	var resp response
	if err := s.await(req.ctx, req.done, 1, func(r response) { resp = r }); err != nil {
		return response{err: err}
	}
	return resp
}

// await passes n answers from done to take. It gives up with the
// context's error, or with ErrClosed once the writer has exited and the
// answers it gave before are taken.
func (s *Store) await(ctx context.Context, done <-chan response, n int, take func(response)) error {
	for ; n > 0; n-- {
		select {
		case resp := <-done:
			take(resp)
		case <-s.writerDone:
			// The writer answers everything it took before it exits.
			for ; n > 0; n-- {
				select {
				case resp := <-done:
					take(resp)
				default:
					return eventstore.ErrClosed
				}
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// enqueue hands req to the writer.
func (s *Store) enqueue(req *request) error {
	if s.isClosed.Load() {
		return eventstore.ErrClosed
	}
	if err := req.ctx.Err(); err != nil {
		return err
	}
	select {
	case s.requests <- req:
		return nil
	case <-s.closing:
		return eventstore.ErrClosed
	case <-req.ctx.Done():
		return req.ctx.Err()
	}
}

// runWriter is the one goroutine that writes. Each turn takes every request
// waiting (up to the batch limits) into one transaction and one fsync.
func (s *Store) runWriter() {
	defer close(s.writerDone)
	stale := false
	answered := 0
	for {
		select {
		case <-s.closing:
			for {
				select {
				case req := <-s.requests:
					failAll(req.parts(), eventstore.ErrClosed)
				default:
					return
				}
			}
		case first := <-s.requests:
			batch := s.collect(first, answered)
			answered = len(batch)
			stale = s.commitBatch(batch, stale)
		}
	}
}

// collect takes first and the requests queued behind it. The callers the
// last commit answered (answered of them) are often runnable and about to
// append again; if fewer requests are queued, the writer yields once so
// they can join this batch rather than wait a whole commit for the next.
func (s *Store) collect(first *request, answered int) []*request {
	var batch []*request
	events, size := 0, 0
	take := func(req *request) {
		for _, part := range req.parts() {
			batch = append(batch, part)
			events += len(part.records)
			size += part.bytes
		}
	}
	take(first)
	drain := func() {
		for events < maxBatchEvents && size < maxBatchBytes {
			select {
			case req := <-s.requests:
				take(req)
			default:
				return
			}
		}
	}
	drain()
	if len(batch) < answered {
		runtime.Gosched()
		drain()
	}
	return batch
}

// commitBatch commits batch and answers every request in it. It reports
// whether the writer's in-memory state must be reloaded before the next
// batch (stale), which is the case after any rollback.
func (s *Store) commitBatch(batch []*request, stale bool) bool {
	for len(batch) > 0 {
		if stale {
			if err := s.loadWriterState(); err != nil {
				failAll(batch, unavailable("reload state", err))
				return true
			}
		}
		failed, err := s.tryCommit(batch)
		switch {
		case err == nil:
			return false
		case failed < 0:
			return true
		default:
			// One request hit a storage error mid-write and the transaction
			// was rolled back; its batch-mates are committed without it.
			batch[failed].answer(response{err: err})
			batch = slices.Delete(batch, failed, failed+1)
			stale = true
		}
	}
	return stale
}

// tryCommit applies batch in one transaction. It returns (-1, nil) after a
// commit; (-1, err) if the commit itself failed, every request answered
// with err; (i, err) if request i failed to write, nothing answered and the
// transaction rolled back.
func (s *Store) tryCommit(batch []*request) (int, error) {
	started := time.Now()
	tx, err := s.db.Begin(true)
	if err != nil {
		err = unavailable("begin", err)
		failAll(batch, err)
		return -1, err
	}
	w := newBatchWriter(s, tx, started)
	responses := make([]response, len(batch))
	var pubs []publication
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			responses[i].err = err
			continue
		}
		resp, pub, err := w.apply(req)
		if err != nil {
			_ = tx.Rollback()
			return i, unavailable("write", err)
		}
		responses[i] = resp
		if pub != nil {
			pubs = append(pubs, *pub)
		}
	}
	if w.requests == 0 {
		// Refusals and idempotent retries only: nothing to make durable,
		// so no commit and no fsync.
		_ = tx.Rollback()
		for i, req := range batch {
			req.answer(responses[i])
		}
		return -1, nil
	}
	if err := tx.Commit(); err != nil {
		err = unavailable("commit", err)
		failAll(batch, err)
		return -1, err
	}
	// Measured before anyone is answered, so a caller that sees its
	// append done finds the commit counted.
	s.observer.Committed(w.written, w.requests, time.Since(started))
	for i, req := range batch {
		req.answer(responses[i])
	}
	for range s.hub.publish(pubs) {
		s.observer.SubscriberFellBehind()
	}
	return -1, nil
}

func failAll(batch []*request, err error) {
	for _, req := range batch {
		req.answer(response{err: err})
	}
}

// unavailable wraps a storage failure: the disk may recover (space freed),
// so callers see ErrUnavailable and may retry.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: bolt %s: %v", eventstore.ErrUnavailable, op, err)
}

// batchWriter applies requests inside one write transaction. bbolt lets a
// write transaction read its own writes, so each request is checked against
// the state left by the requests before it in the same batch.
type batchWriter struct {
	s       *Store
	events  *bbolt.Bucket
	index   *bbolt.Bucket
	streams *bbolt.Bucket
	names   *bbolt.Bucket
	created int64
	// written and requests count the events and the appends or deletes this batch wrote.
	written  int
	requests int
}

func newBatchWriter(s *Store, tx *bbolt.Tx, now time.Time) *batchWriter {
	w := &batchWriter{
		s:       s,
		events:  tx.Bucket(bucketEvents),
		index:   tx.Bucket(bucketStreamIndex),
		streams: tx.Bucket(bucketStreams),
		names:   tx.Bucket(bucketStreamNames),
		created: now.UnixNano(),
	}
	// Events are only ever appended at the right edge, so leaves can be
	// packed full instead of split half-full: a scan of $all reads fewer pages.
	w.events.FillPercent = 1.0
	return w
}

// apply performs one request. A request that fails its checks gets its
// error in the response and writes nothing; the returned error is a
// storage failure that dooms the transaction.
func (w *batchWriter) apply(req *request) (response, *publication, error) {
	st, exists, err := loadStream(w.streams, req.stream)
	if err != nil {
		return response{}, nil, err
	}
	if st.tombstoned() {
		return response{err: eventstore.ErrStreamDeleted}, nil, nil
	}
	ids := req.ids
	if req.kind != kindAppend {
		// A delete is checked as KurrentDB checks it: as an append of one
		// event that was never written (uuid.Nil cannot be appended).
		ids = []uuid.UUID{uuid.Nil}
	}
	d, err := w.check(st, exists, req.expected, ids)
	if err != nil {
		return response{}, nil, err
	}
	switch d.outcome {
	case wrongVersion:
		return response{err: &eventstore.WrongExpectedVersionError{Stream: req.stream, Expected: req.expected, Actual: st.lastRevision()}}, nil, nil
	case streamDeleted:
		return response{err: eventstore.ErrStreamDeleted}, nil, nil
	case idempotent:
		r := appendResult(d.last.revision, d.last.seq)
		r.Replayed = req.kind == kindAppend && len(req.records) > 0
		return response{result: r}, nil, nil
	}
	if req.kind == kindAppend && len(req.records) == 0 {
		return w.emptyAppend(st)
	}
	if !exists {
		if st.number, err = w.newStream(req.stream); err != nil {
			return response{}, nil, err
		}
	}
	var pub *publication
	switch req.kind {
	case kindAppend:
		pub = &publication{stream: req.stream, req: req, firstSeq: w.s.lastSeq + 1, firstRevision: st.next, created: w.created}
		if err := w.appendEvents(&st, req); err != nil {
			return response{}, nil, err
		}
		st.flags &^= flagSoftDeleted
	case kindDelete:
		st.flags |= flagSoftDeleted
		st.truncateBefore = st.next
	case kindTombstone:
		st.flags |= flagTombstoned
		pub = &publication{stream: req.stream, tombstoned: true}
	}
	if err := w.streams.Put([]byte(req.stream), st.encode()); err != nil {
		return response{}, nil, err
	}
	w.requests++
	if req.kind != kindAppend {
		return response{wrote: true}, pub, nil
	}
	return response{result: appendResult(st.next-1, w.s.lastSeq), wrote: true}, pub, nil
}

// emptyAppend answers an accepted append of no events with the stream's last event.
func (w *batchWriter) emptyAppend(st streamState) (response, *publication, error) {
	if st.next == 0 {
		return response{}, nil, nil
	}
	last, _, err := w.eventAt(st, st.next-1)
	if err != nil {
		return response{}, nil, err
	}
	return response{result: appendResult(last.revision, last.seq)}, nil, nil
}

func (w *batchWriter) appendEvents(st *streamState, req *request) error {
	first := w.s.lastSeq + 1
	for i, rec := range req.records {
		seq := first + uint64(i)
		revision := st.next + uint64(i)
		stampRecord(rec, st.number, revision, w.created)
		if err := w.events.Put(seqKey(seq), rec); err != nil {
			return err
		}
		w.s.recent.add(req.ids[i], eventRef{stream: st.number, revision: revision, seq: seq})
	}
	w.s.lastSeq += uint64(len(req.records))
	w.written += len(req.records)
	return st.addRun(w.index, first, uint64(len(req.records)))
}

func (w *batchWriter) newStream(name string) (uint64, error) {
	number := w.s.lastStream + 1
	if err := w.names.Put(seqKey(number), []byte(name)); err != nil {
		return 0, err
	}
	w.s.lastStream = number
	return number, nil
}

func appendResult(revision, seq uint64) eventstore.AppendResult {
	return eventstore.AppendResult{NextExpectedRevision: revision, Position: eventstore.Position{Commit: seq, Prepare: seq}}
}

// loadStream reads a stream's state; a stream never written or deleted has none.
func loadStream(streams *bbolt.Bucket, name string) (streamState, bool, error) {
	v := streams.Get([]byte(name))
	if v == nil {
		return streamState{}, false, nil
	}
	st, err := decodeStreamState(v)
	return st, err == nil, err
}

type outcome uint8

const (
	proceed outcome = iota
	idempotent
	wrongVersion
	streamDeleted
)

type decision struct {
	outcome outcome
	// last is the already-written event an idempotent append ends at.
	last eventRef
}

// check decides an append of ids at expected, following KurrentDB's commit
// check (IndexWriter.CheckCommit) rule for rule:
//   - StreamExists on a soft-deleted stream is a deleted stream; on a stream
//     with no events a wrong expected version.
//   - Any and StreamExists: if the first ID is a recent event of this stream,
//     every ID must be (idempotent: the result describes those events),
//     otherwise the append is a wrong expected version; if the first is not,
//     the append proceeds.
//   - An expected revision (NoStream being -1) below the stream's last: the
//     IDs must be the stream's events right after it (idempotent); a partial
//     match is a wrong expected version; no match is one too, except NoStream
//     on a soft-deleted stream, which recreates it.
//   - Above the last: wrong expected version. Equal: proceed.
func (w *batchWriter) check(st streamState, exists bool, expected eventstore.ExpectedRevision, ids []uuid.UUID) (decision, error) {
	current := st.lastRevision()
	if expected.IsStreamExists() {
		if st.softDeleted() {
			return decision{outcome: streamDeleted}, nil
		}
		if current < 0 {
			return decision{outcome: wrongVersion}, nil
		}
	}
	if expected.IsAny() || expected.IsStreamExists() {
		if len(ids) == 0 {
			return decision{outcome: proceed}, nil
		}
		return w.checkRecent(st, exists, ids), nil
	}
	want := eventstore.NoStreamRevision
	if r, ok := expected.Revision(); ok {
		if r > math.MaxInt64 {
			return decision{outcome: wrongVersion}, nil
		}
		want = int64(r)
	}
	switch {
	case want > current:
		return decision{outcome: wrongVersion}, nil
	case want == current:
		return decision{outcome: proceed}, nil
	case len(ids) == 0:
		return decision{outcome: wrongVersion}, nil
	}
	revision := uint64(want + 1)
	var last eventRef
	for i, id := range ids {
		ref, found, err := w.eventAt(st, revision+uint64(i))
		if err != nil {
			return decision{}, err
		}
		if found && ref.id == id {
			last = ref.eventRef
			continue
		}
		if i == 0 && expected.IsNoStream() && st.softDeleted() {
			return decision{outcome: proceed}, nil
		}
		return decision{outcome: wrongVersion}, nil
	}
	return decision{outcome: idempotent, last: last}, nil
}

func (w *batchWriter) checkRecent(st streamState, exists bool, ids []uuid.UUID) decision {
	var last eventRef
	for i, id := range ids {
		ref, ok := w.s.recent.lookup(id)
		if !ok || !exists || ref.stream != st.number {
			if i == 0 {
				return decision{outcome: proceed}
			}
			return decision{outcome: wrongVersion}
		}
		last = ref
	}
	return decision{outcome: idempotent, last: last}
}

type identifiedRef struct {
	eventRef
	id uuid.UUID
}

// eventAt finds the event of a stream at a revision, hidden or not.
func (w *batchWriter) eventAt(st streamState, revision uint64) (identifiedRef, bool, error) {
	if revision >= st.next {
		return identifiedRef{}, false, nil
	}
	seq, err := seqOf(w.index, st, revision)
	if err != nil {
		return identifiedRef{}, false, err
	}
	_, _, id, err := decodeHeader(w.events.Get(seqKey(seq)))
	if err != nil {
		return identifiedRef{}, false, err
	}
	return identifiedRef{eventRef: eventRef{stream: st.number, revision: revision, seq: seq}, id: id}, true, nil
}
