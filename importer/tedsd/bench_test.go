package tedsd

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/continuum-care/continuum/commands"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/importer/tedsd/tedsdtest"
)

// BenchmarkImport imports a synthetic file into a fresh embedded store
// through the command service, as `continuum import tedsd` does, and
// reports rows/s. $CONTINUUM_TEDSD_BENCH_ROWS sets the file's size
// (default 50,000):
//
//	CONTINUUM_TEDSD_BENCH_ROWS=500000 go test ./importer/tedsd -run X -bench Import -benchtime 1x
func BenchmarkImport(b *testing.B) {
	rows := 50_000
	if s := os.Getenv("CONTINUUM_TEDSD_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("CONTINUUM_TEDSD_BENCH_ROWS=%q: want a positive number", s)
		}
		rows = n
	}
	var file bytes.Buffer
	if err := tedsdtest.Write(&file, tedsdtest.Options{Rows: rows, Seed: 3, Year: 2022, FirstCaseID: 1, MissingShare: 0.02}); err != nil {
		b.Fatal(err)
	}
	defer BatchGC()() // as continuum import does
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		store, err := bolt.Open(b.TempDir(), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		s, err := Import(context.Background(), commands.New(store, commands.WithCacheSize(1024)), bytes.NewReader(file.Bytes()), Options{})
		b.StopTimer()
		store.Close()
		if err != nil {
			b.Fatal(err)
		}
		if s.Imported != rows {
			b.Fatalf("imported %d of %d rows: %+v", s.Imported, rows, s)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
}
