package wire

import (
	"context"
	"slices"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// delivery is one subscription message, flattened for comparison.
type delivery struct {
	kind string // "event", "caught-up" or "checkpoint"
	id   uuid.UUID
	// position is the checkpoint's.
	position esdb.Position
}

// next receives the next delivery and fails the test on a drop.
func next(t *testing.T, sub *esdb.Subscription) delivery {
	t.Helper()
	msg := sub.Recv()
	switch {
	case msg.EventAppeared != nil:
		return delivery{kind: "event", id: msg.EventAppeared.OriginalEvent().EventID}
	case msg.CaughtUp != nil:
		return delivery{kind: "caught-up"}
	case msg.CheckPointReached != nil:
		return delivery{kind: "checkpoint", position: *msg.CheckPointReached}
	case msg.SubscriptionDropped != nil:
		t.Fatalf("subscription dropped: %v", msg.SubscriptionDropped.Error)
	}
	t.Fatalf("unexpected subscription message %+v", msg)
	return delivery{}
}

func events(ids ...uuid.UUID) []delivery {
	out := make([]delivery, len(ids))
	for i, id := range ids {
		out[i] = delivery{kind: "event", id: id}
	}
	return out
}

func caughtUp() []delivery { return []delivery{{kind: "caught-up"}} }

func receive(t *testing.T, sub *esdb.Subscription, n int) []delivery {
	t.Helper()
	got := make([]delivery, n)
	for i := range got {
		got[i] = next(t, sub)
	}
	return got
}

func TestSubscribeToAllWithPrefixFilter(t *testing.T) {
	client, _, _ := startMemServer(t)
	patientA := jsonEvent("Admitted", `{}`)
	mustAppend(t, client, "patient-a", patientA)
	mustAppend(t, client, "group-x", jsonEvent("SessionHeld", `{}`))

	sub, err := client.SubscribeToAll(testContext(t), esdb.SubscribeToAllOptions{
		From:   esdb.Start{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"patient-"}},
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()

	want := slices.Concat(events(patientA.EventID), caughtUp())
	if got := receive(t, sub, len(want)); !slices.Equal(got, want) {
		t.Fatalf("catch-up = %+v, want %+v", got, want)
	}

	patientB := jsonEvent("SteppedDown", `{}`)
	mustAppend(t, client, "group-y", jsonEvent("SessionHeld", `{}`))
	mustAppend(t, client, "patient-b", patientB)
	if got := next(t, sub); got != events(patientB.EventID)[0] {
		t.Errorf("live delivery = %+v, want patient-b's event", got)
	}
}

func TestSubscribeToAllByEventTypeRegex(t *testing.T) {
	client, _, _ := startMemServer(t)
	stepDown := jsonEvent("SteppedDown", `{}`)
	stepUp := jsonEvent("SteppedUp", `{}`)
	mustAppend(t, client, "patient-r", jsonEvent("Admitted", `{}`), stepDown, jsonEvent("Discharged", `{}`), stepUp)

	sub, err := client.SubscribeToAll(testContext(t), esdb.SubscribeToAllOptions{
		From:   esdb.Start{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: "^Stepped"},
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()
	want := slices.Concat(events(stepDown.EventID, stepUp.EventID), caughtUp())
	if got := receive(t, sub, len(want)); !slices.Equal(got, want) {
		t.Errorf("deliveries = %+v, want %+v", got, want)
	}
}

// TestSubscribeToAllCheckpoints checks that the search window and the
// multiplier reach the store as KurrentDB's checkpoint interval (window ×
// multiplier scanned events).
func TestSubscribeToAllCheckpoints(t *testing.T) {
	client, _, _ := startMemServer(t)
	mustAppend(t, client, "group-c", jsonEvents("SessionHeld", 7)...)
	all, err := drain(client.ReadAll(testContext(t), esdb.ReadAllOptions{}, 100))
	if err != nil {
		t.Fatalf("read all: %v", err)
	}

	sub, err := client.SubscribeToAll(testContext(t), esdb.SubscribeToAllOptions{
		From:               esdb.Start{},
		Filter:             &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"patient-"}},
		MaxSearchWindow:    3,
		CheckpointInterval: 2,
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()

	// Nothing matches: a checkpoint after every 6 scanned events.
	want := []delivery{{kind: "checkpoint", position: all[5].Position}, {kind: "caught-up"}}
	if got := receive(t, sub, len(want)); !slices.Equal(got, want) {
		t.Errorf("deliveries = %+v, want %+v", got, want)
	}
}

func TestSubscribeToAllFromPositionIsExclusive(t *testing.T) {
	client, _, _ := startMemServer(t)
	appended := jsonEvents("Recorded", 3)
	mustAppend(t, client, "patient-p", appended...)
	all, err := drain(client.ReadAll(testContext(t), esdb.ReadAllOptions{}, 100))
	if err != nil {
		t.Fatalf("read all: %v", err)
	}

	tests := []struct {
		name string
		from esdb.AllPosition
		want []delivery
	}{
		{name: "from start", from: esdb.Start{}, want: slices.Concat(events(dataIDs(appended)...), caughtUp())},
		{name: "from an event's position", from: all[0].Position, want: slices.Concat(events(dataIDs(appended[1:])...), caughtUp())},
		{name: "from the end", from: esdb.End{}, want: caughtUp()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := client.SubscribeToAll(testContext(t), esdb.SubscribeToAllOptions{From: tt.from})
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			defer sub.Close()
			if got := receive(t, sub, len(tt.want)); !slices.Equal(got, tt.want) {
				t.Errorf("deliveries = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSubscribeToStream(t *testing.T) {
	client, _, _ := startMemServer(t)
	past := jsonEvents("AttendanceRecorded", 3)

	tests := []struct {
		name   string
		stream string
		from   esdb.StreamPosition
		want   []delivery
	}{
		{name: "from start", stream: "group-start", from: esdb.Start{}, want: slices.Concat(events(dataIDs(past)...), caughtUp())},
		{name: "from a revision, exclusive", stream: "group-revision", from: esdb.Revision(0), want: slices.Concat(events(dataIDs(past[1:])...), caughtUp())},
		{name: "from the end", stream: "group-end", from: esdb.End{}, want: caughtUp()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustAppend(t, client, tt.stream, past...)
			mustAppend(t, client, "group-other", jsonEvent("SessionHeld", `{}`))
			sub, err := client.SubscribeToStream(testContext(t), tt.stream, esdb.SubscribeToStreamOptions{From: tt.from})
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			defer sub.Close()
			if got := receive(t, sub, len(tt.want)); !slices.Equal(got, tt.want) {
				t.Fatalf("catch-up = %+v, want %+v", got, tt.want)
			}
			live := jsonEvent("AttendanceRecorded", `{}`)
			mustAppend(t, client, "group-other", jsonEvent("SessionHeld", `{}`))
			mustAppend(t, client, tt.stream, live)
			if got := next(t, sub); got != events(live.EventID)[0] {
				t.Errorf("live delivery = %+v, want the new event", got)
			}
		})
	}
}

func TestSubscribeToStreamNotYetWritten(t *testing.T) {
	client, _, _ := startMemServer(t)
	sub, err := client.SubscribeToStream(testContext(t), "patient-future", esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()
	if got := next(t, sub); got.kind != "caught-up" {
		t.Fatalf("first delivery = %+v, want caught-up", got)
	}
	first := jsonEvent("Referred", `{}`)
	mustAppend(t, client, "patient-future", first)
	if got := next(t, sub); got != events(first.EventID)[0] {
		t.Errorf("delivery = %+v, want the stream's first event", got)
	}
}

// TestSubscriptionEndsWhenClientCancels checks that the server lets go of
// the store subscription once the client leaves: the store closes the
// subscription when its context ends, so a later append must not block or
// fail, and the server keeps serving.
func TestSubscriptionEndsWhenClientCancels(t *testing.T) {
	client, _, _ := startMemServer(t)
	ctx, cancel := context.WithCancel(testContext(t))
	sub, err := client.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if got := next(t, sub); got.kind != "caught-up" {
		t.Fatalf("first delivery = %+v, want caught-up", got)
	}
	cancel()
	dropped := sub.Recv().SubscriptionDropped
	if dropped == nil || status.Code(dropped.Error) != codes.Canceled {
		t.Fatalf("after cancel: %+v, want a drop with Canceled", dropped)
	}
	mustAppend(t, client, "patient-after", jsonEvent("Referred", `{}`))
}
