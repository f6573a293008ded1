package bolt_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// openStore opens a store in dir and closes it when the test ends.
func openStore(t *testing.T, dir string, opts bolt.Options) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newEvents(n int, eventType string) []eventstore.EventData {
	events := make([]eventstore.EventData, n)
	for i := range events {
		id := uuid.New()
		events[i] = eventstore.EventData{ID: id, Type: eventType, Data: fmt.Appendf(nil, `{"id":%q}`, id)}
	}
	return events
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), stream, expected, events...)
	if err != nil {
		t.Fatalf("Append(%s, %s): %v", stream, expected, err)
	}
	return res
}

func readIDs(t *testing.T, s eventstore.Store, stream string) []uuid.UUID {
	t.Helper()
	events, err := s.ReadStream(t.Context(), stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatalf("ReadStream(%s): %v", stream, err)
	}
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

func readAll(t *testing.T, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	events, err := s.ReadAll(t.Context(), eventstore.ReadAllOptions{From: eventstore.Start})
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	return events
}

func ids(events []eventstore.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func requireSameIDs(t *testing.T, got, want []uuid.UUID) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d is %s, want %s", i, got[i], want[i])
		}
	}
}

func requireWrongExpected(t *testing.T, err error, actual int64) {
	t.Helper()
	var wev *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wev) || !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("error %v, want a wrong expected version", err)
	}
	if wev.Actual != actual {
		t.Fatalf("actual revision %d, want %d", wev.Actual, actual)
	}
}

func TestReopenSeesEverything(t *testing.T) {
	dir := t.TempDir()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	a, b := newEvents(3, "A"), newEvents(2, "B")
	mustAppend(t, s, "patient-1", eventstore.NoStream, a...)
	mustAppend(t, s, "group-1", eventstore.NoStream, b...)
	if err := s.Delete(t.Context(), "group-1", eventstore.Exact(1)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Tombstone(t.Context(), "patient-2", eventstore.Any); err != nil {
		t.Fatalf("Tombstone: %v", err)
	}
	before := readAll(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openStore(t, dir, bolt.Options{})
	after := readAll(t, s)
	if len(after) != len(before) {
		t.Fatalf("after reopen $all holds %d events, before %d", len(after), len(before))
	}
	for i := range before {
		if after[i].ID != before[i].ID || after[i].Position != before[i].Position || after[i].Stream != before[i].Stream ||
			after[i].Revision != before[i].Revision || !after[i].Created.Equal(before[i].Created) {
			t.Fatalf("event %d differs after reopen: %+v, before %+v", i, after[i], before[i])
		}
	}
	requireSameIDs(t, readIDs(t, s, "patient-1"), ids(a))
	if _, err := s.ReadStream(t.Context(), "group-1", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("soft-deleted stream after reopen: %v, want ErrStreamNotFound", err)
	}
	if _, err := s.Append(t.Context(), "patient-2", eventstore.Any, newEvents(1, "X")...); !errors.Is(err, eventstore.ErrStreamDeleted) {
		t.Fatalf("append to tombstoned stream after reopen: %v, want ErrStreamDeleted", err)
	}
	// Revisions and positions continue where they were.
	res := mustAppend(t, s, "patient-1", eventstore.Exact(2), newEvents(1, "A")...)
	if res.NextExpectedRevision != 3 || !before[len(before)-1].Position.Less(res.Position) {
		t.Fatalf("append after reopen: %+v, after last position %s", res, before[len(before)-1].Position)
	}
}

func TestSoftDelete(t *testing.T) {
	cases := []struct {
		name     string
		expected eventstore.ExpectedRevision
		// err is the append's error after the delete; nil means it recreates the stream.
		err    error
		actual int64
	}{
		// KurrentDB: a soft-deleted stream may be recreated with NoStream,
		// its last revision or Any; StreamExists answers stream deleted.
		{name: "NoStream recreates", expected: eventstore.NoStream},
		{name: "last revision recreates", expected: eventstore.Exact(1)},
		{name: "Any recreates", expected: eventstore.Any},
		{name: "StreamExists is deleted", expected: eventstore.StreamExists, err: eventstore.ErrStreamDeleted},
		{name: "earlier revision is wrong", expected: eventstore.Exact(0), err: eventstore.ErrWrongExpectedVersion, actual: 1},
		{name: "next revision is wrong", expected: eventstore.Exact(2), err: eventstore.ErrWrongExpectedVersion, actual: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t, t.TempDir(), bolt.Options{})
			old := newEvents(2, "Old")
			mustAppend(t, s, "s", eventstore.NoStream, old...)
			if err := s.Delete(t.Context(), "s", eventstore.Exact(1)); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := s.ReadStream(t.Context(), "s", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
				t.Fatalf("read after delete: %v, want ErrStreamNotFound", err)
			}
			// $all keeps the events until a scavenge, as KurrentDB does.
			requireSameIDs(t, allIDs(readAll(t, s)), ids(old))

			again := newEvents(2, "New")
			res, err := s.Append(t.Context(), "s", tc.expected, again...)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("append after delete: %v, want %v", err, tc.err)
				}
				if errors.Is(tc.err, eventstore.ErrWrongExpectedVersion) {
					requireWrongExpected(t, err, tc.actual)
				}
				if _, err := s.ReadStream(t.Context(), "s", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
					t.Fatalf("read after refused append: %v, want ErrStreamNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("append after delete: %v", err)
			}
			if res.NextExpectedRevision != 3 {
				t.Fatalf("recreated stream at revision %d, want 3 (revisions continue)", res.NextExpectedRevision)
			}
			got, err := s.ReadStream(t.Context(), "s", eventstore.ReadStreamOptions{})
			if err != nil {
				t.Fatalf("ReadStream: %v", err)
			}
			if len(got) != 2 || got[0].Revision != 2 || got[0].ID != again[0].ID || got[1].ID != again[1].ID {
				t.Fatalf("recreated stream reads %+v, want the new events at revisions 2 and 3", got)
			}
			back, err := s.ReadStream(t.Context(), "s", eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd})
			if err != nil || len(back) != 2 || back[1].Revision != 2 {
				t.Fatalf("backwards read of recreated stream: %+v, %v", back, err)
			}
			if early, err := s.ReadStream(t.Context(), "s", eventstore.ReadStreamOptions{From: eventstore.At(0)}); err != nil || len(early) != 2 {
				t.Fatalf("read from a hidden revision: %d events, %v; want the 2 visible ones", len(early), err)
			}
			if hidden, err := s.ReadStream(t.Context(), "s", eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.At(1)}); err != nil || len(hidden) != 0 {
				t.Fatalf("backwards read from a hidden revision: %d events, %v; want none", len(hidden), err)
			}
		})
	}
}

func allIDs(events []eventstore.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func TestDeleteExpectedRevision(t *testing.T) {
	cases := []struct {
		name     string
		existing int
		expected eventstore.ExpectedRevision
		err      error
		actual   int64
	}{
		// KurrentDB checks a delete like an append of one new event.
		{name: "Any on absent stream", expected: eventstore.Any},
		{name: "NoStream on absent stream", expected: eventstore.NoStream},
		{name: "StreamExists on absent stream", expected: eventstore.StreamExists, err: eventstore.ErrWrongExpectedVersion, actual: -1},
		{name: "Exact on absent stream", expected: eventstore.Exact(0), err: eventstore.ErrWrongExpectedVersion, actual: -1},
		{name: "last revision", existing: 3, expected: eventstore.Exact(2)},
		{name: "earlier revision", existing: 3, expected: eventstore.Exact(1), err: eventstore.ErrWrongExpectedVersion, actual: 2},
		{name: "NoStream on existing stream", existing: 3, expected: eventstore.NoStream, err: eventstore.ErrWrongExpectedVersion, actual: 2},
		{name: "StreamExists on existing stream", existing: 3, expected: eventstore.StreamExists},
	}
	for _, tc := range cases {
		for _, kind := range []string{"delete", "tombstone"} {
			t.Run(kind+" "+tc.name, func(t *testing.T) {
				t.Parallel()
				s := openStore(t, t.TempDir(), bolt.Options{})
				if tc.existing > 0 {
					mustAppend(t, s, "s", eventstore.NoStream, newEvents(tc.existing, "E")...)
				}
				remove := s.Delete
				if kind == "tombstone" {
					remove = s.Tombstone
				}
				err := remove(t.Context(), "s", tc.expected)
				if tc.err == nil {
					if err != nil {
						t.Fatalf("%s: %v", kind, err)
					}
				} else {
					requireWrongExpected(t, err, tc.actual)
				}
				_, readErr := s.ReadStream(t.Context(), "s", eventstore.ReadStreamOptions{})
				switch {
				case tc.err == nil && kind == "tombstone":
					if !errors.Is(readErr, eventstore.ErrStreamDeleted) {
						t.Fatalf("read after tombstone: %v, want ErrStreamDeleted", readErr)
					}
				case tc.err == nil || tc.existing == 0:
					if !errors.Is(readErr, eventstore.ErrStreamNotFound) {
						t.Fatalf("read: %v, want ErrStreamNotFound", readErr)
					}
				case readErr != nil:
					t.Fatalf("a refused %s hid the stream: %v", kind, readErr)
				}
			})
		}
	}
}

func TestTombstoneIsForever(t *testing.T) {
	s := openStore(t, t.TempDir(), bolt.Options{})
	mustAppend(t, s, "s", eventstore.NoStream, newEvents(2, "E")...)
	if err := s.Delete(t.Context(), "s", eventstore.Any); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Tombstone(t.Context(), "s", eventstore.Any); err != nil {
		t.Fatalf("Tombstone of a soft-deleted stream: %v", err)
	}
	ctx := t.Context()
	calls := []struct {
		name string
		call func() error
	}{
		{"append Any", func() error { _, err := s.Append(ctx, "s", eventstore.Any, newEvents(1, "E")...); return err }},
		{"append NoStream", func() error { _, err := s.Append(ctx, "s", eventstore.NoStream, newEvents(1, "E")...); return err }},
		{"empty append", func() error { _, err := s.Append(ctx, "s", eventstore.Any); return err }},
		{"read", func() error { _, err := s.ReadStream(ctx, "s", eventstore.ReadStreamOptions{}); return err }},
		{"delete", func() error { return s.Delete(ctx, "s", eventstore.Any) }},
		{"tombstone", func() error { return s.Tombstone(ctx, "s", eventstore.Any) }},
		{"subscribe", func() error {
			_, err := s.SubscribeStream(ctx, "s", eventstore.SubscribeStreamOptions{})
			return err
		}},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, eventstore.ErrStreamDeleted) {
			t.Errorf("%s: %v, want ErrStreamDeleted", c.name, err)
		}
	}
}

// TestIdempotencyWindow shows the bounds of idempotency with Any: like
// KurrentDB the store remembers recent event IDs only, but it remembers
// them across a restart.
func TestIdempotencyWindow(t *testing.T) {
	dir := t.TempDir()
	s, err := bolt.Open(dir, bolt.Options{IdempotencyWindow: 3})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	first := newEvents(2, "E")
	mustAppend(t, s, "s", eventstore.Any, first...)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openStore(t, dir, bolt.Options{IdempotencyWindow: 3})
	res := mustAppend(t, s, "s", eventstore.Any, first...)
	if res.NextExpectedRevision != 1 {
		t.Fatalf("retry after reopen: NextExpectedRevision %d, want 1", res.NextExpectedRevision)
	}
	requireSameIDs(t, readIDs(t, s, "s"), ids(first))

	// Two more events push the first one out of a window of three.
	more := newEvents(2, "E")
	mustAppend(t, s, "s", eventstore.Any, more...)
	mustAppend(t, s, "s", eventstore.Any, first...)
	requireSameIDs(t, readIDs(t, s, "s"), ids(append(append(append([]eventstore.EventData(nil), first...), more...), first...)))
	// An exact expected revision compares with the stream itself, so it
	// recognizes a retry however old.
	res = mustAppend(t, s, "s", eventstore.NoStream, first...)
	if res.NextExpectedRevision != 1 {
		t.Fatalf("old retry with NoStream: NextExpectedRevision %d, want 1", res.NextExpectedRevision)
	}
}

func TestOpenLockedDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir, bolt.Options{})
	_, err := bolt.Open(dir, bolt.Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("second Open: %v, want ErrUnavailable for a locked file", err)
	}
}

func TestClosedStore(t *testing.T) {
	s, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mustAppend(t, s, "s", eventstore.NoStream, newEvents(1, "E")...)
	sub, err := s.SubscribeAll(t.Context(), eventstore.SubscribeAllOptions{From: eventstore.End})
	if err != nil {
		t.Fatalf("SubscribeAll: %v", err)
	}
	if m, err := sub.Recv(); err != nil || !m.CaughtUp {
		t.Fatalf("first message %+v, %v; want caught-up", m, err)
	}
	ended := make(chan error, 1)
	go func() {
		_, err := sub.Recv()
		ended <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-ended; !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("live subscription after Close: %v, want ErrClosed", err)
	}
	ctx := t.Context()
	if _, err := s.Append(ctx, "s", eventstore.Any, newEvents(1, "E")...); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if _, err := s.ReadStream(ctx, "s", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("ReadStream after Close: %v", err)
	}
	if _, err := s.ReadAll(ctx, eventstore.ReadAllOptions{}); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("ReadAll after Close: %v", err)
	}
	if err := s.Delete(ctx, "s", eventstore.Any); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("Delete after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestConcurrentAppendsToOneStream races writers on one stream with exact
// expected revisions: each revision is won by exactly one of them.
func TestConcurrentAppendsToOneStream(t *testing.T) {
	s := openStore(t, t.TempDir(), bolt.Options{})
	const writers, rounds = 8, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range writers {
		wg.Go(func() {
			for range rounds {
				for {
					last, err := s.ReadStream(t.Context(), "s", eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd, Max: 1})
					expected := eventstore.NoStream
					switch {
					case err == nil:
						expected = eventstore.Exact(last[0].Revision)
					case !errors.Is(err, eventstore.ErrStreamNotFound):
						t.Errorf("ReadStream: %v", err)
						return
					}
					_, err = s.Append(t.Context(), "s", expected, newEvents(1, "E")...)
					if err == nil {
						mu.Lock()
						won++
						mu.Unlock()
						break
					}
					if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
						t.Errorf("Append: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	events, err := s.ReadStream(t.Context(), "s", eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatalf("ReadStream: %v", err)
	}
	if len(events) != writers*rounds || won != writers*rounds {
		t.Fatalf("stream holds %d events after %d successful appends, want %d", len(events), won, writers*rounds)
	}
}

// TestStreamReadsAcrossIndexChunks reads a long stream, written in appends of
// varied sizes between appends to another stream, from every revision in both
// directions, and compares with what $all says the stream holds.
func TestStreamReadsAcrossIndexChunks(t *testing.T) {
	cases := []struct {
		name string
		// deleteAt soft-deletes the stream after that many appends (0: never).
		deleteAt int
	}{
		{name: "whole stream"},
		{name: "recreated after a soft delete", deleteAt: 37},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s, err := bolt.Open(dir, bolt.Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			for i := range 90 {
				if i == tc.deleteAt && i > 0 {
					if err := s.Delete(t.Context(), "s", eventstore.Any); err != nil {
						t.Fatalf("Delete: %v", err)
					}
				}
				mustAppend(t, s, "s", eventstore.Any, newEvents(1+i%4, "E")...)
				if i%3 == 0 {
					mustAppend(t, s, "other", eventstore.Any, newEvents(1, "E")...)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s = openStore(t, dir, bolt.Options{})
			var all []eventstore.RecordedEvent
			for _, e := range readAll(t, s) {
				if e.Stream == "s" {
					all = append(all, e)
				}
			}
			visible := all
			if tc.deleteAt > 0 {
				hidden := 0
				for i := range tc.deleteAt {
					hidden += 1 + i%4
				}
				visible = all[hidden:]
			}
			first := visible[0].Revision
			last := all[len(all)-1].Revision
			for from := uint64(0); from <= last+1; from++ {
				for _, max := range []uint64{0, 1, 7} {
					for _, dir := range []eventstore.Direction{eventstore.Forwards, eventstore.Backwards} {
						var want []eventstore.RecordedEvent
						if dir == eventstore.Forwards {
							for _, e := range visible {
								if e.Revision >= from && (max == 0 || uint64(len(want)) < max) {
									want = append(want, e)
								}
							}
						} else {
							for i := len(visible) - 1; i >= 0; i-- {
								if e := visible[i]; e.Revision <= from && (max == 0 || uint64(len(want)) < max) {
									want = append(want, e)
								}
							}
						}
						got, err := s.ReadStream(t.Context(), "s", eventstore.ReadStreamOptions{Direction: dir, From: eventstore.At(from), Max: max})
						if err != nil {
							t.Fatalf("ReadStream from %d: %v", from, err)
						}
						if len(got) != len(want) {
							t.Fatalf("from %d dir %d max %d (visible from %d): %d events, want %d", from, dir, max, first, len(got), len(want))
						}
						for i := range want {
							if got[i].ID != want[i].ID || got[i].Revision != want[i].Revision || got[i].Position != want[i].Position {
								t.Fatalf("from %d dir %d max %d: event %d is revision %d, want %d", from, dir, max, i, got[i].Revision, want[i].Revision)
							}
						}
					}
				}
			}
		})
	}
}
