package web

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
// the hub's counters.
func newMetrics(reg prometheus.Registerer, hub *Hub) (*metrics, error) {
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
			Help: "Frames queued to websocket connections.",
		}, func() float64 { return float64(hub.Stats().Frames) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "continuum_ws_renders_total",
			Help: "Views rendered for websocket subscribers (once per change, however many subscribers).",
		}, func() float64 { return float64(hub.Stats().Renders) }),
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
