package wire

import (
	"context"
	"errors"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
)

// subscribe serves a catch-up subscription as KurrentDB does: a
// confirmation first, then the past events, caught-up, and the live events,
// with checkpoints for filtered $all subscriptions, until the client cancels
// or the server stops. A subscription to a tombstoned stream is confirmed
// and then ends with the stream-deleted status, as in KurrentDB.
func (s *streamsService) subscribe(r readRequest, call streams.Streams_ReadServer) error {
	ctx, cancel := context.WithCancel(call.Context())
	defer cancel()
	stopOnShutdown := context.AfterFunc(s.server.shutdown, cancel)
	defer stopOnShutdown()

	name := r.stream
	var sub eventstore.Subscription
	var err error
	if r.all {
		name = eventstore.AllStream
		sub, err = s.server.store.SubscribeAll(ctx, eventstore.SubscribeAllOptions{
			From:               r.allFrom,
			Filter:             r.filter,
			CheckpointInterval: r.checkpointInterval,
		})
	} else {
		sub, err = s.server.store.SubscribeStream(ctx, r.stream, eventstore.SubscribeStreamOptions{From: r.streamFrom})
	}
	if err != nil && !errors.Is(err, eventstore.ErrStreamDeleted) {
		return s.subscriptionEnded(err, name, call)
	}
	if sub != nil {
		defer sub.Close()
	}
	confirmation := &streams.ReadResp{Content: &streams.ReadResp_Confirmation{
		Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()},
	}}
	if sendErr := call.Send(confirmation); sendErr != nil {
		return sendErr
	}
	if err != nil {
		return s.subscriptionEnded(err, name, call)
	}

	event := eventMessage{uuidAsString: r.uuidAsString}
	for {
		msg, err := sub.Recv()
		if err != nil {
			return s.subscriptionEnded(err, name, call)
		}
		if msg.Event != nil {
			event.event = msg.Event
			err = call.SendMsg(&event)
		} else if resp := subscriptionMessageToProto(msg, r); resp != nil {
			err = call.Send(resp)
		}
		if err != nil {
			return err
		}
	}
}

// subscriptionMessageToProto encodes one delivery other than an event, or
// returns nil for one the client must not see: checkpoints belong to $all
// subscriptions only.
func subscriptionMessageToProto(msg eventstore.Message, r readRequest) *streams.ReadResp {
	switch {
	case msg.CaughtUp:
		return &streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}
	case msg.Checkpoint != nil && r.all:
		return &streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{
			CommitPosition:  msg.Checkpoint.Commit,
			PreparePosition: msg.Checkpoint.Prepare,
		}}}
	}
	return nil
}

// subscriptionEnded is the status a subscription ends with: Unavailable when
// the server is stopping (the client should reconnect), the client's own
// cancellation when it left, else the store's error.
func (s *streamsService) subscriptionEnded(err error, stream string, call streams.Streams_ReadServer) error {
	if s.server.shutdown.Err() != nil {
		return errShuttingDown
	}
	if ctxErr := call.Context().Err(); ctxErr != nil {
		return s.server.statusFor(ctxErr, stream)
	}
	return s.server.statusFor(err, stream)
}
