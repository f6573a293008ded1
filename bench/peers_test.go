package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// fakePeerEnv makes the test binary act as the peer benchmark: it prints
// fakePeer as JSON and exits, so runPeers is tested against a real process.
const fakePeerEnv = "CONTINUUM_BENCH_FAKE_PEER"

var fakePeer = PeerResult{
	Store: "fake", Events: 5, AppendConcurrentEPS: 100, AppendBatchEPS: 1000,
	ReplayColdEPS: 1000, ReplayEPS: 2000, ReplayRawEPS: 4000, FoldDigest: "abc",
}

func TestMain(m *testing.M) {
	if os.Getenv(fakePeerEnv) != "" {
		fmt.Fprintln(os.Stderr, "fake peer: args", os.Args[1:])
		if err := json.NewEncoder(os.Stdout).Encode(fakePeer); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRunPeersReadsThePeerResult(t *testing.T) {
	t.Setenv(fakePeerEnv, "1")
	cfg := quickConfig(t)
	cfg.PeersCommand = os.Args[0]
	var progress bytes.Buffer
	got, err := runPeers(context.Background(), cfg, t.TempDir(), &progress)
	if err != nil {
		t.Fatal(err)
	}
	if *got != fakePeer {
		t.Errorf("runPeers = %+v, want %+v", *got, fakePeer)
	}
	for _, arg := range []string{"-events 12000", "-seed 2026", "-duration 150ms", "-dir "} {
		if !strings.Contains(progress.String(), arg) {
			t.Errorf("the peer was not passed %q; its stderr: %s", arg, progress.String())
		}
	}
}

func TestRunPeersFailsWithoutAResult(t *testing.T) {
	cfg := quickConfig(t)
	cfg.PeersCommand = "/bin/true"
	if _, err := runPeers(context.Background(), cfg, t.TempDir(), &bytes.Buffer{}); err == nil {
		t.Error("a peer that printed nothing gave no error")
	}
}

func TestJudge(t *testing.T) {
	ours := StoreResult{AppendConcurrentEPS: 30_000, AppendBatchEPS: 300_000, ReplayEPS: 1_200_000, ReplayEvents: 5, FoldDigest: "abc"}
	tests := []struct {
		name     string
		events   int
		replay   float64
		peer     *PeerResult
		wantPass []bool
	}{
		{name: "full run, fast, no peer", events: GoalReplayEvents, replay: 1_200_000, wantPass: []bool{true}},
		{name: "full run, slow", events: GoalReplayEvents, replay: 900_000, wantPass: []bool{false}},
		{name: "fast but too small a history", events: 1000, replay: 5_000_000, wantPass: []bool{false}},
		{name: "peer ten times slower on appends, two on replay", events: GoalReplayEvents, replay: 1_200_000,
			peer:     &PeerResult{AppendConcurrentEPS: 3000, ReplayEPS: 600_000},
			wantPass: []bool{true, true, false}},
		{name: "peer close on appends, far on replay", events: GoalReplayEvents, replay: 1_200_000,
			peer:     &PeerResult{AppendConcurrentEPS: 3001, ReplayEPS: 240_000},
			wantPass: []bool{true, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{Events: tt.events, StoreResult: ours}
			r.ReplayEPS = tt.replay
			if tt.peer != nil {
				r.Peers = tt.peer
				r.VsPeers = compareToPeers(r.StoreResult, *tt.peer)
			}
			goals := judge(r)
			if len(goals) != len(tt.wantPass) {
				t.Fatalf("judge gave %d goals, want %d: %+v", len(goals), len(tt.wantPass), goals)
			}
			for i, g := range goals {
				if g.Pass != tt.wantPass[i] {
					t.Errorf("goal %q: pass = %t, want %t (%+v)", g.Name, g.Pass, tt.wantPass[i], g)
				}
			}
		})
	}
}

func TestCompareToPeers(t *testing.T) {
	ours := StoreResult{AppendConcurrentEPS: 30_000, AppendBatchEPS: 300_000, ReplayEPS: 1_000_000, ReplayEvents: 7, FoldDigest: "d"}
	got := compareToPeers(ours, PeerResult{Events: 7, AppendConcurrentEPS: 1000, AppendBatchEPS: 100_000, ReplayEPS: 200_000, FoldDigest: "d"})
	want := PeerRatios{AppendConcurrent: 30, AppendBatch: 3, Replay: 5, SameFold: true}
	if *got != want {
		t.Errorf("compareToPeers = %+v, want %+v", *got, want)
	}
	if other := compareToPeers(ours, PeerResult{Events: 7, FoldDigest: "e"}); other.SameFold || other.Replay != 0 {
		t.Errorf("a peer with another digest and no figures gave %+v, want SameFold false and zero ratios", *other)
	}
}
