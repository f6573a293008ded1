package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/continuum-care/continuum/domain"
)

func TestRunPrintsEveryFigure(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-events", "3000", "-duration", "100ms", "-dir", t.TempDir()}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	for _, key := range []string{"append_concurrent_eps", "append_batch_eps", "fill_eps", "replay_cold_eps", "replay_eps", "replay_raw_eps", "cores"} {
		if v, ok := got[key].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", key, got[key])
		}
	}
	if got["events"] != 3000.0 || got["replay_events"] != 3000.0 {
		t.Errorf("events = %v, replay_events = %v, want 3000 both", got["events"], got["replay_events"])
	}
	if s, _ := got["fold_digest"].(string); s == "" {
		t.Error("no fold digest")
	}
}

func TestPointerToAndValueOfRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		event domain.Event
	}{
		{name: "patient event", event: domain.MeasureRecorded{Patient: "0fc2a907-8dca-4d06-b2d0-3168df562dc4", Instrument: domain.PHQ9, Score: 12}},
		{name: "group event", event: domain.AttendanceRecorded{Group: "skills", Session: "2025-06-19-1000", Status: domain.Absent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pointerTo(tt.event)
			back, err := valueOf(p)
			if err != nil {
				t.Fatal(err)
			}
			if back != tt.event {
				t.Errorf("round trip gave %#v, want %#v", back, tt.event)
			}
		})
	}
	if _, err := valueOf(&struct{}{}); err == nil {
		t.Error("valueOf accepted a value that is not a domain event")
	}
}
