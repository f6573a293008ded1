package esdb

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
)

func TestBackoffDelay(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	tests := []struct {
		name    string
		backoff backoff
		attempt int
		unit    float64
		want    time.Duration
	}{
		{"first, least jitter", b, 0, 0, 50 * time.Millisecond},
		{"first, most jitter", b, 0, 1, 100 * time.Millisecond},
		{"doubles", b, 3, 1, 800 * time.Millisecond},
		{"capped", b, 5, 1, 2 * time.Second},
		{"capped, least jitter", b, 5, 0, time.Second},
		{"huge attempt stays capped", b, math.MaxInt32, 1, 2 * time.Second},
		{"huge maximum does not overflow", backoff{min: time.Second, max: math.MaxInt64}, 200, 0, math.MaxInt64 / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.backoff.delay(tt.attempt, tt.unit)
			if got != tt.want {
				t.Fatalf("delay(%d, %g) = %s, want %s", tt.attempt, tt.unit, got, tt.want)
			}
		})
	}
}

func recordedInStream(stream string, revision uint64, eventType string) *esdbclient.RecordedEvent {
	return &esdbclient.RecordedEvent{
		EventID:     uuid.New(),
		EventType:   eventType,
		ContentType: eventstore.ContentTypeJSON,
		StreamID:    stream,
		EventNumber: revision,
		Position:    esdbclient.Position{Commit: 64 * (revision + 1), Prepare: 64 * (revision + 1)},
	}
}

func TestStreamFeedDeliversEachRevisionOnce(t *testing.T) {
	tests := []struct {
		name string
		feed streamFeed
		// revisions received, in order, e.g. across a resume.
		received []uint64
		want     []uint64
		from     esdbclient.StreamPosition
	}{
		{"from the start", streamFeed{stream: "s"}, []uint64{0, 1, 2}, []uint64{0, 1, 2}, esdbclient.Revision(2)},
		{"exclusive start", streamFeed{stream: "s", last: 4, hasLast: true}, []uint64{4, 5}, []uint64{5}, esdbclient.Revision(5)},
		{"repeat after a resume", streamFeed{stream: "s"}, []uint64{0, 1, 0, 1, 2}, []uint64{0, 1, 2}, esdbclient.Revision(2)},
		{"nothing yet resumes from the start", streamFeed{stream: "s"}, nil, nil, esdbclient.Start{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.feed
			var got []uint64
			for _, r := range tt.received {
				msg, err := f.event(recordedInStream("s", r, "GroupSessionHeld"))
				if err != nil {
					t.Fatalf("event(%d): %v", r, err)
				}
				if msg != nil {
					got = append(got, msg.Event.Revision)
				}
			}
			if !equalRevisions(got, tt.want) {
				t.Fatalf("delivered %v, want %v", got, tt.want)
			}
			from := esdbclient.StreamPosition(esdbclient.Start{})
			if f.hasLast {
				from = esdbclient.Revision(f.last)
			}
			if from != tt.from {
				t.Fatalf("would resume from %#v, want %#v", from, tt.from)
			}
		})
	}
}

func equalRevisions(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStreamFeedEndsAtTheTombstone(t *testing.T) {
	f := streamFeed{stream: "s"}
	if _, err := f.event(recordedInStream("s", math.MaxInt64, tombstoneType)); !errors.Is(err, eventstore.ErrStreamDeleted) {
		t.Fatalf("tombstone record gave %v, want ErrStreamDeleted", err)
	}
	msg, err := f.event(recordedInStream("s", 3, tombstoneType))
	if err != nil || msg == nil {
		t.Fatalf("a user event typed %s at revision 3 gave (%v, %v), want it delivered", tombstoneType, msg, err)
	}
}

// allStep is one delivery from the server to an allFeed.
type allStep struct {
	// event is the stream of an event at position at; empty for a checkpoint.
	event string
	at    uint64
}

func TestAllFeed(t *testing.T) {
	keepGroups := func(stream, _ string) bool { return len(stream) > 6 && stream[:6] == "group-" }
	everything := func(string, string) bool { return true }
	tests := []struct {
		name  string
		feed  allFeed
		steps []allStep
		// want lists what is delivered: "e@N" an event at N, "c@N" a checkpoint.
		want   []string
		resume eventstore.Position
	}{
		{"events in order", allFeed{match: everything},
			[]allStep{{"group-1", 64}, {"patient-1", 128}},
			[]string{"e@64", "e@128"}, eventstore.Position{Commit: 128, Prepare: 128}},
		{"exclusive start", allFeed{match: everything, seen: eventstore.Position{Commit: 64, Prepare: 64}, hasSeen: true},
			[]allStep{{"group-1", 64}, {"group-1", 128}},
			[]string{"e@128"}, eventstore.Position{Commit: 128, Prepare: 128}},
		{"repeats after a resume are dropped", allFeed{match: everything},
			[]allStep{{"group-1", 64}, {"group-1", 128}, {"group-1", 64}, {"group-1", 128}, {"group-1", 192}},
			[]string{"e@64", "e@128", "e@192"}, eventstore.Position{Commit: 192, Prepare: 192}},
		{"filtered out here but still seen", allFeed{match: keepGroups},
			[]allStep{{"patient-1", 64}, {"group-1", 128}, {"patient-2", 192}},
			[]string{"e@128"}, eventstore.Position{Commit: 192, Prepare: 192}},
		{"checkpoints advance the resume point", allFeed{match: keepGroups},
			[]allStep{{"group-1", 64}, {"", 640}},
			[]string{"e@64", "c@640"}, eventstore.Position{Commit: 640, Prepare: 640}},
		{"checkpoints only increase", allFeed{match: keepGroups},
			[]allStep{{"", 640}, {"", 320}, {"", 640}, {"group-1", 704}, {"", 704}, {"", 768}},
			[]string{"c@640", "e@704", "c@704", "c@768"}, eventstore.Position{Commit: 768, Prepare: 768}},
		{"a checkpoint behind the last event is stale", allFeed{match: everything},
			[]allStep{{"group-1", 640}, {"", 320}},
			[]string{"e@640"}, eventstore.Position{Commit: 640, Prepare: 640}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.feed
			var got []string
			for _, step := range tt.steps {
				p := esdbclient.Position{Commit: step.at, Prepare: step.at}
				if step.event == "" {
					if msg := f.checkpoint(p); msg != nil {
						got = append(got, "c@"+strconv.FormatUint(msg.Checkpoint.Commit, 10))
					}
					continue
				}
				e := &esdbclient.RecordedEvent{EventID: uuid.New(), EventType: "MemberJoined", StreamID: step.event, Position: p}
				msg, err := f.event(e)
				if err != nil {
					t.Fatalf("event: %v", err)
				}
				if msg != nil {
					got = append(got, "e@"+strconv.FormatUint(msg.Event.Position.Commit, 10))
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("delivered %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("delivered %v, want %v", got, tt.want)
				}
			}
			if !f.hasSeen || f.seen != tt.resume {
				t.Fatalf("resume point %s (set %t), want %s", f.seen, f.hasSeen, tt.resume)
			}
		})
	}
}
