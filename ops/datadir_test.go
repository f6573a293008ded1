package ops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeDisk plays a file system's answers.
func fakeDisk(d *DataDir, space Space, spaceErr, probeErr error) *DataDir {
	d.space = func(string) (Space, error) { return space, spaceErr }
	d.probe = func(string) error { return probeErr }
	return d
}

func TestDataDirCheck(t *testing.T) {
	const dir = "/srv/continuum/data"
	roomy := Space{Free: 10 << 30, Capacity: 100 << 30}
	pathErr := func(errno syscall.Errno) error {
		return &fs.PathError{Op: "write", Path: filepath.Join(dir, probeName+"123"), Err: errno}
	}
	tests := []struct {
		name     string
		space    Space
		spaceErr error
		probeErr error
		want     error
		wantText string
	}{
		{name: "room and writable", space: roomy},
		{name: "below the minimum free", space: Space{Free: 5 << 20, Capacity: 100 << 30}, want: ErrDataDirFull, wantText: "5.0 MiB free"},
		{name: "write fails with no space", space: roomy, probeErr: pathErr(syscall.ENOSPC), want: ErrDataDirFull},
		{name: "quota exceeded", space: roomy, probeErr: pathErr(syscall.EDQUOT), want: ErrDataDirFull},
		{name: "read-only file system", space: roomy, probeErr: pathErr(syscall.EROFS), want: ErrDataDirReadOnly},
		{name: "I/O error", space: roomy, probeErr: pathErr(syscall.EIO), want: ErrDataDirUnwritable, wantText: "input/output error"},
		{name: "free space unknown, writable", spaceErr: errors.ErrUnsupported},
		{name: "free space unknown, read-only", spaceErr: errors.ErrUnsupported, probeErr: pathErr(syscall.EROFS), want: ErrDataDirReadOnly},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := fakeDisk(NewDataDir(dir, 0), tc.space, tc.spaceErr, tc.probeErr)
			err := d.Check(context.Background())
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Check = %v, want %v", err, tc.want)
			}
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("Check = %q, want it to say %q", err, tc.wantText)
			}
			if strings.Contains(err.Error(), dir) {
				t.Errorf("Check = %q names the directory", err)
			}
		})
	}
}

func TestDiskFaultReadsFlattenedErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{name: "wrapped errno", err: fmt.Errorf("commit: %w", syscall.ENOSPC), want: ErrDataDirFull},
		{name: "errno flattened into text", err: fmt.Errorf("event store unavailable: bolt commit: %v", &fs.PathError{Op: "write", Path: "events.db", Err: syscall.EROFS}), want: ErrDataDirReadOnly},
		{name: "not a disk error", err: errors.New("connection refused")},
		{name: "no error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := DiskFault(tc.err)
			if !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
				t.Fatalf("DiskFault(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestDataDirOnARealDirectory(t *testing.T) {
	dir := t.TempDir()
	d := NewDataDir(dir, 1)
	if err := d.Check(context.Background()); err != nil {
		t.Fatalf("Check on a temp dir: %v", err)
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("the probe left %d files behind", len(left))
	}
	if s, err := diskSpace(dir); err == nil && (s.Capacity == 0 || s.Free > s.Capacity) {
		t.Errorf("diskSpace = %+v: free must be within a non-zero capacity", s)
	} else if err != nil && !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("diskSpace: %v", err)
	}
	missing := NewDataDir(filepath.Join(dir, "gone"), 1)
	if err := missing.Check(context.Background()); !errors.Is(err, ErrDataDirUnwritable) {
		t.Fatalf("Check on a missing dir = %v, want ErrDataDirUnwritable", err)
	}
}

func TestDataDirMetrics(t *testing.T) {
	tests := []struct {
		name      string
		space     Space
		spaceErr  error
		probeErr  error
		wantCount int
		writable  float64
	}{
		{name: "healthy", space: Space{Free: 3 << 30, Capacity: 8 << 30}, wantCount: 3, writable: 1},
		{name: "read-only", space: Space{Free: 3 << 30, Capacity: 8 << 30}, probeErr: syscall.EROFS, wantCount: 3, writable: 0},
		{name: "space unknown", spaceErr: errors.ErrUnsupported, wantCount: 1, writable: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			d := fakeDisk(NewDataDir(t.TempDir(), 0), tc.space, tc.spaceErr, tc.probeErr)
			if err := d.Register(reg); err != nil {
				t.Fatal(err)
			}
			n, err := testutil.GatherAndCount(reg)
			if err != nil || n != tc.wantCount {
				t.Fatalf("gathered %d series (%v), want %d", n, err, tc.wantCount)
			}
			families, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, f := range families {
				got[f.GetName()] = f.GetMetric()[0].GetGauge().GetValue()
			}
			if got["continuum_data_dir_writable"] != tc.writable {
				t.Errorf("writable = %v, want %v", got["continuum_data_dir_writable"], tc.writable)
			}
			if tc.spaceErr == nil && (got["continuum_data_dir_free_bytes"] != float64(tc.space.Free) || got["continuum_data_dir_capacity_bytes"] != float64(tc.space.Capacity)) {
				t.Errorf("space gauges %v, want %+v", got, tc.space)
			}
		})
	}
}
