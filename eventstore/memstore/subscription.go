package memstore

import (
	"context"
	"sort"
	"sync"

	"github.com/continuum-care/continuum/eventstore"
)

// subscription pulls its messages from the store's log on Recv; it holds no
// buffer and no goroutine, so a slow subscriber costs writers nothing.
type subscription struct {
	store *Store
	ctx   context.Context
	// next finds the next message under the store's lock; ok is false when
	// the subscription has seen everything written so far.
	next     func() (msg eventstore.Message, ok bool, err error)
	caughtUp bool

	closeOnce sync.Once
	closed    chan struct{}
}

func (s *Store) subscribe(ctx context.Context, next func() (eventstore.Message, bool, error)) *subscription {
	return &subscription{store: s, ctx: ctx, next: next, closed: make(chan struct{})}
}

// SubscribeStream implements eventstore.Store.
func (s *Store) SubscribeStream(ctx context.Context, name string, opts eventstore.SubscribeStreamOptions) (eventstore.Subscription, error) {
	if err := validStream(name); err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()

	var revision uint64 // the next revision to deliver
	if r, ok := opts.From.Revision(); ok {
		revision = max(r+1, r) // r+1 without wrapping to 0
	} else if opts.From.IsEnd() {
		revision = uint64(s.streams[name].last() + 1)
	}
	return s.subscribe(ctx, func() (eventstore.Message, bool, error) {
		st := s.streams[name]
		if st == nil {
			return eventstore.Message{}, false, nil
		}
		if st.tombstoned {
			return eventstore.Message{}, false, deleted(name)
		}
		revision = max(revision, st.visibleFrom)
		if revision >= uint64(len(st.events)) {
			return eventstore.Message{}, false, nil
		}
		e := copyEvent(s.log[st.events[revision]])
		revision++
		return eventstore.Message{Event: &e}, true, nil
	}), nil
}

// SubscribeAll implements eventstore.Store.
func (s *Store) SubscribeAll(ctx context.Context, opts eventstore.SubscribeAllOptions) (eventstore.Subscription, error) {
	match, err := opts.Filter.Matcher()
	if err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()

	// index is the next log index to consider: the first after opts.From.
	index := sort.Search(len(s.log), func(i int) bool { return opts.From.Less(s.log[i].Position) })
	interval := 0 // events skipped between checkpoints; 0 for no checkpoints
	if opts.Filter != nil {
		interval = int(opts.CheckpointInterval)
		if interval == 0 {
			interval = defaultCheckpointInterval
		}
	}
	skipped := 0
	return s.subscribe(ctx, func() (eventstore.Message, bool, error) {
		for ; index < len(s.log); index++ {
			e := s.log[index]
			if match(e.Stream, e.Type) {
				index++
				skipped = 0
				e = copyEvent(e)
				return eventstore.Message{Event: &e}, true, nil
			}
			if skipped++; interval > 0 && skipped == interval {
				index++
				skipped = 0
				return eventstore.Message{Checkpoint: &e.Position}, true, nil
			}
		}
		return eventstore.Message{}, false, nil
	}), nil
}

// Recv implements eventstore.Subscription.
func (sub *subscription) Recv() (eventstore.Message, error) {
	for {
		select {
		case <-sub.closed:
			return eventstore.Message{}, eventstore.ErrClosed
		default:
		}
		if err := sub.ctx.Err(); err != nil {
			return eventstore.Message{}, err
		}
		s := sub.store
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return eventstore.Message{}, eventstore.ErrClosed
		}
		msg, ok, err := sub.next()
		appended := s.appended
		s.mu.Unlock()
		switch {
		case err != nil:
			return eventstore.Message{}, err
		case ok:
			return msg, nil
		case !sub.caughtUp:
			sub.caughtUp = true
			return eventstore.Message{CaughtUp: true}, nil
		}
		select {
		case <-appended:
		case <-sub.ctx.Done():
		case <-sub.closed:
		case <-s.done:
		}
	}
}

// Close implements eventstore.Subscription.
func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() { close(sub.closed) })
	return nil
}
