package bench

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/continuum-care/continuum/bench/workload"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

func sequentialReplay(ctx context.Context, store eventstore.Store) (workload.Fold, time.Duration, error) {
	var fold workload.Fold
	start := time.Now()
	err := readPages(ctx, store, eventstore.Start, func(p page) error {
		for i := range p.events {
			e := &p.events[i]
			ev, err := domain.DecodeData(e.Type, e.Data, e.Metadata)
			if err != nil {
				return err
			}
			fold.Apply(ev)
		}
		return nil
	})
	return fold, time.Since(start), err
}

func TestZZProfileReplay(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PROF_EVENTS"))
	if n == 0 {
		t.Skip()
	}
	ctx := context.Background()
	s, err := bolt.Open(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := fill(ctx, s, historySeed, n, os.Stderr); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		raw, took, _ := replayRaw(ctx, s, eventstore.Start)
		t.Logf("raw %d %.0f/s", raw, float64(raw)/took.Seconds())
		runtime.GC()
		fold, took, err := sequentialReplay(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("sequential %d %.0f/s", fold.Events, float64(fold.Events)/took.Seconds())
		runtime.GC()
		if round == 1 {
			f, _ := os.Create("/tmp/replay.prof")
			pprof.StartCPUProfile(f)
		}
		fold, took, err = replayTyped(ctx, s, eventstore.Start)
		if round == 1 {
			pprof.StopCPUProfile()
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("pipelined %d %.0f/s", fold.Events, float64(fold.Events)/took.Seconds())
	}
}
