package ops

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStoreMetricsCountAppendsByType(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewStoreMetrics(reg)
	m.Appended([]string{"Admitted", "MeasureRecorded", "Admitted"}, 2*time.Millisecond)
	m.Committed(3, 1, time.Millisecond)
	m.SubscriberFellBehind()
	want := `
# HELP continuum_store_appended_events_total Events appended to the store, by event type.
# TYPE continuum_store_appended_events_total counter
continuum_store_appended_events_total{type="Admitted"} 2
continuum_store_appended_events_total{type="MeasureRecorded"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "continuum_store_appended_events_total"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.fellBehind); got != 1 {
		t.Fatalf("fell behind = %v", got)
	}
	if n, err := testutil.GatherAndCount(reg, "continuum_store_commit_batch_events"); err != nil || n != 1 {
		t.Fatalf("batch histogram series = %d, %v", n, err)
	}
}
