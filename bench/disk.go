package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// syncBlockSize is the size of one durable append in the fsync probe: one
// page, the smallest write a store's commit can make.
const syncBlockSize = 4 << 10

// seqWriteChunk is the size of one write in the sequential-write probe.
const seqWriteChunk = 1 << 20

// DiskResult is what the disk itself can do, measured before any store, so
// the store's figures can be read as a fraction of the hardware's limits.
type DiskResult struct {
	// FsyncPerSecond is 4 KiB appends each followed by fdatasync, per second:
	// the ceiling of a store that syncs every append on its own.
	FsyncPerSecond float64 `json:"fsync_per_s"`
	// SeqWriteMBPerSecond is sequential writes of 1 MiB ending in one sync, in MB/s (10^6 bytes).
	SeqWriteMBPerSecond float64 `json:"seq_write_mb_s"`
}

// measureDisk runs both disk probes in dir.
func measureDisk(ctx context.Context, dir string, syncFor time.Duration, seqBytes int64) (DiskResult, error) {
	fsyncs, err := measureFsync(ctx, filepath.Join(dir, "fsync.probe"), syncFor)
	if err != nil {
		return DiskResult{}, err
	}
	seq, err := measureSeqWrite(ctx, filepath.Join(dir, "seq.probe"), seqBytes)
	if err != nil {
		return DiskResult{}, err
	}
	return DiskResult{FsyncPerSecond: fsyncs, SeqWriteMBPerSecond: seq}, nil
}

// measureFsync appends 4 KiB blocks to a new file, syncing the data after
// each, for the given duration, and returns syncs per second.
func measureFsync(ctx context.Context, path string, duration time.Duration) (float64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(path)
	defer f.Close()
	block := make([]byte, syncBlockSize)
	for i := range block {
		block[i] = byte(i)
	}
	var syncs int
	start := time.Now()
	deadline := start.Add(duration)
	for syncs == 0 || time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if _, err := f.Write(block); err != nil {
			return 0, fmt.Errorf("fsync probe: write: %w", err)
		}
		if err := datasync(f); err != nil {
			return 0, fmt.Errorf("fsync probe: sync: %w", err)
		}
		syncs++
	}
	return perSecond(syncs, time.Since(start)), f.Close()
}

// measureSeqWrite writes size bytes in 1 MiB chunks and syncs once,
// returning MB/s including the sync, so the page cache cannot flatter it.
func measureSeqWrite(ctx context.Context, path string, size int64) (float64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("sequential write probe: %w", err)
	}
	defer os.Remove(path)
	defer f.Close()
	chunk := make([]byte, seqWriteChunk)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	start := time.Now()
	var written int64
	for written < size {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := f.Write(chunk[:min(int64(len(chunk)), size-written)])
		if err != nil {
			return 0, fmt.Errorf("sequential write probe: write: %w", err)
		}
		written += int64(n)
	}
	if err := datasync(f); err != nil {
		return 0, fmt.Errorf("sequential write probe: sync: %w", err)
	}
	return float64(written) / 1e6 / time.Since(start).Seconds(), f.Close()
}

// perSecond turns a count over an elapsed time into a rate.
func perSecond(n int, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(n) / elapsed.Seconds()
}
