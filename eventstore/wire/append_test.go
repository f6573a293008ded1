package wire

import (
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

func TestAppendExpectedRevisions(t *testing.T) {
	client, _, _ := startMemServer(t)
	const stream = "patient-7f9c"

	// The steps run in order against one stream; each starts where the
	// previous one left it.
	steps := []struct {
		name     string
		expected esdb.ExpectedRevision
		// wantRevision is checked when wantErr is empty.
		wantRevision uint64
		wantErr      string
	}{
		{name: "stream exists refused on a new stream", expected: esdb.StreamExists{}, wantErr: "expecting 'stream_exists' but got 'no_stream'"},
		{name: "exact refused on a new stream", expected: esdb.Revision(0), wantErr: "expecting '0' but got 'no_stream'"},
		{name: "no stream creates it", expected: esdb.NoStream{}, wantRevision: 0},
		{name: "exact at the last revision", expected: esdb.Revision(0), wantRevision: 1},
		{name: "stream exists", expected: esdb.StreamExists{}, wantRevision: 2},
		{name: "any", expected: esdb.Any{}, wantRevision: 3},
		{name: "no stream refused once written", expected: esdb.NoStream{}, wantErr: "expecting 'no_stream' but got '3'"},
		{name: "stale exact revision refused with the actual one", expected: esdb.Revision(1), wantErr: "expecting '1' but got '3'"},
		{name: "future exact revision refused", expected: esdb.Revision(9), wantErr: "expecting '9' but got '3'"},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			result, err := client.AppendToStream(testContext(t), stream,
				esdb.AppendToStreamOptions{ExpectedRevision: step.expected}, jsonEvent("Admitted", `{}`))
			if step.wantErr != "" {
				if errorCode(err) != esdb.ErrorCodeWrongExpectedVersion {
					t.Fatalf("err = %v, want a wrong expected version", err)
				}
				if !strings.Contains(err.Error(), step.wantErr) {
					t.Fatalf("err = %q, want it to say %q", err, step.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			if result.NextExpectedVersion != step.wantRevision {
				t.Errorf("next expected version = %d, want %d", result.NextExpectedVersion, step.wantRevision)
			}
			if result.CommitPosition == 0 {
				t.Errorf("commit position = 0, want the event's position")
			}
		})
	}
}

func TestAppendReportsPositionsOfLastEvent(t *testing.T) {
	client, _, _ := startMemServer(t)
	events := jsonEvents("GroupJoined", 3)
	result := mustAppend(t, client, "group-dbt", events...)

	read, err := drain(client.ReadStream(testContext(t), "group-dbt", esdb.ReadStreamOptions{}, 10))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	last := read[len(read)-1]
	if result.CommitPosition != last.Position.Commit || result.PreparePosition != last.Position.Prepare {
		t.Errorf("append position = %d/%d, want the last event's %d/%d",
			result.CommitPosition, result.PreparePosition, last.Position.Commit, last.Position.Prepare)
	}
	if result.NextExpectedVersion != 2 {
		t.Errorf("next expected version = %d, want 2", result.NextExpectedVersion)
	}
}

func TestAppendIsIdempotent(t *testing.T) {
	client, _, _ := startMemServer(t)
	const stream = "patient-idem"
	events := []esdb.EventData{
		{EventID: uuid.New(), EventType: "Referred", ContentType: esdb.ContentTypeJson, Data: []byte(`{"a":1}`)},
		{EventID: uuid.New(), EventType: "IntakeCompleted", ContentType: esdb.ContentTypeJson, Data: []byte(`{"a":2}`)},
	}

	first, err := client.AppendToStream(testContext(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, events...)
	if err != nil {
		t.Fatalf("first append: %v", err)
	}
	retry, err := client.AppendToStream(testContext(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, events...)
	if err != nil {
		t.Fatalf("retried append: %v", err)
	}
	if *retry != *first {
		t.Errorf("retry result = %+v, want the first result %+v", *retry, *first)
	}

	read, err := drain(client.ReadStream(testContext(t), stream, esdb.ReadStreamOptions{}, 100))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(read) != len(events) {
		t.Fatalf("stream holds %d events after a retry, want %d", len(read), len(events))
	}

	// A retry that only partly matches is a conflict, not a retry.
	partial := []esdb.EventData{events[0], jsonEvent("Admitted", `{}`)}
	_, err = client.AppendToStream(testContext(t), stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, partial...)
	if errorCode(err) != esdb.ErrorCodeWrongExpectedVersion {
		t.Errorf("partial retry err = %v, want a wrong expected version", err)
	}
}

func TestAppendBinaryAndMetadataRoundTrip(t *testing.T) {
	client, _, _ := startMemServer(t)
	event := esdb.EventData{
		EventID:     uuid.New(),
		EventType:   "MeasureRecorded",
		ContentType: esdb.ContentTypeBinary,
		Data:        []byte{0, 1, 2, 255},
		Metadata:    []byte(`{"correlation":"c-1"}`),
	}
	mustAppend(t, client, "measure-bin", event)

	read, err := drain(client.ReadStream(testContext(t), "measure-bin", esdb.ReadStreamOptions{}, 1))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	got := read[0]
	if got.ContentType != "application/octet-stream" {
		t.Errorf("content type = %q, want application/octet-stream", got.ContentType)
	}
	if string(got.Data) != string(event.Data) || string(got.UserMetadata) != string(event.Metadata) {
		t.Errorf("data, metadata = %v, %q; want %v, %q", got.Data, got.UserMetadata, event.Data, event.Metadata)
	}
}
