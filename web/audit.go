package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/domain"
)

// AuditLog is where accesses are recorded and read back; *access.Audit
// implements it. It has no way to delete an entry, and neither has the API.
type AuditLog interface {
	Record(ctx context.Context, e access.Entry) error
	Query(ctx context.Context, q access.Query) ([]access.Record, error)
}

// record completes an entry with where the request came from and its
// correlation ID, and appends it. A failure to record refuses the access:
// nothing is shown that the audit does not hold.
func (s *Server) record(r *http.Request, e access.Entry) error {
	e.Remote, e.Forwarded = remoteOf(r)
	e.Correlation = correlationID(r.Context())
	if e.Route == "" {
		e.Route = routeOf(r)
	}
	if err := s.audit.Record(r.Context(), e); err != nil {
		return fmt.Errorf("the access could not be audited, so it is refused: %w", err)
	}
	return nil
}

// recordAccess audits an access by the request's identity to patients
// (by ID), with an optional detail (an export's format, a managed user).
func (s *Server) recordAccess(r *http.Request, action access.Action, patients []string, detail string) error {
	id, _ := identityOf(r.Context())
	return s.record(r, access.Entry{Action: action, User: id.User, Role: id.Role, Patients: patients, Detail: detail})
}

// auditResponse is a page of the audit, newest first.
type auditResponse struct {
	Entries []access.Record `json:"entries"`
}

// auditEntries serves the audit to admins: filtered by patient, user or
// action, newest first. Reading one patient's accesses is itself audited.
func (s *Server) auditEntries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var p fieldParser
	query := access.Query{
		Patient: string(optionalWith(&p, "patient", q.Get("patient"), domain.ParsePatientID)),
		User:    q.Get("user"),
		Action:  optionalWith(&p, "action", q.Get("action"), access.ParseAction),
		Limit:   100,
	}
	if query.User != "" && access.ParseUserName(query.User) != nil {
		p.fail("user", "not a user name")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > access.MaxQueryLimit {
			p.fail("limit", "limit must be a whole number from 1 to "+strconv.Itoa(access.MaxQueryLimit))
		}
		query.Limit = n
	}
	if p.err != nil {
		writeError(w, r, s.log, p.err)
		return
	}
	if query.Patient != "" {
		if err := s.recordAccess(r, access.AuditViewed, []string{query.Patient}, ""); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	entries, err := s.audit.Query(r.Context(), query)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, auditResponse{Entries: entries})
}
