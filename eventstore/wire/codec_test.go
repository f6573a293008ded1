package wire

import (
	"strconv"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/continuum-care/continuum/eventstore"
)

// recordedEventToProto is the reference the codec's hand-written encoding
// of an event must match: the generated message, with the metadata the v4
// client insists on (it exits the process when "created" is missing).
func recordedEventToProto(e *eventstore.RecordedEvent, uuidAsString bool) *streams.ReadResp_ReadEvent {
	contentType := e.ContentType
	if contentType == "" {
		contentType = eventstore.ContentTypeJSON
	}
	return &streams.ReadResp_ReadEvent{
		Event: &streams.ReadResp_ReadEvent_RecordedEvent{
			Id:               uuidToProto(e.ID, uuidAsString),
			StreamIdentifier: streamIdentifier(e.Stream),
			StreamRevision:   e.Revision,
			PreparePosition:  e.Position.Prepare,
			CommitPosition:   e.Position.Commit,
			Metadata: map[string]string{
				metadataType:        e.Type,
				metadataContentType: contentType,
				metadataCreated:     strconv.FormatInt(dotNetTicks(e.Created), 10),
			},
			CustomMetadata: e.Metadata,
			Data:           e.Data,
		},
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: e.Position.Commit},
	}
}

func TestCodecEncodesEventsAsTheGeneratedMessage(t *testing.T) {
	created := time.Date(2026, 11, 22, 14, 5, 6, 123456700, time.UTC)
	ids := []uuid.UUID{
		uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
		uuid.MustParse("ffffffff-ffff-ffff-ffff-ffffffffffff"), // negative halves
		uuid.MustParse("00000000-0000-0000-0000-000000000001"), // a zero half
	}
	events := []eventstore.RecordedEvent{
		{ID: ids[0], Stream: "patient-1", Revision: 7, Position: eventstore.Position{Commit: 1 << 40, Prepare: 1 << 40},
			Type: "MeasureRecorded", ContentType: eventstore.ContentTypeJSON, Data: []byte(`{"score":12}`),
			Metadata: []byte(`{"correlationId":"x"}`), Created: created},
		// Zero revision and positions: proto3 leaves them out, but the oneof
		// commit position of the ReadEvent is always there.
		{ID: ids[1], Stream: "group-ü", Type: "SessionHeld", Created: created},
		{ID: ids[2], Stream: "s", Revision: 300, Position: eventstore.Position{Commit: 5, Prepare: 5}, Type: "T",
			ContentType: "application/octet-stream", Data: make([]byte, 70_000), Created: time.Unix(0, 0).UTC()},
		// Before 1970 the ticks are negative.
		{ID: ids[0], Stream: "old", Type: "T", Data: []byte{0}, Created: time.Date(1901, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: ids[1], Stream: "zero-time", Type: "T"},
	}
	c := newCodec()
	for i := range events {
		for _, asString := range []bool{false, true} {
			e := &events[i]
			data, err := c.Marshal(&eventMessage{event: e, uuidAsString: asString})
			if err != nil {
				t.Fatalf("event %d: marshal: %v", i, err)
			}
			encoded := data.Materialize()
			data.Free()
			want := &streams.ReadResp{Content: &streams.ReadResp_Event{Event: recordedEventToProto(e, asString)}}
			if len(encoded) != proto.Size(want) {
				t.Errorf("event %d (uuid as string %v): %d bytes, the generated message takes %d", i, asString, len(encoded), proto.Size(want))
			}
			var got streams.ReadResp
			if err := proto.Unmarshal(encoded, &got); err != nil {
				t.Fatalf("event %d: unmarshal: %v", i, err)
			}
			if !proto.Equal(&got, want) {
				t.Errorf("event %d (uuid as string %v):\n got %v\nwant %v", i, asString, &got, want)
			}
		}
	}
}

func TestCodecPassesOtherMessagesThrough(t *testing.T) {
	c := newCodec()
	in := &streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{CommitPosition: 9, PreparePosition: 9}}}
	data, err := c.Marshal(in)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out streams.ReadResp
	if err := c.Unmarshal(data, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	data.Free()
	if !proto.Equal(in, &out) {
		t.Errorf("round trip: got %v, want %v", &out, in)
	}
}

func TestCodecDecodesTheClientsProposalsDirectly(t *testing.T) {
	id := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	data, err := proto.Marshal(proposal(structuredID(id), jsonMetadata("Referred"), []byte(`{"a":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	var m appendMessage
	if err := newCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, &m); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if m.req != nil {
		t.Fatal("the client's form of a proposed event took the protobuf path")
	}
	want := eventstore.EventData{ID: id, Type: "Referred", ContentType: eventstore.ContentTypeJSON, Data: []byte(`{"a":1}`)}
	if m.event.ID != want.ID || m.event.Type != want.Type || m.event.ContentType != want.ContentType ||
		string(m.event.Data) != string(want.Data) || m.event.Metadata != nil {
		t.Errorf("decoded %+v, want %+v", m.event, want)
	}
	// The event must not share gRPC's buffer, which is reused.
	clear(data)
	if string(m.event.Data) != `{"a":1}` {
		t.Errorf("the event's data changed with the message buffer: %q", m.event.Data)
	}
}

// benchEvent is an event of the size the bench's history averages.
func benchEvent() eventstore.RecordedEvent {
	return eventstore.RecordedEvent{
		ID: uuid.New(), Stream: "group-0b3f6c1e-8f0a-4c2e-9d4b-3a1f2e5d6c7b", Revision: 1234,
		Position: eventstore.Position{Commit: 987654, Prepare: 987654}, Type: "AttendanceRecorded",
		ContentType: eventstore.ContentTypeJSON,
		Data:        []byte(`{"sessionId":"5f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f","patientId":"0b3f6c1e-8f0a-4c2e-9d4b-3a1f2e5d6c7b","attended":true,"minutes":90}`),
		Metadata:    []byte(`{"schemaVersion":1,"occurredAt":"2026-11-22T14:05:06Z","correlationId":"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}`),
		Created:     time.Now(),
	}
}

// BenchmarkEncodeEvent compares the codec's encoding of an event read with
// the generated message's through the protobuf codec.
func BenchmarkEncodeEvent(b *testing.B) {
	e := benchEvent()
	c := newCodec()
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := c.Marshal(&streams.ReadResp{Content: &streams.ReadResp_Event{Event: recordedEventToProto(&e, false)}})
			if err != nil {
				b.Fatal(err)
			}
			data.Free()
		}
	})
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		m := eventMessage{event: &e}
		for b.Loop() {
			data, err := c.Marshal(&m)
			if err != nil {
				b.Fatal(err)
			}
			data.Free()
		}
	})
}

// BenchmarkDecodeProposal compares the codec's decoding of a proposed event
// with the protobuf codec's followed by eventFromProposal.
func BenchmarkDecodeProposal(b *testing.B) {
	e := benchEvent()
	data, err := proto.Marshal(&streams.AppendReq{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{
		Id: uuidToProto(e.ID, false), Metadata: jsonMetadata(e.Type), CustomMetadata: e.Metadata, Data: e.Data,
	}}})
	if err != nil {
		b.Fatal(err)
	}
	c := newCodec()
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var req streams.AppendReq
			if err := c.fallback.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, &req); err != nil {
				b.Fatal(err)
			}
			if _, err := eventFromProposal(req.GetProposedMessage()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		var m appendMessage
		for b.Loop() {
			if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, &m); err != nil || m.req != nil {
				b.Fatal("not decoded on the fast path", err)
			}
		}
	})
}
