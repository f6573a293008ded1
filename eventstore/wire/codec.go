package wire

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/continuum-care/continuum/eventstore"
)

// codec is the server's gRPC codec. Every message goes through the standard
// protobuf codec except the two the protocol sends once per event: the
// proposed events of an append (see appendMessage) and the events a read or
// a subscription sends, which dominate the server's work on a replay:
// eventMessage is encoded
// straight from the store's event into a pooled buffer, without building
// the generated ReadResp (three nested messages and a metadata map per
// event) and without the reflection that marshals it. The bytes are what
// proto.Marshal would produce for recordedEventToProto's message, map
// entries aside, whose order protobuf leaves open.
type codec struct {
	fallback encoding.CodecV2
}

func newCodec() codec {
	return codec{fallback: encoding.GetCodecV2(grpcproto.Name)}
}

// Name implements encoding.CodecV2: the server still speaks protobuf.
func (codec) Name() string { return grpcproto.Name }

// Marshal implements encoding.CodecV2.
func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*eventMessage); ok {
		size := m.size()
		if mem.IsBelowBufferPoolingThreshold(size) {
			// gRPC does not pool buffers this small (mem.NewBuffer).
			b := m.appendTo(make([]byte, 0, size))
			if len(b) != size {
				return nil, encodedSizeError(len(b), size)
			}
			return mem.BufferSlice{mem.SliceBuffer(b)}, nil
		}
		buf := eventBuffers.Get(size)
		*buf = m.appendTo((*buf)[:0])
		if len(*buf) != size {
			n := len(*buf)
			eventBuffers.Put(buf)
			return nil, encodedSizeError(n, size)
		}
		return mem.BufferSlice{mem.NewBuffer(buf, eventBuffers)}, nil
	}
	return c.fallback.Marshal(v)
}

// Unmarshal implements encoding.CodecV2.
func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*appendMessage); ok {
		return c.decodeAppend(data, m)
	}
	return c.fallback.Unmarshal(data, v)
}

// encodedSizeError reports a bug: an event encoded in other than the size
// computed for it.
func encodedSizeError(got, want int) error {
	return fmt.Errorf("wire: encoded an event in %d bytes, expected %d", got, want)
}

// eventBuffers holds the buffers events of 1 KiB and more are encoded into,
// until gRPC has written them to the connection.
var eventBuffers = &bufferPool{}

// maxPooledBuffer is the largest buffer bufferPool keeps: an event larger
// than that is rare, and keeping its buffer would hold on to the memory.
const maxPooledBuffer = 64 << 10

// bufferPool is a mem.BufferPool for encoded events. Unlike gRPC's default
// pool it does not clear a buffer before lending it (the encoder overwrites
// every byte it returns), and it lends one of about the event's size
// rather than the next tier's (16 KiB for a 5 KiB event).
type bufferPool struct {
	pool sync.Pool
}

// Get implements mem.BufferPool.
func (p *bufferPool) Get(length int) *[]byte {
	if buf, ok := p.pool.Get().(*[]byte); ok {
		if cap(*buf) >= length {
			*buf = (*buf)[:length]
			return buf
		}
		p.pool.Put(buf)
	}
	b := make([]byte, length)
	return &b
}

// Put implements mem.BufferPool.
func (p *bufferPool) Put(buf *[]byte) {
	if cap(*buf) <= maxPooledBuffer {
		p.pool.Put(buf)
	}
}

// eventMessage is a ReadResp carrying one event, as the codec encodes it.
// A read reuses one for all its events: gRPC encodes a message before
// SendMsg returns.
type eventMessage struct {
	event        *eventstore.RecordedEvent
	uuidAsString bool
	// created is the "created" metadata value, formatted by size.
	created [20]byte
	// createdLen is how many bytes of created are used.
	createdLen int
	// inner is the encoded length of the RecordedEvent.
	inner int
}

// Field numbers of the messages eventMessage encodes (streams.proto,
// shared.proto).
const (
	fieldReadRespEvent          = 1 // ReadResp.event
	fieldReadEventEvent         = 1 // ReadResp.ReadEvent.event
	fieldReadEventCommit        = 3 // ReadResp.ReadEvent.commit_position
	fieldRecordedID             = 1 // RecordedEvent.id
	fieldRecordedStream         = 2 // RecordedEvent.stream_identifier
	fieldRecordedRevision       = 3 // RecordedEvent.stream_revision
	fieldRecordedPrepare        = 4 // RecordedEvent.prepare_position
	fieldRecordedCommit         = 5 // RecordedEvent.commit_position
	fieldRecordedMetadata       = 6 // RecordedEvent.metadata
	fieldRecordedCustomMetadata = 7 // RecordedEvent.custom_metadata
	fieldRecordedData           = 8 // RecordedEvent.data
	fieldStreamName             = 3 // StreamIdentifier.stream_name
	fieldUUIDStructured         = 1 // UUID.structured
	fieldUUIDString             = 2 // UUID.string
	fieldUUIDMost               = 1 // UUID.Structured.most_significant_bits
	fieldUUIDLeast              = 2 // UUID.Structured.least_significant_bits
	fieldMapKey                 = 1 // map entry key
	fieldMapValue               = 2 // map entry value
)

// uuidStringLen is the length of a UUID's text form.
const uuidStringLen = 36

// size is the encoded length of the message. It also prepares what
// appendTo needs: the created value and the RecordedEvent's length.
func (m *eventMessage) size() int {
	m.createdLen = len(strconv.AppendInt(m.created[:0], dotNetTicks(m.event.Created), 10))
	m.inner = m.recordedSize()
	readEvent := lenField(fieldReadEventEvent, m.inner) + tagVarint(fieldReadEventCommit, m.event.Position.Commit)
	return lenField(fieldReadRespEvent, readEvent)
}

// recordedSize is the encoded length of the RecordedEvent.
func (m *eventMessage) recordedSize() int {
	e := m.event
	n := lenField(fieldRecordedID, m.uuidSize())
	n += lenField(fieldRecordedStream, lenField(fieldStreamName, len(e.Stream)))
	n += optVarint(fieldRecordedRevision, e.Revision)
	n += optVarint(fieldRecordedPrepare, e.Position.Prepare)
	n += optVarint(fieldRecordedCommit, e.Position.Commit)
	n += lenField(fieldRecordedMetadata, entrySize(metadataType, e.Type))
	n += lenField(fieldRecordedMetadata, entrySize(metadataContentType, m.contentType()))
	n += lenField(fieldRecordedMetadata, lenField(fieldMapKey, len(metadataCreated))+lenField(fieldMapValue, m.createdLen))
	n += optBytes(fieldRecordedCustomMetadata, len(e.Metadata))
	n += optBytes(fieldRecordedData, len(e.Data))
	return n
}

func (m *eventMessage) uuidSize() int {
	if m.uuidAsString {
		return lenField(fieldUUIDString, uuidStringLen)
	}
	most, least := m.uuidHalves()
	return lenField(fieldUUIDStructured, optVarint(fieldUUIDMost, most)+optVarint(fieldUUIDLeast, least))
}

func (m *eventMessage) uuidHalves() (uint64, uint64) {
	return binary.BigEndian.Uint64(m.event.ID[:8]), binary.BigEndian.Uint64(m.event.ID[8:])
}

func (m *eventMessage) contentType() string {
	if m.event.ContentType == "" {
		return eventstore.ContentTypeJSON
	}
	return m.event.ContentType
}

// appendTo appends the encoded message to b; size must have run first.
func (m *eventMessage) appendTo(b []byte) []byte {
	e := m.event
	inner := m.inner
	b = protowire.AppendTag(b, fieldReadRespEvent, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(lenField(fieldReadEventEvent, inner)+tagVarint(fieldReadEventCommit, e.Position.Commit)))

	b = protowire.AppendTag(b, fieldReadEventEvent, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(inner))

	b = protowire.AppendTag(b, fieldRecordedID, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(m.uuidSize()))
	if m.uuidAsString {
		b = protowire.AppendTag(b, fieldUUIDString, protowire.BytesType)
		b = protowire.AppendVarint(b, uuidStringLen)
		b = appendUUIDString(b, e.ID)
	} else {
		most, least := m.uuidHalves()
		b = protowire.AppendTag(b, fieldUUIDStructured, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(optVarint(fieldUUIDMost, most)+optVarint(fieldUUIDLeast, least)))
		b = appendOptVarint(b, fieldUUIDMost, most)
		b = appendOptVarint(b, fieldUUIDLeast, least)
	}

	b = protowire.AppendTag(b, fieldRecordedStream, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(lenField(fieldStreamName, len(e.Stream))))
	b = protowire.AppendTag(b, fieldStreamName, protowire.BytesType)
	b = protowire.AppendString(b, e.Stream)

	b = appendOptVarint(b, fieldRecordedRevision, e.Revision)
	b = appendOptVarint(b, fieldRecordedPrepare, e.Position.Prepare)
	b = appendOptVarint(b, fieldRecordedCommit, e.Position.Commit)

	b = appendEntry(b, metadataType, e.Type)
	b = appendEntry(b, metadataContentType, m.contentType())
	b = protowire.AppendTag(b, fieldRecordedMetadata, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(lenField(fieldMapKey, len(metadataCreated))+lenField(fieldMapValue, m.createdLen)))
	b = protowire.AppendTag(b, fieldMapKey, protowire.BytesType)
	b = protowire.AppendString(b, metadataCreated)
	b = protowire.AppendTag(b, fieldMapValue, protowire.BytesType)
	b = protowire.AppendBytes(b, m.created[:m.createdLen])

	if len(e.Metadata) > 0 {
		b = protowire.AppendTag(b, fieldRecordedCustomMetadata, protowire.BytesType)
		b = protowire.AppendBytes(b, e.Metadata)
	}
	if len(e.Data) > 0 {
		b = protowire.AppendTag(b, fieldRecordedData, protowire.BytesType)
		b = protowire.AppendBytes(b, e.Data)
	}

	b = protowire.AppendTag(b, fieldReadEventCommit, protowire.VarintType)
	return protowire.AppendVarint(b, e.Position.Commit)
}

// lenField is the size of a length-delimited field of n bytes.
func lenField(field protowire.Number, n int) int {
	return protowire.SizeTag(field) + protowire.SizeBytes(n)
}

// tagVarint is the size of a varint field, present even when zero (a
// oneof member).
func tagVarint(field protowire.Number, v uint64) int {
	return protowire.SizeTag(field) + protowire.SizeVarint(v)
}

// optVarint is the size of a proto3 varint field, absent when zero.
func optVarint(field protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return tagVarint(field, v)
}

// optBytes is the size of a proto3 bytes field, absent when empty.
func optBytes(field protowire.Number, n int) int {
	if n == 0 {
		return 0
	}
	return lenField(field, n)
}

// entrySize is the size of a map<string, string> entry's body.
func entrySize(key, value string) int {
	return lenField(fieldMapKey, len(key)) + lenField(fieldMapValue, len(value))
}

func appendOptVarint(b []byte, field protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, field, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendEntry appends one entry of the metadata map.
func appendEntry(b []byte, key, value string) []byte {
	b = protowire.AppendTag(b, fieldRecordedMetadata, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(entrySize(key, value)))
	b = protowire.AppendTag(b, fieldMapKey, protowire.BytesType)
	b = protowire.AppendString(b, key)
	b = protowire.AppendTag(b, fieldMapValue, protowire.BytesType)
	return protowire.AppendString(b, value)
}

// appendUUIDString appends id's text form without allocating.
func appendUUIDString(b []byte, id [16]byte) []byte {
	var text [uuidStringLen]byte
	const hex = "0123456789abcdef"
	j := 0
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			text[j] = '-'
			j++
		}
		text[j], text[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return append(b, text[:]...)
}

// appendMessage is one AppendReq as the codec decodes it. The v4 client
// sends one per event, so decoding them is most of the server's work on an
// append. A proposed event in the form clients send (a structured ID, the
// type and content type in the metadata, each field once) is decoded
// straight into event, with its data and metadata in one allocation. Any
// other message, including the options that open an append and every
// malformed or unusual event, is decoded by the protobuf codec into req, so
// that it is judged exactly as before.
type appendMessage struct {
	// event is the proposed event when req is nil.
	event eventstore.EventData
	// req is the message when it did not take the fast path.
	req *streams.AppendReq
	// lastType is the previous event's type, reused to save an allocation
	// when consecutive events share their type, as they mostly do.
	lastType string
}

// decodeAppend decodes data into m, on the fast path when it can.
func (c codec) decodeAppend(data mem.BufferSlice, m *appendMessage) error {
	m.req = nil
	if len(data) == 1 && m.decodeProposal(data[0].ReadOnlyData()) {
		return nil
	}
	m.req = new(streams.AppendReq)
	return c.fallback.Unmarshal(data, m.req)
}

// Field numbers of AppendReq and its proposed message (streams.proto).
const (
	fieldAppendProposal     = 2 // AppendReq.proposed_message
	fieldProposalID         = 1 // ProposedMessage.id
	fieldProposalMetadata   = 2 // ProposedMessage.metadata
	fieldProposalCustomMeta = 3 // ProposedMessage.custom_metadata
	fieldProposalData       = 4 // ProposedMessage.data
)

// decodeProposal decodes b as an AppendReq carrying a proposed event in
// the usual form, or reports false, leaving the message to the protobuf
// codec.
func (m *appendMessage) decodeProposal(b []byte) bool {
	body, ok := onlyField(b, fieldAppendProposal)
	if !ok {
		return false
	}
	var (
		seen                  [fieldProposalData + 1]bool
		id                    uuid.UUID
		eventType, content    []byte
		haveType, haveContent bool
		data, metadata        []byte
	)
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 || typ != protowire.BytesType || num < fieldProposalID || num > fieldProposalData {
			return false
		}
		body = body[n:]
		v, n := protowire.ConsumeBytes(body)
		if n < 0 {
			return false
		}
		body = body[n:]
		if num != fieldProposalMetadata {
			if seen[num] {
				return false
			}
			seen[num] = true
		}
		switch num {
		case fieldProposalID:
			if id, ok = structuredUUID(v); !ok {
				return false
			}
		case fieldProposalMetadata:
			key, value, ok := mapEntry(v)
			if !ok {
				return false
			}
			switch string(key) {
			case metadataType:
				eventType, haveType = value, true
			case metadataContentType:
				content, haveContent = value, true
			}
		case fieldProposalCustomMeta:
			metadata = v
		case fieldProposalData:
			data = v
		}
	}
	if id == uuid.Nil || !haveType || len(eventType) == 0 || !haveContent {
		return false
	}
	// The buffer is gRPC's and is reused once Unmarshal returns.
	var copied []byte
	if n := len(data) + len(metadata); n > 0 {
		copied = make([]byte, n)
		copy(copied, data)
		copy(copied[len(data):], metadata)
	}
	m.event = eventstore.EventData{ID: id}
	if len(data) > 0 {
		m.event.Data = copied[:len(data):len(data)]
	}
	if len(metadata) > 0 {
		m.event.Metadata = copied[len(data):]
	}
	if string(eventType) != m.lastType {
		m.lastType = string(eventType)
	}
	m.event.Type = m.lastType
	m.event.ContentType = internContentType(content)
	return true
}

// onlyField returns the body of b when b is exactly one length-delimited
// field num.
func onlyField(b []byte, num protowire.Number) ([]byte, bool) {
	got, typ, n := protowire.ConsumeTag(b)
	if n < 0 || got != num || typ != protowire.BytesType {
		return nil, false
	}
	v, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		return nil, false
	}
	return v, true
}

// structuredUUID decodes a shared.UUID holding the structured form with
// both halves, each once.
func structuredUUID(b []byte) (uuid.UUID, bool) {
	body, ok := onlyField(b, fieldUUIDStructured)
	if !ok {
		return uuid.Nil, false
	}
	var halves [2]uint64
	var seen [2]bool
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 || typ != protowire.VarintType || (num != fieldUUIDMost && num != fieldUUIDLeast) {
			return uuid.Nil, false
		}
		body = body[n:]
		v, n := protowire.ConsumeVarint(body)
		if n < 0 || seen[num-1] {
			return uuid.Nil, false
		}
		body = body[n:]
		halves[num-1], seen[num-1] = v, true
	}
	var id uuid.UUID
	binary.BigEndian.PutUint64(id[:8], halves[0])
	binary.BigEndian.PutUint64(id[8:], halves[1])
	return id, true
}

// mapEntry decodes a map<string, string> entry with its key and value each
// once, both valid UTF-8 as protobuf demands of strings.
func mapEntry(b []byte) (key, value []byte, ok bool) {
	var seen [2]bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType || (num != fieldMapKey && num != fieldMapValue) || seen[num-1] {
			return nil, nil, false
		}
		b = b[n:]
		v, n := protowire.ConsumeBytes(b)
		if n < 0 || !utf8.Valid(v) {
			return nil, nil, false
		}
		b = b[n:]
		seen[num-1] = true
		if num == fieldMapKey {
			key = v
		} else {
			value = v
		}
	}
	return key, value, true
}

// internContentType returns the content type as a string, without
// allocating for the two the v4 client sends.
func internContentType(b []byte) string {
	switch string(b) {
	case eventstore.ContentTypeJSON:
		return eventstore.ContentTypeJSON
	case contentTypeOctetStream:
		return contentTypeOctetStream
	}
	return string(b)
}

// contentTypeOctetStream is what the v4 client sends for binary events.
const contentTypeOctetStream = "application/octet-stream"
