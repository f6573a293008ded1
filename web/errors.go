package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/privacy"
	"github.com/continuum-care/continuum/projections"
)

// Categories of refusal the web layer itself produces, before any command
// runs. They sit in the same status table as the domain's and the store's.
var (
	// errBadRequest: the request is malformed (bad JSON, a missing header,
	// a field that does not parse).
	errBadRequest = errors.New("bad request")
	// errUnsupportedMediaType: the body is not application/json.
	errUnsupportedMediaType = errors.New("unsupported media type")
	// errTooLarge: the body exceeds the size limit.
	errTooLarge = errors.New("request body too large")
	// errNoRoute: no resource at this path (the read models do not know it).
	errNoRoute = errors.New("no such resource")
	// errNotReady: the projections have not caught up with the store yet.
	errNotReady = errors.New("projections not ready")
	// errMethodNotAllowed: the route exists but not with this method.
	errMethodNotAllowed = errors.New("method not allowed")
	// errForbidden: the request may not be made from where it comes (a
	// websocket from a foreign origin).
	errForbidden = errors.New("forbidden")
)

// requestError is a refusal of the request's form: which field (or
// header) and why, in words safe to show and to log.
type requestError struct {
	kind    error
	code    string
	field   string
	message string
}

func (e *requestError) Error() string { return e.message }

// Is makes errors.Is match the error's category.
func (e *requestError) Is(target error) bool { return target == e.kind }

// badRequest refuses a malformed request, naming the field at fault.
func badRequest(code, field, message string) error {
	return &requestError{kind: errBadRequest, code: code, field: field, message: message}
}

// errorStatus is one row of the status table.
type errorStatus struct {
	target error
	status int
	// code is used when the error carries no stable code of its own.
	code string
	// message, when set, replaces the error's own text: store and internal
	// failures say what to do, not what went wrong inside.
	message string
}

// statusTable maps every error category to its HTTP status: the one place
// the API decides statuses. The first matching row wins, so the web
// layer's own categories come first, then the domain's, then the store's.
var statusTable = []errorStatus{
	{target: errBadRequest, status: http.StatusBadRequest, code: "bad_request"},
	{target: errUnsupportedMediaType, status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
	{target: errTooLarge, status: http.StatusRequestEntityTooLarge, code: "request_too_large"},
	{target: errUnauthenticated, status: http.StatusUnauthorized, code: "unauthenticated"},
	{target: errForbidden, status: http.StatusForbidden, code: "forbidden"},
	{target: errTooManyRequests, status: http.StatusTooManyRequests, code: "too_many_attempts"},
	{target: errNoRoute, status: http.StatusNotFound, code: "not_found"},
	{target: errMethodNotAllowed, status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	{target: errNotReady, status: http.StatusServiceUnavailable, code: "not_ready"},
	{target: access.ErrBadCredentials, status: http.StatusUnauthorized, code: "signin_failed"},
	{target: access.ErrUnauthenticated, status: http.StatusUnauthorized, code: "unauthenticated"},
	{target: access.ErrInvalid, status: http.StatusBadRequest, code: invalidInput},
	{target: access.ErrUserNotFound, status: http.StatusNotFound, code: "user_not_found"},
	{target: access.ErrCredentialNotFound, status: http.StatusNotFound, code: "credential_not_found"},
	{target: access.ErrUserExists, status: http.StatusConflict, code: "user_exists"},
	{target: access.ErrLastAdmin, status: http.StatusConflict, code: "last_admin"},
	{target: access.ErrUserDisabled, status: http.StatusConflict, code: "user_disabled"},
	{target: access.ErrConflict, status: http.StatusConflict, code: "concurrent_update"},
	{target: projections.ErrUnknownTopic, status: http.StatusBadRequest, code: invalidInput},
	{target: projections.ErrNotFound, status: http.StatusNotFound, code: domain.CodeNotFound,
		message: "no such record (yet): it may still be on its way to the read models"},
	{target: domain.ErrInvalid, status: http.StatusBadRequest, code: domain.CodeInvalidInput},
	{target: domain.ErrNotFound, status: http.StatusNotFound, code: domain.CodeNotFound},
	{target: domain.ErrConflict, status: http.StatusConflict, code: "conflict"},
	{target: domain.ErrRuleViolation, status: http.StatusUnprocessableEntity, code: "rule_violation"},
	{target: commands.ErrInvalidKey, status: http.StatusBadRequest, code: invalidInput},
	{target: commands.ErrConflictRetriesExhausted, status: http.StatusConflict, code: "concurrent_update"},
	{target: eventstore.ErrWrongExpectedVersion, status: http.StatusConflict, code: "concurrent_update",
		message: "the record changed while this command was decided; reload and try again"},
	{target: eventstore.ErrStreamDeleted, status: http.StatusGone, code: "deleted",
		message: "this record was deleted"},
	{target: eventstore.ErrInvalidArgument, status: http.StatusBadRequest, code: domain.CodeInvalidInput},
	{target: eventstore.ErrUnavailable, status: http.StatusServiceUnavailable, code: "store_unavailable",
		message: "the event store is unavailable; try again shortly"},
	{target: privacy.ErrUnavailable, status: http.StatusServiceUnavailable, code: "store_unavailable",
		message: "the key store cannot be written (is the disk full or read-only?); try again shortly"},
	{target: eventstore.ErrClosed, status: http.StatusServiceUnavailable, code: "store_unavailable",
		message: "the event store is shutting down; try again shortly"},
	{target: context.DeadlineExceeded, status: http.StatusServiceUnavailable, code: "timeout",
		message: "the request timed out; try again"},
	{target: context.Canceled, status: statusClientClosedRequest, code: "canceled",
		message: "the request was canceled"},
}

// statusClientClosedRequest is the de-facto status for a client that went
// away; nobody reads the body, but the access log shows what happened.
const statusClientClosedRequest = 499

// internalError is the row for anything the table does not know: a bug, so
// the client learns nothing about internals and the log gets the detail.
var internalError = errorStatus{status: http.StatusInternalServerError, code: "internal",
	message: "internal error; the incident was logged"}

// timeFields names the request field of the domain's refusals about
// clinical time, which every command carries as occurredAt.
var timeFields = map[string]string{
	domain.CodeOccurredInFuture: "occurredAt",
	domain.CodeOutOfOrder:       "occurredAt",
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

// errorDetail says what went wrong: a stable code clients switch on, a
// message a clinician can read, and the offending field when there is one.
type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// describeError turns an error into its status and body, using the status
// table and the error's own stable code, message and field.
func describeError(err error) (int, errorDetail) {
	row := internalError
	for _, r := range statusTable {
		if errors.Is(err, r.target) {
			row = r
			break
		}
	}
	detail := errorDetail{Code: row.code, Message: row.message}
	var reqErr *requestError
	var invalid *domain.InvalidError
	var coded domain.CodedError
	var hint *fieldHint
	switch {
	case errors.As(err, &reqErr):
		detail.Code, detail.Field, detail.Message = reqErr.code, reqErr.field, reqErr.message
	case errors.As(err, &invalid):
		detail.Code, detail.Field, detail.Message = invalid.Code(), invalid.Field, invalid.Reason
	case errors.As(err, &coded) && detail.Message == "":
		// The typed domain error's own text is the readable refusal
		// ("CBT for anxiety admits new members only at the start of a
		// module: next start 2026-12-01"); wrappers around it only add
		// context a clinician does not need.
		detail.Code, detail.Message = coded.Code(), coded.Error()
		detail.Field = timeFields[detail.Code]
	}
	if errors.As(err, &hint) {
		detail.Field = hint.field
	}
	if detail.Message == "" {
		detail.Message = err.Error()
	}
	return row.status, detail
}

// writeError answers err as JSON with its status. Server-side failures are
// logged with the error text (which never carries personal data: domain
// errors name kinds and slugs, not people), client-side ones are not.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, detail := describeError(err)
	if status >= http.StatusInternalServerError {
		log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("route", routeOf(r)), slog.Int("status", status), slog.String("error", err.Error()))
	}
	writeJSON(w, status, errorBody{Error: detail})
}
