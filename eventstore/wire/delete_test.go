package wire

import (
	"slices"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestSoftDelete(t *testing.T) {
	client, _, _ := startMemServer(t)
	const stream = "patient-soft"
	written := mustAppend(t, client, stream, jsonEvents("Recorded", 2)...)

	deleted, err := client.DeleteStream(testContext(t), stream, esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(1)})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if deleted.Position.Commit < written.CommitPosition {
		t.Errorf("delete position %v is before the stream's last event at %d", deleted.Position, written.CommitPosition)
	}
	if _, err := drain(client.ReadStream(testContext(t), stream, esdb.ReadStreamOptions{}, 10)); errorCode(err) != esdb.ErrorCodeResourceNotFound {
		t.Fatalf("read after delete: %v, want resource not found", err)
	}

	// Writing again recreates the stream, continuing its revisions.
	again := jsonEvent("Readmitted", `{}`)
	result := mustAppend(t, client, stream, again)
	if result.NextExpectedVersion != 2 {
		t.Errorf("revision after recreation = %d, want 2", result.NextExpectedVersion)
	}
	got, err := drain(client.ReadStream(testContext(t), stream, esdb.ReadStreamOptions{}, 10))
	if err != nil {
		t.Fatalf("read after recreation: %v", err)
	}
	if len(got) != 1 || got[0].EventID != again.EventID || got[0].EventNumber != 2 {
		t.Errorf("recreated stream = %+v, want only the new event at revision 2", got)
	}
}

func TestDeleteWrongExpectedVersion(t *testing.T) {
	client, _, addr := startMemServer(t)
	mustAppend(t, client, "patient-wev", jsonEvents("Recorded", 3)...)

	_, err := client.DeleteStream(testContext(t), "patient-wev", esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(0)})
	if err == nil {
		t.Fatal("delete at a stale revision succeeded")
	}

	var trailer metadata.MD
	_, err = streams.NewStreamsClient(dialRaw(t, addr)).Delete(testContext(t), &streams.DeleteReq{Options: &streams.DeleteReq_Options{
		StreamIdentifier:       &shared.StreamIdentifier{StreamName: []byte("patient-wev")},
		ExpectedStreamRevision: &streams.DeleteReq_Options_NoStream{NoStream: &shared.Empty{}},
	}}, grpc.Trailer(&trailer))
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("raw delete err = %v, want FailedPrecondition", err)
	}
	want := map[string]string{
		"exception":        "wrong-expected-version",
		"stream-name":      "patient-wev",
		"expected-version": "-1",
		"actual-version":   "2",
	}
	for key, value := range want {
		if got := trailer.Get(key); !slices.Equal(got, []string{value}) {
			t.Errorf("trailer %s = %v, want %s", key, got, value)
		}
	}
}

func TestTombstone(t *testing.T) {
	client, _, _ := startMemServer(t)
	const stream = "patient-hard"
	mustAppend(t, client, stream, jsonEvent("Referred", `{}`))

	if _, err := client.TombstoneStream(testContext(t), stream, esdb.TombstoneStreamOptions{ExpectedRevision: esdb.StreamExists{}}); err != nil {
		t.Fatalf("tombstone: %v", err)
	}

	tests := []struct {
		name string
		call func() error
	}{
		{name: "read", call: func() error {
			_, err := drain(client.ReadStream(testContext(t), stream, esdb.ReadStreamOptions{}, 10))
			return err
		}},
		{name: "append", call: func() error {
			_, err := client.AppendToStream(testContext(t), stream, esdb.AppendToStreamOptions{}, jsonEvent("Referred", `{}`))
			return err
		}},
		{name: "delete", call: func() error {
			_, err := client.DeleteStream(testContext(t), stream, esdb.DeleteStreamOptions{})
			return err
		}},
		{name: "tombstone", call: func() error {
			_, err := client.TombstoneStream(testContext(t), stream, esdb.TombstoneStreamOptions{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); errorCode(err) != esdb.ErrorCodeStreamDeleted {
				t.Errorf("err = %v, want stream deleted", err)
			}
		})
	}

	t.Run("subscribe", func(t *testing.T) {
		// KurrentDB confirms the subscription, then ends it.
		sub, err := client.SubscribeToStream(testContext(t), stream, esdb.SubscribeToStreamOptions{From: esdb.Start{}})
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		defer sub.Close()
		dropped := sub.Recv().SubscriptionDropped
		if dropped == nil || status.Code(dropped.Error) != codes.FailedPrecondition {
			t.Fatalf("first message = %+v, want a drop with FailedPrecondition", dropped)
		}
	})
}

func TestDeleteNeverWrittenStream(t *testing.T) {
	client, _, _ := startMemServer(t)
	deleted, err := client.DeleteStream(testContext(t), "patient-never", esdb.DeleteStreamOptions{ExpectedRevision: esdb.Any{}})
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if deleted.Position != (esdb.Position{}) {
		t.Errorf("position on an empty store = %v, want the start", deleted.Position)
	}
	_, err = client.DeleteStream(testContext(t), "patient-never-2", esdb.DeleteStreamOptions{ExpectedRevision: esdb.StreamExists{}})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("delete expecting an existing stream: %v, want FailedPrecondition", err)
	}
}
