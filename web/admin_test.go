package web

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// boltStack is a stack on the embedded store with backups enabled.
func boltStack(t *testing.T) (*stack, *bolt.Store) {
	t.Helper()
	store, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return newStackOn(t, store, func(c *Config) { c.Backup = store }), store
}

func TestBackupStreamsAVerifiableCopy(t *testing.T) {
	st, _ := boltStack(t)
	st.refer(t, "Bea Backup")

	resp := st.getAs(t, adminUser, BackupPath)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("backup: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	path := filepath.Join(t.TempDir(), bolt.FileName)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	sum, err := bolt.Verify(path)
	if err != nil {
		t.Fatalf("the downloaded copy does not verify: %v", err)
	}
	// The copy holds everything, down to the audit entry of its own export.
	if want := st.eventCount(t); sum.Events != uint64(want) {
		t.Fatalf("the copy holds %d events, the store %d", sum.Events, want)
	}
}

func TestBackupRefusals(t *testing.T) {
	st, _ := boltStack(t)
	plain := newStack(t)
	tests := []struct {
		name       string
		server     *Server
		header     map[string]string
		wantStatus int
		wantCode   string
	}{
		{name: "not signed in", server: st.server, wantStatus: http.StatusUnauthorized, wantCode: "unauthenticated"},
		{name: "a clinician", server: st.server, header: map[string]string{"Authorization": st.auth.bearer(clinicianUser)},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_for_role"},
		{name: "a director", server: st.server, header: map[string]string{"Authorization": st.auth.bearer(directorUser)},
			wantStatus: http.StatusForbidden, wantCode: "forbidden_for_role"},
		{name: "no embedded store", server: plain.server, header: map[string]string{"Authorization": plain.auth.bearer(adminUser)},
			wantStatus: http.StatusNotFound, wantCode: "backup_unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, BackupPath, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			tc.server.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), `"code":"`+tc.wantCode+`"`) {
				t.Fatalf("status %d, body %s; want %d %s", rec.Code, rec.Body, tc.wantStatus, tc.wantCode)
			}
			if rec.Header().Get("Content-Disposition") != "" {
				t.Errorf("a refusal offers a download: %v", rec.Header())
			}
		})
	}
}

// failingBackuper writes part of a copy, then fails, as a disk error
// in the middle of a backup would.
type failingBackuper struct{ before int }

func (f failingBackuper) Backup(w io.Writer) (int64, error) {
	if f.before == 0 {
		return 0, eventstore.ErrUnavailable
	}
	n, err := w.Write(make([]byte, f.before))
	if err != nil {
		return int64(n), err
	}
	return int64(n), eventstore.ErrUnavailable
}

func TestBackupFailureIsNeverAShortFile(t *testing.T) {
	tests := []struct {
		name       string
		before     int
		wantStatus int
	}{
		{name: "before the first byte", before: 0, wantStatus: http.StatusServiceUnavailable},
		{name: "midway", before: 256 << 10, wantStatus: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newStack(t, func(c *Config) { c.Backup = failingBackuper{before: tc.before} })
			resp := st.getAs(t, adminUser, BackupPath)
			defer resp.Body.Close()
			_, readErr := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusOK && !errors.Is(readErr, io.ErrUnexpectedEOF) {
				t.Fatalf("reading a backup that failed midway: %v, want an unexpected EOF", readErr)
			}
		})
	}
}
