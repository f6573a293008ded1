package wire

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/continuum-care/continuum/eventstore"
)

// Trailer keys and values KurrentDB attaches to its error statuses; the
// client branches on them (a stream-deleted status becomes its
// ErrorCodeStreamDeleted only with these trailers).
const (
	trailerException                  = "exception"
	trailerStreamName                 = "stream-name"
	trailerExpectedVersion            = "expected-version"
	trailerActualVersion              = "actual-version"
	trailerMaximumAppendSize          = "maximum-append-size"
	trailerRequiredMetadataProperties = "required-metadata-properties"

	exceptionStreamDeleted           = "stream-deleted"
	exceptionStreamNotFound          = "stream-not-found"
	exceptionWrongExpectedVersion    = "wrong-expected-version"
	exceptionMaximumAppendSize       = "maximum-append-size-exceeded"
	exceptionMissingRequiredMetadata = "missing-required-metadata-property"
)

// rpcError is a gRPC status together with the trailers KurrentDB sends with
// it. Handlers return it like any error; the server's interceptors put the
// trailers on the call, and gRPC takes the status from GRPCStatus.
type rpcError struct {
	status  *status.Status
	trailer metadata.MD
}

func (e *rpcError) Error() string { return e.status.Err().Error() }

// GRPCStatus lets grpc-go and status.FromError see the status.
func (e *rpcError) GRPCStatus() *status.Status { return e.status }

func newRPCError(code codes.Code, message string, trailer ...string) error {
	return &rpcError{status: status.New(code, message), trailer: metadata.Pairs(trailer...)}
}

// trailerOf returns the trailers an error returned by a handler carries.
func trailerOf(err error) metadata.MD {
	var rpcErr *rpcError
	if errors.As(err, &rpcErr) {
		return rpcErr.trailer
	}
	return nil
}

func invalidArgument(message string) error {
	return status.Error(codes.InvalidArgument, message)
}

func errStreamDeleted(stream string) error {
	return newRPCError(codes.FailedPrecondition, fmt.Sprintf("Event stream '%s' is deleted.", stream),
		trailerException, exceptionStreamDeleted, trailerStreamName, stream)
}

func errStreamNotFound(stream string) error {
	return newRPCError(codes.NotFound, fmt.Sprintf("Event stream '%s' is not found.", stream),
		trailerException, exceptionStreamNotFound, trailerStreamName, stream)
}

// errDeleteWrongExpectedVersion is how KurrentDB refuses a delete or
// tombstone at the wrong revision (appends answer in the response instead).
func errDeleteWrongExpectedVersion(wrong *eventstore.WrongExpectedVersionError) error {
	expected := wireExpectedVersion(wrong.Expected)
	return newRPCError(codes.FailedPrecondition,
		fmt.Sprintf("Delete failed due to WrongExpectedVersion. Stream: %s, Expected version: %d, Actual version: %d",
			wrong.Stream, expected, wrong.Actual),
		trailerException, exceptionWrongExpectedVersion,
		trailerStreamName, wrong.Stream,
		trailerExpectedVersion, strconv.FormatInt(expected, 10),
		trailerActualVersion, strconv.FormatInt(wrong.Actual, 10))
}

func errMissingMetadata(key string) error {
	return newRPCError(codes.InvalidArgument, fmt.Sprintf("Required Metadata Property '%s' is missing", key),
		trailerException, exceptionMissingRequiredMetadata,
		trailerRequiredMetadataProperties, strings.Join([]string{metadataType, metadataContentType}, ","))
}

func errMaxAppendSize(limit int) error {
	return newRPCError(codes.InvalidArgument, fmt.Sprintf("Maximum Append Size of %d Exceeded.", limit),
		trailerException, exceptionMaximumAppendSize, trailerMaximumAppendSize, strconv.Itoa(limit))
}

// errShuttingDown ends subscriptions when the server stops: Unavailable
// makes the client rediscover the node instead of treating it as final.
var errShuttingDown = status.Error(codes.Unavailable, "Server is shutting down")

// statusFor maps a store error to the status KurrentDB answers in the same
// situation. stream names the stream the call was about ("" for $all).
func (s *Server) statusFor(err error, stream string) error {
	var wrong *eventstore.WrongExpectedVersionError
	switch {
	case errors.As(err, &wrong):
		return errDeleteWrongExpectedVersion(wrong)
	case errors.Is(err, eventstore.ErrStreamDeleted):
		return errStreamDeleted(stream)
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return errStreamNotFound(stream)
	case errors.Is(err, eventstore.ErrInvalidArgument):
		return invalidArgument(err.Error())
	case errors.Is(err, eventstore.ErrUnavailable):
		return status.Error(codes.Unavailable, "event store unavailable")
	case errors.Is(err, eventstore.ErrClosed):
		// The store is going away with the process; Unavailable makes the
		// client reconnect rather than give up.
		return status.Error(codes.Unavailable, "event store closed")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	s.logger.Error("wire: unexpected store error", "error", err)
	return status.Error(codes.Unknown, "unexpected event store error")
}
