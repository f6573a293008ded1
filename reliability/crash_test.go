package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Shape of the crash test.
const (
	crashRounds      = 10
	crashRoundsShort = 4
	crashWorkers     = 8
	// A round's load runs for crashLoadMin plus up to crashLoadJitter
	// before the kill, so the kill lands at a random point of the journeys
	// (and of the store's group commits, snapshot and key-store writes).
	crashLoadMin    = 150 * time.Millisecond
	crashLoadJitter = 900 * time.Millisecond
	// Every gracefulEvery-th round stops with SIGTERM instead, which
	// writes the projections' snapshot: the next start must resume from
	// it, and the SIGKILLs after it replay only the tail behind it.
	gracefulEvery = 3
)

// restoredSnapshot is the log line the projections runner writes when it
// resumes from its snapshot instead of replaying from zero.
const restoredSnapshot = "projections: restored snapshot"

// TestCrashUnderLoad kills the real server with SIGKILL at random moments
// of a mixed command load, round after round on one data directory. After
// each stop it checks offline that the store file is whole and that every
// command ever acknowledged is in the log where its answer put it; after
// each restart, that the census the server serves (resumed from its
// checkpoint) equals a rebuild from zero of the same log, byte for byte.
func TestCrashUnderLoad(t *testing.T) {
	rounds := crashRounds
	if testing.Short() {
		rounds = crashRoundsShort
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>17))
	dir := t.TempDir()

	var acked []ack
	kills, stops, resumed := 0, 0, 0
	snapshotted := false
	for round := 1; round <= rounds; round++ {
		srv := startServer(t, serverOptions{dataDir: dir})
		srv.waitReady()
		// Once a graceful stop has written a snapshot, every start resumes
		// from a snapshot: the one just written, or after a SIGKILL an
		// older one, with the log's tail behind it replayed.
		if snapshotted {
			if !strings.Contains(srv.log.String(), restoredSnapshot) {
				t.Errorf("round %d: the projections replayed from zero instead of resuming from their snapshot", round)
			}
			resumed++
		}
		served, at := srv.api.census(t)

		ctx, cancel := context.WithCancel(context.Background())
		load := startWorkload(ctx, srv.api, crashWorkers)
		time.Sleep(crashLoadMin + time.Duration(rng.Int64N(int64(crashLoadJitter))))
		graceful := round%gracefulEvery == 0
		snapshotted = snapshotted || graceful
		if graceful {
			if err := srv.terminate(); err != nil {
				t.Errorf("round %d: serve stopped with %v on SIGTERM:\n%s", round, err, srv.log.String())
			}
			stops++
		} else {
			srv.kill()
			kills++
		}
		cancel()
		roundAcks := load.stop(t)
		acked = append(acked, roundAcks...)

		store := openOffline(t, dir)
		checked := checkAcks(t, store, acked)
		compareCensus(t, fmt.Sprintf("round %d", round), served, rebuildCensus(t, store, at, served))
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		how := "SIGKILL"
		if graceful {
			how = "SIGTERM"
		}
		t.Logf("round %d outcomes: %s", round, load.summary())
		if t.Failed() {
			return
		}
		t.Logf("round %d: %d commands acknowledged, then %s; %d acknowledged commands checked in the log; census at %s equals a rebuild from zero",
			round, len(roundAcks), how, checked, at)
	}

	// The last stop's log must serve a last restart too, with the whole
	// history on its census.
	srv := startServer(t, serverOptions{dataDir: dir})
	srv.waitReady()
	if snapshotted && !strings.Contains(srv.log.String(), restoredSnapshot) {
		t.Errorf("final restart: the projections replayed from zero instead of resuming from their snapshot")
	}
	served, at := srv.api.census(t)
	if err := srv.terminate(); err != nil {
		t.Errorf("final restart: serve stopped with %v", err)
	}
	store := openOffline(t, dir)
	defer store.Close()
	checkAcks(t, store, acked)
	compareCensus(t, "final restart", served, rebuildCensus(t, store, at, served))
	t.Logf("%d restarts survived (%d SIGKILL, %d SIGTERM; %d starts resumed from a snapshot), %d acknowledged commands all in the log",
		kills+stops, kills, stops, resumed, len(acked))
}
