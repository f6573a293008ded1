package reliability

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Shape of the read-only test.
const (
	// diskImageSize is the test file system's size: room for the store's
	// first growth steps; serve is told to want only diskMinFree of it.
	diskImageSize = 96 << 20
	diskMinFree   = 1 << 20
	diskLoad      = time.Second
	diskWorkers   = 4
)

// ext4Disk makes a small ext4 file system in an image file and mounts it
// through a loop device with errors=remount-ro, the setting under which
// Linux turns a file system read-only after an I/O error. It returns the
// mount point and the image, or skips the test where that is impossible
// (not root, no mkfs.ext4, no loop devices).
func ext4Disk(t *testing.T) (mountPoint, image string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a test file system needs root")
	}
	for _, tool := range []string{"mkfs.ext4", "mount", "umount", "e2fsck"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (e2fsprogs, util-linux)", tool)
		}
	}
	image = filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(image)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(diskImageSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", image).CombinedOutput(); err != nil {
		t.Skipf("cannot make an ext4 file system: %v: %s", err, out)
	}
	mountPoint = t.TempDir()
	mountImage(t, image, mountPoint, func(err error, out []byte) {
		t.Skipf("cannot mount a loop device here: %v: %s", err, out)
	})
	t.Cleanup(func() {
		if mounted(mountPoint) {
			if out, err := exec.Command("umount", mountPoint).CombinedOutput(); err != nil {
				t.Errorf("unmounting the test file system: %v: %s", err, out)
			}
		}
	})
	return mountPoint, image
}

// mountImage mounts image on dir, calling fail when mount refuses.
func mountImage(t *testing.T, image, dir string, fail func(error, []byte)) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "loop,errors=remount-ro", image, dir).CombinedOutput(); err != nil {
		fail(err, out)
	}
}

// mountSource returns the device mounted on dir ("/dev/loop3"), or "".
func mountSource(dir string) string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[1] == dir {
			return fields[0]
		}
	}
	return ""
}

func mounted(dir string) bool { return mountSource(dir) != "" }

// failFileSystem makes ext4 record an error on the file system mounted on
// dir, which (with errors=remount-ro) aborts its journal and remounts it
// read-only at once, open files and all: what a failing disk does to a
// running server. chmod cannot stand in (root writes through it), and a
// plain remount read-only is refused while files are open for writing.
func failFileSystem(t *testing.T, dir string) {
	t.Helper()
	device := filepath.Base(mountSource(dir))
	trigger := filepath.Join("/sys/fs/ext4", device, "trigger_fs_error")
	if err := os.WriteFile(trigger, []byte("continuum reliability test\n"), 0); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			t.Skipf("this kernel has no %s to fail a file system with", trigger)
		}
		t.Fatalf("failing the test file system: %v", err)
	}
}

// TestDataDirTurnsReadOnly runs serve on a small ext4 file system that
// turns read-only under it, as Linux does after an I/O error: /readyz
// answers 503 naming the cause, commands are refused with a clear 503 and
// never a 500, the process stays up and stops cleanly. After a file system
// check the store file is whole, every acknowledged command is in it, and
// the server starts on it again, ready, taking commands, its census equal
// to a rebuild from zero.
func TestDataDirTurnsReadOnly(t *testing.T) {
	mountPoint, image := ext4Disk(t)
	dir := filepath.Join(mountPoint, "data")
	srv := startServer(t, serverOptions{dataDir: dir, minFreeBytes: diskMinFree})
	srv.waitReady()
	ctx, cancel := context.WithCancel(context.Background())
	load := startWorkload(ctx, srv.api, diskWorkers)
	time.Sleep(diskLoad)
	cancel()
	acked := load.stop(t)

	failFileSystem(t, mountPoint)
	status, reason, err := srv.api.readiness()
	if err != nil || status != http.StatusServiceUnavailable || !strings.Contains(reason, "read-only") {
		t.Errorf("/readyz on a read-only data directory: %d %q (%v); want 503 naming the read-only disk", status, reason, err)
	}
	refusals := []struct {
		name string
		auth http.Header
		path string
		body any
	}{
		{name: "de-identified referral", path: "/api/patients", body: map[string]any{"source": "self"}},
		{name: "referral with personal data (a key-store write)", path: "/api/patients", body: map[string]any{"source": "self", "name": "Read Only"}},
		{name: "catalog change", auth: srv.api.admin, path: "/api/programs", body: map[string]any{"id": "read-only-program", "name": "Read-only program", "level": "iop", "capacity": 10}},
	}
	for _, tc := range refusals {
		r, _, err := srv.api.commandAs(context.Background(), tc.auth, tc.path, tc.body)
		if err != nil {
			t.Fatalf("%s on a read-only data directory: %v", tc.name, err)
		}
		e, _ := r.refusal()
		if r.status != http.StatusServiceUnavailable || e.Code == "" || e.Message == "" {
			t.Errorf("%s on a read-only data directory: status %d, %s; want a coded 503", tc.name, r.status, r.body)
		} else {
			t.Logf("%s on a read-only data directory: %d %s: %s", tc.name, r.status, e.Code, e.Message)
		}
	}
	if !srv.running() {
		t.Fatalf("serve exited when its data directory turned read-only (%v):\n%s", srv.exitErr, srv.log.String())
	}
	if stopErr := srv.terminate(); stopErr != nil {
		// The final snapshot cannot be written: a failed stop is right,
		// as long as it says why.
		lines := strings.Split(strings.TrimSpace(srv.log.String()), "\n")
		t.Logf("serve stopped on SIGTERM with %v: %s", stopErr, lines[len(lines)-1])
	}

	if out, err := exec.Command("umount", mountPoint).CombinedOutput(); err != nil {
		t.Fatalf("unmounting the failed file system: %v: %s", err, out)
	}
	// e2fsck exits 1 when it corrected something (here, the error flag
	// the test raised); 4 and above mean errors left uncorrected.
	out, err := exec.Command("e2fsck", "-f", "-y", image).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("checking the file system: %v: %s", err, out)
	}
	mountImage(t, image, mountPoint, func(err error, out []byte) {
		t.Fatalf("mounting the checked file system again: %v: %s", err, out)
	})
	store := openOffline(t, dir)
	checked := checkAcks(t, store, acked)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	srv = startServer(t, serverOptions{dataDir: dir, minFreeBytes: diskMinFree})
	srv.waitReady()
	if r, _, err := srv.api.command(context.Background(), "/api/patients", map[string]any{"source": "self", "name": "Read Write"}); err != nil || r.status != http.StatusCreated {
		t.Fatalf("a referral after the disk was repaired: %v, status %d: %s", err, r.status, r.body)
	}
	served, at := srv.api.census(t)
	if err := srv.terminate(); err != nil {
		t.Errorf("serve stopped with %v after the repair", err)
	}
	store = openOffline(t, dir)
	defer store.Close()
	compareCensus(t, "after the repair", served, rebuildCensus(t, store, at, served))
	t.Logf("%d commands acknowledged before the file system turned read-only, all %d in the log after e2fsck; the server restarted ready, took a command, census at %s equals a rebuild from zero",
		len(acked), checked, at)
}
