package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// switchableCheck is a readiness check whose answer the test sets.
type switchableCheck struct {
	failure atomic.Pointer[error]
}

func (c *switchableCheck) check(context.Context) error {
	if err := c.failure.Load(); err != nil {
		return *err
	}
	return nil
}

func (c *switchableCheck) fail(err error) { c.failure.Store(&err) }

func TestReadinessReasons(t *testing.T) {
	diskFull := errors.New("the data directory's disk is full (no space left on device)")
	tests := []struct {
		name      string
		storeDown bool
		failing   error
		wantReady bool
		wantStore float64
		wantWhy   string
	}{
		{name: "store readable, checks pass, caught up", wantReady: true, wantStore: 1},
		{name: "store unreachable", storeDown: true, wantWhy: "the event store cannot be reached"},
		{name: "a check fails", failing: diskFull, wantStore: 1, wantWhy: diskFull.Error()},
		{name: "the store comes before the checks", storeDown: true, failing: diskFull, wantWhy: "the event store cannot be reached"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			disk := &switchableCheck{}
			st := newStack(t, func(c *Config) {
				c.Registerer = reg
				c.ReadinessChecks = []ReadinessCheck{disk.check}
			})
			eventually(t, "ready before the fault", func() bool { return st.get(t, "/readyz").status == http.StatusOK })
			st.store.down.Store(tc.storeDown)
			if tc.failing != nil {
				disk.fail(tc.failing)
			}
			r := st.get(t, "/readyz")
			if tc.wantReady {
				if r.status != http.StatusOK || r.str("status") != "ready" {
					t.Fatalf("readyz: status %d: %s", r.status, r.raw)
				}
			} else if r.status != http.StatusServiceUnavailable || r.errorCode() != "not_ready" || r.errorMessage() != tc.wantWhy {
				t.Fatalf("readyz: status %d, code %q, reason %q; want 503 not_ready %q", r.status, r.errorCode(), r.errorMessage(), tc.wantWhy)
			}
			ready, _ := metricValue(t, reg, "continuum_ready", nil)
			if want := boolGauge(tc.wantReady); ready != want {
				t.Errorf("continuum_ready = %v, want %v", ready, want)
			}
			up, _ := metricValue(t, reg, "continuum_store_up", nil)
			if up != tc.wantStore {
				t.Errorf("continuum_store_up = %v, want %v", up, tc.wantStore)
			}
			_, hasLag := metricValue(t, reg, "continuum_projection_lag_events", nil)
			if hasLag != (tc.wantStore == 1) {
				t.Errorf("lag reported = %v with the store up = %v", hasLag, tc.wantStore)
			}
		})
	}
}

func TestReadinessRecovers(t *testing.T) {
	disk := &switchableCheck{}
	st := newStack(t, func(c *Config) { c.ReadinessChecks = []ReadinessCheck{disk.check} })
	eventually(t, "ready", func() bool { return st.get(t, "/readyz").status == http.StatusOK })
	disk.fail(errors.New("the data directory is read-only (read-only file system)"))
	if r := st.get(t, "/readyz"); r.status != http.StatusServiceUnavailable || !strings.Contains(r.errorMessage(), "read-only") {
		t.Fatalf("readyz with a read-only directory: %d %s", r.status, r.raw)
	}
	disk.failure.Store(nil)
	if r := st.get(t, "/readyz"); r.status != http.StatusOK {
		t.Fatalf("readyz after the directory came back: %d %s", r.status, r.raw)
	}
}

func TestProjectionMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := newStack(t, func(c *Config) { c.Registerer = reg })
	st.refer(t, "Pia Projection")
	applied, ok := metricValue(t, reg, "continuum_projection_events_total", map[string]string{"outcome": "applied"})
	if want := float64(st.runner.Stats().Applied); !ok || applied != want || applied == 0 {
		t.Errorf("applied events = %v (found %v), want the runner's %v", applied, ok, want)
	}
	if v, ok := metricValue(t, reg, "continuum_projection_events_total", map[string]string{"outcome": "malformed"}); !ok || v != 0 {
		t.Errorf("malformed events = %v (found %v), want 0", v, ok)
	}
	if v, ok := metricValue(t, reg, "continuum_projection_lag_events", nil); !ok || v != 0 {
		t.Errorf("lag while caught up = %v (found %v), want 0", v, ok)
	}

	if err := st.runner.Stop(); err != nil {
		t.Fatal(err)
	}
	st.mustPostNoWait(t, "/api/patients", map[string]any{"source": "self", "name": "Lou Lag"})
	st.mustPostNoWait(t, "/api/patients", map[string]any{"source": "self", "name": "Liv Lag"})
	if v, _ := metricValue(t, reg, "continuum_projection_lag_events", nil); v != 2 {
		t.Errorf("lag with the runner stopped after 2 referrals = %v, want 2", v)
	}
	if v, _ := metricValue(t, reg, "continuum_ready", nil); v != 0 {
		t.Errorf("continuum_ready with the projections behind = %v, want 0", v)
	}
}
