package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/ops"
)

// diskSize is the size of the file system the test fills: a little more
// than the free space serve requires by default, so the store starts on
// it ready, and filling it takes a moment.
const diskSize = ops.DefaultMinFreeBytes + 32<<20

// smallDisk mounts a tmpfs of diskSize on a temporary directory, or skips
// the test where mounting is not allowed (it needs root with
// CAP_SYS_ADMIN; a chmod cannot stand in, root writes through it).
func smallDisk(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", diskSize)); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root with CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting the test disk: %v", err)
		}
	})
	return dir
}

// fill writes a file in dir until the disk refuses, and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return path
		}
	}
}

// createProgram defines a new program: an append to a new stream, which
// needs new pages in the store file.
func createProgram(t *testing.T, base string, n int) (int, string) {
	t.Helper()
	status, answer := postCommand(t, base, "/api/programs",
		fmt.Sprintf(`{"id":"fill-%d","name":"Fill %d","level":"iop","capacity":10}`, n, n))
	code := ""
	if e, ok := answer["error"].(map[string]any); ok {
		code, _ = e["code"].(string)
	}
	return status, code
}

// readyReason returns /readyz's status and, when not ready, its reason.
func readyReason(t *testing.T, base string) (int, string) {
	t.Helper()
	var body struct {
		Error struct{ Message string }
	}
	status := getJSON(t, base+"/readyz", &body)
	return status, body.Error.Message
}

// TestFullDisk runs serve on a small disk and fills it: appends fail with
// 503, /readyz says the disk is full, nothing acknowledged is lost, and
// once space is freed the server is ready and takes commands again, its
// store intact.
func TestFullDisk(t *testing.T) {
	dir := smallDisk(t)
	base, _, stop := startMain(t, dir)
	waitReady(t, base)
	acknowledged := []int{}
	if status, _ := createProgram(t, base, 0); status != http.StatusCreated {
		t.Fatalf("program on an empty disk: status %d", status)
	}
	acknowledged = append(acknowledged, 0)

	filler := fill(t, dir)
	status, reason := readyReason(t, base)
	if status != http.StatusServiceUnavailable || !strings.Contains(reason, "disk is full") {
		t.Fatalf("readyz on a full disk: %d %q", status, reason)
	}
	_, families := scrape(t, base)
	if v, _ := sample(families, "continuum_ready", nil); v != 0 {
		t.Errorf("continuum_ready on a full disk = %v", v)
	}
	if v, ok := sample(families, "continuum_data_dir_free_bytes", nil); !ok || v >= ops.DefaultMinFreeBytes {
		t.Errorf("continuum_data_dir_free_bytes on a full disk = %v (found %v)", v, ok)
	}

	// Appends go on succeeding while the store file has free pages; once
	// it must grow, they fail.
	refused := false
	for n := 1; n <= 1000 && !refused; n++ {
		switch status, code := createProgram(t, base, n); {
		case status == http.StatusCreated:
			acknowledged = append(acknowledged, n)
		case status == http.StatusServiceUnavailable && code == "store_unavailable":
			refused = true
		default:
			t.Fatalf("program %d on a full disk: status %d, code %q; want 201 or 503 store_unavailable", n, status, code)
		}
	}
	if !refused {
		t.Fatal("1000 appends on a full disk all succeeded")
	}
	t.Logf("%d programs acknowledged before the full disk refused an append", len(acknowledged))

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitReady(t, base)
	if status, _ := createProgram(t, base, 1001); status != http.StatusCreated {
		t.Fatalf("program after freeing space: status %d", status)
	}
	acknowledged = append(acknowledged, 1001)
	var programs struct {
		Programs []struct{ Program string }
	}
	if status := getJSON(t, base+"/api/programs", &programs); status != http.StatusOK {
		t.Fatalf("programs: status %d", status)
	}
	listed := map[string]bool{}
	for _, p := range programs.Programs {
		listed[p.Program] = true
	}
	for _, n := range acknowledged {
		if !listed[fmt.Sprintf("fill-%d", n)] {
			t.Errorf("acknowledged program fill-%d is missing", n)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("serve on shutdown: %v", err)
	}
	if _, err := bolt.Verify(filepath.Join(dir, bolt.FileName)); err != nil {
		t.Fatalf("the store is damaged after the full disk: %v", err)
	}
}
