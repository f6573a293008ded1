package outcomes

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/continuum-care/continuum/bench/workload"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/google/uuid"
)

// BenchmarkReplay replays a bolt store filled with the benchmark workload's
// history (referrals, intakes, stays with weekly measures, groups with
// sessions and attendance) into a report. The store is kept in
// $CONTINUUM_OUTCOMES_BENCH_DIR when set, so a 10-million-event log is
// filled once:
//
//	CONTINUUM_OUTCOMES_BENCH_EVENTS=10000000 CONTINUUM_OUTCOMES_BENCH_DIR=/var/tmp/outcomes-10m \
//	  go test ./projections/outcomes -run X -bench Replay -benchtime 1x
//
// It reports events/s and the process's peak resident memory.
func BenchmarkReplay(b *testing.B) {
	events := 200_000
	if s := os.Getenv("CONTINUUM_OUTCOMES_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("CONTINUUM_OUTCOMES_BENCH_EVENTS=%q: want a positive number", s)
		}
		events = n
	}
	dir := os.Getenv("CONTINUUM_OUTCOMES_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	store, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	ctx := context.Background()
	if err := fillOnce(ctx, store, events); err != nil {
		b.Fatal(err)
	}
	sampling, stopSampling := context.WithCancel(ctx)
	anonymous := make(chan int64, 1)
	go func() { anonymous <- peakAnonymousBytes(sampling) }()
	b.ResetTimer()
	var report *Report
	for range b.N {
		if report, err = Replay(ctx, store, Options{}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	stopSampling()
	if report.EventsReplayed != int64(events) {
		b.Fatalf("replayed %d events, want %d", report.EventsReplayed, events)
	}
	b.ReportMetric(float64(int64(b.N)*report.EventsReplayed)/b.Elapsed().Seconds(), "events/s")
	// The peak resident set counts the pages of the store's memory-mapped
	// file the replay touched; the anonymous peak is the process's own
	// memory (heap, stacks) during the replay.
	if peak, ok := statusBytes("VmHWM:"); ok {
		b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
	}
	b.ReportMetric(float64(<-anonymous)/(1<<20), "peak-anon-MiB")
}

// peakAnonymousBytes samples the process's anonymous resident memory
// (RssAnon) until ctx ends and returns the highest value seen.
func peakAnonymousBytes(ctx context.Context) int64 {
	var peak int64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if v, ok := statusBytes("RssAnon:"); ok {
			peak = max(peak, v)
		}
		select {
		case <-ctx.Done():
			return peak
		case <-tick.C:
		}
	}
}

// fillOnce appends n events of the workload history unless the store
// already holds events.
func fillOnce(ctx context.Context, store eventstore.Store, n int) error {
	existing, err := store.ReadAll(ctx, eventstore.ReadAllOptions{From: eventstore.Start, Max: 1})
	if err != nil || len(existing) > 0 {
		return err
	}
	batches := make(chan workload.Batch, 16)
	go func() {
		defer close(batches)
		history := workload.NewHistory(1)
		for left := n; left > 0; {
			batch := history.Next()
			if len(batch.Events) > left {
				batch.Events = batch.Events[:left]
			}
			left -= len(batch.Events)
			batches <- batch
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				data := make([]eventstore.EventData, len(batch.Events))
				for i, e := range batch.Events {
					typ, body, err := domain.Encode(e)
					if err != nil {
						errs <- err
						return
					}
					sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", batch.Stream, i))
					data[i] = eventstore.EventData{
						ID: uuid.NewSHA1(uuid.Nil, sum[:]), Type: typ, ContentType: eventstore.ContentTypeJSON,
						Data: body, Metadata: domain.EncodeMetadata(domain.MetadataFor(e, "", "")),
					}
				}
				if _, err := store.Append(ctx, batch.Stream, eventstore.Any, data...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for range batches { // drain after a failure so the generator ends
	}
	return <-errs
}

// statusBytes reads one "kB" line of /proc/self/status (Linux only).
func statusBytes(name string) (int64, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}
