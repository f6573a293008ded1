package wire

import (
	"bytes"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/continuum-care/continuum/eventstore"
)

// FuzzReadRequest feeds arbitrary ReadReq messages to the request parser:
// it must refuse with InvalidArgument or return a request the handlers can
// serve, never panic. The seed corpus in testdata/fuzz holds the requests
// the v4 client sends.
func FuzzReadRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var req streams.ReadReq
		if err := proto.Unmarshal(data, &req); err != nil {
			return
		}
		r, err := parseReadRequest(&req)
		if err != nil {
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("refusal %v, want InvalidArgument", err)
			}
			return
		}
		if !r.all && r.stream == "" {
			t.Fatal("accepted a stream request without a stream name")
		}
		if r.subscription && r.direction != eventstore.Forwards {
			t.Fatal("accepted a backwards subscription")
		}
		if r.filter != nil {
			if !r.all {
				t.Fatal("accepted a filter on a stream")
			}
			if _, err := r.filter.Matcher(); err != nil {
				t.Fatalf("accepted a filter that does not compile: %v", err)
			}
			if r.checkpointInterval == 0 {
				t.Fatal("accepted a filter with a zero checkpoint interval")
			}
		}
	})
}

// FuzzAppendRequest feeds arbitrary AppendReq messages to the decoding of
// append options and proposed events, and checks the codec's fast decoding
// of proposed events against the protobuf codec's: whatever it accepts must
// decode to the same event, and whatever it leaves to the protobuf codec
// must come out as the protobuf codec decodes it.
func FuzzAppendRequest(f *testing.F) {
	id := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	for _, req := range []*streams.AppendReq{
		appendOptions("patient-1"),
		proposal(structuredID(id), jsonMetadata("Referred"), []byte(`{"a":1}`)),
		proposal(structuredID(id), map[string]string{"type": "T", "content-type": "application/octet-stream", "other": "x"}, nil),
		proposal(uuidToProto(id, true), jsonMetadata("Referred"), []byte(`{}`)),
		proposal(structuredID(id), map[string]string{"type": "T"}, nil),
		proposal(structuredID(uuid.Nil), jsonMetadata("T"), nil),
	} {
		data, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	c := newCodec()
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast appendMessage
		fastErr := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, &fast)

		var req streams.AppendReq
		if err := proto.Unmarshal(data, &req); err != nil {
			if fastErr == nil && fast.req == nil {
				t.Fatalf("the fast path accepted what protobuf refuses (%v): %+v", err, fast.event)
			}
			return
		}
		if fastErr != nil {
			t.Fatalf("the codec refused what protobuf accepts: %v", fastErr)
		}
		if fast.req != nil && !proto.Equal(fast.req, &req) {
			t.Fatalf("the codec decoded %v, protobuf %v", fast.req, &req)
		}
		if options := req.GetOptions(); options != nil {
			if fast.req == nil {
				t.Fatal("the fast path took append options")
			}
			if _, err := streamNameOf(options.GetStreamIdentifier()); err != nil && status.Code(err) != codes.InvalidArgument {
				t.Fatalf("stream refusal %v, want InvalidArgument", err)
			}
			if _, err := expectedRevisionOf(options); err != nil && status.Code(err) != codes.InvalidArgument {
				t.Fatalf("expected revision refusal %v, want InvalidArgument", err)
			}
		}
		proposed := req.GetProposedMessage()
		if proposed == nil {
			if fast.req == nil {
				t.Fatalf("the fast path decoded an event from a message without one: %+v", fast.event)
			}
			return
		}
		event, err := eventFromProposal(proposed)
		if err != nil {
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("event refusal %v, want InvalidArgument", err)
			}
			if fast.req == nil {
				t.Fatalf("the fast path accepted an event the server refuses (%v): %+v", err, fast.event)
			}
			return
		}
		if event.ID == uuid.Nil || event.Type == "" {
			t.Fatalf("accepted event %+v without an id or a type", event)
		}
		if event.Type != proposed.GetMetadata()[metadataType] || event.ContentType != proposed.GetMetadata()[metadataContentType] {
			t.Fatalf("event %+v does not carry the proposed type and content type", event)
		}
		back, err := uuidFromProto(uuidToProto(event.ID, false))
		if err != nil || back != event.ID {
			t.Fatalf("id %v does not survive encoding: %v, %v", event.ID, back, err)
		}
		if fast.req == nil {
			got := fast.event
			if got.ID != event.ID || got.Type != event.Type || got.ContentType != event.ContentType ||
				!bytes.Equal(got.Data, event.Data) || !bytes.Equal(got.Metadata, event.Metadata) {
				t.Fatalf("the fast path decoded %+v, protobuf %+v", got, event)
			}
		}
	})
}
