package esdb

import (
	"fmt"
	"math"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
)

// contentTypeBinary is the only content type besides JSON that the v4
// client can write (its EventData carries an enum, not a string).
const contentTypeBinary = "application/octet-stream"

// unlimited is the count a read asks for when the caller set no maximum.
// KurrentDB clients use the largest int64: some servers read the count as a
// signed number.
const unlimited = math.MaxInt64

// validStream refuses the names no stream operation accepts, before they
// reach the server (which would refuse them less clearly).
func validStream(name string) error {
	switch name {
	case "":
		return fmt.Errorf("%w: empty stream name", eventstore.ErrInvalidArgument)
	case eventstore.AllStream:
		return fmt.Errorf("%w: %s is not a stream", eventstore.ErrInvalidArgument, eventstore.AllStream)
	}
	return nil
}

func toExpectedRevision(e eventstore.ExpectedRevision) esdbclient.ExpectedRevision {
	switch {
	case e.IsAny():
		return esdbclient.Any{}
	case e.IsNoStream():
		return esdbclient.NoStream{}
	case e.IsStreamExists():
		return esdbclient.StreamExists{}
	}
	r, _ := e.Revision()
	return esdbclient.Revision(r)
}

func toStreamPosition(p eventstore.StreamPosition) esdbclient.StreamPosition {
	switch {
	case p.IsStart():
		return esdbclient.Start{}
	case p.IsEnd():
		return esdbclient.End{}
	}
	r, _ := p.Revision()
	return esdbclient.Revision(r)
}

func toAllPosition(p eventstore.Position) esdbclient.AllPosition {
	switch p {
	case eventstore.Start:
		return esdbclient.Start{}
	case eventstore.End:
		return esdbclient.End{}
	}
	return esdbclient.Position{Commit: p.Commit, Prepare: p.Prepare}
}

func fromPosition(p esdbclient.Position) eventstore.Position {
	return eventstore.Position{Commit: p.Commit, Prepare: p.Prepare}
}

func toDirection(d eventstore.Direction) esdbclient.Direction {
	if d == eventstore.Backwards {
		return esdbclient.Backwards
	}
	return esdbclient.Forwards
}

// readCount is the count a read asks for: max, or unlimited for 0.
func readCount(max uint64) uint64 {
	if max == 0 {
		return unlimited
	}
	return max
}

// toEventData checks an event the way the port demands before the client
// sees it: the client would replace a nil ID by a random one (defeating
// idempotency) and cannot carry content types other than JSON and binary.
func toEventData(e eventstore.EventData) (esdbclient.EventData, error) {
	if e.ID == uuid.Nil {
		return esdbclient.EventData{}, fmt.Errorf("%w: nil event ID", eventstore.ErrInvalidArgument)
	}
	var contentType esdbclient.ContentType
	switch e.ContentType {
	case "", eventstore.ContentTypeJSON:
		contentType = esdbclient.ContentTypeJson
	case contentTypeBinary:
		contentType = esdbclient.ContentTypeBinary
	default:
		return esdbclient.EventData{}, fmt.Errorf("%w: content type %q: the KurrentDB client writes only %s and %s",
			eventstore.ErrInvalidArgument, e.ContentType, eventstore.ContentTypeJSON, contentTypeBinary)
	}
	return esdbclient.EventData{
		EventID:     e.ID,
		EventType:   e.Type,
		ContentType: contentType,
		Data:        e.Data,
		Metadata:    e.Metadata,
	}, nil
}

// fromRecordedEvent converts an event as read; the user metadata is the
// EventData's Metadata, byte for byte.
func fromRecordedEvent(e *esdbclient.RecordedEvent) eventstore.RecordedEvent {
	return eventstore.RecordedEvent{
		ID:          e.EventID,
		Stream:      e.StreamID,
		Revision:    e.EventNumber,
		Position:    fromPosition(e.Position),
		Type:        e.EventType,
		ContentType: e.ContentType,
		Data:        e.Data,
		Metadata:    e.UserMetadata,
		Created:     e.CreatedDate.UTC(),
	}
}

// filters reports whether f keeps only some events (a nil filter, or one
// with neither prefixes nor regex, keeps everything).
func filters(f *eventstore.Filter) bool {
	return f != nil && (len(f.Prefixes) > 0 || f.Regex != "")
}

// toSubscriptionFilter converts a filter for a server-side filtered
// subscription, or returns nil when f keeps everything. The client refuses
// filters with both prefixes and a regex; the port lets prefixes win, so only
// they are sent. The regex is compiled here first, so that a bad one is
// ErrInvalidArgument before anything reaches the server.
func toSubscriptionFilter(f *eventstore.Filter) (*esdbclient.SubscriptionFilter, error) {
	if _, err := f.Matcher(); err != nil {
		return nil, err
	}
	if !filters(f) {
		return nil, nil
	}
	out := &esdbclient.SubscriptionFilter{Type: esdbclient.StreamFilterType}
	if f.Target == eventstore.FilterEventType {
		out.Type = esdbclient.EventFilterType
	}
	if len(f.Prefixes) > 0 {
		out.Prefixes = append([]string(nil), f.Prefixes...)
	} else {
		out.Regex = f.Regex
	}
	return out, nil
}

// subscribeToAllOptions builds the client's options for a $all
// subscription after from. KurrentDB sends a checkpoint every search window
// × multiplier scanned events, so a checkpoint interval of n is a window of n
// with multiplier 1; 0 leaves both to the client's defaults (32 × 1).
func subscribeToAllOptions(from esdbclient.AllPosition, filter *esdbclient.SubscriptionFilter, checkpointInterval uint32) esdbclient.SubscribeToAllOptions {
	opts := esdbclient.SubscribeToAllOptions{From: from, Filter: filter}
	if filter != nil && checkpointInterval > 0 {
		opts.MaxSearchWindow = int(checkpointInterval)
		opts.CheckpointInterval = 1
	}
	return opts
}
