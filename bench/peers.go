package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strconv"
)

// PeerResult is what the peer benchmark (bench/peers) prints: the same
// workloads on another event-sourcing library, with the same JSON keys.
type PeerResult struct {
	// Store describes the peer: library, storage and durability settings.
	Store               string  `json:"store"`
	Events              int     `json:"events"`
	AppendConcurrentEPS float64 `json:"append_concurrent_eps"`
	AppendBatchEPS      float64 `json:"append_batch_eps"`
	ReplayColdEPS       float64 `json:"replay_cold_eps"`
	ReplayRawEPS        float64 `json:"replay_raw_eps"`
	ReplayEPS           float64 `json:"replay_eps"`
	FoldDigest          string  `json:"fold_digest"`
}

// PeerRatios are continuum's embedded figures over the peer's (2 means twice as fast).
type PeerRatios struct {
	AppendConcurrent float64 `json:"append_concurrent"`
	AppendBatch      float64 `json:"append_batch"`
	Replay           float64 `json:"replay"`
	// SameFold is true when both replays folded the same facts (equal digests).
	SameFold bool `json:"same_fold"`
}

// runPeers runs the peer benchmark's executable with this run's workload in
// the working directory, passing its progress through, and reads its JSON.
func runPeers(ctx context.Context, cfg Config, work string, progress io.Writer) (*PeerResult, error) {
	fmt.Fprintf(progress, "peers: running %s\n", cfg.PeersCommand)
	cmd := exec.CommandContext(ctx, cfg.PeersCommand,
		"-events", strconv.Itoa(cfg.Events),
		"-dir", work,
		"-duration", cfg.AppendDuration.String(),
		"-seed", strconv.FormatUint(historySeed, 10),
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = progress
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("peer benchmark: %w", err)
	}
	var res PeerResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("peer benchmark printed no result: %w", err)
	}
	return &res, nil
}

// compareToPeers divides the embedded store's figures by the peer's.
func compareToPeers(ours StoreResult, peer PeerResult) *PeerRatios {
	ratio := func(a, b float64) float64 {
		if b <= 0 {
			return 0
		}
		return a / b
	}
	return &PeerRatios{
		AppendConcurrent: ratio(ours.AppendConcurrentEPS, peer.AppendConcurrentEPS),
		AppendBatch:      ratio(ours.AppendBatchEPS, peer.AppendBatchEPS),
		Replay:           ratio(ours.ReplayEPS, peer.ReplayEPS),
		SameFold:         ours.FoldDigest == peer.FoldDigest && ours.ReplayEvents == peer.Events,
	}
}
