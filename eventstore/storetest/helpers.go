package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/google/uuid"
)

// waitTimeout bounds every wait for a subscription message. It is generous on
// purpose: it only turns a hang into a failure and asserts no latency.
const waitTimeout = 5 * time.Second

// fixture is one test's store and the prefix that makes its stream names
// unique, so tests can share a server and still see only their own events.
type fixture struct {
	t      *testing.T
	store  eventstore.Store
	prefix string
}

// setup opens a store for one test and closes it when the test ends.
func setup(t *testing.T, h Harness) *fixture {
	t.Helper()
	s := h.New(t)
	if s == nil {
		t.Fatal("Harness.New returned nil")
	}
	t.Cleanup(func() { _ = s.Close() })
	return &fixture{t: t, store: s, prefix: "st" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16] + "-"}
}

// on is the fixture for a subtest sharing f's store, so that its helpers
// fail the subtest, not its parent.
func (f *fixture) on(t *testing.T) *fixture {
	g := *f
	g.t = t
	return &g
}

// stream names a stream of this test.
func (f *fixture) stream(name string) string { return f.prefix + name }

// ownFilter keeps only this test's streams in $all reads and subscriptions.
func (f *fixture) ownFilter() *eventstore.Filter {
	return &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{f.prefix}}
}

// newEvents returns n events of type typ with fresh IDs and distinct payloads.
func newEvents(n int, typ string) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		id := uuid.New()
		out[i] = eventstore.EventData{
			ID:          id,
			Type:        typ,
			ContentType: eventstore.ContentTypeJSON,
			Data:        fmt.Appendf(nil, `{"n":%d,"id":%q}`, i, id),
			Metadata:    fmt.Appendf(nil, `{"m":%d}`, i),
		}
	}
	return out
}

func (f *fixture) append(stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) eventstore.AppendResult {
	f.t.Helper()
	res, err := f.store.Append(f.t.Context(), stream, expected, events...)
	if err != nil {
		f.t.Fatalf("Append(%s, expected %s, %d events): %v", stream, expected, len(events), err)
	}
	return res
}

func (f *fixture) read(stream string, opts eventstore.ReadStreamOptions) []eventstore.RecordedEvent {
	f.t.Helper()
	got, err := f.store.ReadStream(f.t.Context(), stream, opts)
	if err != nil {
		f.t.Fatalf("ReadStream(%s, %+v): %v", stream, opts, err)
	}
	return got
}

// readAllOwn reads $all forwards from Start, keeping this test's events only.
func (f *fixture) readAllOwn() []eventstore.RecordedEvent {
	f.t.Helper()
	got, err := f.store.ReadAll(f.t.Context(), eventstore.ReadAllOptions{From: eventstore.Start, Filter: f.ownFilter()})
	if err != nil {
		f.t.Fatalf("ReadAll(own streams): %v", err)
	}
	return got
}

// requireEvents checks that got holds exactly want, in order, in stream,
// starting at revision first.
func requireEvents(t *testing.T, got []eventstore.RecordedEvent, stream string, first uint64, want []eventstore.EventData) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events %v, want %d %v", len(got), recordedIDs(got), len(want), dataIDs(want))
	}
	for i, w := range want {
		g := got[i]
		contentType := w.ContentType
		if contentType == "" {
			contentType = eventstore.ContentTypeJSON
		}
		switch {
		case g.ID != w.ID:
			t.Fatalf("event %d: ID %s, want %s", i, g.ID, w.ID)
		case g.Stream != stream:
			t.Fatalf("event %d: stream %q, want %q", i, g.Stream, stream)
		case g.Revision != first+uint64(i):
			t.Fatalf("event %d: revision %d, want %d", i, g.Revision, first+uint64(i))
		case g.Type != w.Type:
			t.Fatalf("event %d: type %q, want %q", i, g.Type, w.Type)
		case g.ContentType != contentType:
			t.Fatalf("event %d: content type %q, want %q", i, g.ContentType, contentType)
		case !bytes.Equal(g.Data, w.Data):
			t.Fatalf("event %d: data %q, want %q", i, g.Data, w.Data)
		case !bytes.Equal(g.Metadata, w.Metadata):
			t.Fatalf("event %d: metadata %q, want %q", i, g.Metadata, w.Metadata)
		}
	}
}

// requireIDs checks the event IDs of got, in order.
func requireIDs(t *testing.T, got []eventstore.RecordedEvent, want ...uuid.UUID) {
	t.Helper()
	ids := recordedIDs(got)
	if len(ids) != len(want) {
		t.Fatalf("got events %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("got events %v, want %v", ids, want)
		}
	}
}

// requireIncreasing checks that positions strictly increase along events.
func requireIncreasing(t *testing.T, events []eventstore.RecordedEvent) {
	t.Helper()
	for i := 1; i < len(events); i++ {
		if !events[i-1].Position.Less(events[i].Position) {
			t.Fatalf("position of event %d (%s) is not after that of event %d (%s)", i, events[i].Position, i-1, events[i-1].Position)
		}
	}
}

func recordedIDs(events []eventstore.RecordedEvent) []uuid.UUID {
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

func dataIDs(events []eventstore.EventData) []uuid.UUID {
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

// requireWrongExpected checks that err is the wrong-expected-version error of
// an append or deletion of stream at expected, reporting actual as the
// stream's revision.
func requireWrongExpected(t *testing.T, err error, stream string, expected eventstore.ExpectedRevision, actual int64) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("error %v, want ErrWrongExpectedVersion", err)
	}
	var wev *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wev) {
		t.Fatalf("error %v (%T) is not a *WrongExpectedVersionError", err, err)
	}
	if wev.Stream != stream || wev.Expected != expected || wev.Actual != actual {
		t.Fatalf("wrong expected version reports stream %q, expected %s, actual %d; want %q, %s, %d",
			wev.Stream, wev.Expected, wev.Actual, stream, expected, actual)
	}
}

// requireErrorIs checks that err matches target.
func requireErrorIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
}

// requireNotFound checks that reading stream answers ErrStreamNotFound.
func (f *fixture) requireNotFound(stream string) {
	f.t.Helper()
	_, err := f.store.ReadStream(f.t.Context(), stream, eventstore.ReadStreamOptions{})
	requireErrorIs(f.t, err, eventstore.ErrStreamNotFound)
}

// received is one result of Subscription.Recv.
type received struct {
	msg eventstore.Message
	err error
}

// feed reads a subscription on its own goroutine so the test can wait for
// messages with a timeout instead of hanging on Recv.
type feed struct {
	t        *testing.T
	sub      eventstore.Subscription
	messages chan received
	caughtUp int
}

// follow starts reading sub; the test's cleanup closes it and waits for the
// reader to stop.
func follow(t *testing.T, sub eventstore.Subscription) *feed {
	t.Helper()
	f := &feed{t: t, sub: sub, messages: make(chan received)}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			msg, err := sub.Recv()
			select {
			case f.messages <- received{msg, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		_ = sub.Close()
		select {
		case <-stopped:
		case <-time.After(waitTimeout):
			t.Errorf("Recv still blocked %s after the subscription was closed", waitTimeout)
		}
	})
	return f
}

// next waits for the next message or error.
func (f *feed) next() received {
	f.t.Helper()
	select {
	case r := <-f.messages:
		if r.err != nil {
			return r
		}
		kinds := 0
		for _, set := range []bool{r.msg.Event != nil, r.msg.CaughtUp, r.msg.Checkpoint != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			f.t.Fatalf("message %+v is not exactly one of event, caught-up, checkpoint", r.msg)
		}
		if r.msg.CaughtUp {
			f.caughtUp++
			if f.caughtUp > 1 {
				f.t.Fatal("subscription reported caught-up twice")
			}
		}
		return r
	case <-time.After(waitTimeout):
		f.t.Fatalf("no subscription message within %s", waitTimeout)
		return received{}
	}
}

// stallCheck fails the test when messages keep coming but none of them is
// what the test waits for (an endless run of checkpoints, say).
type stallCheck time.Time

func newStallCheck() stallCheck { return stallCheck(time.Now().Add(waitTimeout)) }

func (s *stallCheck) progress() { *s = newStallCheck() }

func (s stallCheck) check(t *testing.T) {
	t.Helper()
	if time.Now().After(time.Time(s)) {
		t.Fatalf("no expected subscription message within %s", waitTimeout)
	}
}

// events waits for n events that pass keep, skipping checkpoints and the
// events keep rejects (other tests' events on a shared server). It fails on
// an error, and on caught-up unless caughtUpAllowed.
func (f *feed) events(n int, keep func(*eventstore.RecordedEvent) bool, caughtUpAllowed bool) []eventstore.RecordedEvent {
	f.t.Helper()
	var out []eventstore.RecordedEvent
	stall := newStallCheck()
	for len(out) < n {
		stall.check(f.t)
		r := f.next()
		switch {
		case r.err != nil:
			f.t.Fatalf("subscription ended after %d of %d events: %v", len(out), n, r.err)
		case r.msg.CaughtUp && !caughtUpAllowed:
			f.t.Fatalf("caught-up after %d of %d past events", len(out), n)
		case r.msg.Event != nil && keep(r.msg.Event):
			out = append(out, *r.msg.Event)
			stall.progress()
		}
	}
	return out
}

// awaitCaughtUp waits for the caught-up signal, failing on any event keep accepts
// before it.
func (f *feed) awaitCaughtUp(keep func(*eventstore.RecordedEvent) bool) {
	f.t.Helper()
	for stall := newStallCheck(); ; stall.check(f.t) {
		r := f.next()
		switch {
		case r.err != nil:
			f.t.Fatalf("subscription ended before caught-up: %v", r.err)
		case r.msg.CaughtUp:
			return
		case r.msg.Event != nil && keep(r.msg.Event):
			f.t.Fatalf("unexpected event %s at revision %d of %s before caught-up", r.msg.Event.ID, r.msg.Event.Revision, r.msg.Event.Stream)
		}
	}
}

// end waits for the subscription to end and returns its error, failing on
// any event keep accepts before it.
func (f *feed) end(keep func(*eventstore.RecordedEvent) bool) error {
	f.t.Helper()
	for stall := newStallCheck(); ; stall.check(f.t) {
		r := f.next()
		if r.err != nil {
			return r.err
		}
		if r.msg.Event != nil && keep(r.msg.Event) {
			f.t.Fatalf("unexpected event %s at revision %d of %s", r.msg.Event.ID, r.msg.Event.Revision, r.msg.Event.Stream)
		}
	}
}

// inStream keeps the events of one stream.
func inStream(stream string) func(*eventstore.RecordedEvent) bool {
	return func(e *eventstore.RecordedEvent) bool { return e.Stream == stream }
}

// withPrefix keeps the events of the streams starting with prefix.
func withPrefix(prefix string) func(*eventstore.RecordedEvent) bool {
	return func(e *eventstore.RecordedEvent) bool { return strings.HasPrefix(e.Stream, prefix) }
}

// anyEvent keeps every event.
func anyEvent(*eventstore.RecordedEvent) bool { return true }
