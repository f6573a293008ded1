package bolt_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
)

// benchPayload is about the size of a continuum domain event.
var benchPayload = []byte(`{"patientId":"6f1c2d9e-5b7a-4c1e-9a3f-2e8d7c6b5a41","level":"iop","program":"adult-iop-evening","occurredAt":"2025-03-14T09:30:00Z","by":"clinician-17"}`)

func benchEvents(n int) []eventstore.EventData {
	events := make([]eventstore.EventData, n)
	for i := range events {
		events[i] = eventstore.EventData{ID: uuid.New(), Type: "SteppedDown", Data: benchPayload}
	}
	return events
}

// benchAppend appends b.N events in appends of size from writers goroutines,
// each on its own stream, and reports events per second.
func benchAppend(b *testing.B, writers, size int) {
	observer := &countingObserver{}
	s, err := bolt.Open(b.TempDir(), bolt.Options{Observer: observer})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	appends := (b.N + size - 1) / size
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			stream := fmt.Sprintf("patient-%d", w)
			expected := eventstore.NoStream
			for range (appends + writers - 1 - w) / writers {
				res, err := s.Append(b.Context(), stream, expected, benchEvents(size)...)
				if err != nil {
					b.Errorf("Append: %v", err)
					return
				}
				expected = eventstore.Exact(res.NextExpectedRevision)
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(appends*size)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(observer.events.Load())/float64(observer.commits.Load()), "events/commit")
}

// BenchmarkAppendConcurrent64 is many clients each appending one event:
// group commit shares each fsync among them.
func BenchmarkAppendConcurrent64(b *testing.B) { benchAppend(b, 64, 1) }

// BenchmarkAppendBatch100 is appends of 100 events from 8 clients.
func BenchmarkAppendBatch100(b *testing.B) { benchAppend(b, 8, 100) }

// BenchmarkAppendSerial is one client appending one event at a time: one fsync per append.
func BenchmarkAppendSerial(b *testing.B) { benchAppend(b, 1, 1) }

// BenchmarkReadAll replays $all in pages of 4096, as a projection rebuild
// does, and compares with a bare bbolt cursor over the same file.
func BenchmarkReadAll(b *testing.B) {
	const total = 200_000
	dir := b.TempDir()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	for i := range total / 1000 {
		if _, err := s.Append(b.Context(), fmt.Sprintf("patient-%d", i), eventstore.NoStream, benchEvents(1000)...); err != nil {
			b.Fatalf("Append: %v", err)
		}
	}
	b.Run("store", func(b *testing.B) {
		read := 0
		for b.Loop() {
			from := eventstore.Start
			for {
				page, err := s.ReadAll(b.Context(), eventstore.ReadAllOptions{From: from, Max: 4096})
				if err != nil {
					b.Fatalf("ReadAll: %v", err)
				}
				read += len(page)
				if len(page) < 4096 {
					break
				}
				last := page[len(page)-1].Position
				from = eventstore.Position{Commit: last.Commit + 1, Prepare: last.Prepare + 1}
			}
		}
		b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
	})
	if err := s.Close(); err != nil {
		b.Fatalf("Close: %v", err)
	}
	b.Run("bbolt-cursor", func(b *testing.B) {
		db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, &bbolt.Options{ReadOnly: true})
		if err != nil {
			b.Fatalf("open: %v", err)
		}
		defer db.Close()
		read := 0
		for b.Loop() {
			_ = db.View(func(tx *bbolt.Tx) error {
				c := tx.Bucket([]byte("events")).Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					read += len(v) & 1
					read++
				}
				return nil
			})
		}
		b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkLiveDelivery measures an append and its arrival at a live
// subscriber: the time per op includes the fsync; delivery-lag is the time
// from Append returning to Recv returning.
func BenchmarkLiveDelivery(b *testing.B) {
	s, err := bolt.Open(b.TempDir(), bolt.Options{})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	sub, err := s.SubscribeAll(b.Context(), eventstore.SubscribeAllOptions{From: eventstore.End})
	if err != nil {
		b.Fatalf("SubscribeAll: %v", err)
	}
	defer sub.Close()
	if m, err := sub.Recv(); err != nil || !m.CaughtUp {
		b.Fatalf("first message %+v, %v", m, err)
	}
	var lag time.Duration
	for b.Loop() {
		if _, err := s.Append(b.Context(), "s", eventstore.Any, benchEvents(1)...); err != nil {
			b.Fatalf("Append: %v", err)
		}
		appended := time.Now()
		if _, err := sub.Recv(); err != nil {
			b.Fatalf("Recv: %v", err)
		}
		lag += time.Since(appended)
	}
	b.ReportMetric(float64(lag.Microseconds())/float64(b.N), "µs-delivery-lag")
}
