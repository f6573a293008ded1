package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/continuum-care/continuum/eventstore"
)

// Keys of the system metadata map every event carries on the wire.
const (
	metadataType        = "type"
	metadataContentType = "content-type"
	metadataCreated     = "created"
)

// KurrentDB's int64 encoding of the expected-revision kinds, used in the
// expected-version trailer of a refused delete.
const (
	wireExpectedAny          int64 = -2
	wireExpectedNoStream     int64 = -1
	wireExpectedStreamExists int64 = -4
)

// streamNameOf refuses a missing or empty stream identifier: every stream
// operation needs one, and the store would only say "invalid argument".
func streamNameOf(id *shared.StreamIdentifier) (string, error) {
	if len(id.GetStreamName()) == 0 {
		return "", invalidArgument("'stream_identifier' is a required argument")
	}
	return string(id.GetStreamName()), nil
}

func streamIdentifier(name string) *shared.StreamIdentifier {
	return &shared.StreamIdentifier{StreamName: []byte(name)}
}

// uuidFromProto accepts both encodings KurrentDB accepts: two big-endian
// int64 halves ("structured", what the Go client sends) or the text form.
func uuidFromProto(id *shared.UUID) (uuid.UUID, error) {
	switch v := id.GetValue().(type) {
	case *shared.UUID_Structured_:
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], uint64(v.Structured.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(b[8:], uint64(v.Structured.GetLeastSignificantBits()))
		return uuid.UUID(b), nil
	case *shared.UUID_String_:
		parsed, err := uuid.Parse(v.String_)
		if err != nil {
			return uuid.Nil, invalidArgument("event id is not a UUID")
		}
		return parsed, nil
	default:
		return uuid.Nil, invalidArgument("'id' is a required argument")
	}
}

// uuidToProto encodes id the way the read request asked for.
func uuidToProto(id uuid.UUID, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

// expectedRevisionOf reads the expected_stream_revision oneof that the
// append, delete and tombstone options share under the same field names; one
// reflective reader keeps the three generated types from needing three
// copies of the same switch.
func expectedRevisionOf(options proto.Message) (eventstore.ExpectedRevision, error) {
	m := options.ProtoReflect()
	if !m.IsValid() {
		return eventstore.ExpectedRevision{}, invalidArgument("'options' is a required argument")
	}
	field := m.WhichOneof(m.Descriptor().Oneofs().ByName("expected_stream_revision"))
	if field == nil {
		return eventstore.ExpectedRevision{}, invalidArgument("'expected_stream_revision' is a required argument")
	}
	switch field.Name() {
	case "revision":
		return eventstore.Exact(m.Get(field).Uint()), nil
	case "no_stream":
		return eventstore.NoStream, nil
	case "any":
		return eventstore.Any, nil
	case "stream_exists":
		return eventstore.StreamExists, nil
	}
	return eventstore.ExpectedRevision{}, invalidArgument(fmt.Sprintf("unknown expected stream revision %q", field.Name()))
}

// wireExpectedVersion is KurrentDB's int64 form of an expected revision.
func wireExpectedVersion(expected eventstore.ExpectedRevision) int64 {
	switch {
	case expected.IsAny():
		return wireExpectedAny
	case expected.IsNoStream():
		return wireExpectedNoStream
	case expected.IsStreamExists():
		return wireExpectedStreamExists
	}
	r, _ := expected.Revision()
	return int64(r)
}

// eventFromProposal turns one proposed message of an append into the
// store's EventData, demanding what KurrentDB demands: an ID, a non-empty
// type and a content type.
func eventFromProposal(m *streams.AppendReq_ProposedMessage) (eventstore.EventData, error) {
	id, err := uuidFromProto(m.GetId())
	if err != nil {
		return eventstore.EventData{}, err
	}
	if id == uuid.Nil {
		return eventstore.EventData{}, invalidArgument("event id must not be the nil UUID")
	}
	eventType, ok := m.GetMetadata()[metadataType]
	if !ok {
		return eventstore.EventData{}, errMissingMetadata(metadataType)
	}
	if eventType == "" {
		return eventstore.EventData{}, invalidArgument("event type must not be empty")
	}
	contentType, ok := m.GetMetadata()[metadataContentType]
	if !ok {
		return eventstore.EventData{}, errMissingMetadata(metadataContentType)
	}
	return eventstore.EventData{
		ID:          id,
		Type:        eventType,
		ContentType: contentType,
		Data:        m.GetData(),
		Metadata:    m.GetCustomMetadata(),
	}, nil
}

// proposalSize is what an event counts against the append size limit, as
// KurrentDB counts it: data, metadata and the type at two bytes a character
// (UTF-16 in KurrentDB; the same for the ASCII types clients use).
func proposalSize(e eventstore.EventData) int {
	return len(e.Data) + len(e.Metadata) + 2*len(e.Type)
}

// dotNetTicks is t as the client expects "created": 100 ns ticks since the
// Unix epoch. Computed from seconds so that no time.Time overflows.
func dotNetTicks(t time.Time) int64 {
	return t.Unix()*int64(time.Second/100) + int64(t.Nanosecond()/100)
}

// defaultSearchWindow is KurrentDB's page size for filtered reads, which is
// the search window when the request leaves it to the server.
const defaultSearchWindow = 32

// readRequest is a validated ReadReq: either a read (count) or a
// subscription, of one stream or of $all.
type readRequest struct {
	all          bool
	stream       string
	direction    eventstore.Direction
	subscription bool
	// count is how many events a read returns at most.
	count uint64
	// streamFrom is where a stream read starts (inclusive) or a stream
	// subscription starts (exclusive).
	streamFrom eventstore.StreamPosition
	// allFrom is where a $all read starts (inclusive forwards, exclusive
	// backwards, as in KurrentDB) or a $all subscription starts (exclusive).
	allFrom            eventstore.Position
	filter             *eventstore.Filter
	checkpointInterval uint32
	uuidAsString       bool
}

// parseReadRequest validates a ReadReq the way KurrentDB does: the stream,
// count, filter and UUID options are required, and only the combinations
// KurrentDB serves are accepted (no filtered stream reads, no backwards
// subscriptions).
func parseReadRequest(req *streams.ReadReq) (readRequest, error) {
	options := req.GetOptions()
	if options == nil {
		return readRequest{}, invalidArgument("'options' is a required argument")
	}
	var r readRequest

	switch options.GetUuidOption().GetContent().(type) {
	case *streams.ReadReq_Options_UUIDOption_Structured:
	case *streams.ReadReq_Options_UUIDOption_String_:
		r.uuidAsString = true
	default:
		return readRequest{}, invalidArgument("'uuid_option' is a required argument")
	}

	switch d := options.GetReadDirection(); d {
	case streams.ReadReq_Options_Forwards:
		r.direction = eventstore.Forwards
	case streams.ReadReq_Options_Backwards:
		r.direction = eventstore.Backwards
	default:
		return readRequest{}, invalidArgument(fmt.Sprintf("'%d' is not a valid read direction", int32(d)))
	}

	switch c := options.GetCountOption().(type) {
	case *streams.ReadReq_Options_Count:
		r.count = c.Count
	case *streams.ReadReq_Options_Subscription:
		r.subscription = true
	default:
		return readRequest{}, invalidArgument("'count_option' is a required argument")
	}

	switch s := options.GetStreamOption().(type) {
	case *streams.ReadReq_Options_Stream:
		name, err := streamNameOf(s.Stream.GetStreamIdentifier())
		if err != nil {
			return readRequest{}, err
		}
		r.stream = name
		switch rev := s.Stream.GetRevisionOption().(type) {
		case *streams.ReadReq_Options_StreamOptions_Revision:
			r.streamFrom = eventstore.At(rev.Revision)
		case *streams.ReadReq_Options_StreamOptions_Start:
			r.streamFrom = eventstore.StreamStart
		case *streams.ReadReq_Options_StreamOptions_End:
			r.streamFrom = eventstore.StreamEnd
		default:
			return readRequest{}, invalidArgument("'revision_option' is a required argument")
		}
	case *streams.ReadReq_Options_All:
		r.all = true
		switch pos := s.All.GetAllOption().(type) {
		case *streams.ReadReq_Options_AllOptions_Position:
			r.allFrom = eventstore.Position{Commit: pos.Position.GetCommitPosition(), Prepare: pos.Position.GetPreparePosition()}
		case *streams.ReadReq_Options_AllOptions_Start:
			r.allFrom = eventstore.Start
		case *streams.ReadReq_Options_AllOptions_End:
			r.allFrom = eventstore.End
		default:
			return readRequest{}, invalidArgument("'all_option' is a required argument")
		}
	default:
		return readRequest{}, invalidArgument("'stream_option' is a required argument")
	}

	// An absent filter option means no filter: the Go client sends no_filter
	// with a nil value, which arrives as either form.
	if f, ok := options.GetFilterOption().(*streams.ReadReq_Options_Filter); ok {
		if !r.all {
			return readRequest{}, invalidArgument("a filter applies only to $all")
		}
		filter, interval, err := parseFilter(f.Filter)
		if err != nil {
			return readRequest{}, err
		}
		r.filter, r.checkpointInterval = filter, interval
	}

	if r.subscription && r.direction != eventstore.Forwards {
		return readRequest{}, invalidArgument("a subscription reads forwards only")
	}
	return r, nil
}

// parseFilter turns the wire filter into the store's, and the search window
// and multiplier into KurrentDB's checkpoint interval (window × multiplier
// scanned events). The regex wins over prefixes, as in KurrentDB; a bad
// regex is refused here so that no subscription is confirmed with it.
func parseFilter(f *streams.ReadReq_Options_FilterOptions) (*eventstore.Filter, uint32, error) {
	var filter eventstore.Filter
	var expression *streams.ReadReq_Options_FilterOptions_Expression
	switch e := f.GetFilter().(type) {
	case *streams.ReadReq_Options_FilterOptions_StreamIdentifier:
		filter.Target, expression = eventstore.FilterStreamName, e.StreamIdentifier
	case *streams.ReadReq_Options_FilterOptions_EventType:
		filter.Target, expression = eventstore.FilterEventType, e.EventType
	default:
		return nil, 0, invalidArgument("'filter' needs a stream identifier or an event type expression")
	}
	if expression.GetRegex() != "" {
		filter.Regex = expression.GetRegex()
	} else {
		filter.Prefixes = expression.GetPrefix()
	}
	if len(filter.Prefixes) == 0 && filter.Regex == "" {
		return nil, 0, invalidArgument("the filter needs a regex or at least one prefix")
	}
	if _, err := filter.Matcher(); err != nil {
		return nil, 0, invalidArgument("the filter regex does not compile")
	}

	var window uint32
	switch w := f.GetWindow().(type) {
	case *streams.ReadReq_Options_FilterOptions_Max:
		if w.Max == 0 {
			return nil, 0, invalidArgument("the filter's max search window must be positive")
		}
		window = w.Max
	case *streams.ReadReq_Options_FilterOptions_Count:
		window = defaultSearchWindow
	default:
		return nil, 0, invalidArgument("'window' is a required argument of the filter")
	}
	multiplier := f.GetCheckpointIntervalMultiplier()
	if multiplier == 0 {
		return nil, 0, invalidArgument("the checkpoint interval multiplier must be positive")
	}
	interval := uint64(window) * uint64(multiplier)
	return &filter, uint32(min(interval, math.MaxUint32)), nil
}
