package wire

import (
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestReadStream(t *testing.T) {
	client, _, _ := startMemServer(t)
	const stream = "patient-read"
	events := jsonEvents("AttendanceRecorded", 5)
	before := time.Now()
	mustAppend(t, client, stream, events...)
	after := time.Now()
	ids := dataIDs(events)

	tests := []struct {
		name    string
		options esdb.ReadStreamOptions
		count   uint64
		want    []uuid.UUID
	}{
		{name: "forwards from start", options: esdb.ReadStreamOptions{From: esdb.Start{}}, count: 100, want: ids},
		{name: "forwards with a count", options: esdb.ReadStreamOptions{From: esdb.Start{}}, count: 2, want: ids[:2]},
		{name: "forwards from a revision, inclusive", options: esdb.ReadStreamOptions{From: esdb.Revision(2)}, count: 100, want: ids[2:]},
		{name: "forwards from the end reads nothing", options: esdb.ReadStreamOptions{From: esdb.End{}}, count: 100, want: nil},
		{name: "backwards from the end", options: esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, count: 100, want: reversed(ids)},
		{name: "backwards with a count", options: esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, count: 3, want: reversed(ids)[:3]},
		{name: "backwards from a revision, inclusive", options: esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(1)}, count: 100, want: reversed(ids[:2])},
		{name: "a zero count reads nothing", options: esdb.ReadStreamOptions{From: esdb.Start{}}, count: 0, want: nil},
		{name: "resolve links is ignored", options: esdb.ReadStreamOptions{From: esdb.Start{}, ResolveLinkTos: true}, count: 100, want: ids},
		{name: "the largest count means all", options: esdb.ReadStreamOptions{From: esdb.Start{}}, count: ^uint64(0), want: ids},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := drain(client.ReadStream(testContext(t), stream, tt.options, tt.count))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !slices.Equal(eventIDs(got), tt.want) {
				t.Errorf("read ids = %v, want %v", eventIDs(got), tt.want)
			}
		})
	}

	t.Run("events carry what was appended", func(t *testing.T) {
		got, err := drain(client.ReadStream(testContext(t), stream, esdb.ReadStreamOptions{}, 100))
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		for i, e := range got {
			if e.StreamID != stream || e.EventNumber != uint64(i) || e.EventType != "AttendanceRecorded" ||
				e.ContentType != "application/json" || string(e.Data) != string(events[i].Data) {
				t.Errorf("event %d = %+v, want revision %d of %s as appended", i, e, i, stream)
			}
			// The created time has 100 ns resolution on the wire.
			if e.CreatedDate.Before(before.Truncate(100*time.Nanosecond)) || e.CreatedDate.After(after) {
				t.Errorf("event %d created %v, want between %v and %v", i, e.CreatedDate, before, after)
			}
			if i > 0 && got[i-1].Position.Commit >= e.Position.Commit {
				t.Errorf("positions %v then %v, want increasing", got[i-1].Position, e.Position)
			}
		}
	})
}

func TestReadStreamNotFound(t *testing.T) {
	client, _, _ := startMemServer(t)
	mustAppend(t, client, "patient-deleted", jsonEvent("Referred", `{}`))
	if _, err := client.DeleteStream(testContext(t), "patient-deleted", esdb.DeleteStreamOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}

	tests := []struct {
		name   string
		stream string
		count  uint64
	}{
		{name: "never written", stream: "patient-missing", count: 10},
		{name: "soft deleted", stream: "patient-deleted", count: 10},
		{name: "never written, zero count", stream: "patient-missing", count: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := drain(client.ReadStream(testContext(t), tt.stream, esdb.ReadStreamOptions{}, tt.count))
			if errorCode(err) != esdb.ErrorCodeResourceNotFound {
				t.Fatalf("read = %d events, err %v; want resource not found", len(got), err)
			}
		})
	}
}

func TestReadAll(t *testing.T) {
	client, _, _ := startMemServer(t)
	var all []esdb.EventData
	for _, stream := range []string{"patient-a", "group-b", "patient-c"} {
		events := jsonEvents("Recorded", 3)
		mustAppend(t, client, stream, events...)
		all = append(all, events...)
	}
	ids := dataIDs(all)
	every, err := drain(client.ReadAll(testContext(t), esdb.ReadAllOptions{}, 100))
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	if !slices.Equal(eventIDs(every), ids) {
		t.Fatalf("$all = %v, want %v", eventIDs(every), ids)
	}
	fourth := every[4].Position

	tests := []struct {
		name    string
		options esdb.ReadAllOptions
		count   uint64
		want    []uuid.UUID
	}{
		{name: "forwards with a count", options: esdb.ReadAllOptions{From: esdb.Start{}}, count: 4, want: ids[:4]},
		{name: "forwards from a position includes its event", options: esdb.ReadAllOptions{From: fourth}, count: 100, want: ids[4:]},
		{name: "forwards from the end reads nothing", options: esdb.ReadAllOptions{From: esdb.End{}}, count: 100, want: nil},
		{name: "backwards from the end", options: esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, count: 100, want: reversed(ids)},
		{name: "backwards with a count", options: esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, count: 2, want: reversed(ids)[:2]},
		{name: "backwards from a position excludes its event, as KurrentDB", options: esdb.ReadAllOptions{Direction: esdb.Backwards, From: fourth}, count: 100, want: reversed(ids[:4])},
		{name: "backwards from the start reads nothing", options: esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.Start{}}, count: 100, want: nil},
		{name: "a zero count reads nothing", options: esdb.ReadAllOptions{}, count: 0, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := drain(client.ReadAll(testContext(t), tt.options, tt.count))
			if err != nil {
				t.Fatalf("read all: %v", err)
			}
			if !slices.Equal(eventIDs(got), tt.want) {
				t.Errorf("read ids = %v, want %v", eventIDs(got), tt.want)
			}
		})
	}
}

// TestReadsSpanPages reads more events than one store page, in both
// directions, so that the continuation between pages is exercised.
func TestReadsSpanPages(t *testing.T) {
	client, _, _ := startMemServer(t)
	events := jsonEvents("SessionHeld", 2*readPageSize+7)
	for chunk := range slices.Chunk(events, 300) {
		mustAppend(t, client, "group-long", chunk...)
	}
	ids := dataIDs(events)

	tests := []struct {
		name string
		read func() (*esdb.ReadStream, error)
		want []uuid.UUID
	}{
		{name: "stream forwards", want: ids, read: func() (*esdb.ReadStream, error) {
			return client.ReadStream(testContext(t), "group-long", esdb.ReadStreamOptions{}, ^uint64(0))
		}},
		{name: "stream backwards", want: reversed(ids), read: func() (*esdb.ReadStream, error) {
			return client.ReadStream(testContext(t), "group-long", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, ^uint64(0))
		}},
		{name: "stream forwards, count ending mid page", want: ids[:readPageSize+3], read: func() (*esdb.ReadStream, error) {
			return client.ReadStream(testContext(t), "group-long", esdb.ReadStreamOptions{}, readPageSize+3)
		}},
		{name: "$all forwards", want: ids, read: func() (*esdb.ReadStream, error) {
			return client.ReadAll(testContext(t), esdb.ReadAllOptions{}, ^uint64(0))
		}},
		{name: "$all backwards", want: reversed(ids), read: func() (*esdb.ReadStream, error) {
			return client.ReadAll(testContext(t), esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, ^uint64(0))
		}},
		{name: "$all backwards, count ending mid page", want: reversed(ids)[:readPageSize+1], read: func() (*esdb.ReadStream, error) {
			return client.ReadAll(testContext(t), esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, readPageSize+1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := drain(tt.read())
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !slices.Equal(eventIDs(got), tt.want) {
				t.Errorf("read %d events, want %d in order", len(got), len(tt.want))
			}
		})
	}
}

// TestReadWithStringUUIDs asks for the text UUID encoding, which the Go
// client never does but other clients do.
func TestReadWithStringUUIDs(t *testing.T) {
	client, _, addr := startMemServer(t)
	event := jsonEvent("Referred", `{}`)
	mustAppend(t, client, "patient-text", event)

	call, err := streams.NewStreamsClient(dialRaw(t, addr)).Read(testContext(t), &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("patient-text")},
			RevisionOption:   &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}},
		}},
		CountOption:  &streams.ReadReq_Options_Count{Count: 10},
		FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}},
		UuidOption:   &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_String_{String_: &shared.Empty{}}},
	}})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	resp, err := call.Recv()
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	if got := resp.GetEvent().GetEvent().GetId().GetString_(); got != event.EventID.String() {
		t.Errorf("id = %q, want %q", got, event.EventID)
	}
	if _, err := call.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after the only event: %v, want the end of the read", err)
	}
}

// TestReadTombstonedStream checks the reply KurrentDB gives and the client
// needs: an error status with the stream-deleted trailers.
func TestReadTombstonedStream(t *testing.T) {
	client, _, addr := startMemServer(t)
	mustAppend(t, client, "patient-gone", jsonEvent("Referred", `{}`))
	if _, err := client.TombstoneStream(testContext(t), "patient-gone", esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatalf("tombstone: %v", err)
	}

	_, err := drain(client.ReadStream(testContext(t), "patient-gone", esdb.ReadStreamOptions{}, 10))
	if errorCode(err) != esdb.ErrorCodeStreamDeleted {
		t.Errorf("client read err = %v, want stream deleted", err)
	}

	var trailer metadata.MD
	call, err := streams.NewStreamsClient(dialRaw(t, addr)).Read(testContext(t), &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("patient-gone")},
			RevisionOption:   &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}},
		}},
		CountOption: &streams.ReadReq_Options_Count{Count: 10},
		UuidOption:  &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_Structured{Structured: &shared.Empty{}}},
	}}, grpc.Trailer(&trailer))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	_, err = call.Recv()
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("raw read err = %v, want FailedPrecondition", err)
	}
	if got := trailer.Get("exception"); !slices.Equal(got, []string{"stream-deleted"}) {
		t.Errorf("exception trailer = %v, want stream-deleted", got)
	}
	if got := trailer.Get("stream-name"); !slices.Equal(got, []string{"patient-gone"}) {
		t.Errorf("stream-name trailer = %v, want patient-gone", got)
	}
}
