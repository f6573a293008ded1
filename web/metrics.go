package web

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/continuum-care/continuum/projections"
)

// metrics are the server's Prometheus metrics. Every label comes from a
// closed set (route patterns, status codes, error codes), never from a
// path, a query or a body, so no personal data can reach a label.
type metrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	rejections *prometheus.CounterVec
}

// newMetrics builds the metrics and, when reg is set, registers them with
// the hub's counters and the server's readiness and projection gauges.
func newMetrics(reg prometheus.Registerer, s *Server) (*metrics, error) {
	hub := s.hub
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "continuum_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "continuum_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern (websockets: until the upgrade).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "continuum_command_rejections_total",
			Help: "Commands refused, by the error's stable code (a domain rule, a malformed request, an outage).",
		}, []string{"code"}),
	}
	if reg == nil {
		return m, nil
	}
	collectors := []prometheus.Collector{
		m.requests, m.duration, m.rejections,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "continuum_ws_clients",
			Help: "Open websocket connections.",
		}, func() float64 { return float64(hub.Stats().Clients) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "continuum_ws_subscriptions",
			Help: "Topics followed, summed over websocket connections.",
		}, func() float64 { return float64(hub.Stats().Subscriptions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "continuum_ws_dropped_clients_total",
			Help: "Websocket connections dropped because they could not keep up.",
		}, func() float64 { return float64(hub.Stats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "continuum_ws_frames_total",
			Help: "Frames sent to websocket connections (written at once by the hub or queued to the connection's writer).",
		}, func() float64 { return float64(hub.Stats().Frames) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "continuum_ws_renders_total",
			Help: "Views rendered for websocket subscribers (once per change, however many subscribers).",
		}, func() float64 { return float64(hub.Stats().Renders) }),
		readinessCollector{s},
	}
	if stats, ok := s.projections.(projectionStats); ok {
		collectors = append(collectors, projectionCollector{stats})
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observe records one answered request.
func (m *metrics) observe(route string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(took.Seconds())
}

var (
	readyDesc = prometheus.NewDesc("continuum_ready",
		"1 when GET /readyz answers ready (store readable, readiness checks passing, projections caught up), else 0.", nil, nil)
	storeUpDesc = prometheus.NewDesc("continuum_store_up",
		"1 when the event store answered a read of its head at scrape time, else 0.", nil, nil)
	lagEventsDesc = prometheus.NewDesc("continuum_projection_lag_events",
		"Events in the store the projections' subscription has not applied yet (counting stops at 1000).", nil, nil)
	lagSecondsDesc = prometheus.NewDesc("continuum_projection_lag_seconds",
		"Store time between the last event the projections applied and the newest event.", nil, nil)
)

// readinessCollector evaluates readiness at scrape time, the same way
// /readyz does, so the alert on continuum_ready and the load balancer
// see the same thing. The lag series are left out while the store cannot
// be read: there is no lag to report, and continuum_store_up says why.
type readinessCollector struct{ s *Server }

func (c readinessCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- readyDesc
	ch <- storeUpDesc
	ch <- lagEventsDesc
	ch <- lagSecondsDesc
}

func (c readinessCollector) Collect(ch chan<- prometheus.Metric) {
	rd := c.s.readiness(context.Background())
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, boolGauge(rd.ready))
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, boolGauge(rd.storeUp))
	if rd.storeUp {
		ch <- prometheus.MustNewConstMetric(lagEventsDesc, prometheus.GaugeValue, float64(rd.lag.Events))
		ch <- prometheus.MustNewConstMetric(lagSecondsDesc, prometheus.GaugeValue, rd.lag.Seconds)
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// projectionStats is what the projections offer besides the Projections
// interface for metrics; *projections.Runner implements it.
type projectionStats interface {
	Stats() projections.Stats
}

var (
	projectionEventsDesc = prometheus.NewDesc("continuum_projection_events_total",
		"Events the projections took from the log, by outcome: applied, unknown (a type this release does not know), malformed (does not decode).",
		[]string{"outcome"}, nil)
	projectionSnapshotsDesc = prometheus.NewDesc("continuum_projection_snapshots_total",
		"Projection snapshot writes, by result (written, failed).", []string{"result"}, nil)
	projectionSnapshotBytesDesc = prometheus.NewDesc("continuum_projection_snapshot_bytes",
		"Size of the latest projection snapshot written.", nil, nil)
	projectionSnapshotSecondsDesc = prometheus.NewDesc("continuum_projection_snapshot_seconds",
		"Time the latest projection snapshot took to encode and write durably.", nil, nil)
)

// projectionCollector reads the runner's counters at scrape time.
type projectionCollector struct{ p projectionStats }

func (c projectionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- projectionEventsDesc
	ch <- projectionSnapshotsDesc
	ch <- projectionSnapshotBytesDesc
	ch <- projectionSnapshotSecondsDesc
}

func (c projectionCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.p.Stats()
	for outcome, n := range map[string]uint64{"applied": st.Applied, "unknown": st.Unknown, "malformed": st.Malformed} {
		ch <- prometheus.MustNewConstMetric(projectionEventsDesc, prometheus.CounterValue, float64(n), outcome)
	}
	ch <- prometheus.MustNewConstMetric(projectionSnapshotsDesc, prometheus.CounterValue, float64(st.SnapshotsWritten), "written")
	ch <- prometheus.MustNewConstMetric(projectionSnapshotsDesc, prometheus.CounterValue, float64(st.SnapshotFailures), "failed")
	ch <- prometheus.MustNewConstMetric(projectionSnapshotBytesDesc, prometheus.GaugeValue, float64(st.LastSnapshotBytes))
	ch <- prometheus.MustNewConstMetric(projectionSnapshotSecondsDesc, prometheus.GaugeValue, st.LastSnapshotDuration.Seconds())
}
