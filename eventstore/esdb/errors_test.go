package esdb

import (
	"errors"
	"fmt"
	"io"
	"testing"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/continuum-care/continuum/eventstore"
)

func TestInspect(t *testing.T) {
	deleted := status.Error(codes.FailedPrecondition, "Event stream 'patient-1' is deleted.")
	tests := []struct {
		name string
		err  error
		want failure
	}{
		{"plain error", io.ErrUnexpectedEOF, failure{}},
		{"ended stream", fmt.Errorf("could not send: %w", io.EOF), failure{ended: true}},
		{"raw status", deleted, failure{status: codes.FailedPrecondition, statusMessage: "Event stream 'patient-1' is deleted."}},
		{"status wrapped by fmt", fmt.Errorf("failed to perform delete, details: %w", deleted),
			failure{status: codes.FailedPrecondition, statusMessage: "Event stream 'patient-1' is deleted."}},
		{"client error around a status", fmt.Errorf("could not send append request. Reason: %w", mustClientError(t, deleted)),
			failure{code: esdbclient.ErrorCodeUnknown, detail: deleted.Error(), status: codes.FailedPrecondition, statusMessage: "Event stream 'patient-1' is deleted."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inspect(tt.err); got != tt.want {
				t.Fatalf("inspect(%v) = %+v, want %+v", tt.err, got, tt.want)
			}
		})
	}
}

// mustClientError wraps err in an *esdbclient.Error the way the client does
// for errors it cannot classify (its fields are not settable from outside).
func mustClientError(t *testing.T, err error) error {
	t.Helper()
	clientErr, _ := esdbclient.FromError(err)
	if clientErr == nil {
		t.Fatal("FromError returned nil")
	}
	return clientErr
}

func TestFailureTranslate(t *testing.T) {
	cause := errors.New("cause")
	tests := []struct {
		name    string
		failure failure
		want    error
		// actual is the wrong expected version's actual revision, when want
		// is ErrWrongExpectedVersion.
		actual int64
	}{
		{"append conflict at a revision", failure{code: esdbclient.ErrorCodeWrongExpectedVersion, detail: "wrong expected version: expecting '3' but got '5'"}, eventstore.ErrWrongExpectedVersion, 5},
		{"append conflict on no stream", failure{code: esdbclient.ErrorCodeWrongExpectedVersion, detail: "wrong expected version: expecting '0' but got 'no_stream'"}, eventstore.ErrWrongExpectedVersion, eventstore.NoStreamRevision},
		{"append conflict without detail", failure{code: esdbclient.ErrorCodeWrongExpectedVersion}, errActualUnknown, 0},
		{"stream deleted", failure{code: esdbclient.ErrorCodeStreamDeleted}, eventstore.ErrStreamDeleted, 0},
		{"stream not found", failure{code: esdbclient.ErrorCodeResourceNotFound}, eventstore.ErrStreamNotFound, 0},
		{"not leader", failure{code: esdbclient.ErrorCodeNotLeader}, eventstore.ErrUnavailable, 0},
		{"client unavailable", failure{code: esdbclient.ErrorUnavailable}, eventstore.ErrUnavailable, 0},
		{"client deadline", failure{code: esdbclient.ErrorCodeDeadlineExceeded}, eventstore.ErrUnavailable, 0},
		{"client aborted", failure{code: esdbclient.ErrorAborted}, eventstore.ErrUnavailable, 0},
		{"client shut down", failure{code: esdbclient.ErrorCodeConnectionClosed}, eventstore.ErrUnavailable, 0},
		{"unauthenticated", failure{code: esdbclient.ErrorCodeUnauthenticated}, ErrAccessDenied, 0},
		{"access denied", failure{code: esdbclient.ErrorCodeAccessDenied}, ErrAccessDenied, 0},
		{"invalid argument", failure{status: codes.InvalidArgument, statusMessage: "Maximum Append Size of 1048576 Exceeded."}, eventstore.ErrInvalidArgument, 0},
		{"delete conflict with actual", failure{status: codes.FailedPrecondition,
			statusMessage: "Delete failed due to WrongExpectedVersion. Stream: s, Expected version: 1, Actual version: 4"}, eventstore.ErrWrongExpectedVersion, 4},
		{"delete conflict on no stream", failure{status: codes.FailedPrecondition,
			statusMessage: "Append failed due to WrongExpectedVersion. Stream: s, Expected version: 1, Actual version: -1"}, eventstore.ErrWrongExpectedVersion, eventstore.NoStreamRevision},
		{"delete conflict from an older server", failure{status: codes.FailedPrecondition,
			statusMessage: "Append failed due to WrongExpectedVersion. Stream: s, Expected version: 1"}, errActualUnknown, 0},
		{"deleted stream without trailers", failure{status: codes.FailedPrecondition, statusMessage: "Event stream 's' is deleted."}, eventstore.ErrStreamDeleted, 0},
		{"not found status", failure{status: codes.NotFound}, eventstore.ErrStreamNotFound, 0},
		{"unavailable status", failure{status: codes.Unavailable}, eventstore.ErrUnavailable, 0},
		{"server canceled", failure{status: codes.Canceled}, eventstore.ErrUnavailable, 0},
		{"permission denied status", failure{status: codes.PermissionDenied}, ErrAccessDenied, 0},
		{"stream ended", failure{ended: true}, eventstore.ErrUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.failure.translate(cause)
			if !errors.Is(got, tt.want) {
				t.Fatalf("translate = %v, want %v", got, tt.want)
			}
			var wrong *eventstore.WrongExpectedVersionError
			if errors.As(got, &wrong) && wrong.Actual != tt.actual {
				t.Fatalf("actual revision %d, want %d", wrong.Actual, tt.actual)
			}
		})
	}
}

func TestFailureTranslateKeepsUnknownErrors(t *testing.T) {
	cause := status.Error(codes.Internal, "boom")
	got := inspect(cause).translate(cause)
	for _, sentinel := range []error{eventstore.ErrUnavailable, eventstore.ErrStreamNotFound, eventstore.ErrInvalidArgument, eventstore.ErrWrongExpectedVersion} {
		if errors.Is(got, sentinel) {
			t.Fatalf("an internal server error became %v", sentinel)
		}
	}
	if !errors.Is(got, cause) {
		t.Fatalf("translate(%v) = %v, want it wrapped", cause, got)
	}
}

func TestConnectionHealth(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		lost     bool
		shutDown bool
	}{
		{"unavailable status", status.Error(codes.Unavailable, "connection refused"), true, false},
		{"wrapped unavailable status", fmt.Errorf("failed to construct subscription. Reason: %w", status.Error(codes.Unavailable, "")), true, false},
		{"deadline", status.Error(codes.DeadlineExceeded, ""), false, false},
		{"conflict", status.Error(codes.FailedPrecondition, "WrongExpectedVersion"), false, false},
		{"stream ended", fmt.Errorf("could not send append request header. Reason: %w", mustClientError(t, io.EOF)), true, false},
		{"plain", io.ErrUnexpectedEOF, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := connectionLost(tt.err); got != tt.lost {
				t.Fatalf("connectionLost(%v) = %t, want %t", tt.err, got, tt.lost)
			}
			if got := clientShutDown(tt.err); got != tt.shutDown {
				t.Fatalf("clientShutDown(%v) = %t, want %t", tt.err, got, tt.shutDown)
			}
		})
	}
}

func TestEnds(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"unavailable is resumed", fmt.Errorf("%w: refused", eventstore.ErrUnavailable), false},
		{"unknown is resumed", errors.New("esdb: failed to initiate subscription"), false},
		{"deleted ends", eventstore.ErrStreamDeleted, true},
		{"invalid ends", fmt.Errorf("%w: bad filter", eventstore.ErrInvalidArgument), true},
		{"access denied ends", ErrAccessDenied, true},
		{"closed ends", eventstore.ErrClosed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ends(tt.err); got != tt.want {
				t.Fatalf("ends(%v) = %t, want %t", tt.err, got, tt.want)
			}
		})
	}
}
