package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metricValue finds a counter or gauge by name and labels in a registry.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue metrics
				}
			}
			return value(m), true
		}
	}
	return 0, false
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := newStack(t, func(c *Config) { c.Registerer = reg })
	id := st.refer(t, "Meg Metric")
	if r := st.post(t, "/api/patients/"+id+"/admit", map[string]any{"program": "php", "level": "php"}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("admit without intake: status %d", r.status)
	}
	st.get(t, "/api/census")
	conn := dialWS(t, st.http.URL, nil)
	subscribe(t, conn, "census", "")
	expect(t, conn, "snapshot", "census")

	tests := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		{name: "rejection by rule", metric: "continuum_command_rejections_total", labels: map[string]string{"code": "intake_required"}, want: 1},
		{name: "requests by route and status", metric: "continuum_http_requests_total", labels: map[string]string{"route": "GET /api/census", "code": "200"}, want: 1},
		{name: "request durations by route", metric: "continuum_http_request_duration_seconds", labels: map[string]string{"route": "POST /api/patients/{id}/admit"}, want: 1},
		{name: "websocket clients", metric: "continuum_ws_clients", want: 1},
		{name: "websocket subscriptions", metric: "continuum_ws_subscriptions", want: 1},
		{name: "dropped websocket clients", metric: "continuum_ws_dropped_clients_total", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := metricValue(t, reg, tc.metric, tc.labels)
			if !ok || got != tc.want {
				t.Errorf("%s%v = %v (found %v), want %v", tc.metric, tc.labels, got, ok, tc.want)
			}
		})
	}
	t.Run("no identifiers in labels", func(t *testing.T) {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if strings.Contains(l.GetValue(), id) || strings.Contains(l.GetValue(), "Meg") {
						t.Errorf("%s has label %s=%q", f.GetName(), l.GetName(), l.GetValue())
					}
				}
			}
		}
	})
}
