package esdb_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/memstore"
)

// backings are the stores the benchmarks reach through the wire server.
var backings = []struct {
	name string
	open func(b *testing.B) eventstore.Store
}{
	{"memstore", func(b *testing.B) eventstore.Store { return memstore.New() }},
	{"bolt", func(b *testing.B) eventstore.Store {
		s, err := bolt.Open(b.TempDir(), bolt.Options{})
		if err != nil {
			b.Fatalf("bolt.Open: %v", err)
		}
		return s
	}},
}

// benchStore serves a fresh backing store and opens the adapter on it.
func benchStore(b *testing.B, open func(b *testing.B) eventstore.Store) eventstore.Store {
	b.Helper()
	backing := open(b)
	b.Cleanup(func() { _ = backing.Close() })
	return openStore(b, serve(b, backing, "127.0.0.1:0").connectionString())
}

// BenchmarkAppend measures concurrent single-event appends, each to its
// own stream, through the adapter and the wire server: the command path.
func BenchmarkAppend(b *testing.B) {
	for _, backing := range backings {
		b.Run(backing.name, func(b *testing.B) {
			s := benchStore(b, backing.open)
			var n atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, err := s.Append(b.Context(), fmt.Sprintf("bench-%d", i), eventstore.NoStream, event(int(i))); err != nil {
						b.Errorf("append: %v", err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// fill appends n events to s, 100 to a stream.
func fill(b *testing.B, s eventstore.Store, n int) {
	b.Helper()
	const batch = 100
	for i := 0; i < n; i += batch {
		events := make([]eventstore.EventData, min(batch, n-i))
		for j := range events {
			events[j] = event(i + j)
		}
		if _, err := s.Append(b.Context(), fmt.Sprintf("fill-%d", i/batch), eventstore.NoStream, events...); err != nil {
			b.Fatalf("append: %v", err)
		}
	}
}

// BenchmarkSubscribeAll measures how fast a $all subscription catches up
// with a log written beforehand: the projection rebuild path.
func BenchmarkSubscribeAll(b *testing.B) {
	for _, backing := range backings {
		b.Run(backing.name, func(b *testing.B) {
			s := benchStore(b, backing.open)
			fill(b, s, b.N)
			b.ResetTimer()
			sub, err := s.SubscribeAll(b.Context(), eventstore.SubscribeAllOptions{From: eventstore.Start})
			if err != nil {
				b.Fatalf("subscribe: %v", err)
			}
			defer sub.Close()
			for seen := 0; seen < b.N; {
				msg, err := sub.Recv()
				if err != nil {
					b.Fatalf("recv after %d events: %v", seen, err)
				}
				if msg.Event != nil {
					seen++
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkReadAllPages measures the replay path, $all read in pages of
// 4,096 events, on bolt in process and through the adapter and the wire
// server over the same kind of store: the ratio is the protocol's cost.
func BenchmarkReadAllPages(b *testing.B) {
	targets := []struct {
		name string
		open func(b *testing.B) eventstore.Store
	}{
		{"bolt", func(b *testing.B) eventstore.Store {
			s := backings[1].open(b)
			b.Cleanup(func() { _ = s.Close() })
			return s
		}},
		{"esdb-wire-bolt", func(b *testing.B) eventstore.Store { return benchStore(b, backings[1].open) }},
	}
	for _, target := range targets {
		b.Run(target.name, func(b *testing.B) {
			s := target.open(b)
			fill(b, s, b.N)
			b.ResetTimer()
			from, seen := eventstore.Start, 0
			for {
				page, err := s.ReadAll(b.Context(), eventstore.ReadAllOptions{From: from, Max: 4096})
				if err != nil {
					b.Fatal(err)
				}
				for _, e := range page {
					if seen == 0 || from.Less(e.Position) {
						seen++
					}
				}
				if len(page) < 4096 {
					break
				}
				from = page[len(page)-1].Position
			}
			if seen != b.N {
				b.Fatalf("read %d events, want %d", seen, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkAppendBatchWire measures 8 writers appending 100 events per call,
// each to its own stream, through the adapter and the wire server: the
// batch append workload of continuum bench.
func BenchmarkAppendBatchWire(b *testing.B) {
	for _, backing := range backings {
		b.Run(backing.name, func(b *testing.B) {
			s := benchStore(b, backing.open)
			const writers, batch = 8, 100
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					events := make([]eventstore.EventData, batch)
					expected := eventstore.NoStream
					for next.Add(batch) <= int64(b.N)+batch-1 {
						for j := range events {
							events[j] = event(j)
							events[j].Data = fmt.Appendf(events[j].Data[:0], `{"patientId":"%08d-aaaa-bbbb-cccc-dddddddddddd","sessionId":"%08d","attended":true,"note":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`, w, j)
						}
						res, err := s.Append(b.Context(), fmt.Sprintf("batch-%d", w), expected, events...)
						if err != nil {
							b.Errorf("append: %v", err)
							return
						}
						expected = eventstore.Exact(res.NextExpectedRevision)
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
