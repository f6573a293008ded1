package wire

import (
	"context"
	"errors"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/protobuf/proto"

	"github.com/continuum-care/continuum/eventstore"
)

// readPageSize bounds how many events one store call returns while serving
// a read, so a read of all of $all streams out in pages instead of loading
// the log into memory.
const readPageSize = 512

// streamsService implements the Streams service over the server's store.
// BatchAppend stays unimplemented; the features list tells clients so.
type streamsService struct {
	streams.UnimplementedStreamsServer
	server *Server
}

// Append implements streams.StreamsServer: the options first, then one
// message per event, then the client closes its side and gets the result.
func (s *streamsService) Append(call streams.Streams_AppendServer) error {
	first, err := call.Recv()
	if errors.Is(err, io.EOF) {
		return invalidArgument("an append starts with its options")
	}
	if err != nil {
		return err
	}
	options := first.GetOptions()
	if options == nil {
		return invalidArgument("an append starts with its options")
	}
	stream, err := streamNameOf(options.GetStreamIdentifier())
	if err != nil {
		return err
	}
	expected, err := expectedRevisionOf(options)
	if err != nil {
		return err
	}

	var events []eventstore.EventData
	size := 0
	var msg appendMessage
	for {
		err := call.RecvMsg(&msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		event := msg.event
		if msg.req != nil {
			proposal := msg.req.GetProposedMessage()
			if proposal == nil {
				return invalidArgument("after its options an append carries only proposed messages")
			}
			if event, err = eventFromProposal(proposal); err != nil {
				return err
			}
		}
		if size += proposalSize(event); size > s.server.maxAppendSize {
			return errMaxAppendSize(s.server.maxAppendSize)
		}
		events = append(events, event)
	}

	result, err := s.server.store.Append(call.Context(), stream, expected, events...)
	var wrong *eventstore.WrongExpectedVersionError
	switch {
	case errors.As(err, &wrong):
		return call.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{
			WrongExpectedVersion: wrongExpectedVersionToProto(expected, wrong.Actual),
		}})
	case err != nil:
		return s.server.statusFor(err, stream)
	}
	return call.SendAndClose(&streams.AppendResp{Result: &streams.AppendResp_Success_{Success: appendSuccess(result)}})
}

// appendSuccess encodes a result. A result at Start describes no event (an
// empty append to an empty stream), which KurrentDB reports as no stream and
// no position.
func appendSuccess(result eventstore.AppendResult) *streams.AppendResp_Success {
	if result.Position == eventstore.Start {
		return &streams.AppendResp_Success{
			CurrentRevisionOption: &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
			PositionOption:        &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
		}
	}
	return &streams.AppendResp_Success{
		CurrentRevisionOption: &streams.AppendResp_Success_CurrentRevision{CurrentRevision: result.NextExpectedRevision},
		PositionOption: &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{
			CommitPosition:  result.Position.Commit,
			PreparePosition: result.Position.Prepare,
		}},
	}
}

// wrongExpectedVersionToProto fills both the current fields and the 20.6.0
// ones, as KurrentDB does, mirroring the expectation the client sent.
func wrongExpectedVersionToProto(expected eventstore.ExpectedRevision, actual int64) *streams.AppendResp_WrongExpectedVersion {
	w := &streams.AppendResp_WrongExpectedVersion{}
	switch r, exact := expected.Revision(); {
	case exact:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: r}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: r}
	case expected.IsNoStream():
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: ^uint64(0)}
	case expected.IsStreamExists():
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	default:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	}
	if actual < 0 {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(actual)}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(actual)}
	}
	return w
}

// Read implements streams.StreamsServer: reads of a stream or of $all, and
// catch-up subscriptions to either.
func (s *streamsService) Read(req *streams.ReadReq, call streams.Streams_ReadServer) error {
	r, err := parseReadRequest(req)
	if err != nil {
		return err
	}
	switch {
	case r.subscription:
		return s.subscribe(r, call)
	case r.all:
		return s.readAll(r, call)
	default:
		return s.readStream(r, call)
	}
}

// readStream sends the stream's events page by page. A missing or
// soft-deleted stream answers a StreamNotFound message (not an error
// status), which is the only non-event reply the v4 client accepts.
func (s *streamsService) readStream(r readRequest, call streams.Streams_ReadServer) error {
	ctx := call.Context()
	from, remaining := r.streamFrom, r.count
	msg := eventMessage{uuidAsString: r.uuidAsString}
	if remaining == 0 {
		// KurrentDB still tells whether the stream exists.
		_, err := s.server.store.ReadStream(ctx, r.stream, eventstore.ReadStreamOptions{Direction: r.direction, From: from, Max: 1})
		return s.endStreamRead(err, r.stream, call)
	}
	for remaining > 0 {
		page := min(remaining, readPageSize)
		events, err := s.server.store.ReadStream(ctx, r.stream, eventstore.ReadStreamOptions{Direction: r.direction, From: from, Max: page})
		if err != nil {
			return s.endStreamRead(err, r.stream, call)
		}
		for i := range events {
			msg.event = &events[i]
			if err := call.SendMsg(&msg); err != nil {
				return err
			}
		}
		remaining -= uint64(len(events))
		if uint64(len(events)) < page {
			return nil
		}
		last := events[len(events)-1].Revision
		if r.direction == eventstore.Forwards {
			from = eventstore.At(last + 1)
		} else {
			if last == 0 {
				return nil
			}
			from = eventstore.At(last - 1)
		}
	}
	return nil
}

// endStreamRead finishes a stream read that the store refused, or that
// only probed the stream (err == nil).
func (s *streamsService) endStreamRead(err error, stream string, call streams.Streams_ReadServer) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return call.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{
			StreamNotFound: &streams.ReadResp_StreamNotFound{StreamIdentifier: streamIdentifier(stream)},
		}})
	default:
		return s.server.statusFor(err, stream)
	}
}

// readAll sends $all page by page. Forwards the start position is
// inclusive; backwards it is exclusive, as in KurrentDB, where reading
// backwards from an event's position returns the events before it. The
// store reads inclusively in both directions, so the server drops the event
// at the position it continues from.
func (s *streamsService) readAll(r readRequest, call streams.Streams_ReadServer) error {
	ctx := call.Context()
	from, remaining := r.allFrom, r.count
	msg := eventMessage{uuidAsString: r.uuidAsString}
	exclusive := r.direction == eventstore.Backwards && from != eventstore.End
	for remaining > 0 {
		page := min(remaining, readPageSize)
		// One more than the page, for the event at from that may be dropped.
		fetch := page + 1
		events, err := s.server.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: r.direction, From: from, Max: fetch, Filter: r.filter})
		if err != nil {
			return s.server.statusFor(err, eventstore.AllStream)
		}
		start := from
		sent := uint64(0)
		for i := range events {
			if sent == page {
				break
			}
			if exclusive && events[i].Position == start {
				continue
			}
			msg.event = &events[i]
			if err := call.SendMsg(&msg); err != nil {
				return err
			}
			from = events[i].Position
			sent++
		}
		remaining -= sent
		if uint64(len(events)) < fetch || sent == 0 {
			return nil
		}
		exclusive = true
	}
	return nil
}

// Delete implements streams.StreamsServer (soft delete).
func (s *streamsService) Delete(ctx context.Context, req *streams.DeleteReq) (*streams.DeleteResp, error) {
	options := req.GetOptions()
	position, err := s.remove(ctx, options, options.GetStreamIdentifier(), s.server.store.Delete)
	if err != nil {
		return nil, err
	}
	return &streams.DeleteResp{PositionOption: &streams.DeleteResp_Position_{Position: &streams.DeleteResp_Position{
		CommitPosition: position.Commit, PreparePosition: position.Prepare,
	}}}, nil
}

// Tombstone implements streams.StreamsServer (hard delete).
func (s *streamsService) Tombstone(ctx context.Context, req *streams.TombstoneReq) (*streams.TombstoneResp, error) {
	options := req.GetOptions()
	position, err := s.remove(ctx, options, options.GetStreamIdentifier(), s.server.store.Tombstone)
	if err != nil {
		return nil, err
	}
	return &streams.TombstoneResp{PositionOption: &streams.TombstoneResp_Position_{Position: &streams.TombstoneResp_Position{
		CommitPosition: position.Commit, PreparePosition: position.Prepare,
	}}}, nil
}

// remove runs a delete or tombstone and returns the position to report.
// The v4 client dereferences the reply's position unconditionally, so one is
// always sent. KurrentDB reports the position of the delete record; the
// store writes none, so the server reports the head of $all as it was just
// before the delete: every event written after the delete lies beyond it,
// so a consumer that resumes from it misses nothing.
func (s *streamsService) remove(ctx context.Context, options proto.Message, id *shared.StreamIdentifier,
	remove func(context.Context, string, eventstore.ExpectedRevision) error) (eventstore.Position, error) {
	stream, err := streamNameOf(id)
	if err != nil {
		return eventstore.Position{}, err
	}
	expected, err := expectedRevisionOf(options)
	if err != nil {
		return eventstore.Position{}, err
	}
	head, err := s.server.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Max: 1})
	if err != nil {
		return eventstore.Position{}, s.server.statusFor(err, stream)
	}
	if err := remove(ctx, stream, expected); err != nil {
		return eventstore.Position{}, s.server.statusFor(err, stream)
	}
	if len(head) == 0 {
		return eventstore.Start, nil
	}
	return head[0].Position, nil
}
