package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Metadata is the envelope stored as each event's JSON metadata next to its
// data. The event store carries both as bytes; this is the only envelope.
type Metadata struct {
	// SchemaVersion is the version of the data's shape; Decode upcasts older
	// versions. Absent in stored metadata, it reads as 1. It must be set
	// when appending (MetadataFor does): 0 is no version and never decodes.
	SchemaVersion int
	// OccurredAt repeats the event's clinical time so tools can filter or
	// order by it without decoding the data.
	OccurredAt time.Time
	// CorrelationID ties together every event caused by one request;
	// CausationID names the event or command that caused this one.
	CorrelationID string
	CausationID   string
	// Actor names the signed-in user who issued the command (a staff
	// account, never a patient), so every clinical fact says who recorded it.
	Actor string
	// Estimated marks clinical times that are estimates (imports of
	// historical records with approximate dates).
	Estimated bool
}

// MetadataFor builds the metadata for appending e at its current schema
// version.
func MetadataFor(e Event, correlationID, causationID string) Metadata {
	return Metadata{
		SchemaVersion: SchemaVersion(e.EventType()),
		OccurredAt:    e.When(),
		CorrelationID: correlationID,
		CausationID:   causationID,
	}
}

// Errors of the codec, for errors.Is.
var (
	// ErrUnknownEventType: the type name is not one of the package's events.
	ErrUnknownEventType = errors.New("unknown event type")
	// ErrMalformedEvent: the stored bytes do not decode to the event type.
	ErrMalformedEvent = errors.New("malformed event")
)

// UnknownEventTypeError names a type the codec does not know, e.g. an event
// written by a newer release or by another system in the same store.
type UnknownEventTypeError struct {
	Type string
}

// Error renders the failure; it never repeats the stored bytes.
func (e *UnknownEventTypeError) Error() string { return "unknown event type " + strconv.Quote(e.Type) }

// Is matches ErrUnknownEventType.
func (e *UnknownEventTypeError) Is(target error) bool { return target == ErrUnknownEventType }

// MalformedEventError says which event type and schema version failed to
// decode, and why (the stored bytes are not repeated: they may hold
// sealed personal data).
type MalformedEventError struct {
	Type          string
	SchemaVersion int
	Err           error
}

// Error renders the failure; it never repeats the stored bytes.
func (e *MalformedEventError) Error() string {
	return "malformed " + e.Type + " v" + strconv.Itoa(e.SchemaVersion) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *MalformedEventError) Unwrap() error { return e.Err }

// Is matches ErrMalformedEvent.
func (e *MalformedEventError) Is(target error) bool { return target == ErrMalformedEvent }

// eventCodec is the registry entry of one event type: its current schema
// version and the decoder of that version's data.
type eventCodec struct {
	version int
	decode  func(data []byte) (Event, error)
	// read is the reader decode wraps, a func([]byte) (E, error) for the
	// type's E, for DecodeDataAs.
	read any
}

// codecOf is the registry entry of the events read returns.
func codecOf[E Event](version int, read func([]byte) (E, error)) eventCodec {
	return eventCodec{version: version, decode: eventDecoder(read), read: read}
}

// registry holds every event type; Encode, Decode and EventTypes all read it.
var registry = map[string]eventCodec{
	Referred{}.EventType():           codecOf(1, readReferred),
	IntakeCompleted{}.EventType():    codecOf(1, readIntakeCompleted),
	Admitted{}.EventType():           codecOf(1, readAdmitted),
	MeasureRecorded{}.EventType():    codecOf(2, readMeasureRecorded),
	SteppedDown{}.EventType():        codecOf(1, readSteppedDown),
	SteppedUp{}.EventType():          codecOf(1, readSteppedUp),
	Discharged{}.EventType():         codecOf(1, readDischarged),
	Readmitted{}.EventType():         codecOf(1, readReadmitted),
	GroupCreated{}.EventType():       codecOf(1, readJSON[GroupCreated]),
	GroupChanged{}.EventType():       codecOf(1, readJSON[GroupChanged]),
	MemberJoined{}.EventType():       codecOf(1, readMemberJoined),
	MemberWaitlisted{}.EventType():   codecOf(1, readMemberWaitlisted),
	WaitlistPromoted{}.EventType():   codecOf(1, readWaitlistPromoted),
	WaitlistLeft{}.EventType():       codecOf(1, readWaitlistLeft),
	MemberLeft{}.EventType():         codecOf(1, readMemberLeft),
	SessionHeld{}.EventType():        codecOf(1, readSessionHeld),
	AttendanceRecorded{}.EventType(): codecOf(1, readAttendanceRecorded),
	ModuleCompleted{}.EventType():    codecOf(1, readModuleCompleted),
	GroupCompleted{}.EventType():     codecOf(1, readGroupCompleted),
	ProgramCreated{}.EventType():     codecOf(1, readJSON[ProgramCreated]),
	ProgramChanged{}.EventType():     codecOf(1, readJSON[ProgramChanged]),
}

// EventTypes lists every event type name, for subscriptions that filter by
// type and for tests that must cover them all.
func EventTypes() []string {
	types := make([]string, 0, len(registry))
	for t := range registry {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// SchemaVersion returns the current schema version of an event type, 0 for
// an unknown type.
func SchemaVersion(eventType string) int { return registry[eventType].version }

// Encode turns an event into its stored type name and JSON data.
func Encode(e Event) (eventType string, data []byte, err error) {
	eventType = e.EventType()
	if _, ok := registry[eventType]; !ok {
		return "", nil, &UnknownEventTypeError{Type: eventType}
	}
	if data, ok := encodeFast(e); ok {
		return eventType, data, nil
	}
	data, err = encodeJSON(e)
	if err != nil {
		return "", nil, &MalformedEventError{Type: eventType, SchemaVersion: SchemaVersion(eventType), Err: err}
	}
	return eventType, data, nil
}

// Decode turns stored bytes back into an event and its metadata, upcasting
// data written with an older schema version.
func Decode(eventType string, data, metadata []byte) (Event, Metadata, error) {
	m, err := DecodeMetadata(metadata)
	if err != nil {
		return nil, Metadata{}, &MalformedEventError{Type: eventType, SchemaVersion: 0, Err: err}
	}
	e, err := decodeVersion(eventType, m.SchemaVersion, data)
	return e, m, err
}

// DecodeData is Decode for folds that need no metadata: it only peeks at the
// schema version in metadata (a few bytes when written by EncodeMetadata)
// instead of parsing all of it. Replays of millions of events use it.
func DecodeData(eventType string, data, metadata []byte) (Event, error) {
	version, err := peekSchemaVersion(metadata)
	if err != nil {
		return nil, &MalformedEventError{Type: eventType, Err: err}
	}
	return decodeVersion(eventType, version, data)
}

func decodeVersion(eventType string, version int, data []byte) (Event, error) {
	codec, data, err := current(eventType, version, data)
	if err != nil {
		return nil, err
	}
	e, err := codec.decode(data)
	if err != nil {
		return nil, &MalformedEventError{Type: eventType, SchemaVersion: version, Err: err}
	}
	return e, nil
}

// current returns the codec of eventType and data written with schema
// version, upcast to the codec's version.
func current(eventType string, version int, data []byte) (eventCodec, []byte, error) {
	codec, ok := registry[eventType]
	if !ok {
		return codec, nil, &UnknownEventTypeError{Type: eventType}
	}
	if version != codec.version {
		upcast, err := upcastData(eventType, version, codec.version, data)
		if err != nil {
			return codec, nil, &MalformedEventError{Type: eventType, SchemaVersion: version, Err: err}
		}
		data = upcast
	}
	return codec, data, nil
}

// DecodeDataAs is DecodeData for a caller that wants one type's events by
// value: it decodes into *into without putting the event in an Event, an
// allocation a replay of millions of events pays for each. eventType must
// name events of type E; otherwise it fails with a *MalformedEventError.
func DecodeDataAs[E Event](eventType string, data, metadata []byte, into *E) error {
	version, err := peekSchemaVersion(metadata)
	if err != nil {
		return &MalformedEventError{Type: eventType, Err: err}
	}
	codec, data, err := current(eventType, version, data)
	if err != nil {
		return err
	}
	read, ok := codec.read.(func([]byte) (E, error))
	if !ok {
		return &MalformedEventError{Type: eventType, SchemaVersion: version, Err: fmt.Errorf("not the type asked for (%T)", *into)}
	}
	e, err := read(data)
	if err != nil {
		return &MalformedEventError{Type: eventType, SchemaVersion: version, Err: err}
	}
	*into = e
	return nil
}

// readJSON decodes the rare, nested event types (program and group
// definitions) with encoding/json; the frequent flat ones have hand-written
// readers (decode_fast.go).
func readJSON[E Event](data []byte) (E, error) {
	var e E
	err := json.Unmarshal(data, &e)
	return e, err
}
