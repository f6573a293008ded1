package bolt

import (
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
)

// TestOverflowDuringCatchUpIsReadAgain stages the race a catching-up
// subscriber runs: its queue overflows, it reads to the end of the log,
// and another event commits (and is dropped) before it goes live. That
// event must still arrive.
func TestOverflowDuringCatchUpIsReadAgain(t *testing.T) {
	s, err := Open(t.TempDir(), Options{SubscriptionBuffer: 1})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	sub, err := s.SubscribeAll(ctx, eventstore.SubscribeAllOptions{})
	if err != nil {
		t.Fatalf("SubscribeAll: %v", err)
	}
	defer sub.Close()
	bs := sub.(*subscription)
	for range 2 { // the second push overflows the queue of one
		if _, err := s.Append(ctx, "s", eventstore.Any, events(1)...); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	atEnd, err := bs.catchUpAll()
	if err != nil || !atEnd {
		t.Fatalf("catch-up read: at end %v, %v", atEnd, err)
	}
	late := events(1)
	if _, err := s.Append(ctx, "s", eventstore.Any, late...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	bs.goLive()

	got := make(chan eventstore.Message, 8)
	go func() {
		for {
			m, err := sub.Recv()
			if err != nil {
				return
			}
			got <- m
		}
	}()
	var seen []eventstore.Message
	for {
		select {
		case m := <-got:
			seen = append(seen, m)
			if m.Event != nil && m.Event.ID == late[0].ID {
				// Still catching up: the late event is a past one by then.
				if len(seen) != 3 || seen[0].Event == nil || seen[1].Event == nil {
					t.Fatalf("messages %+v, want the two events and then the late one", seen)
				}
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the event dropped during catch-up never arrived; got %+v", seen)
		}
	}
}

// TestEventsPushedDuringCatchUpAreNotRepeated: an event committed after
// subscribing reaches the subscriber both by push and by its catch-up read;
// it must be delivered once.
func TestEventsPushedDuringCatchUpAreNotRepeated(t *testing.T) {
	for _, kind := range []string{"$all", "stream"} {
		t.Run(kind, func(t *testing.T) {
			s, err := Open(t.TempDir(), Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			ctx := t.Context()
			var sub eventstore.Subscription
			if kind == "$all" {
				sub, err = s.SubscribeAll(ctx, eventstore.SubscribeAllOptions{})
			} else {
				sub, err = s.SubscribeStream(ctx, "s", eventstore.SubscribeStreamOptions{})
			}
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			defer sub.Close()
			first, second := events(1), events(1)
			if _, err := s.Append(ctx, "s", eventstore.NoStream, first...); err != nil {
				t.Fatalf("Append: %v", err)
			}
			// Recv reads the first event from disk; it is in the queue too.
			for _, want := range []string{"first", "caught-up"} {
				m, err := sub.Recv()
				if err != nil || (want == "first") != (m.Event != nil && m.Event.ID == first[0].ID) || (want == "caught-up") != m.CaughtUp {
					t.Fatalf("message %+v, %v; want %s", m, err, want)
				}
			}
			if _, err := s.Append(ctx, "s", eventstore.Exact(0), second...); err != nil {
				t.Fatalf("Append: %v", err)
			}
			if m, err := sub.Recv(); err != nil || m.Event == nil || m.Event.ID != second[0].ID {
				t.Fatalf("message %+v, %v; want the second event", m, err)
			}
		})
	}
}
