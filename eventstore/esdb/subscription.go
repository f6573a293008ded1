package esdb

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"

	"github.com/continuum-care/continuum/eventstore"
)

// recvBuffer is how many messages a subscription reads ahead of Recv.
const recvBuffer = 256

// tombstoneType is the event type of the record KurrentDB writes at the end
// of a tombstoned stream, at revision math.MaxInt64.
const tombstoneType = "$streamDeleted"

// SubscribeStream implements eventstore.Store.
//
// The subscription survives dropped connections and server restarts: it is
// resumed after the last event delivered, with capped, jittered exponential
// backoff, so that the subscriber sees every event once and in order. It
// ends only when ctx ends, it is closed, the store is closed, or the stream
// is tombstoned (ErrStreamDeleted).
//
// CaughtUp is delivered once. If the connection drops before it, the resumed
// subscription goes on catching up and delivers it when done; if it drops
// after, the events written meanwhile arrive as ordinary live events.
func (s *Store) SubscribeStream(ctx context.Context, stream string, opts eventstore.SubscribeStreamOptions) (eventstore.Subscription, error) {
	if err := validStream(stream); err != nil {
		return nil, err
	}
	f := &streamFeed{stream: stream}
	if r, ok := opts.From.Revision(); ok {
		f.last, f.hasLast = r, true
	} else if opts.From.IsEnd() {
		// Pin the end to a revision now: resuming "from the end" after a
		// drop would lose what was written while the connection was down.
		last, err := s.lastRevision(ctx, stream)
		switch {
		case err == nil:
			f.last, f.hasLast = uint64(last), true
		case errors.Is(err, eventstore.ErrStreamNotFound), errors.Is(err, eventstore.ErrStreamDeleted):
			// Everything the stream will get is new; a tombstoned stream
			// ends the subscription on its first Recv, as on a server.
		default:
			return nil, err
		}
	}
	return s.subscribe(ctx, f)
}

// SubscribeAll implements eventstore.Store. The filter is applied by the
// server (and checked again here, so that the port's Matcher semantics hold
// whatever regular-expression dialect the server speaks). Resuming,
// CaughtUp and the end of the subscription are as for SubscribeStream,
// except that it is never tombstoned. Checkpoints are delivered in
// increasing order and count as delivered positions for resuming.
func (s *Store) SubscribeAll(ctx context.Context, opts eventstore.SubscribeAllOptions) (eventstore.Subscription, error) {
	match, err := opts.Filter.Matcher()
	if err != nil {
		return nil, err
	}
	filter, err := toSubscriptionFilter(opts.Filter)
	if err != nil {
		return nil, err
	}
	f := &allFeed{filter: filter, checkpointInterval: opts.CheckpointInterval, match: match}
	switch opts.From {
	case eventstore.Start:
	case eventstore.End:
		// Pin the end to a position now, for the same reason as streams.
		head, err := s.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Max: 1})
		if err != nil {
			return nil, err
		}
		if len(head) == 1 {
			f.seen, f.hasSeen = head[0].Position, true
		}
	default:
		f.seen, f.hasSeen = opts.From, true
	}
	return s.subscribe(ctx, f)
}

// feed is what differs between a stream and a $all subscription: where to
// resume, and which deliveries are new.
type feed interface {
	// opener returns the call that opens a server subscription after the
	// last position seen so far (a snapshot: it runs on another goroutine).
	opener() func(ctx context.Context, c *esdbclient.Client) (*esdbclient.Subscription, error)
	// event records e as seen. It returns the message to deliver, nil to
	// skip e (already delivered before a resume, or filtered out), or the
	// error that ends the subscription.
	event(e *esdbclient.RecordedEvent) (*eventstore.Message, error)
	// checkpoint records p as seen and returns the message to deliver, or
	// nil for a checkpoint that would not advance the subscriber.
	checkpoint(p esdbclient.Position) *eventstore.Message
	// dropped decides whether the drop of the server subscription with err
	// ends the subscription (non-nil error) or it should be resumed.
	dropped(ctx context.Context, s *Store, err error) error
}

// subscription adapts server subscriptions to eventstore.Subscription. One
// goroutine (pump) owns the server subscription and its resumption and hands
// messages to Recv through a small buffer: enough to overlap decoding with
// the subscriber's work, small enough that a slow subscriber soon slows the
// server subscription (through gRPC flow control) instead of piling up
// messages.
type subscription struct {
	store *Store
	// parent is the caller's context; ctx adds Close and the store's end.
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
	feed   feed

	out  chan eventstore.Message
	done chan struct{}
	// err is the end of the subscription, set by pump before done closes.
	err    error
	closed atomic.Bool

	caughtUp bool
}

func (s *Store) subscribe(ctx context.Context, f feed) (eventstore.Subscription, error) {
	subCtx, cancel := s.bind(ctx)
	sub := &subscription{
		store:  s,
		parent: ctx,
		ctx:    subCtx,
		cancel: cancel,
		feed:   f,
		out:    make(chan eventstore.Message, recvBuffer),
		done:   make(chan struct{}),
	}
	inner, c, err := sub.open()
	if err != nil {
		cancel()
		return nil, err
	}
	go sub.pump(inner, c)
	return sub, nil
}

// open starts a server subscription at the feed's resume point. It runs
// under the subscription's context rather than the call's, since it outlives
// the call.
func (sub *subscription) open() (*esdbclient.Subscription, *pooled, error) {
	open := sub.feed.opener()
	return run(sub.store, sub.ctx, func(_ context.Context, c *esdbclient.Client) (*esdbclient.Subscription, error) {
		return open(sub.ctx, c)
	}, func(inner *esdbclient.Subscription) { _ = inner.Close() })
}

// Recv implements eventstore.Subscription.
func (sub *subscription) Recv() (eventstore.Message, error) {
	if sub.closed.Load() || sub.store.ctx.Err() != nil {
		return eventstore.Message{}, eventstore.ErrClosed
	}
	select {
	case msg := <-sub.out:
		return msg, nil
	case <-sub.done:
		// Deliver what the pump received before the end (the events
		// before a tombstone, say) before the end itself.
		select {
		case msg := <-sub.out:
			return msg, nil
		default:
			return eventstore.Message{}, sub.err
		}
	}
}

// Close implements eventstore.Subscription. It returns once the server
// subscription is released.
func (sub *subscription) Close() error {
	sub.closed.Store(true)
	sub.cancel()
	<-sub.done
	return nil
}

// interrupted is the end of a subscription whose context ended.
func (sub *subscription) interrupted() error {
	if sub.closed.Load() || sub.store.ctx.Err() != nil {
		return eventstore.ErrClosed
	}
	if err := sub.parent.Err(); err != nil {
		return err
	}
	return eventstore.ErrClosed
}

// pump runs the subscription: it receives from the server subscription,
// resumes it when dropped, and hands messages to Recv.
func (sub *subscription) pump(inner *esdbclient.Subscription, c *pooled) {
	defer close(sub.done)
	defer func() {
		if inner != nil {
			_ = inner.Close()
			sub.store.pool.unpin(c)
		}
		sub.cancel()
	}()
	attempt := 0
	for {
		if inner == nil {
			if !sub.sleep(sub.store.backoff.delay(attempt, rand.Float64())) {
				sub.err = sub.interrupted()
				return
			}
			attempt++
			var err error
			if inner, c, err = sub.open(); err != nil {
				if sub.ctx.Err() != nil {
					sub.err = sub.interrupted()
					return
				}
				if ends(err) {
					sub.err = err
					return
				}
				sub.store.logger.Warn("esdb: resuming a subscription failed; retrying", "attempt", attempt, "error", err)
				continue
			}
			sub.store.logger.Info("esdb: subscription resumed", "attempts", attempt)
		}

		received := inner.Recv()
		var deliver *eventstore.Message
		switch {
		case received.SubscriptionDropped != nil:
			cause := received.SubscriptionDropped.Error
			_ = inner.Close()
			if connectionLost(cause) {
				sub.store.pool.retire(c)
			}
			sub.store.pool.unpin(c)
			inner, c = nil, nil
			if sub.ctx.Err() != nil {
				sub.err = sub.interrupted()
				return
			}
			if err := sub.feed.dropped(sub.ctx, sub.store, cause); err != nil {
				sub.err = err
				return
			}
			sub.store.logger.Warn("esdb: subscription dropped; resuming", "error", cause)
			continue
		case received.EventAppeared != nil:
			original := received.EventAppeared.OriginalEvent()
			if original == nil {
				continue
			}
			msg, err := sub.feed.event(original)
			if err != nil {
				sub.err = err
				return
			}
			deliver = msg
		case received.CheckPointReached != nil:
			deliver = sub.feed.checkpoint(*received.CheckPointReached)
		case received.CaughtUp != nil:
			if !sub.caughtUp {
				sub.caughtUp = true
				deliver = &eventstore.Message{CaughtUp: true}
			}
		}
		// Anything but a drop shows the server subscription works.
		attempt = 0
		if deliver == nil {
			continue
		}
		select {
		case sub.out <- *deliver:
		case <-sub.ctx.Done():
			sub.err = sub.interrupted()
			return
		}
	}
}

// sleep waits d unless the subscription ends first.
func (sub *subscription) sleep(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-sub.ctx.Done():
		return false
	}
}

// ends reports whether an error opening or running a server subscription is
// final: retrying cannot help.
func ends(err error) bool {
	return errors.Is(err, eventstore.ErrInvalidArgument) ||
		errors.Is(err, eventstore.ErrStreamDeleted) ||
		errors.Is(err, eventstore.ErrClosed) ||
		errors.Is(err, ErrAccessDenied)
}

// streamFeed tracks a stream subscription by revision.
type streamFeed struct {
	stream string
	// last is the revision last delivered (or the exclusive start).
	last    uint64
	hasLast bool
}

func (f *streamFeed) opener() func(context.Context, *esdbclient.Client) (*esdbclient.Subscription, error) {
	var from esdbclient.StreamPosition = esdbclient.Start{}
	if f.hasLast {
		from = esdbclient.Revision(f.last)
	}
	stream := f.stream
	return func(ctx context.Context, c *esdbclient.Client) (*esdbclient.Subscription, error) {
		return c.SubscribeToStream(ctx, stream, esdbclient.SubscribeToStreamOptions{From: from})
	}
}

func (f *streamFeed) event(e *esdbclient.RecordedEvent) (*eventstore.Message, error) {
	if e.EventType == tombstoneType && e.EventNumber == math.MaxInt64 {
		return nil, eventstore.ErrStreamDeleted
	}
	if f.hasLast && e.EventNumber <= f.last {
		return nil, nil
	}
	f.last, f.hasLast = e.EventNumber, true
	recorded := fromRecordedEvent(e)
	return &eventstore.Message{Event: &recorded}, nil
}

// checkpoint ignores checkpoints: they belong to $all subscriptions.
func (f *streamFeed) checkpoint(esdbclient.Position) *eventstore.Message { return nil }

// dropped ends the subscription when the stream was tombstoned. The client
// hands over a dropped subscription's raw gRPC status without the trailers
// that name a deleted stream, so a refusal the message does not explain is
// checked by reading the stream.
func (f *streamFeed) dropped(ctx context.Context, s *Store, err error) error {
	failure := inspect(err)
	translated := failure.translate(err)
	if ends(translated) {
		return translated
	}
	if failure.status == codes.FailedPrecondition {
		if _, readErr := s.lastRevision(ctx, f.stream); errors.Is(readErr, eventstore.ErrStreamDeleted) {
			return eventstore.ErrStreamDeleted
		}
	}
	return nil
}

// allFeed tracks a $all subscription by position.
type allFeed struct {
	filter             *esdbclient.SubscriptionFilter
	checkpointInterval uint32
	match              func(stream, eventType string) bool
	// seen is the position up to which every event has been considered:
	// the last event or checkpoint received, or the exclusive start.
	seen    eventstore.Position
	hasSeen bool
	// checkpointed is the last checkpoint delivered.
	checkpointed    eventstore.Position
	hasCheckpointed bool
}

func (f *allFeed) opener() func(context.Context, *esdbclient.Client) (*esdbclient.Subscription, error) {
	var from esdbclient.AllPosition = esdbclient.Start{}
	if f.hasSeen {
		from = esdbclient.Position{Commit: f.seen.Commit, Prepare: f.seen.Prepare}
	}
	opts := subscribeToAllOptions(from, f.filter, f.checkpointInterval)
	return func(ctx context.Context, c *esdbclient.Client) (*esdbclient.Subscription, error) {
		return c.SubscribeToAll(ctx, opts)
	}
}

func (f *allFeed) event(e *esdbclient.RecordedEvent) (*eventstore.Message, error) {
	position := fromPosition(e.Position)
	if f.hasSeen && !f.seen.Less(position) {
		return nil, nil
	}
	f.seen, f.hasSeen = position, true
	if !f.match(e.StreamID, e.EventType) {
		return nil, nil
	}
	recorded := fromRecordedEvent(e)
	return &eventstore.Message{Event: &recorded}, nil
}

func (f *allFeed) checkpoint(p esdbclient.Position) *eventstore.Message {
	position := fromPosition(p)
	if (f.hasSeen && position.Less(f.seen)) || (f.hasCheckpointed && !f.checkpointed.Less(position)) {
		return nil
	}
	f.seen, f.hasSeen = position, true
	f.checkpointed, f.hasCheckpointed = position, true
	return &eventstore.Message{Checkpoint: &position}
}

func (f *allFeed) dropped(_ context.Context, _ *Store, err error) error {
	if translated := translate(err); ends(translated) && !errors.Is(translated, eventstore.ErrStreamDeleted) {
		return translated
	}
	return nil
}

// backoff is the delay policy for resuming subscriptions.
type backoff struct {
	min, max time.Duration
}

// delay is the wait before resume attempt n (0 for the first): min·2ⁿ
// capped at max, scaled by a jitter in [0.5, 1) drawn from unit (a uniform
// number in [0, 1)), so that it never collapses to zero and subscribers
// dropped together spread out.
func (b backoff) delay(n int, unit float64) time.Duration {
	d := b.min
	for i := 0; i < n && d < b.max; i++ {
		if d > b.max/2 {
			d = b.max
			break
		}
		d *= 2
	}
	half := d / 2
	return half + time.Duration(unit*float64(d-half))
}
