package bolt

import (
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
)

// An event record is the value stored under its $all sequence number:
//
//	version  1 byte  (recordVersion)
//	stream   8 bytes stream number (big endian)
//	revision 8 bytes
//	created  8 bytes Unix nanoseconds
//	id      16 bytes
//	uvarint len + event type
//	uvarint len + content type ("" stands for application/json, the common case)
//	uvarint len + data
//	metadata (the rest)
//
// The fixed-width header lets the writer stamp stream, revision and time into
// a record that the caller encoded before the batch existed, without copying.
const (
	recordVersion = 1

	offStream   = 1
	offRevision = offStream + 8
	offCreated  = offRevision + 8
	offID       = offCreated + 8
	headerSize  = offID + 16
)

// encodeRecord lays out an event with its header left for stampRecord.
// It runs in the appending goroutine, so encoding costs the writer nothing.
func encodeRecord(e eventstore.EventData) []byte {
	contentType := storedContentType(e.ContentType)
	b := make([]byte, headerSize, recordSize(e))
	b[0] = recordVersion
	copy(b[offID:headerSize], e.ID[:])
	b = binary.AppendUvarint(b, uint64(len(e.Type)))
	b = append(b, e.Type...)
	b = binary.AppendUvarint(b, uint64(len(contentType)))
	b = append(b, contentType...)
	b = binary.AppendUvarint(b, uint64(len(e.Data)))
	b = append(b, e.Data...)
	return append(b, e.Metadata...)
}

// recordSize is the length of e's record.
func recordSize(e eventstore.EventData) int {
	contentType := storedContentType(e.ContentType)
	return headerSize +
		uvarintLen(len(e.Type)) + len(e.Type) +
		uvarintLen(len(contentType)) + len(contentType) +
		uvarintLen(len(e.Data)) + len(e.Data) +
		len(e.Metadata)
}

// storedContentType leaves JSON, the content type of nearly every event, out of the record.
func storedContentType(contentType string) string {
	if contentType == eventstore.ContentTypeJSON {
		return ""
	}
	return contentType
}

// stampRecord writes what only the writer knows into an encoded record.
func stampRecord(b []byte, stream, revision uint64, createdUnixNano int64) {
	binary.BigEndian.PutUint64(b[offStream:], stream)
	binary.BigEndian.PutUint64(b[offRevision:], revision)
	binary.BigEndian.PutUint64(b[offCreated:], uint64(createdUnixNano))
}

// record is a decoded view of an event record. Its byte slices alias the
// record (which may be bbolt's mmap), so they must be copied before the
// transaction ends.
type record struct {
	stream      uint64
	revision    uint64
	created     int64
	id          uuid.UUID
	eventType   []byte
	contentType []byte
	data        []byte
	metadata    []byte
}

// decodeHeader reads only the fixed header: enough for indexes and caches.
func decodeHeader(b []byte) (stream, revision uint64, id uuid.UUID, err error) {
	if len(b) < headerSize || b[0] != recordVersion {
		return 0, 0, uuid.Nil, errCorruptRecord
	}
	copy(id[:], b[offID:headerSize])
	return binary.BigEndian.Uint64(b[offStream:]), binary.BigEndian.Uint64(b[offRevision:]), id, nil
}

// decodeRecord splits a record into its fields without copying.
func decodeRecord(b []byte) (record, error) {
	var r record
	var err error
	if r.stream, r.revision, r.id, err = decodeHeader(b); err != nil {
		return r, err
	}
	r.created = int64(binary.BigEndian.Uint64(b[offCreated:]))
	rest := b[headerSize:]
	if r.eventType, rest, err = lengthPrefixed(rest); err != nil {
		return r, err
	}
	if r.contentType, rest, err = lengthPrefixed(rest); err != nil {
		return r, err
	}
	if r.data, rest, err = lengthPrefixed(rest); err != nil {
		return r, err
	}
	r.metadata = rest
	return r, nil
}

// errCorruptRecord means bytes on disk are not a record this version wrote.
// bbolt's checksummed meta pages make torn writes invisible, so seeing it
// points at a foreign or damaged file rather than a crash.
var errCorruptRecord = fmt.Errorf("bolt: corrupt event record")

func lengthPrefixed(b []byte) (field, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, errCorruptRecord
	}
	end := k + int(n)
	return b[k:end:end], b[end:], nil
}

func uvarintLen(n int) int {
	size := 1
	for v := uint64(n); v >= 0x80; v >>= 7 {
		size++
	}
	return size
}

// Keys. $all records are keyed by an 8-byte big-endian sequence number, so a
// cursor walks them in commit order and appends land at the right edge of the
// B+tree. Stream index chunks are keyed by stream number then the revision
// the chunk starts at, so a cursor walks one stream's chunks in order.

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

func seqFromKey(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

func chunkKey(stream, firstRevision uint64) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 16), stream)
	return binary.BigEndian.AppendUint64(k, firstRevision)
}

// seqRun says that count consecutive revisions of a stream are at count
// consecutive sequence numbers starting at seq: one append makes one run,
// so a stream's index is a short list of runs rather than an entry per event.
type seqRun struct {
	seq   uint64
	count uint64
}

// appendRuns encodes runs as (count, distance from the previous run's end)
// pairs of uvarints; the distance of the first run is from 0.
func appendRuns(b []byte, runs []seqRun) []byte {
	end := uint64(0)
	for _, r := range runs {
		b = binary.AppendUvarint(b, r.count)
		b = binary.AppendUvarint(b, r.seq-end)
		end = r.seq + r.count
	}
	return b
}

func decodeRuns(b []byte) ([]seqRun, error) {
	runs := make([]seqRun, 0, 8)
	end := uint64(0)
	for len(b) > 0 {
		count, n := binary.Uvarint(b)
		if n <= 0 || count == 0 {
			return nil, errCorruptIndex
		}
		b = b[n:]
		gap, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errCorruptIndex
		}
		b = b[n:]
		runs = append(runs, seqRun{seq: end + gap, count: count})
		end += gap + count
	}
	return runs, nil
}

// errCorruptIndex means a stream's index does not account for its events.
var errCorruptIndex = fmt.Errorf("bolt: corrupt stream index")

// maxInlineRuns bounds the runs a stream's state carries before they move
// to a chunk of the stream index.
const maxInlineRuns = 16

// streamState is what the store knows about one stream, persisted under its
// name. Revisions below truncateBefore are hidden by a soft delete but stay
// in $all, as KurrentDB keeps them until a scavenge.
//
// The state also carries the newest chunk of the stream's index (inline):
// an append rewrites the state anyway, so indexing its events costs no
// extra B-tree write until the chunk is full and moves to the stream index.
type streamState struct {
	// number keys the stream index and names the stream in event records.
	number uint64
	// next is the revision the next appended event gets: the count of events ever appended.
	next           uint64
	truncateBefore uint64
	flags          uint8
	// inline holds the runs of the revisions from inlineStart() to next.
	inline []seqRun
}

const (
	// flagSoftDeleted marks a stream deleted and not yet written again.
	flagSoftDeleted uint8 = 1 << iota
	// flagTombstoned marks a stream deleted forever.
	flagTombstoned
)

const streamStateHeader = 8 + 8 + 8 + 1

func (s streamState) encode() []byte {
	b := make([]byte, 0, streamStateHeader+len(s.inline)*6)
	b = binary.BigEndian.AppendUint64(b, s.number)
	b = binary.BigEndian.AppendUint64(b, s.next)
	b = binary.BigEndian.AppendUint64(b, s.truncateBefore)
	b = append(b, s.flags)
	return appendRuns(b, s.inline)
}

func decodeStreamState(b []byte) (streamState, error) {
	if len(b) < streamStateHeader {
		return streamState{}, fmt.Errorf("bolt: corrupt stream state")
	}
	inline, err := decodeRuns(b[streamStateHeader:])
	return streamState{
		number:         binary.BigEndian.Uint64(b),
		next:           binary.BigEndian.Uint64(b[8:]),
		truncateBefore: binary.BigEndian.Uint64(b[16:]),
		flags:          b[24],
		inline:         inline,
	}, err
}

// inlineStart is the first revision the inline runs cover.
func (s streamState) inlineStart() uint64 {
	start := s.next
	for _, r := range s.inline {
		start -= r.count
	}
	return start
}

// lastRevision is the revision of the stream's last event ever written,
// hidden or not, or NoStreamRevision: KurrentDB reports it in wrong expected
// version errors and checks expected revisions against it.
func (s streamState) lastRevision() int64 { return int64(s.next) - 1 }

func (s streamState) softDeleted() bool { return s.flags&flagSoftDeleted != 0 }

func (s streamState) tombstoned() bool { return s.flags&flagTombstoned != 0 }

// visible reports whether reads see any event of the stream.
func (s streamState) visible() bool {
	return !s.softDeleted() && !s.tombstoned() && s.next > s.truncateBefore
}
