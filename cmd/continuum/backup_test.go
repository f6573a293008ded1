package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/eventstore/bolt"
)

// runCommand runs the continuum command line and returns its exit status and output.
func runCommand(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// backupFrom runs continuum backup against a running server into out.
func backupFrom(t *testing.T, base, out string) string {
	t.Helper()
	code, stdout, stderr := runCommand(t, "backup", "--addr", strings.TrimPrefix(base, "http://"), "--out", out,
		"--token-file", credentialsFor(t, base).adminTokenFile)
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	return stdout
}

func TestBackupDownloadsAVerifiedCopy(t *testing.T) {
	base, _, _ := startMain(t, t.TempDir())
	waitReady(t, base)
	refer(t, base, "Basil Backup")
	out := filepath.Join(t.TempDir(), "site.db")

	stdout := backupFrom(t, base, out)
	first, err := bolt.Verify(out)
	if err != nil {
		t.Fatalf("the backup does not verify: %v", err)
	}
	if !strings.Contains(stdout, "verified") || !strings.Contains(stdout, out) {
		t.Errorf("backup printed %q", stdout)
	}

	// A second backup replaces the first, and holds the newer events.
	refer(t, base, "Bruno Backup")
	backupFrom(t, base, out)
	second, err := bolt.Verify(out)
	if err != nil {
		t.Fatal(err)
	}
	if second.Events <= first.Events {
		t.Fatalf("second backup holds %d events, the first %d", second.Events, first.Events)
	}
	assertNoPartials(t, filepath.Dir(out))
}

// assertNoPartials fails if a staged download was left in dir.
func assertNoPartials(t *testing.T, dir string) {
	t.Helper()
	partial, err := filepath.Glob(filepath.Join(dir, ".*.part-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(partial) > 0 {
		t.Errorf("staged files left behind: %v", partial)
	}
}

func TestBackupKeepsThePreviousCopyOnFailure(t *testing.T) {
	base, _, _ := startMain(t, t.TempDir())
	waitReady(t, base)
	good := filepath.Join(t.TempDir(), "good.db")
	backupFrom(t, base, good)
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{name: "the server refuses", want: "loopback", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":{"code":"loopback_only","message":"backups are served only to requests made on this machine (loopback, not through a proxy)"}}`))
		}},
		{name: "the copy is cut short", want: "not usable", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write(whole[:len(whole)/2])
		}},
		{name: "not a store at all", want: "not usable", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>a login page</html>"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			out := filepath.Join(t.TempDir(), "site.db")
			if err := os.WriteFile(out, whole, 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCommand(t, "backup", "--addr", srv.URL, "--out", out, "--token-file", credentialsFor(t, base).adminTokenFile)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("backup: exit %d, stderr %q; want 1 and %q", code, stderr, tc.want)
			}
			kept, err := os.ReadFile(out)
			if err != nil || !bytes.Equal(kept, whole) {
				t.Fatalf("the previous backup was changed (%v)", err)
			}
			assertNoPartials(t, filepath.Dir(out))
		})
	}
}

func TestBackupUsage(t *testing.T) {
	if code, _, stderr := runCommand(t, "backup", "--addr", "127.0.0.1:1"); code != 2 || !strings.Contains(stderr, "--out") {
		t.Fatalf("backup without --out: exit %d, %q", code, stderr)
	}
}
