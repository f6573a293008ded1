package commands_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore/memstore"
)

// BenchmarkLongStream records measures on one long stream and on many
// short ones through one service over the in-memory store, and reports
// the service's retained heap (store excluded) after the run, per stream
// kind, with the time per command.
//
//	go test -run '^$' -bench LongStream -benchtime 20000x ./commands/
func BenchmarkLongStream(b *testing.B) {
	for _, streams := range []int{1, 1000} {
		b.Run(fmt.Sprint(streams, " streams"), func(b *testing.B) {
			store := memstore.New()
			defer store.Close()
			svc := commands.New(store, commands.WithClock(func() time.Time { return now }))
			ctx := context.Background()
			for p := range streams {
				if _, err := svc.Patient(ctx, meta(fmt.Sprint("refer-", p)), domain.Refer{Patient: patientN(p), Source: domain.SourceSelf, At: now.Add(-time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
			heap := func() uint64 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapAlloc
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := svc.Patient(ctx, meta(fmt.Sprint("m-", i)), measureCmd(patientN(i%streams), i)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			with := heap()
			runtime.KeepAlive(svc)
			without := heap()
			b.ReportMetric(float64(with-without), "service-heap-B")
			runtime.KeepAlive(store)
		})
	}
}
