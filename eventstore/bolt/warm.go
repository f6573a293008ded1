package bolt

import (
	"os"

	bbolt "go.etcd.io/bbolt"
	"sync/atomic"
	"time"
)

// Long forward reads (a replay of $all, a catch-up subscription from far
// back) walk bbolt's memory map, which bbolt advises as random access: when
// the file is not in the page cache, every 4 KiB page comes back through its
// own major fault, and a replay becomes bound by the disk's latency instead
// of its bandwidth (BENCHMARKS.md, "Cold replays": a cold 10M-event scan
// took 11–50 s instead of 2 s). warmUp reads the file ahead sequentially in
// the background, in large chunks, skipping chunks already resident, so the
// scan's faults find the pages in the page cache.
var (
	// warmThreshold is how many events a forward read must have ahead of it
	// before the file is warmed: short reads are not worth a file pass.
	warmThreshold uint64 = 250_000
	// warmMinFileSize skips small files; they come back quickly anyway.
	warmMinFileSize int64 = 64 << 20
	// trimEvery is how many bytes of records long scans read between two
	// trims of the memory map's resident pages.
	trimEvery int64 = 256 << 20
	// warmCooldown is how long after a warm-up the next one may start, so a
	// paged replay (many reads from advancing positions) warms the file once.
	warmCooldown = 30 * time.Second
)

// warmChunk is the size of each read ahead.
const warmChunk = 4 << 20

// warmer runs at most one warm-up at a time.
type warmer struct {
	running  atomic.Bool
	lastDone atomic.Int64 // unix nanoseconds when the last warm-up ended
	passes   atomic.Int64 // warm-ups started, for tests
	read     atomic.Int64 // bytes read from disk by warm-ups, for tests
	// sinceTrim counts record bytes scanned since the last trim.
	sinceTrim atomic.Int64
	trims     atomic.Int64 // for tests
}

// scanned notes n bytes of records read by a scan in tx. Every trimEvery
// bytes it drops the memory map's pages from the process (they stay in the
// page cache), so a replay of a file larger than memory does not count the
// whole file in the process's resident set: a long replay's resident
// memory stays its own (heap, stacks) plus at most about trimEvery of the map.
func (s *Store) scanned(tx *bbolt.Tx, n int) {
	if s.warm.sinceTrim.Add(int64(n)) < trimEvery {
		return
	}
	s.warm.sinceTrim.Store(0)
	s.warm.trims.Add(1)
	// Inside a read transaction the mapping cannot move (a remap waits
	// for every reader), so the range below is mapped.
	trimMapping(s.db.Info().Data, tx.Size())
}

// maybeWarm starts a warm-up of the data file when a forward read from
// sequence number first has at least warmThreshold events ahead of it.
func (s *Store) maybeWarm(first, last uint64) {
	if last < first || last-first < warmThreshold {
		return
	}
	if time.Since(time.Unix(0, s.warm.lastDone.Load())) < warmCooldown {
		return
	}
	if !s.warm.running.CompareAndSwap(false, true) {
		return
	}
	s.warm.passes.Add(1)
	go func() {
		defer func() {
			s.warm.lastDone.Store(time.Now().UnixNano())
			s.warm.running.Store(false)
		}()
		s.warmFile()
	}()
}

// warmFile reads the data file front to back, stopping when the store closes.
// It only reads; errors just end the warm-up (the scan faults pages in itself).
func (s *Store) warmFile() {
	f, err := os.Open(s.db.Path())
	if err != nil {
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() < warmMinFileSize {
		return
	}
	resident := residency(f, info.Size())
	defer resident.close()
	buf := make([]byte, warmChunk)
	for off := int64(0); off < info.Size(); off += warmChunk {
		select {
		case <-s.closing:
			return
		default:
		}
		n := min(int64(warmChunk), info.Size()-off)
		if resident.all(off, n) {
			continue
		}
		got, err := f.ReadAt(buf[:n], off)
		s.warm.read.Add(int64(got))
		if err != nil {
			return
		}
	}
}
