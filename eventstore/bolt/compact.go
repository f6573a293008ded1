package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/internal/durable"
)

// compactTxBytes bounds the bytes of keys and values one transaction of a
// compaction copies, so its dirty pages stay well under a gigabyte.
const compactTxBytes = 64 << 20

// Compaction is what Compact did.
type Compaction struct {
	// Before and After are the store file's sizes in bytes.
	Before, After int64
}

// Compact rewrites the store file in dir with every bucket's pages in key
// order and no free pages, keeping every key, value and sequence: positions,
// revisions and IDs are unchanged, so projections and their snapshots stay
// valid. The file must not be open: Compact holds its lock throughout and
// refuses (eventstore.ErrUnavailable) when a running store holds it.
//
// A store written by many small transactions scatters the leaves of $all
// over the whole file, because bbolt reuses whichever pages the last
// commits freed; a replay then reads its pages in a random order.
// Compacted, a replay reads the file front to back (BENCHMARKS.md).
//
// The copy is written beside the file, synced, and renamed over it, so a
// crash leaves either the old file or the new one.
func Compact(dir string) (Compaction, error) {
	path := filepath.Join(dir, FileName)
	info, err := os.Stat(path)
	if err != nil {
		return Compaction{}, fmt.Errorf("bolt: compact: %w", err)
	}
	// Opened for writing only to hold the file's exclusive lock: nothing
	// is written to it.
	src, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: verifyLockTimeout, FreelistType: bbolt.FreelistMapType})
	if errors.Is(err, bbolt.ErrTimeout) {
		return Compaction{}, fmt.Errorf("bolt: compact %s: the file is in use by a running store: %w", path, eventstore.ErrUnavailable)
	}
	if err != nil {
		return Compaction{}, fmt.Errorf("bolt: compact: open %s: %w", path, err)
	}
	defer src.Close()
	if err := src.View(checkLayout); err != nil {
		return Compaction{}, fmt.Errorf("bolt: compact %s: %w", path, err)
	}
	staged := path + ".compacting"
	after, err := compactInto(src, staged)
	if err != nil {
		_ = os.Remove(staged)
		return Compaction{}, fmt.Errorf("bolt: compact %s: %w", path, err)
	}
	if err := os.Rename(staged, path); err != nil {
		_ = os.Remove(staged)
		return Compaction{}, fmt.Errorf("bolt: compact %s: %w", path, err)
	}
	if err := durable.SyncDir(dir); err != nil {
		return Compaction{}, fmt.Errorf("bolt: compact %s: %w", path, err)
	}
	return Compaction{Before: info.Size(), After: after}, nil
}

// compactInto copies src into a new file at path, synced, and returns its size.
func compactInto(src *bbolt.DB, path string) (int64, error) {
	_ = os.Remove(path) // a copy left by a crash
	// Each transaction's sync is skipped: the whole file is synced once
	// before it replaces anything.
	dst, err := bbolt.Open(path, 0o600, &bbolt.Options{NoSync: true, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return 0, err
	}
	if err := bbolt.Compact(dst, src, compactTxBytes); err != nil {
		dst.Close()
		return 0, err
	}
	if err := errors.Join(dst.Sync(), dst.Close()); err != nil {
		return 0, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}
