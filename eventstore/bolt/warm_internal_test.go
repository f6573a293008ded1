package bolt

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/continuum-care/continuum/eventstore"
)

// TestLongReadWarmsTheEvictedFile checks that a long forward read warms the
// data file: nothing is read while the file is in the page cache, and the
// file is read back once the kernel has dropped it.
func TestLongReadWarmsTheEvictedFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("page-cache residency is only checked on Linux")
	}
	threshold, minSize, cooldown := warmThreshold, warmMinFileSize, warmCooldown
	warmThreshold, warmMinFileSize, warmCooldown = 100, 0, 0
	t.Cleanup(func() { warmThreshold, warmMinFileSize, warmCooldown = threshold, minSize, cooldown })

	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	for range 20 {
		if _, err := s.Append(ctx, "s", eventstore.Any, events(50)...); err != nil {
			t.Fatal(err)
		}
	}
	readAll := func() {
		t.Helper()
		recs, err := s.ReadAll(ctx, eventstore.ReadAllOptions{From: eventstore.Start})
		if err != nil || len(recs) != 1000 {
			t.Fatalf("ReadAll: %d events, %v", len(recs), err)
		}
		waitWarmed(t, s)
	}

	readAll()
	if got := s.warm.passes.Load(); got != 1 {
		t.Fatalf("warm-ups after a long read = %d, want 1", got)
	}
	// The file is now resident: another long read warms nothing.
	before := s.warm.read.Load()
	readAll()
	if got := s.warm.read.Load() - before; got != 0 {
		t.Fatalf("a warm-up of a resident file read %d bytes, want 0", got)
	}
	if got := s.warm.passes.Load(); got != 2 {
		t.Fatalf("warm-ups after two long reads = %d, want 2", got)
	}

	// Short reads (fewer events ahead than the threshold) warm nothing.
	if _, err := s.ReadAll(ctx, eventstore.ReadAllOptions{From: eventstore.Position{Commit: 990, Prepare: 990}}); err != nil {
		t.Fatal(err)
	}
	waitWarmed(t, s)
	if got := s.warm.passes.Load(); got != 2 {
		t.Fatalf("warm-ups after a short read = %d, want still 2", got)
	}

	// Drop the (clean, synced) file from the page cache, then read again.
	path := filepath.Join(dir, FileName)
	evict(t, path)
	before = s.warm.read.Load()
	readAll()
	if got := s.warm.read.Load() - before; got == 0 {
		t.Fatal("a warm-up of an evicted file read nothing")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size := mustSize(t, f)
	r := residency(f, size)
	defer r.close()
	if !r.all(0, size) {
		t.Fatal("after the warm-up the file is not resident")
	}
}

func waitWarmed(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.warm.running.Load() {
		if time.Now().After(deadline) {
			t.Fatal("warm-up still running after 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func evict(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Skipf("cannot drop the file from the page cache: %v", err)
	}
	r := residency(f, mustSize(t, f))
	defer r.close()
	if r.all(0, mustSize(t, f)) {
		t.Skip("the kernel kept the whole file resident (mapped by the store); cannot test eviction here")
	}
}

func mustSize(t *testing.T, f *os.File) int64 {
	t.Helper()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// TestTrimmedMappingReadsTheSameEvents checks that dropping the memory
// map's pages from the process mid-scan changes nothing a reader sees.
func TestTrimmedMappingReadsTheSameEvents(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	for range 10 {
		if _, err := s.Append(ctx, "s", eventstore.Any, events(100)...); err != nil {
			t.Fatal(err)
		}
	}
	want, err := s.ReadAll(ctx, eventstore.ReadAllOptions{From: eventstore.Start})
	if err != nil {
		t.Fatal(err)
	}
	every := trimEvery
	trimEvery = 1 << 10
	t.Cleanup(func() { trimEvery = every })
	got, err := s.ReadAll(ctx, eventstore.ReadAllOptions{From: eventstore.Start})
	if err != nil {
		t.Fatal(err)
	}
	if s.warm.trims.Load() == 0 {
		t.Fatal("a long scan trimmed nothing")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("events read across trims differ from those read without")
	}
	// The store still appends and reads after its mapping was trimmed.
	if _, err := s.Append(ctx, "s", eventstore.Any, events(1)...); err != nil {
		t.Fatal(err)
	}
	recs, err := s.ReadStream(ctx, "s", eventstore.ReadStreamOptions{})
	if err != nil || len(recs) != 1001 {
		t.Fatalf("ReadStream after trims: %d events, %v", len(recs), err)
	}
}
