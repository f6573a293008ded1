// Package ops holds what operators watch: the Prometheus metrics of the
// store and the data directory, registered on a Registerer passed in
// (never the global one), with no personal data in any label (labels are
// event types and other closed sets), and the data directory's readiness
// check. ops/deploy holds the Prometheus, alerting and Grafana kit.
package ops

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// StoreMetrics counts what the embedded store does. It implements the bolt
// store's Observer.
type StoreMetrics struct {
	appends       *prometheus.CounterVec
	appendLatency prometheus.Histogram
	batchEvents   prometheus.Histogram
	batchRequests prometheus.Histogram
	commitLatency prometheus.Histogram
	fellBehind    prometheus.Counter
}

// NewStoreMetrics registers the store metrics on reg.
func NewStoreMetrics(reg prometheus.Registerer) *StoreMetrics {
	m := &StoreMetrics{
		appends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "continuum_store_appended_events_total",
			Help: "Events appended to the store, by event type.",
		}, []string{"type"}),
		appendLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "continuum_store_append_seconds",
			Help:    "Time from an append request to its durable acknowledgement (queueing, commit, fsync).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		batchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "continuum_store_commit_batch_events",
			Help:    "Events made durable by one group commit (one fsync).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		batchRequests: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "continuum_store_commit_batch_requests",
			Help:    "Appends and deletes made durable by one group commit (one fsync).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "continuum_store_commit_seconds",
			Help:    "Duration of one group-commit transaction including fsync.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		fellBehind: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "continuum_store_subscribers_fell_behind_total",
			Help: "Live subscribers whose buffer overflowed and who went back to reading from disk.",
		}),
	}
	reg.MustRegister(m.appends, m.appendLatency, m.batchEvents, m.batchRequests, m.commitLatency, m.fellBehind)
	return m
}

// Appended counts one durable append.
func (m *StoreMetrics) Appended(eventTypes []string, wait time.Duration) {
	for _, t := range eventTypes {
		m.appends.WithLabelValues(t).Inc()
	}
	m.appendLatency.Observe(wait.Seconds())
}

// Committed records one group commit.
func (m *StoreMetrics) Committed(events, requests int, took time.Duration) {
	m.batchEvents.Observe(float64(events))
	m.batchRequests.Observe(float64(requests))
	m.commitLatency.Observe(took.Seconds())
}

// SubscriberFellBehind counts a live subscriber sent back to disk.
func (m *StoreMetrics) SubscriberFellBehind() { m.fellBehind.Inc() }
