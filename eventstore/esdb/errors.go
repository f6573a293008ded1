package esdb

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/continuum-care/continuum/eventstore"
)

// ErrAccessDenied says the server refused the call for want of (valid)
// credentials or rights: the connection string's user is missing, wrong, or
// lacks the ACL the call needs. It is not an eventstore sentinel because no
// retry will help; the operator must fix the configuration.
var ErrAccessDenied = errors.New("esdb: access denied")

// errActualUnknown marks a wrong-expected-version refusal that did not say
// which revision the stream is at; the caller reads it back.
var errActualUnknown = errors.New("esdb: wrong expected version without the actual revision")

// failure is what the adapter learns from an error of the client: its error
// code if the client classified it, and the gRPC status underneath if any.
type failure struct {
	// code is the client's classification; ErrorCodeUnknown when the error
	// is not an *esdbclient.Error or the client could not classify it.
	code esdbclient.ErrorCode
	// detail is the message of the error the client wrapped.
	detail string
	// status is the gRPC status code, codes.OK when there is none.
	status codes.Code
	// statusMessage is the gRPC status message.
	statusMessage string
	// ended says the call's stream ended early (io.EOF outside a read's
	// normal end): the client sends on a stream the transport has closed.
	ended bool
}

// inspect extracts a failure from any error the client returns: the client
// wraps its *esdbclient.Error in fmt errors, returns raw gRPC statuses from
// some paths (dropped subscriptions, failed read calls), and io.EOF at the
// end of a read.
func inspect(err error) failure {
	var f failure
	var clientErr *esdbclient.Error
	if errors.As(err, &clientErr) {
		f.code = clientErr.Code()
		if inner := clientErr.Err(); inner != nil {
			f.detail = inner.Error()
		}
	}
	var withStatus interface{ GRPCStatus() *status.Status }
	if errors.As(err, &withStatus) {
		st := withStatus.GRPCStatus()
		f.status, f.statusMessage = st.Code(), st.Message()
	}
	f.ended = errors.Is(err, io.EOF)
	return f
}

// translate maps an error of the client to the port's.
func translate(err error) error {
	if err == nil {
		return nil
	}
	return inspect(err).translate(err)
}

// clientShutDown reports whether err says the client has shut itself down
// (after a failed rediscovery) and will refuse every call from now on.
func clientShutDown(err error) bool {
	return inspect(err).code == esdbclient.ErrorCodeConnectionClosed
}

// connectionLost reports whether err says the connection to the server is
// gone, so that the client holding it should not be used again.
func connectionLost(err error) bool {
	f := inspect(err)
	return f.code == esdbclient.ErrorUnavailable || f.status == codes.Unavailable || f.ended
}

// clientWrongExpected parses the current revision out of the message the
// client builds for an append refused at the wrong expected version
// ("wrong expected version: expecting '…' but got '…'").
var clientWrongExpected = regexp.MustCompile(`but got '([^']*)'`)

// serverActualVersion parses the actual revision out of the status message
// KurrentDB (and the wire server) sends for a delete or tombstone refused at
// the wrong expected version. Older servers leave it out.
var serverActualVersion = regexp.MustCompile(`Actual version: (-?\d+)`)

// translate maps the failure to the port's error. cause is kept (as text or
// wrapped) only where it helps an operator and carries no stream name.
func (f failure) translate(cause error) error {
	switch f.code {
	case esdbclient.ErrorCodeWrongExpectedVersion:
		return wrongExpectedFrom(clientWrongExpected, f.detail, "no_stream")
	case esdbclient.ErrorCodeStreamDeleted:
		return eventstore.ErrStreamDeleted
	case esdbclient.ErrorCodeResourceNotFound:
		return eventstore.ErrStreamNotFound
	case esdbclient.ErrorCodeNotLeader, esdbclient.ErrorUnavailable, esdbclient.ErrorCodeDeadlineExceeded,
		esdbclient.ErrorAborted, esdbclient.ErrorCodeConnectionClosed:
		return fmt.Errorf("%w: %v", eventstore.ErrUnavailable, cause)
	case esdbclient.ErrorCodeUnauthenticated, esdbclient.ErrorCodeAccessDenied:
		return ErrAccessDenied
	case esdbclient.ErrorCodeUnsupportedFeature:
		return fmt.Errorf("esdb: the server does not support this call: %w", cause)
	}
	switch f.status {
	case codes.InvalidArgument, codes.OutOfRange:
		return fmt.Errorf("%w: %s", eventstore.ErrInvalidArgument, f.statusMessage)
	case codes.FailedPrecondition:
		switch {
		case strings.Contains(f.statusMessage, "WrongExpectedVersion"):
			return wrongExpectedFrom(serverActualVersion, f.statusMessage, "")
		case strings.HasSuffix(f.statusMessage, "is deleted."):
			return eventstore.ErrStreamDeleted
		}
	case codes.NotFound:
		return eventstore.ErrStreamNotFound
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted, codes.Canceled:
		return fmt.Errorf("%w: %v", eventstore.ErrUnavailable, cause)
	case codes.Unauthenticated, codes.PermissionDenied:
		return ErrAccessDenied
	case codes.Unimplemented:
		return fmt.Errorf("esdb: the server does not support this call: %w", cause)
	}
	if f.ended {
		return fmt.Errorf("%w: %v", eventstore.ErrUnavailable, cause)
	}
	return fmt.Errorf("esdb: %w", cause)
}

// wrongExpectedFrom builds the wrong-expected-version error from the actual
// revision that pattern's first group finds in message (noStream spelling
// NoStreamRevision), or errActualUnknown. Stream and Expected are the
// caller's to fill in.
func wrongExpectedFrom(pattern *regexp.Regexp, message, noStream string) error {
	m := pattern.FindStringSubmatch(message)
	if m == nil {
		return errActualUnknown
	}
	if noStream != "" && m[1] == noStream {
		return &eventstore.WrongExpectedVersionError{Actual: eventstore.NoStreamRevision}
	}
	actual, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || actual < eventstore.NoStreamRevision {
		return errActualUnknown
	}
	return &eventstore.WrongExpectedVersionError{Actual: actual}
}
