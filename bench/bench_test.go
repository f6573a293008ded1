package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// quickConfig is a whole run shrunk to seconds: every workload runs, on a
// history small enough for a unit test.
func quickConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		Events:          12_000,
		Dir:             t.TempDir(),
		AppendDuration:  150 * time.Millisecond,
		SyncDuration:    50 * time.Millisecond,
		SeqWriteBytes:   4 << 20,
		SubscribeEvents: 1_000,
	}
}

func TestRunReportsEveryFigure(t *testing.T) {
	cfg := quickConfig(t)
	var progress bytes.Buffer
	cfg.Progress = &progress
	report, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	var out bytes.Buffer
	if err := report.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	positive := []string{
		"fsync_per_s", "seq_write_mb_s",
		"append_concurrent_eps", "append_concurrent_vs_fsync", "append_batch_eps",
		"subscribe_eps", "subscribe_seconds", "fill_eps",
		"replay_cold_eps", "replay_eps", "replay_raw_eps", "cores",
	}
	for _, key := range positive {
		v, ok := got[key].(float64)
		if !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", key, got[key])
		}
	}
	for key, want := range map[string]float64{
		"events":                    float64(cfg.Events),
		"replay_events":             float64(cfg.Events),
		"subscribe_events":          float64(cfg.SubscribeEvents),
		"append_concurrent_writers": ConcurrentWriters,
		"append_batch_writers":      BatchWriters,
		"append_batch_size":         BatchSize,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	for _, key := range []string{"go_version", "goos", "goarch", "store", "fold_digest"} {
		if s, _ := got[key].(string); s == "" {
			t.Errorf("%s = %v, want a non-empty string", key, got[key])
		}
	}
	goals, _ := got["goals"].([]any)
	if len(goals) != 1 {
		t.Fatalf("goals = %v, want the replay goal only (no peers ran)", got["goals"])
	}
	if goal := goals[0].(map[string]any); goal["pass"] != false || goal["note"] == nil || goal["note"] == "" {
		t.Errorf("replay goal over %d events = %v, want not passed, with a note on the scale", cfg.Events, goal)
	}
	var table bytes.Buffer
	if err := report.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "replay, typed + fold, store in memory") {
		t.Errorf("table lacks the replay row:\n%s", table.String())
	}
	// A run too small for the goal neither passes nor fails it.
	if !strings.Contains(table.String(), "typed replay of 10M events ≥ 1000000: NOT JUDGED") {
		t.Errorf("table does not say the replay goal was not judged:\n%s", table.String())
	}
}
