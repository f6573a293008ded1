package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/projections"
)

// TestErrorTable checks the one table from errors to statuses, through
// the wrapping the command path adds.
func TestErrorTable(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		field   string
		message string
	}{
		{name: "domain invalid input", err: fmt.Errorf("decide: %w", &domain.InvalidError{Field: "level", Reason: "level of care is not set"}),
			status: http.StatusBadRequest, code: "invalid_input", field: "level", message: "level of care is not set"},
		{name: "domain not found", err: &domain.NotFoundError{Kind: "group", ID: "x"}, status: http.StatusNotFound, code: "not_found", message: "group not found"},
		{name: "domain conflict", err: &domain.GroupFullError{Group: "g", Capacity: 8}, status: http.StatusConflict, code: "group_full", message: "group g is full (8 members)"},
		{name: "domain rule", err: fmt.Errorf("x: %w", &domain.EntryClosedError{Group: "cbt", GroupName: "CBT for anxiety", NextModule: 2, NextStart: domain.Date{Year: 2026, Month: 12, Day: 1}}),
			status: http.StatusUnprocessableEntity, code: "entry_closed", message: "CBT for anxiety admits new members only at the start of a module: next start 2026-12-01"},
		{name: "clinical time in the future", err: &domain.FutureError{}, status: http.StatusBadRequest, code: "occurred_in_future", field: "occurredAt"},
		{name: "retries exhausted", err: commands.ErrConflictRetriesExhausted, status: http.StatusConflict, code: "concurrent_update"},
		{name: "wrong expected version", err: fmt.Errorf("append: %w", &eventstore.WrongExpectedVersionError{Actual: 3}), status: http.StatusConflict, code: "concurrent_update"},
		{name: "store unavailable", err: fmt.Errorf("append: %w", eventstore.ErrUnavailable), status: http.StatusServiceUnavailable, code: "store_unavailable"},
		{name: "store closed", err: eventstore.ErrClosed, status: http.StatusServiceUnavailable, code: "store_unavailable"},
		{name: "stream deleted", err: eventstore.ErrStreamDeleted, status: http.StatusGone, code: "deleted"},
		{name: "timeout", err: context.DeadlineExceeded, status: http.StatusServiceUnavailable, code: "timeout"},
		{name: "unknown topic", err: projections.ErrUnknownTopic, status: http.StatusBadRequest, code: "invalid_input"},
		{name: "view not found", err: projections.ErrNotFound, status: http.StatusNotFound, code: "not_found"},
		{name: "request form", err: badRequest("unknown_field", "note", `unknown field "note"`), status: http.StatusBadRequest, code: "unknown_field", field: "note"},
		{name: "anything else is a bug", err: errors.New("disk on fire at /var/lib/x"), status: http.StatusInternalServerError, code: "internal",
			message: "internal error; the incident was logged"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, detail := describeError(tc.err)
			if status != tc.status || detail.Code != tc.code || detail.Field != tc.field {
				t.Fatalf("got %d %q field %q, want %d %q field %q", status, detail.Code, detail.Field, tc.status, tc.code, tc.field)
			}
			if detail.Message == "" || !strings.Contains(detail.Message, tc.message) {
				t.Errorf("message %q, want it to contain %q", detail.Message, tc.message)
			}
		})
	}
}
