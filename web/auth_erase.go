package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/projections"
)

// eraseResponse answers an erasure.
type eraseResponse struct {
	Patient string `json:"patient"`
	Erased  bool   `json:"erased"`
	// AlreadyErased says the key was gone before this request.
	AlreadyErased bool `json:"alreadyErased"`
}

// erase crypto-shreds a person: their key is destroyed, so the sealed
// name, birth date and contact in the log (and in every copy and backup
// of it) can never be opened again, while the clinical facts stay for
// outcomes. The erasure is audited before the key goes: an erasure that
// cannot be recorded does not happen. Erasing again is harmless and
// audited again.
func (s *Server) erase(w http.ResponseWriter, r *http.Request) {
	id, err := pathPatient(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	known := false
	s.projections.Read(func(m *projections.Models) { _, known = m.Patients.Patient(id) })
	already, err := s.keys.Forgotten(string(id))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if !known && already {
		writeError(w, r, s.log, &domain.NotFoundError{Kind: "patient", ID: string(id)})
		return
	}
	if err := s.recordAccess(r, access.PersonErased, []string{string(id)}, ""); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.keys.Forget(string(id)); err != nil {
		// The audit holds an erasure that did not happen: say so beside it.
		ctx := context.WithoutCancel(r.Context())
		entry := access.Entry{Action: access.PersonErased, Patients: []string{string(id)}, Outcome: "failed"}
		if who, ok := identityOf(ctx); ok {
			entry.User, entry.Role = who.User, who.Role
		}
		if aerr := s.record(r.WithContext(ctx), entry); aerr != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "auditing a failed erasure failed", slog.String("error", aerr.Error()))
		}
		writeError(w, r, s.log, errors.Join(errEraseFailed, err))
		return
	}
	writeJSON(w, http.StatusOK, eraseResponse{Patient: string(id), Erased: true, AlreadyErased: already})
}

// errEraseFailed prefixes a key store failure during an erasure.
var errEraseFailed = errors.New("the person's key could not be destroyed; try again")
