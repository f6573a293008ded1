package wire

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
)

// Request builders for the raw stubs: valid by default, so that each case
// breaks exactly one thing.

func structuredUUIDs() *streams.ReadReq_Options_UUIDOption {
	return &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}}
}

func streamReadOptions(stream string) *streams.ReadReq_Options {
	return &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(stream)},
			RevisionOption:   &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}},
		}},
		CountOption:  &streams.ReadReq_Options_Count{Count: 10},
		FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}},
		UuidOption:   structuredUUIDs(),
	}
}

func allSubscriptionOptions(filter *streams.ReadReq_Options_FilterOptions) *streams.ReadReq_Options {
	return &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{
			AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}},
		}},
		CountOption:  &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}},
		FilterOption: &streams.ReadReq_Options_Filter{Filter: filter},
		UuidOption:   structuredUUIDs(),
	}
}

func prefixFilter(prefixes ...string) *streams.ReadReq_Options_FilterOptions {
	return &streams.ReadReq_Options_FilterOptions{
		Filter: &streams.ReadReq_Options_FilterOptions_StreamIdentifier{StreamIdentifier: &streams.ReadReq_Options_FilterOptions_Expression{Prefix: prefixes}},
		Window: &streams.ReadReq_Options_FilterOptions_Max{Max: 32},

		CheckpointIntervalMultiplier: 1,
	}
}

func appendOptions(stream string) *streams.AppendReq {
	return &streams.AppendReq{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{
		StreamIdentifier:       &shared.StreamIdentifier{StreamName: []byte(stream)},
		ExpectedStreamRevision: &streams.AppendReq_Options_Any{Any: &shared.Empty{}},
	}}}
}

func proposal(id *shared.UUID, metadata map[string]string, data []byte) *streams.AppendReq {
	return &streams.AppendReq{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{
		Id: id, Metadata: metadata, Data: data,
	}}}
}

func structuredID(id uuid.UUID) *shared.UUID { return uuidToProto(id, false) }

func jsonMetadata(eventType string) map[string]string {
	return map[string]string{"type": eventType, "content-type": "application/json"}
}

// rawRead sends req and returns the error of the first receive, which is
// where a server-streaming call reports a refusal.
func rawRead(ctx context.Context, client streams.StreamsClient, req *streams.ReadReq, trailer *metadata.MD) error {
	call, err := client.Read(ctx, req, grpc.Trailer(trailer))
	if err != nil {
		return err
	}
	_, err = call.Recv()
	return err
}

// rawAppend sends the messages of one append and returns its outcome.
func rawAppend(ctx context.Context, client streams.StreamsClient, trailer *metadata.MD, msgs ...*streams.AppendReq) (*streams.AppendResp, error) {
	call, err := client.Append(ctx, grpc.Trailer(trailer))
	if err != nil {
		return nil, err
	}
	for _, msg := range msgs {
		if err := call.Send(msg); err != nil {
			break // the server answered early; CloseAndRecv has its status
		}
	}
	return call.CloseAndRecv()
}

func TestMalformedRequestsAnswerErrors(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { _ = store.Close() })
	_, addr := startServer(t, store, WithMaxAppendSize(1000))
	client := streams.NewStreamsClient(dialRaw(t, addr))
	okID := structuredID(uuid.New())

	read := func(mutate func(*streams.ReadReq_Options) *streams.ReadReq_Options) func(context.Context, *metadata.MD) error {
		return func(ctx context.Context, trailer *metadata.MD) error {
			return rawRead(ctx, client, &streams.ReadReq{Options: mutate(streamReadOptions("patient-x"))}, trailer)
		}
	}
	subscribe := func(filter *streams.ReadReq_Options_FilterOptions) func(context.Context, *metadata.MD) error {
		return func(ctx context.Context, trailer *metadata.MD) error {
			return rawRead(ctx, client, &streams.ReadReq{Options: allSubscriptionOptions(filter)}, trailer)
		}
	}
	appendMsgs := func(msgs ...*streams.AppendReq) func(context.Context, *metadata.MD) error {
		return func(ctx context.Context, trailer *metadata.MD) error {
			_, err := rawAppend(ctx, client, trailer, msgs...)
			return err
		}
	}

	tests := []struct {
		name          string
		call          func(context.Context, *metadata.MD) error
		wantCode      codes.Code
		wantException string
	}{
		{name: "read without options", wantCode: codes.InvalidArgument, call: func(ctx context.Context, trailer *metadata.MD) error {
			return rawRead(ctx, client, &streams.ReadReq{}, trailer)
		}},
		{name: "read without uuid option", wantCode: codes.InvalidArgument, call: read(func(o *streams.ReadReq_Options) *streams.ReadReq_Options {
			o.UuidOption = nil
			return o
		})},
		{name: "read without stream option", wantCode: codes.InvalidArgument, call: read(func(o *streams.ReadReq_Options) *streams.ReadReq_Options {
			o.StreamOption = nil
			return o
		})},
		{name: "read without count option", wantCode: codes.InvalidArgument, call: read(func(o *streams.ReadReq_Options) *streams.ReadReq_Options {
			o.CountOption = nil
			return o
		})},
		{name: "read with an unknown direction", wantCode: codes.InvalidArgument, call: read(func(o *streams.ReadReq_Options) *streams.ReadReq_Options {
			o.ReadDirection = 7
			return o
		})},
		{name: "read of an empty stream name", wantCode: codes.InvalidArgument, call: read(func(o *streams.ReadReq_Options) *streams.ReadReq_Options {
			o.GetStream().StreamIdentifier = &shared.StreamIdentifier{}
			return o
		})},
		{name: "read without revision option", wantCode: codes.InvalidArgument, call: read(func(o *streams.ReadReq_Options) *streams.ReadReq_Options {
			o.GetStream().RevisionOption = nil
			return o
		})},
		{name: "filtered stream read", wantCode: codes.InvalidArgument, call: read(func(o *streams.ReadReq_Options) *streams.ReadReq_Options {
			o.FilterOption = &streams.ReadReq_Options_Filter{Filter: prefixFilter("patient-")}
			return o
		})},
		{name: "backwards subscription", wantCode: codes.InvalidArgument, call: read(func(o *streams.ReadReq_Options) *streams.ReadReq_Options {
			o.CountOption = &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}}
			o.ReadDirection = streams.ReadReq_Options_Backwards
			return o
		})},
		{name: "subscription with a bad regex", wantCode: codes.InvalidArgument, call: subscribe(&streams.ReadReq_Options_FilterOptions{
			Filter:                       &streams.ReadReq_Options_FilterOptions_EventType{EventType: &streams.ReadReq_Options_FilterOptions_Expression{Regex: "(unclosed"}},
			Window:                       &streams.ReadReq_Options_FilterOptions_Max{Max: 32},
			CheckpointIntervalMultiplier: 1,
		})},
		{name: "subscription with an empty filter", wantCode: codes.InvalidArgument, call: subscribe(&streams.ReadReq_Options_FilterOptions{
			Filter:                       &streams.ReadReq_Options_FilterOptions_EventType{EventType: &streams.ReadReq_Options_FilterOptions_Expression{}},
			Window:                       &streams.ReadReq_Options_FilterOptions_Max{Max: 32},
			CheckpointIntervalMultiplier: 1,
		})},
		{name: "subscription filter without a target", wantCode: codes.InvalidArgument, call: subscribe(&streams.ReadReq_Options_FilterOptions{
			Window:                       &streams.ReadReq_Options_FilterOptions_Max{Max: 32},
			CheckpointIntervalMultiplier: 1,
		})},
		{name: "subscription filter without a window", wantCode: codes.InvalidArgument, call: subscribe(func() *streams.ReadReq_Options_FilterOptions {
			f := prefixFilter("patient-")
			f.Window = nil
			return f
		}())},
		{name: "subscription filter with a zero window", wantCode: codes.InvalidArgument, call: subscribe(func() *streams.ReadReq_Options_FilterOptions {
			f := prefixFilter("patient-")
			f.Window = &streams.ReadReq_Options_FilterOptions_Max{Max: 0}
			return f
		}())},
		{name: "subscription filter with a zero checkpoint multiplier", wantCode: codes.InvalidArgument, call: subscribe(func() *streams.ReadReq_Options_FilterOptions {
			f := prefixFilter("patient-")
			f.CheckpointIntervalMultiplier = 0
			return f
		}())},
		{name: "append without any message", wantCode: codes.InvalidArgument, call: appendMsgs()},
		{name: "append starting with an event", wantCode: codes.InvalidArgument, call: appendMsgs(
			proposal(okID, jsonMetadata("Referred"), nil))},
		{name: "append without expected revision", wantCode: codes.InvalidArgument, call: appendMsgs(
			&streams.AppendReq{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("patient-x")},
			}}})},
		{name: "append without stream", wantCode: codes.InvalidArgument, call: appendMsgs(
			&streams.AppendReq{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{
				ExpectedStreamRevision: &streams.AppendReq_Options_Any{Any: &shared.Empty{}},
			}}})},
		{name: "append to $all", wantCode: codes.InvalidArgument, call: appendMsgs(
			appendOptions("$all"), proposal(okID, jsonMetadata("Referred"), nil))},
		{name: "append options twice", wantCode: codes.InvalidArgument, call: appendMsgs(
			appendOptions("patient-x"), appendOptions("patient-x"))},
		{name: "event without id", wantCode: codes.InvalidArgument, call: appendMsgs(
			appendOptions("patient-x"), proposal(nil, jsonMetadata("Referred"), nil))},
		{name: "event with a malformed text id", wantCode: codes.InvalidArgument, call: appendMsgs(
			appendOptions("patient-x"), proposal(&shared.UUID{Value: &shared.UUID_String_{String_: "not-a-uuid"}}, jsonMetadata("Referred"), nil))},
		{name: "event with the nil id", wantCode: codes.InvalidArgument, call: appendMsgs(
			appendOptions("patient-x"), proposal(structuredID(uuid.Nil), jsonMetadata("Referred"), nil))},
		{name: "event without type", wantCode: codes.InvalidArgument, wantException: "missing-required-metadata-property", call: appendMsgs(
			appendOptions("patient-x"), proposal(okID, map[string]string{"content-type": "application/json"}, nil))},
		{name: "event with an empty type", wantCode: codes.InvalidArgument, call: appendMsgs(
			appendOptions("patient-x"), proposal(okID, jsonMetadata(""), nil))},
		{name: "event without content type", wantCode: codes.InvalidArgument, wantException: "missing-required-metadata-property", call: appendMsgs(
			appendOptions("patient-x"), proposal(okID, map[string]string{"type": "Referred"}, nil))},
		{name: "append over the size limit", wantCode: codes.InvalidArgument, wantException: "maximum-append-size-exceeded", call: appendMsgs(
			appendOptions("patient-x"),
			proposal(structuredID(uuid.New()), jsonMetadata("Referred"), make([]byte, 600)),
			proposal(structuredID(uuid.New()), jsonMetadata("Referred"), make([]byte, 600)))},
		{name: "delete without options", wantCode: codes.InvalidArgument, call: func(ctx context.Context, trailer *metadata.MD) error {
			_, err := client.Delete(ctx, &streams.DeleteReq{}, grpc.Trailer(trailer))
			return err
		}},
		{name: "delete without expected revision", wantCode: codes.InvalidArgument, call: func(ctx context.Context, trailer *metadata.MD) error {
			_, err := client.Delete(ctx, &streams.DeleteReq{Options: &streams.DeleteReq_Options{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("patient-x")},
			}}, grpc.Trailer(trailer))
			return err
		}},
		{name: "tombstone without stream", wantCode: codes.InvalidArgument, call: func(ctx context.Context, trailer *metadata.MD) error {
			_, err := client.Tombstone(ctx, &streams.TombstoneReq{Options: &streams.TombstoneReq_Options{
				ExpectedStreamRevision: &streams.TombstoneReq_Options_Any{Any: &shared.Empty{}},
			}}, grpc.Trailer(trailer))
			return err
		}},
		{name: "batch append is not implemented", wantCode: codes.Unimplemented, call: func(ctx context.Context, trailer *metadata.MD) error {
			call, err := client.BatchAppend(ctx, grpc.Trailer(trailer))
			if err != nil {
				return err
			}
			_, err = call.Recv()
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trailer metadata.MD
			err := tt.call(testContext(t), &trailer)
			if status.Code(err) != tt.wantCode {
				t.Fatalf("err = %v, want code %v", err, tt.wantCode)
			}
			if tt.wantException != "" && !slices.Equal(trailer.Get("exception"), []string{tt.wantException}) {
				t.Errorf("exception trailer = %v, want %s", trailer.Get("exception"), tt.wantException)
			}
		})
	}

	// None of that took the server down, and nothing was written.
	resp, err := rawAppend(testContext(t), client, new(metadata.MD), appendOptions("patient-x"), proposal(okID, jsonMetadata("Referred"), []byte(`{}`)))
	if err != nil {
		t.Fatalf("valid append after the malformed ones: %v", err)
	}
	if got := resp.GetSuccess().GetCurrentRevision(); got != 0 {
		t.Errorf("revision after the malformed appends = %d, want 0 (none of them wrote)", got)
	}
}

// TestFilteredReadAll reads $all with a filter, which KurrentDB serves but
// the v4 Go client never asks for.
func TestFilteredReadAll(t *testing.T) {
	client, _, addr := startMemServer(t)
	stepDown := jsonEvent("SteppedDown", `{}`)
	mustAppend(t, client, "patient-f", jsonEvent("Admitted", `{}`), stepDown, jsonEvent("Discharged", `{}`))

	options := &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{
			AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}},
		}},
		CountOption: &streams.ReadReq_Options_Count{Count: 10},
		FilterOption: &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{
			Filter:                       &streams.ReadReq_Options_FilterOptions_EventType{EventType: &streams.ReadReq_Options_FilterOptions_Expression{Prefix: []string{"Stepped"}}},
			Window:                       &streams.ReadReq_Options_FilterOptions_Count{Count: &shared.Empty{}},
			CheckpointIntervalMultiplier: 1,
		}},
		UuidOption: structuredUUIDs(),
	}
	call, err := streams.NewStreamsClient(dialRaw(t, addr)).Read(testContext(t), &streams.ReadReq{Options: options})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var got []uuid.UUID
	for {
		resp, err := call.Recv()
		if err != nil {
			if status.Code(err) != codes.OK && !errors.Is(err, io.EOF) {
				t.Fatalf("recv: %v", err)
			}
			break
		}
		id, err := uuidFromProto(resp.GetEvent().GetEvent().GetId())
		if err != nil {
			t.Fatalf("event id: %v", err)
		}
		got = append(got, id)
	}
	if !slices.Equal(got, []uuid.UUID{stepDown.EventID}) {
		t.Errorf("filtered read = %v, want only %v", got, stepDown.EventID)
	}
}

func TestEmptyAppend(t *testing.T) {
	client, _, addr := startMemServer(t)
	raw := streams.NewStreamsClient(dialRaw(t, addr))

	resp, err := rawAppend(testContext(t), raw, new(metadata.MD), appendOptions("patient-empty"))
	if err != nil {
		t.Fatalf("empty append: %v", err)
	}
	if resp.GetSuccess().GetNoStream() == nil || resp.GetSuccess().GetNoPosition() == nil {
		t.Errorf("empty append to an empty stream = %v, want no stream and no position", resp)
	}

	written := mustAppend(t, client, "patient-empty", jsonEvent("Referred", `{}`))
	resp, err = rawAppend(testContext(t), raw, new(metadata.MD), appendOptions("patient-empty"))
	if err != nil {
		t.Fatalf("empty append: %v", err)
	}
	if got := resp.GetSuccess(); got.GetCurrentRevision() != 0 || got.GetPosition().GetCommitPosition() != written.CommitPosition {
		t.Errorf("empty append to a written stream = %v, want revision 0 at %d", resp, written.CommitPosition)
	}
}

func TestWrongExpectedVersionFields(t *testing.T) {
	client, _, addr := startMemServer(t)
	raw := streams.NewStreamsClient(dialRaw(t, addr))
	mustAppend(t, client, "patient-fields", jsonEvents("Recorded", 2)...)

	options := appendOptions("patient-fields")
	options.GetOptions().ExpectedStreamRevision = &streams.AppendReq_Options_Revision{Revision: 5}
	resp, err := rawAppend(testContext(t), raw, new(metadata.MD), options, proposal(structuredID(uuid.New()), jsonMetadata("Recorded"), nil))
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	wrong := resp.GetWrongExpectedVersion()
	if wrong.GetCurrentRevision() != 1 || wrong.GetCurrentRevision_20_6_0() != 1 {
		t.Errorf("current revision = %d (20.6.0: %d), want 1", wrong.GetCurrentRevision(), wrong.GetCurrentRevision_20_6_0())
	}
	if wrong.GetExpectedRevision() != 5 || wrong.GetExpectedRevision_20_6_0() != 5 {
		t.Errorf("expected revision = %d (20.6.0: %d), want 5 mirrored", wrong.GetExpectedRevision(), wrong.GetExpectedRevision_20_6_0())
	}
}

func TestServerFeatures(t *testing.T) {
	_, _, addr := startMemServer(t)
	methods, err := serverfeatures.NewServerFeaturesClient(dialRaw(t, addr)).GetSupportedMethods(testContext(t), &shared.Empty{})
	if err != nil {
		t.Fatalf("get supported methods: %v", err)
	}
	if methods.GetEventStoreServerVersion() != ServerVersion {
		t.Errorf("version = %q, want %q", methods.GetEventStoreServerVersion(), ServerVersion)
	}
	var got []string
	for _, m := range methods.GetMethods() {
		got = append(got, m.GetServiceName()+"/"+m.GetMethodName())
	}
	want := []string{
		"event_store.client.streams.streams/read",
		"event_store.client.streams.streams/append",
		"event_store.client.streams.streams/delete",
		"event_store.client.streams.streams/tombstone",
		"event_store.client.server_features.serverfeatures/getsupportedmethods",
		"event_store.client.gossip.gossip/read",
	}
	if !slices.Equal(got, want) {
		t.Errorf("methods = %v, want %v", got, want)
	}
}

func TestGossipAdvertisesThisNode(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { _ = store.Close() })

	tests := []struct {
		name     string
		opts     []Option
		wantHost string
		// wantPort 0 means the server's own port.
		wantPort uint32
	}{
		{name: "the address the client dialled", wantHost: "127.0.0.1"},
		{name: "the configured address", opts: []Option{WithAdvertisedEndpoint("es.example", 2113)}, wantHost: "es.example", wantPort: 2113},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr := startServer(t, store, tt.opts...)
			info, err := gossip.NewGossipClient(dialRaw(t, addr)).Read(testContext(t), &shared.Empty{})
			if err != nil {
				t.Fatalf("gossip read: %v", err)
			}
			if len(info.GetMembers()) != 1 {
				t.Fatalf("members = %v, want this node only", info.GetMembers())
			}
			self := info.GetMembers()[0]
			wantPort := tt.wantPort
			if wantPort == 0 {
				wantPort = uint32(mustPort(t, addr))
			}
			if self.GetState() != gossip.MemberInfo_Leader || !self.GetIsAlive() ||
				self.GetHttpEndPoint().GetAddress() != tt.wantHost || self.GetHttpEndPoint().GetPort() != wantPort {
				t.Errorf("member = %v, want a live leader at %s:%d", self, tt.wantHost, wantPort)
			}
		})
	}
}

func mustPort(t *testing.T, addr string) uint32 {
	t.Helper()
	e, ok := parseEndpoint(addr)
	if !ok {
		t.Fatalf("bad address %q", addr)
	}
	return e.port
}

func TestDiscoverConnectionString(t *testing.T) {
	_, _, addr := startMemServer(t)
	client := newClient(t, "esdb+discover://"+addr+"?tls=false")
	event := jsonEvent("Referred", `{}`)
	mustAppend(t, client, "patient-discovered", event)
	got, err := drain(client.ReadStream(testContext(t), "patient-discovered", esdb.ReadStreamOptions{}, 10))
	if err != nil || len(got) != 1 || got[0].EventID != event.EventID {
		t.Fatalf("read through a discovered connection = %v, %v; want the appended event", got, err)
	}
}

func TestUnsupportedRPCsAnswerUnimplemented(t *testing.T) {
	client, _, addr := startMemServer(t)

	err := client.CreatePersistentSubscription(testContext(t), "patient-x", "projector", esdb.PersistentStreamSubscriptionOptions{})
	if errorCode(err) != esdb.ErrorCodeUnsupportedFeature {
		t.Errorf("create persistent subscription: %v, want unsupported feature", err)
	}

	_, err = persistent.NewPersistentSubscriptionsClient(dialRaw(t, addr)).Delete(testContext(t), &persistent.DeleteReq{})
	if status.Code(err) != codes.Unimplemented || !strings.Contains(status.Convert(err).Message(), "not implemented") {
		t.Errorf("raw persistent delete: %v, want Unimplemented saying so", err)
	}
}

// panickingStore panics where a buggy store might, to prove the recovery
// interceptor keeps the server up.
type panickingStore struct {
	*memstore.Store
}

func (panickingStore) ReadStream(context.Context, string, eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	panic("store bug")
}

func TestPanicAnswersInternalAndServerStaysUp(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { _ = store.Close() })
	_, addr := startServer(t, panickingStore{store})
	client := newClient(t, "esdb://"+addr+"?tls=false")

	_, err := drain(client.ReadStream(testContext(t), "patient-x", esdb.ReadStreamOptions{}, 10))
	if status.Code(err) != codes.Internal {
		t.Fatalf("read from a panicking store: %v, want Internal", err)
	}
	mustAppend(t, client, "patient-x", jsonEvent("Referred", `{}`))
}
