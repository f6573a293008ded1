package esdb

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
)

func TestToExpectedRevision(t *testing.T) {
	tests := []struct {
		name string
		in   eventstore.ExpectedRevision
		want esdbclient.ExpectedRevision
	}{
		{"any", eventstore.Any, esdbclient.Any{}},
		{"no stream", eventstore.NoStream, esdbclient.NoStream{}},
		{"stream exists", eventstore.StreamExists, esdbclient.StreamExists{}},
		{"exact 0", eventstore.Exact(0), esdbclient.Revision(0)},
		{"exact 41", eventstore.Exact(41), esdbclient.Revision(41)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toExpectedRevision(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("toExpectedRevision(%s) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestToStreamPosition(t *testing.T) {
	tests := []struct {
		name string
		in   eventstore.StreamPosition
		want esdbclient.StreamPosition
	}{
		{"start", eventstore.StreamStart, esdbclient.Start{}},
		{"end", eventstore.StreamEnd, esdbclient.End{}},
		{"revision 0 is not the start marker", eventstore.At(0), esdbclient.Revision(0)},
		{"revision", eventstore.At(7), esdbclient.Revision(7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toStreamPosition(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("toStreamPosition(%s) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestAllPositionRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   eventstore.Position
		want esdbclient.AllPosition
	}{
		{"start", eventstore.Start, esdbclient.Start{}},
		{"end", eventstore.End, esdbclient.End{}},
		{"commit and prepare kept apart", eventstore.Position{Commit: 200, Prepare: 150}, esdbclient.Position{Commit: 200, Prepare: 150}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toAllPosition(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("toAllPosition(%s) = %#v, want %#v", tt.in, got, tt.want)
			}
			if p, ok := got.(esdbclient.Position); ok && fromPosition(p) != tt.in {
				t.Fatalf("fromPosition(%#v) = %s, want %s", p, fromPosition(p), tt.in)
			}
		})
	}
}

func TestToDirection(t *testing.T) {
	tests := []struct {
		name string
		in   eventstore.Direction
		want esdbclient.Direction
	}{
		{"forwards", eventstore.Forwards, esdbclient.Forwards},
		{"backwards", eventstore.Backwards, esdbclient.Backwards},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toDirection(tt.in); got != tt.want {
				t.Fatalf("toDirection(%d) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestReadCount(t *testing.T) {
	tests := []struct {
		name string
		max  uint64
		want uint64
	}{
		{"no limit", 0, unlimited},
		{"one", 1, 1},
		{"many", 500, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readCount(tt.max); got != tt.want {
				t.Fatalf("readCount(%d) = %d, want %d", tt.max, got, tt.want)
			}
		})
	}
}

func TestToEventData(t *testing.T) {
	id := uuid.New()
	data := []byte(`{"level":"php"}`)
	metadata := []byte(`{"schemaVersion":2,"occurredAt":"2026-03-01T09:00:00Z","correlationId":"c","causationId":"d"}`)
	tests := []struct {
		name        string
		in          eventstore.EventData
		contentType esdbclient.ContentType
		wantErr     error
	}{
		{"JSON", eventstore.EventData{ID: id, Type: "SteppedDown", ContentType: eventstore.ContentTypeJSON, Data: data, Metadata: metadata}, esdbclient.ContentTypeJson, nil},
		{"empty content type is JSON", eventstore.EventData{ID: id, Type: "SteppedDown", Data: data, Metadata: metadata}, esdbclient.ContentTypeJson, nil},
		{"binary", eventstore.EventData{ID: id, Type: "Blob", ContentType: "application/octet-stream", Data: data}, esdbclient.ContentTypeBinary, nil},
		{"other content type", eventstore.EventData{ID: id, Type: "Note", ContentType: "text/plain", Data: data}, 0, eventstore.ErrInvalidArgument},
		{"nil ID", eventstore.EventData{Type: "SteppedDown", Data: data}, 0, eventstore.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toEventData(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("toEventData error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("toEventData: %v", err)
			}
			if got.EventID != tt.in.ID || got.EventType != tt.in.Type || got.ContentType != tt.contentType {
				t.Fatalf("toEventData = %+v, want ID %s, type %s, content type %d", got, tt.in.ID, tt.in.Type, tt.contentType)
			}
			if !bytes.Equal(got.Data, tt.in.Data) || !bytes.Equal(got.Metadata, tt.in.Metadata) {
				t.Fatalf("toEventData changed data %q / metadata %q", got.Data, got.Metadata)
			}
		})
	}
}

func TestFromRecordedEvent(t *testing.T) {
	id := uuid.New()
	created := time.Date(2026, 3, 1, 9, 30, 0, 123456700, time.FixedZone("CET", 3600))
	in := &esdbclient.RecordedEvent{
		EventID:        id,
		EventType:      "AdmittedToLevelOfCare",
		ContentType:    "application/json",
		StreamID:       "patient-1",
		EventNumber:    12,
		Position:       esdbclient.Position{Commit: 900, Prepare: 880},
		CreatedDate:    created,
		Data:           []byte(`{"level":"iop"}`),
		SystemMetadata: map[string]string{"type": "AdmittedToLevelOfCare"},
		UserMetadata:   []byte(`{"correlationId":"x"}`),
	}
	want := eventstore.RecordedEvent{
		ID:          id,
		Stream:      "patient-1",
		Revision:    12,
		Position:    eventstore.Position{Commit: 900, Prepare: 880},
		Type:        "AdmittedToLevelOfCare",
		ContentType: "application/json",
		Data:        []byte(`{"level":"iop"}`),
		Metadata:    []byte(`{"correlationId":"x"}`),
		Created:     created.UTC(),
	}
	got := fromRecordedEvent(in)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fromRecordedEvent = %+v, want %+v", got, want)
	}
	if got.Created.Location() != time.UTC {
		t.Fatalf("Created is in %s, want UTC", got.Created.Location())
	}
}

func TestToSubscriptionFilter(t *testing.T) {
	tests := []struct {
		name    string
		in      *eventstore.Filter
		want    *esdbclient.SubscriptionFilter
		wantErr error
	}{
		{"nil keeps everything", nil, nil, nil},
		{"empty keeps everything", &eventstore.Filter{Target: eventstore.FilterEventType}, nil, nil},
		{"stream prefixes", &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{"patient-", "group-"}},
			&esdbclient.SubscriptionFilter{Type: esdbclient.StreamFilterType, Prefixes: []string{"patient-", "group-"}}, nil},
		{"event type regex", &eventstore.Filter{Target: eventstore.FilterEventType, Regex: "^Stepped"},
			&esdbclient.SubscriptionFilter{Type: esdbclient.EventFilterType, Regex: "^Stepped"}, nil},
		{"exclude system events", eventstore.ExcludeSystemEvents(), esdbclient.ExcludeSystemEventsFilter(), nil},
		{"prefixes win over regex", &eventstore.Filter{Target: eventstore.FilterStreamName, Prefixes: []string{"group-"}, Regex: "^patient-"},
			&esdbclient.SubscriptionFilter{Type: esdbclient.StreamFilterType, Prefixes: []string{"group-"}}, nil},
		{"bad regex", &eventstore.Filter{Target: eventstore.FilterStreamName, Regex: "(["}, nil, eventstore.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toSubscriptionFilter(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("toSubscriptionFilter error %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("toSubscriptionFilter = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestSubscribeToAllOptions(t *testing.T) {
	filter := &esdbclient.SubscriptionFilter{Type: esdbclient.StreamFilterType, Prefixes: []string{"group-"}}
	from := esdbclient.Position{Commit: 64, Prepare: 64}
	tests := []struct {
		name       string
		filter     *esdbclient.SubscriptionFilter
		interval   uint32
		window     int
		multiplier int
	}{
		{"unfiltered ignores the interval", nil, 10, 0, 0},
		{"store default leaves the client's", filter, 0, 0, 0},
		{"interval is the search window", filter, 10, 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := subscribeToAllOptions(from, tt.filter, tt.interval)
			if got.From != from || got.Filter != tt.filter {
				t.Fatalf("subscribeToAllOptions lost from or filter: %+v", got)
			}
			if got.MaxSearchWindow != tt.window || got.CheckpointInterval != tt.multiplier {
				t.Fatalf("window %d × multiplier %d, want %d × %d", got.MaxSearchWindow, got.CheckpointInterval, tt.window, tt.multiplier)
			}
		})
	}
}

func TestValidStream(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		wantErr error
	}{
		{"ordinary", "patient-3f1c", nil},
		{"system stream", "$ce-patient", nil},
		{"empty", "", eventstore.ErrInvalidArgument},
		{"$all", "$all", eventstore.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validStream(tt.stream); !errors.Is(err, tt.wantErr) {
				t.Fatalf("validStream(%q) = %v, want %v", tt.stream, err, tt.wantErr)
			}
		})
	}
}
