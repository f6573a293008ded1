package wire

import (
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
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
// append options and proposed events.
func FuzzAppendRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var req streams.AppendReq
		if err := proto.Unmarshal(data, &req); err != nil {
			return
		}
		if options := req.GetOptions(); options != nil {
			if _, err := streamNameOf(options.GetStreamIdentifier()); err != nil && status.Code(err) != codes.InvalidArgument {
				t.Fatalf("stream refusal %v, want InvalidArgument", err)
			}
			if _, err := expectedRevisionOf(options); err != nil && status.Code(err) != codes.InvalidArgument {
				t.Fatalf("expected revision refusal %v, want InvalidArgument", err)
			}
		}
		if proposed := req.GetProposedMessage(); proposed != nil {
			event, err := eventFromProposal(proposed)
			if err != nil {
				if status.Code(err) != codes.InvalidArgument {
					t.Fatalf("event refusal %v, want InvalidArgument", err)
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
		}
	})
}
