package web

import (
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Backuper writes a consistent copy of the store while it keeps serving;
// *bolt.Store implements it.
type Backuper interface {
	Backup(w io.Writer) (n int64, err error)
}

// BackupPath streams the embedded store for `continuum backup`. Like
// /metrics it is for operators' tools, not API clients, so the OpenAPI
// document leaves it out.
const BackupPath = "/api/admin/backup"

// serveBackup streams a consistent copy of the whole event store. The
// store holds every patient's clinical history, so only admins may take
// it, and every copy is audited as an export (see routeGrants).
func (s *Server) serveBackup(w http.ResponseWriter, r *http.Request) {
	if s.backup == nil {
		writeError(w, r, s.log, &requestError{kind: errNoRoute, code: "backup_unavailable",
			message: "this server does not run the embedded store; back up KurrentDB with its own backup procedure"})
		return
	}
	// A large store takes longer to copy than the server's write timeout
	// allows an ordinary answer; the copy is bounded by its size instead.
	if err := http.NewResponseController(w).SetWriteDeadline(time.Time{}); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "backup: cannot lift the write deadline", slog.String("error", err.Error()))
	}
	started := time.Now()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="continuum-events-`+started.UTC().Format("20060102T150405Z")+`.db"`)
	h.Set("Cache-Control", "no-store")
	out := &startedWriter{w: w}
	n, err := s.backup.Backup(out)
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "backup failed",
			slog.Int64("bytes", n), slog.String("error", err.Error()))
		if !out.started {
			h.Del("Content-Disposition")
			writeError(w, r, s.log, err)
			return
		}
		// Part of the copy is on its way with a 200: break the connection
		// so the client sees a failed transfer, never a short file that
		// looks complete.
		panic(http.ErrAbortHandler)
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "backup served",
		slog.Int64("bytes", n), slog.Duration("took", time.Since(started)))
}

// startedWriter notes the first write, which commits the 200 status.
type startedWriter struct {
	w       io.Writer
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	s.started = true
	return s.w.Write(p)
}
