// Package eventstore declares the one port every event store implements
// (Store) and the types it speaks: stream revisions, $all positions, recorded
// events, filters and subscriptions. The semantics are KurrentDB's, so the
// embedded store (bolt), the client adapter (esdb) and the wire server (wire)
// are interchangeable; storetest holds the conformance suite that proves it.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// AllStream is the name of the virtual stream holding every event in commit order.
const AllStream = "$all"

// ContentTypeJSON is the content type of every event continuum writes.
const ContentTypeJSON = "application/json"

// Store is the port to an event store. Every implementation follows
// KurrentDB's semantics (see DESIGN.md) and passes storetest.Run.
type Store interface {
	// Append writes events atomically to the end of stream if the stream is
	// at the expected revision. Re-appending the same event IDs at the same
	// expected revision succeeds without writing (idempotency). It returns
	// after the events are durable.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)
	// ReadStream reads at most opts.Max events of one stream (0 means no
	// limit). A stream that never existed, or is soft-deleted, answers
	// ErrStreamNotFound; a tombstoned one ErrStreamDeleted.
	ReadStream(ctx context.Context, stream string, opts ReadStreamOptions) ([]RecordedEvent, error)
	// ReadAll reads at most opts.Max events of $all (0 means no limit),
	// starting at opts.From inclusive, in the given direction.
	ReadAll(ctx context.Context, opts ReadAllOptions) ([]RecordedEvent, error)
	// SubscribeStream delivers the stream's events after opts.From (exclusive;
	// StreamStart means all of them), then CaughtUp, then live events, until
	// ctx ends or the subscription is closed.
	SubscribeStream(ctx context.Context, stream string, opts SubscribeStreamOptions) (Subscription, error)
	// SubscribeAll delivers the events of $all after opts.From (exclusive;
	// Start means all of them) that pass opts.Filter, then CaughtUp, then
	// live events, until ctx ends or the subscription is closed.
	SubscribeAll(ctx context.Context, opts SubscribeAllOptions) (Subscription, error)
	// Delete soft-deletes a stream: reads answer ErrStreamNotFound, and a
	// later append recreates it, continuing its revisions.
	Delete(ctx context.Context, stream string, expected ExpectedRevision) error
	// Tombstone deletes a stream forever: reads and appends answer ErrStreamDeleted.
	Tombstone(ctx context.Context, stream string, expected ExpectedRevision) error
	// Close releases the store; pending calls and subscriptions end with ErrClosed.
	Close() error
}

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrWrongExpectedVersion: the stream is not at the expected revision.
	// The concrete error is a *WrongExpectedVersionError carrying the actual revision.
	ErrWrongExpectedVersion = errors.New("wrong expected version")
	// ErrStreamNotFound: the stream never existed or is soft-deleted.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrStreamDeleted: the stream is tombstoned; also, as in KurrentDB, an
	// append or delete expecting StreamExists on a soft-deleted stream.
	ErrStreamDeleted = errors.New("stream deleted")
	// ErrUnavailable: the store cannot be reached now; the call may succeed later.
	ErrUnavailable = errors.New("event store unavailable")
	// ErrClosed: the store or subscription was closed by its owner.
	ErrClosed = errors.New("event store closed")
	// ErrInvalidArgument: the call itself is malformed (empty stream name,
	// nil event ID, appending to $all, ...).
	ErrInvalidArgument = errors.New("invalid argument")
)

// NoStreamRevision is the actual revision reported for a stream with no events.
const NoStreamRevision int64 = -1

// WrongExpectedVersionError says which revision the stream really is at.
type WrongExpectedVersionError struct {
	Stream   string
	Expected ExpectedRevision
	// Actual is the stream's last revision, or NoStreamRevision.
	Actual int64
}

func (e *WrongExpectedVersionError) Error() string {
	actual := "no stream"
	if e.Actual >= 0 {
		actual = fmt.Sprint(e.Actual)
	}
	return fmt.Sprintf("wrong expected version: expected %s, actual %s", e.Expected, actual)
}

// Is makes errors.Is(err, ErrWrongExpectedVersion) true.
func (e *WrongExpectedVersionError) Is(target error) bool { return target == ErrWrongExpectedVersion }

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

// ExpectedRevision is the optimistic-concurrency condition of an append or delete.
type ExpectedRevision struct {
	kind     expectKind
	revision uint64
}

// The expected-revision kinds other than an exact revision.
var (
	// Any accepts the stream in any state.
	Any = ExpectedRevision{kind: expectAny}
	// NoStream requires that the stream has no events (never written, or soft-deleted).
	NoStream = ExpectedRevision{kind: expectNoStream}
	// StreamExists requires that the stream has at least one visible event.
	StreamExists = ExpectedRevision{kind: expectStreamExists}
)

// Exact requires the stream's last revision to be r.
func Exact(r uint64) ExpectedRevision { return ExpectedRevision{kind: expectExact, revision: r} }

// IsAny reports whether e is Any.
func (e ExpectedRevision) IsAny() bool { return e.kind == expectAny }

// IsNoStream reports whether e is NoStream.
func (e ExpectedRevision) IsNoStream() bool { return e.kind == expectNoStream }

// IsStreamExists reports whether e is StreamExists.
func (e ExpectedRevision) IsStreamExists() bool { return e.kind == expectStreamExists }

// Revision returns the exact revision and true, or false for the other kinds.
func (e ExpectedRevision) Revision() (uint64, bool) { return e.revision, e.kind == expectExact }

func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectExact:
		return fmt.Sprint(e.revision)
	default:
		return "any"
	}
}

// Position is a place in $all. Positions are strictly increasing in commit
// order but not necessarily contiguous. No event is at Start.
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Start and End bound $all.
var (
	Start = Position{}
	End   = Position{Commit: math.MaxUint64, Prepare: math.MaxUint64}
)

// Less orders positions.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

func (p Position) String() string { return fmt.Sprintf("C:%d/P:%d", p.Commit, p.Prepare) }

type streamPosKind uint8

const (
	streamStart streamPosKind = iota
	streamEnd
	streamAt
)

// StreamPosition is a place in one stream: its start, its end, or a revision.
type StreamPosition struct {
	kind     streamPosKind
	revision uint64
}

// Stream positions other than a revision.
var (
	StreamStart = StreamPosition{kind: streamStart}
	StreamEnd   = StreamPosition{kind: streamEnd}
)

// At is the stream position of revision r.
func At(r uint64) StreamPosition { return StreamPosition{kind: streamAt, revision: r} }

// IsStart reports whether p is StreamStart.
func (p StreamPosition) IsStart() bool { return p.kind == streamStart }

// IsEnd reports whether p is StreamEnd.
func (p StreamPosition) IsEnd() bool { return p.kind == streamEnd }

// Revision returns the revision and true, or false for StreamStart and StreamEnd.
func (p StreamPosition) Revision() (uint64, bool) { return p.revision, p.kind == streamAt }

func (p StreamPosition) String() string {
	switch p.kind {
	case streamStart:
		return "start"
	case streamEnd:
		return "end"
	default:
		return fmt.Sprint(p.revision)
	}
}

// Direction of a read.
type Direction uint8

// Read directions.
const (
	Forwards Direction = iota
	Backwards
)

// EventData is an event to append.
type EventData struct {
	// ID identifies the event; re-appending the same ID is idempotent. Must not be uuid.Nil.
	ID uuid.UUID
	// Type is the event type, e.g. "SteppedDown". Types starting with '$' are system events.
	Type string
	// ContentType is usually ContentTypeJSON; empty means ContentTypeJSON.
	ContentType string
	Data        []byte
	Metadata    []byte
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	ID          uuid.UUID
	Stream      string
	Revision    uint64
	Position    Position
	Type        string
	ContentType string
	Data        []byte
	Metadata    []byte
	// Created is the store's recorded time (UTC), not the clinical time.
	Created time.Time
}

// IsSystem reports whether the event is a system event (type starting with '$').
func (e *RecordedEvent) IsSystem() bool { return strings.HasPrefix(e.Type, "$") }

// AppendResult says where an append landed. For an idempotent re-append it
// describes the events already written.
type AppendResult struct {
	// NextExpectedRevision is the stream's last revision after the append.
	NextExpectedRevision uint64
	// Position is the $all position of the last event of the append.
	Position Position
	// Replayed is true when every event was in the stream already (an
	// idempotent retry) and nothing was written. Only a store that is a
	// ReplayTeller sets it; KurrentDB's protocol does not say.
	Replayed bool
}

// ReplayTeller is a Store whose AppendResult.Replayed can be relied on.
type ReplayTeller interface {
	// TellsReplays reports whether Append sets AppendResult.Replayed.
	TellsReplays() bool
}

// BatchAppender is a Store that takes many appends, each to its own stream
// with its own expected revision, in one call: each is checked and written
// as if appended alone (atomic, idempotent), and all are answered once the
// last is durable. An import of many small streams hands the store its
// rows this way, instead of waiting for each on a goroutine of its own.
type BatchAppender interface {
	// AppendMany answers each of appends, in their order.
	AppendMany(ctx context.Context, appends []AppendRequest) []AppendOutcome
}

// RecyclingReader is a Store whose reads of $all can lend their storage: a
// replay paging through millions of events hands each page back when done
// with it, and the next page is read into the same memory instead of new
// memory the collector must then clear away.
type RecyclingReader interface {
	// ReadAllRecycled reads as ReadAll does. The events, and the bytes
	// they point to, are valid until release is called; after that the
	// store reads other events into them. release must be called once.
	ReadAllRecycled(ctx context.Context, opts ReadAllOptions) (events []RecordedEvent, release func(), err error)
}

// AppendRequest is one append of BatchAppender.AppendMany.
type AppendRequest struct {
	Stream   string
	Expected ExpectedRevision
	Events   []EventData
}

// AppendOutcome answers one AppendRequest, as Append would.
type AppendOutcome struct {
	Result AppendResult
	Err    error
}

// ReadStreamOptions select a stream read.
type ReadStreamOptions struct {
	Direction Direction
	// From is inclusive. StreamStart with Backwards reads nothing; StreamEnd
	// with Forwards reads nothing.
	From StreamPosition
	// Max is the most events to return; 0 means no limit.
	Max uint64
}

// ReadAllOptions select a read of $all.
type ReadAllOptions struct {
	Direction Direction
	// From is inclusive.
	From Position
	// Max is the most events to return; 0 means no limit.
	Max uint64
	// Filter, if set, keeps only matching events.
	Filter *Filter
}

// SubscribeStreamOptions select a stream subscription.
type SubscribeStreamOptions struct {
	// From is exclusive: the first event delivered is the one after it.
	// StreamStart delivers the whole stream; StreamEnd only new events.
	From StreamPosition
}

// SubscribeAllOptions select a subscription to $all.
type SubscribeAllOptions struct {
	// From is exclusive. Start delivers everything; End only new events.
	From Position
	// Filter, if set, keeps only matching events.
	Filter *Filter
	// CheckpointInterval, for filtered subscriptions, asks for a Checkpoint
	// message after at most this many scanned events with no match, so a
	// consumer can advance its own checkpoint. 0 means a store default.
	CheckpointInterval uint32
}

// FilterTarget is what a filter looks at.
type FilterTarget uint8

// Filter targets.
const (
	FilterStreamName FilterTarget = iota
	FilterEventType
)

// Filter keeps events of $all whose stream name or event type starts with one
// of Prefixes, or matches Regex (Prefixes win when both are set).
type Filter struct {
	Target   FilterTarget
	Prefixes []string
	Regex    string
}

// ExcludeSystemEvents is the filter KurrentDB clients use to drop '$' events.
func ExcludeSystemEvents() *Filter {
	return &Filter{Target: FilterEventType, Regex: `^[^\$].*`}
}

// Matcher compiles the filter into a predicate on (stream, event type); a nil
// filter matches everything. A bad regular expression is ErrInvalidArgument.
func (f *Filter) Matcher() (func(stream, eventType string) bool, error) {
	if f == nil || (len(f.Prefixes) == 0 && f.Regex == "") {
		return func(string, string) bool { return true }, nil
	}
	pick := func(stream, eventType string) string { return stream }
	if f.Target == FilterEventType {
		pick = func(stream, eventType string) string { return eventType }
	}
	if len(f.Prefixes) > 0 {
		prefixes := append([]string(nil), f.Prefixes...)
		return func(stream, eventType string) bool {
			s := pick(stream, eventType)
			for _, p := range prefixes {
				if strings.HasPrefix(s, p) {
					return true
				}
			}
			return false
		}, nil
	}
	re, err := regexp.Compile(f.Regex)
	if err != nil {
		return nil, fmt.Errorf("%w: filter regex: %v", ErrInvalidArgument, err)
	}
	return func(stream, eventType string) bool { return re.MatchString(pick(stream, eventType)) }, nil
}

// Message is one delivery of a subscription: an event, the caught-up signal,
// or (for filtered $all subscriptions) a checkpoint.
type Message struct {
	// Event is set for an event.
	Event *RecordedEvent
	// CaughtUp is true once, after the past events and before live ones.
	CaughtUp bool
	// Checkpoint is set for a checkpoint: every event of $all up to it has
	// been considered.
	Checkpoint *Position
}

// Subscription is a live feed of events.
type Subscription interface {
	// Recv blocks for the next message. It returns an error once the
	// subscription ends: the context's error, ErrClosed, ErrStreamDeleted, or
	// ErrUnavailable when the store dropped it.
	Recv() (Message, error)
	// Close ends the subscription; Recv then returns ErrClosed.
	Close() error
}
