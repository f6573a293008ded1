package bolt

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/continuum-care/continuum/eventstore"
)

func TestRecordRoundTrip(t *testing.T) {
	cases := []struct {
		name        string
		event       eventstore.EventData
		contentType string // as read back
	}{
		{name: "json", event: eventstore.EventData{Type: "Admitted", ContentType: eventstore.ContentTypeJSON, Data: []byte(`{"a":1}`), Metadata: []byte(`{"m":2}`)}, contentType: ""},
		{name: "empty content type", event: eventstore.EventData{Type: "Admitted", Data: []byte(`{}`)}, contentType: ""},
		{name: "binary", event: eventstore.EventData{Type: "$probe", ContentType: "application/octet-stream", Data: []byte{0, 0xff, 1}}, contentType: "application/octet-stream"},
		{name: "no data", event: eventstore.EventData{Type: "Tick"}, contentType: ""},
		{name: "large", event: eventstore.EventData{Type: "Big", Data: bytes.Repeat([]byte("x"), 70_000), Metadata: bytes.Repeat([]byte("m"), 300)}, contentType: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.event.ID = uuid.New()
			b := encodeRecord(tc.event)
			if len(b) != recordSize(tc.event) || cap(b) != len(b) {
				t.Fatalf("record of %d bytes (cap %d), recordSize says %d", len(b), cap(b), recordSize(tc.event))
			}
			stampRecord(b, 7, 1<<40, -5)
			r, err := decodeRecord(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if r.stream != 7 || r.revision != 1<<40 || r.created != -5 || r.id != tc.event.ID {
				t.Fatalf("header %+v", r)
			}
			if string(r.eventType) != tc.event.Type || string(r.contentType) != tc.contentType ||
				!bytes.Equal(r.data, tc.event.Data) || !bytes.Equal(r.metadata, tc.event.Metadata) {
				t.Fatalf("decoded %q %q %q %q", r.eventType, r.contentType, r.data, r.metadata)
			}
			// Every truncation is detected, never misread.
			for n := range len(b) - len(tc.event.Metadata) {
				if _, err := decodeRecord(b[:n]); !errors.Is(err, errCorruptRecord) {
					t.Fatalf("record cut to %d of %d bytes: %v, want errCorruptRecord", n, len(b), err)
				}
			}
		})
	}
}

func TestRunsRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		runs []seqRun
	}{
		{name: "none", runs: nil},
		{name: "one", runs: []seqRun{{seq: 1, count: 1}}},
		{name: "gaps", runs: []seqRun{{seq: 5, count: 3}, {seq: 9, count: 1}, {seq: 1 << 40, count: 100_000}}},
		{name: "near the top", runs: []seqRun{{seq: math.MaxUint64 - 10, count: 5}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeRuns(appendRuns(nil, tc.runs))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !slices.Equal(got, tc.runs) {
				t.Fatalf("runs %v, want %v", got, tc.runs)
			}
		})
	}
	if _, err := decodeRuns([]byte{0, 1}); !errors.Is(err, errCorruptIndex) {
		t.Fatalf("run of zero events: %v, want errCorruptIndex", err)
	}
}

func TestStreamStateRoundTrip(t *testing.T) {
	st := streamState{number: 3, next: 40, truncateBefore: 12, flags: flagSoftDeleted,
		inline: []seqRun{{seq: 100, count: 2}, {seq: 200, count: 5}}}
	got, err := decodeStreamState(st.encode())
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got.number != 3 || got.next != 40 || got.truncateBefore != 12 || !got.softDeleted() || got.tombstoned() ||
		!slices.Equal(got.inline, st.inline) || got.inlineStart() != 33 {
		t.Fatalf("state %+v, want %+v (inline from 33)", got, st)
	}
}
