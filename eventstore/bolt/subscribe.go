package bolt

import (
	"bytes"
	"context"
	"math"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore"
)

// Catch-up reads from disk go a page at a time, each in its own short read
// transaction, so a subscriber replaying a long history never holds a
// transaction open for long (the writer's occasional remap waits for them).
const (
	catchUpScan = 4096 // events of $all scanned per page
	catchUpPage = 1024 // messages per page
)

// SubscribeAll implements eventstore.Store.
func (s *Store) SubscribeAll(ctx context.Context, opts eventstore.SubscribeAllOptions) (eventstore.Subscription, error) {
	match, err := opts.Filter.Matcher()
	if err != nil {
		return nil, err
	}
	sub := s.newSubscription(ctx, "")
	sub.match = match
	if f := opts.Filter; f != nil && (len(f.Prefixes) > 0 || f.Regex != "") {
		sub.checkpointEvery = opts.CheckpointInterval
		if sub.checkpointEvery == 0 {
			sub.checkpointEvery = DefaultCheckpointInterval
		}
	}
	// Registered before anything is read: whatever commits from now on is
	// pushed, whatever committed before is on disk for the catch-up.
	if err := s.hub.add(sub); err != nil {
		return nil, err
	}
	var last uint64
	err = s.view(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			last = seqFromKey(k)
		}
		return nil
	})
	if err != nil {
		s.hub.remove(sub)
		return nil, err
	}
	// A position past the last event (End among them) means "from now on".
	sub.afterSeq = min(seqAtOrBefore(opts.From), last)
	s.maybeWarm(sub.afterSeq+1, last)
	sub.watch(ctx)
	return sub, nil
}

// SubscribeStream implements eventstore.Store. Subscribing to a tombstoned
// stream answers ErrStreamDeleted at once.
func (s *Store) SubscribeStream(ctx context.Context, stream string, opts eventstore.SubscribeStreamOptions) (eventstore.Subscription, error) {
	if err := validStreamName(stream); err != nil {
		return nil, err
	}
	sub := s.newSubscription(ctx, stream)
	if err := s.hub.add(sub); err != nil {
		return nil, err
	}
	err := s.view(func(tx *bbolt.Tx) error {
		st, exists, err := loadStream(tx.Bucket(bucketStreams), stream)
		if err != nil {
			return err
		}
		if st.tombstoned() {
			return eventstore.ErrStreamDeleted
		}
		r, ok := opts.From.Revision()
		switch {
		case ok && r == math.MaxUint64:
			sub.nextRevision = r
		case ok:
			sub.nextRevision = r + 1
		case opts.From.IsEnd() && exists:
			sub.nextRevision = st.next
		}
		return nil
	})
	if err != nil {
		s.hub.remove(sub)
		return nil, err
	}
	sub.watch(ctx)
	return sub, nil
}

func (s *Store) newSubscription(ctx context.Context, stream string) *subscription {
	return &subscription{
		store:  s,
		ctx:    ctx,
		stream: stream,
		limit:  s.opts.SubscriptionBuffer,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

// subscription delivers past events from disk, then CaughtUp, then the
// events the writer pushes into its bounded queue. When the queue overflows
// the writer drops it (never waiting), and the subscription reads from disk
// from where it was, then rejoins the live queue. Tracking the last position
// it considered, it skips what it has seen, so it neither loses nor repeats
// events whichever way they reach it.
type subscription struct {
	store  *Store
	ctx    context.Context
	stream string // "" for $all
	match  func(stream, eventType string) bool
	// checkpointEvery is 0 for unfiltered subscriptions, which need no checkpoints.
	checkpointEvery uint32
	limit           int
	stopWatch       func() bool

	// Recv's state, used only by the goroutine calling Recv.
	afterSeq     uint64 // $all: every event up to this sequence number has been considered
	unmatched    uint32 // $all: events considered since the last match or checkpoint
	nextRevision uint64 // stream: the next revision to deliver
	caughtUpSent bool
	pending      []eventstore.Message
	// endErr ends the subscription once pending messages are delivered.
	endErr error

	// The writer's side, guarded by mu.
	mu         sync.Mutex
	live       bool
	queue      [][]*eventstore.RecordedEvent
	queued     int
	overflowed bool
	tombstoned bool

	wake       chan struct{}
	done       chan struct{}
	err        error // why it ended; written before done is closed
	finishOnce sync.Once
}

// watch ends the subscription when its context does.
func (sub *subscription) watch(ctx context.Context) {
	sub.stopWatch = context.AfterFunc(ctx, func() { sub.finish(ctx.Err()) })
}

// Recv implements eventstore.Subscription.
func (sub *subscription) Recv() (eventstore.Message, error) {
	for {
		select {
		case <-sub.done:
			return eventstore.Message{}, sub.err
		default:
		}
		if len(sub.pending) > 0 {
			m := sub.pending[0]
			sub.pending[0] = eventstore.Message{}
			sub.pending = sub.pending[1:]
			return m, nil
		}
		if sub.endErr != nil {
			sub.finish(sub.endErr)
			continue
		}
		if err := sub.advance(); err != nil {
			sub.finish(err)
		}
	}
}

// Close implements eventstore.Subscription.
func (sub *subscription) Close() error {
	sub.finish(eventstore.ErrClosed)
	if sub.stopWatch != nil {
		sub.stopWatch()
	}
	return nil
}

func (sub *subscription) finish(err error) {
	sub.finishOnce.Do(func() {
		sub.err = err
		close(sub.done)
		sub.store.hub.remove(sub)
		sub.mu.Lock()
		sub.queue, sub.queued = nil, 0
		sub.mu.Unlock()
	})
}

// advance makes one step towards the next message: a page from disk, the
// live queue, or a wait for the writer.
func (sub *subscription) advance() error {
	sub.mu.Lock()
	if !sub.live {
		sub.mu.Unlock()
		return sub.catchUp()
	}
	if sub.overflowed {
		// Fell behind: re-arm the queue first, then read from disk, so
		// every event is either in that read or pushed after it.
		sub.live, sub.overflowed = false, false
		sub.mu.Unlock()
		return nil
	}
	batches, tombstoned := sub.queue, sub.tombstoned
	sub.queue, sub.queued = nil, 0
	sub.mu.Unlock()
	switch {
	case len(batches) > 0:
		for _, batch := range batches {
			sub.offerLive(batch)
		}
		return nil
	case tombstoned:
		sub.endErr = eventstore.ErrStreamDeleted
		return nil
	}
	select {
	case <-sub.wake:
	case <-sub.done:
	}
	return nil
}

// catchUp reads the next page from disk. When the page reaches the end of
// the log the subscription goes live, unless its queue overflowed meanwhile:
// then the queue is re-armed and the next page reads what was dropped.
func (sub *subscription) catchUp() error {
	var atEnd bool
	var err error
	if sub.stream == "" {
		atEnd, err = sub.catchUpAll()
	} else {
		atEnd, err = sub.catchUpStream()
	}
	if err != nil || !atEnd {
		return err
	}
	sub.goLive()
	return nil
}

// goLive follows a catch-up read that reached the end of the log. If the
// queue overflowed since, events committed after that read may have been
// dropped: it re-arms the queue and stays behind for one more read.
func (sub *subscription) goLive() {
	sub.mu.Lock()
	if sub.overflowed {
		sub.overflowed = false
		sub.mu.Unlock()
		return
	}
	sub.live = true
	sub.mu.Unlock()
	if !sub.caughtUpSent {
		sub.caughtUpSent = true
		sub.pending = append(sub.pending, eventstore.Message{CaughtUp: true})
	}
}

func (sub *subscription) catchUpAll() (bool, error) {
	after, unmatched := sub.afterSeq, sub.unmatched
	var msgs []eventstore.Message
	var atEnd bool
	err := sub.store.view(func(tx *bbolt.Tx) error {
		r := newReader(sub.store, tx)
		scanned := 0
		var err error
		atEnd, err = r.scanAll(sub.ctx, after+1, eventstore.Forwards, func(seq uint64, rec record) (bool, error) {
			name, err := r.streamName(rec.stream)
			if err != nil {
				return false, err
			}
			eventType := r.intern(rec.eventType)
			matched := sub.match(name, eventType)
			if matched {
				e := new(eventstore.RecordedEvent)
				r.materialize(e, seq, name, eventType, rec)
				msgs = append(msgs, eventstore.Message{Event: e})
			}
			after = seq
			if sub.checkpointDue(matched, &unmatched) {
				msgs = append(msgs, checkpoint(seq))
			}
			scanned++
			return scanned < catchUpScan && len(msgs) < catchUpPage, nil
		})
		return err
	})
	if err != nil {
		return false, err
	}
	sub.afterSeq, sub.unmatched = after, unmatched
	sub.pending = append(sub.pending, msgs...)
	return atEnd, nil
}

func (sub *subscription) catchUpStream() (bool, error) {
	var events []eventstore.RecordedEvent
	var atEnd bool
	err := sub.store.view(func(tx *bbolt.Tx) error {
		r := newReader(sub.store, tx)
		st, exists, err := loadStream(r.streams, sub.stream)
		switch {
		case err != nil:
			return err
		case st.tombstoned():
			return eventstore.ErrStreamDeleted
		case !exists || !st.visible():
			atEnd = true
			return nil
		}
		first := max(sub.nextRevision, st.truncateBefore)
		if first >= st.next {
			atEnd = true
			return nil
		}
		events, err = r.streamRange(sub.ctx, sub.stream, st, first, eventstore.Forwards, catchUpPage)
		atEnd = len(events) == 0 || events[len(events)-1].Revision+1 >= st.next
		return err
	})
	if err != nil {
		return false, err
	}
	for i := range events {
		sub.pending = append(sub.pending, eventstore.Message{Event: &events[i]})
		sub.nextRevision = events[i].Revision + 1
	}
	return atEnd, nil
}

// offerLive turns pushed events into messages, skipping what the
// subscription has already considered. Pushed events are shared with other
// subscribers, so each delivery gets its own copy.
func (sub *subscription) offerLive(batch []*eventstore.RecordedEvent) {
	for _, e := range batch {
		if sub.stream != "" {
			if e.Revision < sub.nextRevision {
				continue
			}
			sub.nextRevision = e.Revision + 1
			sub.pending = append(sub.pending, eventstore.Message{Event: cloneEvent(e)})
			continue
		}
		seq := e.Position.Commit
		if seq <= sub.afterSeq {
			continue
		}
		sub.afterSeq = seq
		matched := sub.match(e.Stream, e.Type)
		if matched {
			sub.pending = append(sub.pending, eventstore.Message{Event: cloneEvent(e)})
		}
		if sub.checkpointDue(matched, &sub.unmatched) {
			sub.pending = append(sub.pending, checkpoint(seq))
		}
	}
}

// checkpointDue counts events that did not match and says when a filtered
// subscription owes its consumer a checkpoint.
func (sub *subscription) checkpointDue(matched bool, unmatched *uint32) bool {
	if matched || sub.checkpointEvery == 0 {
		*unmatched = 0
		return false
	}
	*unmatched++
	if *unmatched < sub.checkpointEvery {
		return false
	}
	*unmatched = 0
	return true
}

func checkpoint(seq uint64) eventstore.Message {
	return eventstore.Message{Checkpoint: &eventstore.Position{Commit: seq, Prepare: seq}}
}

func cloneEvent(e *eventstore.RecordedEvent) *eventstore.RecordedEvent {
	c := *e
	c.Data = bytes.Clone(e.Data)
	c.Metadata = bytes.Clone(e.Metadata)
	return &c
}

// push queues committed events for a subscriber without waiting. It
// reports whether a live subscriber fell behind.
func (sub *subscription) push(events []*eventstore.RecordedEvent) bool {
	sub.mu.Lock()
	fellBehind := false
	switch {
	case sub.overflowed:
		sub.mu.Unlock()
		return false
	case sub.queued+len(events) > sub.limit:
		sub.overflowed = true
		sub.queue, sub.queued = nil, 0
		fellBehind = sub.live
	default:
		sub.queue = append(sub.queue, events)
		sub.queued += len(events)
	}
	sub.mu.Unlock()
	sub.signal()
	return fellBehind
}

func (sub *subscription) pushTombstone() {
	sub.mu.Lock()
	sub.tombstoned = true
	sub.mu.Unlock()
	sub.signal()
}

func (sub *subscription) signal() {
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// publication is what one committed request offers live subscribers. Its
// events are built only when some subscriber wants them.
type publication struct {
	stream        string
	req           *request
	firstSeq      uint64
	firstRevision uint64
	created       int64
	tombstoned    bool
	recorded      []*eventstore.RecordedEvent
}

// events builds the request's events from the records the writer just
// committed; the store owns those bytes and never changes them again.
func (p *publication) events() []*eventstore.RecordedEvent {
	if p.recorded != nil || p.req == nil {
		return p.recorded
	}
	created := time.Unix(0, p.created).UTC()
	p.recorded = make([]*eventstore.RecordedEvent, len(p.req.records))
	for i, raw := range p.req.records {
		rec, _ := decodeRecord(raw) // encoded by this process: well formed
		contentType := eventstore.ContentTypeJSON
		if len(rec.contentType) > 0 {
			contentType = string(rec.contentType)
		}
		seq := p.firstSeq + uint64(i)
		p.recorded[i] = &eventstore.RecordedEvent{
			ID:          p.req.ids[i],
			Stream:      p.stream,
			Revision:    p.firstRevision + uint64(i),
			Position:    eventstore.Position{Commit: seq, Prepare: seq},
			Type:        p.req.types[i],
			ContentType: contentType,
			Data:        nilIfEmpty(rec.data),
			Metadata:    nilIfEmpty(rec.metadata),
			Created:     created,
		}
	}
	return p.recorded
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// hub is the set of live subscribers the writer pushes to.
type hub struct {
	mu      sync.RWMutex
	closed  bool
	all     map[*subscription]struct{}
	streams map[string]map[*subscription]struct{}
}

func (h *hub) init() {
	h.all = make(map[*subscription]struct{})
	h.streams = make(map[string]map[*subscription]struct{})
}

func (h *hub) add(sub *subscription) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return eventstore.ErrClosed
	}
	if sub.stream == "" {
		h.all[sub] = struct{}{}
		return nil
	}
	set := h.streams[sub.stream]
	if set == nil {
		set = make(map[*subscription]struct{})
		h.streams[sub.stream] = set
	}
	set[sub] = struct{}{}
	return nil
}

func (h *hub) remove(sub *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sub.stream == "" {
		delete(h.all, sub)
		return
	}
	if set := h.streams[sub.stream]; set != nil {
		delete(set, sub)
		if len(set) == 0 {
			delete(h.streams, sub.stream)
		}
	}
}

// publish hands a commit's publications to the subscribers, in commit
// order, and returns how many live subscribers fell behind.
func (h *hub) publish(pubs []publication) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(pubs) == 0 || (len(h.all) == 0 && len(h.streams) == 0) {
		return 0
	}
	fellBehind := 0
	var all []*eventstore.RecordedEvent
	for i := range pubs {
		p := &pubs[i]
		for sub := range h.streams[p.stream] {
			if p.tombstoned {
				sub.pushTombstone()
			} else if sub.push(p.events()) {
				fellBehind++
			}
		}
		if len(h.all) > 0 {
			all = append(all, p.events()...)
		}
	}
	if len(all) > 0 {
		for sub := range h.all {
			if sub.push(all) {
				fellBehind++
			}
		}
	}
	return fellBehind
}

// closeAll ends every subscription with ErrClosed and refuses new ones.
func (h *hub) closeAll() {
	h.mu.Lock()
	h.closed = true
	subs := make([]*subscription, 0, len(h.all))
	for sub := range h.all {
		subs = append(subs, sub)
	}
	for _, set := range h.streams {
		for sub := range set {
			subs = append(subs, sub)
		}
	}
	h.mu.Unlock()
	for _, sub := range subs {
		sub.finish(eventstore.ErrClosed)
	}
}
