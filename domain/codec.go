package domain

import (
	"encoding/json"
	"errors"
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
}

// registry holds every event type; Encode, Decode and EventTypes all read it.
var registry = map[string]eventCodec{
	Referred{}.EventType():           {1, eventDecoder(readReferred)},
	IntakeCompleted{}.EventType():    {1, eventDecoder(readIntakeCompleted)},
	Admitted{}.EventType():           {1, eventDecoder(readAdmitted)},
	MeasureRecorded{}.EventType():    {2, eventDecoder(readMeasureRecorded)},
	SteppedDown{}.EventType():        {1, eventDecoder(readSteppedDown)},
	SteppedUp{}.EventType():          {1, eventDecoder(readSteppedUp)},
	Discharged{}.EventType():         {1, eventDecoder(readDischarged)},
	Readmitted{}.EventType():         {1, eventDecoder(readReadmitted)},
	GroupCreated{}.EventType():       {1, eventDecoder(readJSON[GroupCreated])},
	GroupChanged{}.EventType():       {1, eventDecoder(readJSON[GroupChanged])},
	MemberJoined{}.EventType():       {1, eventDecoder(readMemberJoined)},
	MemberWaitlisted{}.EventType():   {1, eventDecoder(readMemberWaitlisted)},
	WaitlistPromoted{}.EventType():   {1, eventDecoder(readWaitlistPromoted)},
	WaitlistLeft{}.EventType():       {1, eventDecoder(readWaitlistLeft)},
	MemberLeft{}.EventType():         {1, eventDecoder(readMemberLeft)},
	SessionHeld{}.EventType():        {1, eventDecoder(readSessionHeld)},
	AttendanceRecorded{}.EventType(): {1, eventDecoder(readAttendanceRecorded)},
	ModuleCompleted{}.EventType():    {1, eventDecoder(readModuleCompleted)},
	GroupCompleted{}.EventType():     {1, eventDecoder(readGroupCompleted)},
	ProgramCreated{}.EventType():     {1, eventDecoder(readJSON[ProgramCreated])},
	ProgramChanged{}.EventType():     {1, eventDecoder(readJSON[ProgramChanged])},
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
	codec, ok := registry[eventType]
	if !ok {
		return nil, &UnknownEventTypeError{Type: eventType}
	}
	if version != codec.version {
		upcast, err := upcastData(eventType, version, codec.version, data)
		if err != nil {
			return nil, &MalformedEventError{Type: eventType, SchemaVersion: version, Err: err}
		}
		data = upcast
	}
	e, err := codec.decode(data)
	if err != nil {
		return nil, &MalformedEventError{Type: eventType, SchemaVersion: version, Err: err}
	}
	return e, nil
}

// readJSON decodes the rare, nested event types (program and group
// definitions) with encoding/json; the frequent flat ones have hand-written
// readers (decode_fast.go).
func readJSON[E Event](data []byte) (E, error) {
	var e E
	err := json.Unmarshal(data, &e)
	return e, err
}
