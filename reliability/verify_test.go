package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/projections"
)

// openOffline verifies the embedded store file in dir (whole, consistent)
// and opens it; the server using it must have exited.
func openOffline(t testing.TB, dir string) *bolt.Store {
	t.Helper()
	if _, err := bolt.Verify(filepath.Join(dir, bolt.FileName)); err != nil {
		t.Fatalf("the store file is damaged: %v", err)
	}
	store, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatalf("reopening the store: %v", err)
	}
	return store
}

// checkAcks fails the test for every acknowledged command whose last event
// is not in the log where its answer put it, and returns how many were
// checked.
func checkAcks(t testing.TB, store eventstore.Store, acks []ack) int {
	t.Helper()
	ctx := context.Background()
	missing := 0
	for _, a := range acks {
		events, err := store.ReadStream(ctx, a.stream, eventstore.ReadStreamOptions{From: eventstore.At(a.revision), Max: 1})
		ok := err == nil && len(events) == 1 && events[0].Position == a.position && events[0].Type == a.lastType
		if ok {
			continue
		}
		missing++
		if missing <= 5 {
			t.Errorf("acknowledged %s (%s at revision %d, position %s) is not in the log: %v",
				a.step, a.lastType, a.revision, a.position, err)
		}
	}
	if missing > 5 {
		t.Errorf("... %d acknowledged commands missing in all", missing)
	}
	return len(acks)
}

// truncatedStore shows a store as it was at a position: reads and
// subscriptions of $all end there. A rebuild from zero over it stops
// exactly where a running server's census was taken, even though the
// server (or its seat releaser) went on writing afterwards.
type truncatedStore struct {
	eventstore.Store
	last eventstore.Position
}

func (s truncatedStore) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	if opts.Direction == eventstore.Backwards && s.last.Less(opts.From) {
		opts.From = s.last
	}
	events, err := s.Store.ReadAll(ctx, opts)
	kept := events[:0]
	for _, e := range events {
		if !s.last.Less(e.Position) {
			kept = append(kept, e)
		}
	}
	return kept, err
}

func (s truncatedStore) SubscribeAll(ctx context.Context, opts eventstore.SubscribeAllOptions) (eventstore.Subscription, error) {
	sub, err := s.Store.SubscribeAll(ctx, opts)
	if err != nil {
		return nil, err
	}
	return truncatedSubscription{Subscription: sub, last: s.last}, nil
}

// truncatedSubscription drops what lies after the truncation point.
type truncatedSubscription struct {
	eventstore.Subscription
	last eventstore.Position
}

func (s truncatedSubscription) Recv() (eventstore.Message, error) {
	for {
		m, err := s.Subscription.Recv()
		if err != nil {
			return m, err
		}
		if m.Event != nil && s.last.Less(m.Event.Position) {
			continue
		}
		if m.Checkpoint != nil && s.last.Less(*m.Checkpoint) {
			continue
		}
		return m, nil
	}
}

// rebuildTimeout bounds a rebuild from zero of a test's log.
const rebuildTimeout = 60 * time.Second

// rebuildCensus replays the store from zero up to upTo into fresh
// projections (no snapshot) and renders the census for the same clinical
// day as the server's census, the only input of the view besides the log.
func rebuildCensus(t testing.TB, store eventstore.Store, upTo eventstore.Position, served []byte) []byte {
	t.Helper()
	var head struct {
		Today string `json:"today"`
	}
	if err := json.Unmarshal(served, &head); err != nil || head.Today == "" {
		t.Fatalf("the served census has no day (%v): %.200s", err, served)
	}
	day, err := time.Parse(time.DateOnly, head.Today)
	if err != nil {
		t.Fatalf("the served census's day: %v", err)
	}
	noon := day.Add(12 * time.Hour)
	runner, err := projections.New(projections.Options{
		Store:    truncatedStore{Store: store, last: upTo},
		Location: time.UTC,
		Now:      func() time.Time { return noon },
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rebuildTimeout)
	defer cancel()
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer runner.Stop()
	if err := runner.WaitReady(ctx); err != nil {
		t.Fatalf("rebuilding from zero: %v", err)
	}
	data, _, err := runner.View(projections.CensusTopic)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// compareCensus fails the test unless the served census equals the
// rebuild's byte for byte, showing where they part.
func compareCensus(t testing.TB, what string, served, rebuilt []byte) {
	t.Helper()
	if bytes.Equal(served, rebuilt) {
		return
	}
	i := 0
	for i < len(served) && i < len(rebuilt) && served[i] == rebuilt[i] {
		i++
	}
	from := max(0, i-80)
	t.Errorf("%s: the census differs from a rebuild from zero at byte %d:\nserved:  …%s\nrebuilt: …%s",
		what, i, clip(served[from:], 240), clip(rebuilt[from:], 240))
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
