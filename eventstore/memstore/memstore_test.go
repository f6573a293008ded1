package memstore_test

import (
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/eventstore/storetest"
	"github.com/google/uuid"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) eventstore.Store { return memstore.New() },
	})
}

// TestIdleSubscriberNeitherBlocksWritersNorLosesEvents covers what the suite
// leaves to each store: memstore keeps no per-subscriber buffer, so writers
// never wait for a subscriber that does not read, and it drops no one.
func TestIdleSubscriberNeitherBlocksWritersNorLosesEvents(t *testing.T) {
	s := memstore.New()
	t.Cleanup(func() { _ = s.Close() })
	sub, err := s.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{})
	if err != nil {
		t.Fatalf("SubscribeAll: %v", err)
	}
	t.Cleanup(func() { _ = sub.Close() })

	const appends = 2000
	written := make(chan []uuid.UUID, 1)
	go func() {
		var ids []uuid.UUID
		defer func() { written <- ids }()
		for i := range appends {
			expected := eventstore.NoStream
			if i > 0 {
				expected = eventstore.Exact(uint64(i - 1))
			}
			id := uuid.New()
			if _, err := s.Append(t.Context(), "idle", expected, eventstore.EventData{ID: id, Type: "E"}); err != nil {
				t.Errorf("Append %d: %v", i, err)
				return
			}
			ids = append(ids, id)
		}
	}()
	var ids []uuid.UUID
	select {
	case ids = <-written:
	case <-time.After(5 * time.Second):
		t.Fatal("appends did not finish within 5s while a subscriber was idle")
	}
	if len(ids) != appends {
		t.Fatalf("wrote %d of %d appends", len(ids), appends)
	}
	for i := 0; i < len(ids); {
		msg, err := sub.Recv()
		switch {
		case err != nil:
			t.Fatalf("Recv after %d events: %v", i, err)
		case msg.CaughtUp:
			// It may come anywhere: the events were written after subscribing.
		case msg.Event == nil || msg.Event.ID != ids[i]:
			t.Fatalf("message %+v, want event %d (%s)", msg, i, ids[i])
		default:
			i++
		}
	}
}
