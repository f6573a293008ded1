package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore"
)

// leafOrder reports, for the events bucket of the store file in dir, how
// many times its records move backwards in the file when read in key order.
func leafOrder(t *testing.T, dir string) (backwards int) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		base := db.Info().Data
		last := uintptr(0)
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			at := uintptr(unsafe.Pointer(&v[0])) - base
			if at < last {
				backwards++
			}
			last = at
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return backwards
}

// TestCompactKeepsEverythingAndLaysTheLogOutInOrder writes a history the
// way a busy server does (many small appends to interleaved streams, a
// deleted and a tombstoned stream), compacts it, and checks that the store
// reads back the same, keeps refusing and accepting the same appends, and
// that $all's records now lie in the file in their order.
func TestCompactKeepsEverythingAndLaysTheLogOutInOrder(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(fmt.Sprintf(`{"note":%q}`, make([]byte, 300)))
	const streams, rounds = 40, 30
	for round := range rounds {
		for i := range streams {
			e := eventstore.EventData{ID: uuid.New(), Type: "Noted", Data: payload, Metadata: []byte(`{"r":1}`)}
			if _, err := s.Append(ctx, fmt.Sprintf("patient-%d", i), eventstore.Any, e); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	if err := s.Delete(ctx, "patient-1", eventstore.Any); err != nil {
		t.Fatal(err)
	}
	if err := s.Tombstone(ctx, "patient-2", eventstore.Any); err != nil {
		t.Fatal(err)
	}
	read := func(s *Store) (all []eventstore.RecordedEvent, byStream map[string][]eventstore.RecordedEvent) {
		all, err := s.ReadAll(ctx, eventstore.ReadAllOptions{})
		if err != nil {
			t.Fatal(err)
		}
		byStream = map[string][]eventstore.RecordedEvent{}
		for i := range streams {
			name := fmt.Sprintf("patient-%d", i)
			evs, err := s.ReadStream(ctx, name, eventstore.ReadStreamOptions{})
			if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) && !errors.Is(err, eventstore.ErrStreamDeleted) {
				t.Fatal(err)
			}
			byStream[name] = evs
		}
		return all, byStream
	}
	wantAll, wantStreams := read(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := leafOrder(t, dir); n == 0 {
		t.Log("the history happened to be laid out in order before compaction")
	}

	done, err := Compact(dir)
	if err != nil {
		t.Fatal(err)
	}
	if done.Before <= 0 || done.After <= 0 || done.After > done.Before {
		t.Errorf("compaction %+v: want a file no larger than before", done)
	}
	if n := leafOrder(t, dir); n != 0 {
		t.Errorf("after compaction $all's records move backwards in the file %d times, want 0", n)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".compacting")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the staged copy is still there: %v", err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gotAll, gotStreams := read(s)
	if !reflect.DeepEqual(gotAll, wantAll) {
		t.Fatalf("$all differs after compaction: %d events, want %d", len(gotAll), len(wantAll))
	}
	if !reflect.DeepEqual(gotStreams, wantStreams) {
		t.Fatal("streams differ after compaction")
	}
	if _, err := s.Append(ctx, "patient-2", eventstore.Any, events(1)...); !errors.Is(err, eventstore.ErrStreamDeleted) {
		t.Errorf("append to the tombstoned stream: %v, want ErrStreamDeleted", err)
	}
	res, err := s.Append(ctx, "patient-3", eventstore.Exact(rounds-1), events(1)...)
	if err != nil {
		t.Fatalf("append at the stream's revision: %v", err)
	}
	if last := wantAll[len(wantAll)-1].Position; !last.Less(res.Position) || res.NextExpectedRevision != rounds {
		t.Errorf("append after compaction at %v revision %d, want after %v at revision %d", res.Position, res.NextExpectedRevision, last, rounds)
	}
}

// TestCompactRefusesAStoreInUse: a running store's file is left alone.
func TestCompactRefusesAStoreInUse(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(context.Background(), "patient-1", eventstore.Any, events(3)...); err != nil {
		t.Fatal(err)
	}
	if _, err := Compact(dir); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("compact of an open store: %v, want ErrUnavailable", err)
	}
	evs, err := s.ReadAll(context.Background(), eventstore.ReadAllOptions{})
	if err != nil || len(evs) != 3 {
		t.Fatalf("after the refused compaction: %d events, %v", len(evs), err)
	}
}

// TestOpenThatWaitedForALockOpensTheFileThatReplacedTheLockedOne: a file
// renamed over the store's (as restore and compact do) while another open
// waits for the old file's lock is the one that open ends up with.
func TestOpenThatWaitedForALockOpensTheFileThatReplacedTheLockedOne(t *testing.T) {
	ctx := context.Background()
	dir, other := t.TempDir(), t.TempDir()
	replacement, err := Open(other, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replacement.Append(ctx, "patient-new", eventstore.Any, events(1)...); err != nil {
		t.Fatal(err)
	}
	if err := replacement.Close(); err != nil {
		t.Fatal(err)
	}
	old, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Append(ctx, "patient-old", eventstore.Any, events(1)...); err != nil {
		t.Fatal(err)
	}
	opened := make(chan *Store, 1)
	go func() {
		s, err := Open(dir, Options{LockTimeout: time.Minute})
		if err != nil {
			t.Error(err)
		}
		opened <- s
	}()
	time.Sleep(200 * time.Millisecond) // let it wait for the lock
	if err := os.Rename(filepath.Join(other, FileName), filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s := <-opened
	if s == nil {
		t.FailNow()
	}
	defer s.Close()
	if _, err := s.ReadStream(ctx, "patient-new", eventstore.ReadStreamOptions{}); err != nil {
		t.Errorf("the store that waited does not hold the replacement's stream: %v", err)
	}
}
