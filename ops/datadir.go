package ops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMinFreeBytes is the free space below which the data directory
// counts as full. The embedded store grows its file in 16 MiB steps and
// the projections rewrite their whole snapshot, so with less than this the
// next growth or snapshot may fail mid-way.
const DefaultMinFreeBytes = 128 << 20

// The ways a data directory can refuse writes; Check and DiskFault wrap
// them, and their text is what /readyz shows.
var (
	// ErrDataDirFull: no room left (or less than the minimum) for the store to grow.
	ErrDataDirFull = errors.New("the data directory's disk is full")
	// ErrDataDirReadOnly: the file system was mounted or remounted read-only,
	// as Linux does after an I/O error.
	ErrDataDirReadOnly = errors.New("the data directory is read-only")
	// ErrDataDirUnwritable: writes fail for another reason (permissions, I/O errors).
	ErrDataDirUnwritable = errors.New("the data directory cannot be written")
)

// Space is a file system's room, in bytes.
type Space struct {
	// Free is what an unprivileged writer may still use.
	Free uint64
	// Capacity is the file system's size.
	Capacity uint64
}

// DataDir watches the directory holding the store, the key store and the
// snapshots: whether a write would succeed now, and how much room is left.
type DataDir struct {
	dir     string
	minFree uint64
	// space and probe are the file system calls, replaced in tests to play
	// a full or read-only disk (root ignores permissions, so a test cannot
	// make a directory read-only without mounting).
	space func(dir string) (Space, error)
	probe func(dir string) error
}

// NewDataDir watches dir; below minFreeBytes free it counts as full (0
// means DefaultMinFreeBytes).
func NewDataDir(dir string, minFreeBytes uint64) *DataDir {
	if minFreeBytes == 0 {
		minFreeBytes = DefaultMinFreeBytes
	}
	return &DataDir{dir: dir, minFree: minFreeBytes, space: diskSpace, probe: probeWrite}
}

// Check reports whether the store can write to the directory now: nil, or
// an error wrapping ErrDataDirFull, ErrDataDirReadOnly or
// ErrDataDirUnwritable whose text is safe to show (it names no path).
// It writes, fsyncs and removes a small file, so it finds what an append
// would find; it is cheap enough for every readiness probe.
func (d *DataDir) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s, err := d.space(d.dir); err == nil && s.Free < d.minFree {
		return fmt.Errorf("%w: %s free, less than the %s the store needs to grow", ErrDataDirFull, formatBytes(s.Free), formatBytes(d.minFree))
	}
	if err := d.probe(d.dir); err != nil {
		if fault := DiskFault(err); fault != nil {
			return fault
		}
		return fmt.Errorf("%w: %v", ErrDataDirUnwritable, withoutPath(err))
	}
	return nil
}

// probeName prefixes the probe files; nothing else in a data directory starts so.
const probeName = ".continuum-probe-"

// probeSize is one file system block: an empty file can often still be
// created on a full disk, a block of data cannot.
const probeSize = 4096

// probeWrite writes, syncs and removes a file in dir.
func probeWrite(dir string) (err error) {
	f, err := os.CreateTemp(dir, probeName+"*")
	if err != nil {
		return err
	}
	defer func() {
		if rerr := os.Remove(f.Name()); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if _, err := f.Write(make([]byte, probeSize)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// DiskFault recognises a failed write caused by the disk: it returns the
// error wrapped in ErrDataDirFull or ErrDataDirReadOnly, or nil when err is
// something else (a network store's outage, a refusal). It also reads
// errors that were flattened into text on their way up (the embedded
// store reports storage failures with the system error's message).
func DiskFault(err error) error {
	if err == nil {
		return nil
	}
	for _, fault := range []struct {
		errno syscall.Errno
		kind  error
	}{
		{syscall.ENOSPC, ErrDataDirFull},
		{syscall.EDQUOT, ErrDataDirFull},
		{syscall.EROFS, ErrDataDirReadOnly},
	} {
		if errors.Is(err, fault.errno) || strings.Contains(err.Error(), fault.errno.Error()) {
			return fmt.Errorf("%w (%v)", fault.kind, fault.errno)
		}
	}
	return nil
}

// withoutPath drops the path from a file system error: the data
// directory's location is the operator's business, not a probe's answer.
func withoutPath(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}

// formatBytes prints a byte count in binary units for a reason text.
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Register adds the directory's gauges to reg: free and total bytes of its
// file system (for the disk-nearly-full alert and its trend) and whether a
// write succeeds (for the read-only alert), all measured at scrape time.
func (d *DataDir) Register(reg prometheus.Registerer) error {
	return reg.Register(dataDirCollector{d})
}

var (
	dataDirFreeDesc = prometheus.NewDesc("continuum_data_dir_free_bytes",
		"Bytes still free for the data directory's file system (what an unprivileged writer may use).", nil, nil)
	dataDirCapacityDesc = prometheus.NewDesc("continuum_data_dir_capacity_bytes",
		"Size of the data directory's file system.", nil, nil)
	dataDirWritableDesc = prometheus.NewDesc("continuum_data_dir_writable",
		"1 if a probe file could be written and synced in the data directory at scrape time, else 0.", nil, nil)
)

// dataDirCollector measures at scrape time, so the numbers are never stale
// and nothing runs between scrapes.
type dataDirCollector struct{ d *DataDir }

func (c dataDirCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dataDirFreeDesc
	ch <- dataDirCapacityDesc
	ch <- dataDirWritableDesc
}

func (c dataDirCollector) Collect(ch chan<- prometheus.Metric) {
	if s, err := c.d.space(c.d.dir); err == nil {
		ch <- prometheus.MustNewConstMetric(dataDirFreeDesc, prometheus.GaugeValue, float64(s.Free))
		ch <- prometheus.MustNewConstMetric(dataDirCapacityDesc, prometheus.GaugeValue, float64(s.Capacity))
	}
	writable := 1.0
	if c.d.probe(c.d.dir) != nil {
		writable = 0
	}
	ch <- prometheus.MustNewConstMetric(dataDirWritableDesc, prometheus.GaugeValue, writable)
}
