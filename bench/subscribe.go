package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/continuum-care/continuum/bench/workload"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// subscribeAppendSize is the events per append while a subscriber listens:
// the batch workload's size, so the writer is not the bottleneck.
const subscribeAppendSize = BatchSize

// SubscribeResult is the live-delivery workload: how long a subscriber to
// $all, filtered to one stream as a projection filters by prefix, took to
// receive Events events appended after it caught up.
type SubscribeResult struct {
	Events  int     `json:"subscribe_events"`
	Seconds float64 `json:"subscribe_seconds"`
	PerSec  float64 `json:"subscribe_eps"`
}

// measureSubscribe subscribes to $all from its end with a stream-prefix
// filter, waits for the caught-up signal, then appends n events of one group
// stream in batches and times until the subscriber has received the last.
func measureSubscribe(ctx context.Context, store eventstore.Store, history *workload.History, n int) (SubscribeResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	source := history.NextOf(domain.GroupStreamPrefix)
	sub, err := store.SubscribeAll(ctx, eventstore.SubscribeAllOptions{
		From:   eventstore.End,
		Filter: &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{source.Stream}},
	})
	if err != nil {
		return SubscribeResult{}, fmt.Errorf("subscribe to $all: %w", err)
	}
	defer sub.Close()
	for {
		m, err := sub.Recv()
		if err != nil {
			return SubscribeResult{}, fmt.Errorf("subscription before catching up: %w", err)
		}
		if m.CaughtUp {
			break
		}
	}

	start := time.Now()
	appended := make(chan error, 1)
	go func() {
		appended <- appendEvents(ctx, store, source, n, subscribeAppendSize)
	}()
	received := 0
	for received < n {
		m, err := sub.Recv()
		if err != nil {
			return SubscribeResult{}, fmt.Errorf("subscription after %d of %d events: %w", received, n, err)
		}
		if m.Event != nil {
			received++
		}
	}
	elapsed := time.Since(start)
	if err := <-appended; err != nil {
		return SubscribeResult{}, err
	}
	return SubscribeResult{Events: n, Seconds: elapsed.Seconds(), PerSec: perSecond(n, elapsed)}, nil
}

// appendEvents appends n events of the source's stream, perCall at a time.
func appendEvents(ctx context.Context, store eventstore.Store, source workload.Batch, n, perCall int) error {
	sw := newStreamWriter(store, source)
	for written := 0; written < n; written += perCall {
		if err := sw.append(ctx, min(perCall, n-written)); err != nil {
			return fmt.Errorf("append while subscribed: %w", err)
		}
	}
	return nil
}
