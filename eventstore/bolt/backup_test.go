package bolt_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// gateWriter holds the backup's first write until released, so the test
// can append while the backup's transaction is open.
type gateWriter struct {
	buf     bytes.Buffer
	once    sync.Once
	started chan struct{}
	release chan struct{}
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.once.Do(func() {
		close(g.started)
		<-g.release
	})
	return g.buf.Write(p)
}

// writeStoreFile writes data as a store directory's file and returns the directory.
func writeStoreFile(t *testing.T, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, bolt.FileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBackupIsConsistentWhileAppending(t *testing.T) {
	s := openStore(t, t.TempDir(), bolt.Options{})
	for i := range 20 {
		mustAppend(t, s, "patient-"+uuid.NewString(), eventstore.NoStream, newEvents(5, "Referred")...)
		if i%2 == 0 {
			mustAppend(t, s, "group-a", eventstore.Any, newEvents(1, "MemberJoined")...)
		}
	}
	before := readAll(t, s)

	gate := &gateWriter{started: make(chan struct{}), release: make(chan struct{})}
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := s.Backup(gate)
		done <- result{n, err}
	}()
	<-gate.started
	// The backup's transaction is open: these appends must not reach it.
	var during []eventstore.EventData
	for range 10 {
		events := newEvents(3, "MeasureRecorded")
		mustAppend(t, s, "patient-"+uuid.NewString(), eventstore.NoStream, events...)
		during = append(during, events...)
	}
	close(gate.release)
	res := <-done
	if res.err != nil {
		t.Fatalf("Backup: %v", res.err)
	}
	if res.n != int64(gate.buf.Len()) {
		t.Fatalf("Backup reported %d bytes, wrote %d", res.n, gate.buf.Len())
	}

	dir := writeStoreFile(t, gate.buf.Bytes())
	sum, err := bolt.Verify(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if sum.Events != uint64(len(before)) || sum.Last != before[len(before)-1].Position || sum.Bytes != res.n {
		t.Fatalf("Verify = %+v, want %d events up to %v in %d bytes", sum, len(before), before[len(before)-1].Position, res.n)
	}

	copied := openStore(t, dir, bolt.Options{})
	got := readAll(t, copied)
	if len(got) != len(before) {
		t.Fatalf("the copy holds %d events, want the %d committed before the backup", len(got), len(before))
	}
	for i := range got {
		if got[i].ID != before[i].ID || got[i].Position != before[i].Position || got[i].Revision != before[i].Revision || !bytes.Equal(got[i].Data, before[i].Data) {
			t.Fatalf("event %d of the copy is %v@%v, want %v@%v", i, got[i].ID, got[i].Position, before[i].ID, before[i].Position)
		}
	}
	if ids := readIDs(t, copied, "group-a"); len(ids) != 10 {
		t.Fatalf("group-a in the copy has %d events, want 10", len(ids))
	}
	// The copy is a working store: it continues the stream revisions.
	res2 := mustAppend(t, copied, "group-a", eventstore.Exact(9), during[0])
	if res2.NextExpectedRevision != 10 {
		t.Fatalf("append to the copy: next revision %d, want 10", res2.NextExpectedRevision)
	}
	// The original kept every append made during the backup.
	if n := len(readAll(t, s)); n != len(before)+len(during) {
		t.Fatalf("the original holds %d events, want %d", n, len(before)+len(during))
	}
}

func TestBackupOfClosedStore(t *testing.T) {
	s, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(&bytes.Buffer{}); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Backup after Close = %v, want ErrClosed", err)
	}
}

// backupBytes returns a backup of a store holding a few events.
func backupBytes(t *testing.T) []byte {
	t.Helper()
	s := openStore(t, t.TempDir(), bolt.Options{})
	for range 50 {
		mustAppend(t, s, "patient-"+uuid.NewString(), eventstore.NoStream, newEvents(4, "Referred")...)
	}
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// foreignBoltFile writes a bbolt file that is not an event store.
func foreignBoltFile(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("keys"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scramblePages returns a copy of a store file with every page after the
// two meta pages overwritten with noise, headers included.
func scramblePages(file []byte) []byte {
	out := append([]byte(nil), file...)
	for i := 2 * os.Getpagesize(); i < len(out); i++ {
		out[i] ^= byte(i*131) | 1
	}
	return out
}

func TestVerifyRejectsWhatIsNotAWholeStore(t *testing.T) {
	good := backupBytes(t)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{name: "empty file", data: nil, want: "not a store file"},
		{name: "garbage", data: bytes.Repeat([]byte("not a store "), 4096), want: "not a store file"},
		{name: "truncated copy", data: good[:len(good)/2], want: "truncated"},
		{name: "another bbolt file", data: foreignBoltFile(t), want: "not an event store"},
		{name: "scrambled pages", data: scramblePages(good), want: "bolt: verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeStoreFile(t, tc.data)
			sum, err := bolt.Verify(filepath.Join(dir, bolt.FileName))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %+v, %v; want an error saying %q", sum, err, tc.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if _, err := bolt.Verify(filepath.Join(t.TempDir(), bolt.FileName)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Verify = %v, want not-exist", err)
		}
	})
	t.Run("the whole copy", func(t *testing.T) {
		dir := writeStoreFile(t, good)
		sum, err := bolt.Verify(filepath.Join(dir, bolt.FileName))
		if err != nil || sum.Events != 200 {
			t.Fatalf("Verify = %+v, %v; want 200 events", sum, err)
		}
	})
}

func TestVerifyRefusesAFileInUse(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir, bolt.Options{})
	if _, err := bolt.Verify(filepath.Join(dir, bolt.FileName)); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("Verify of an open store's file = %v, want ErrUnavailable", err)
	}
}
