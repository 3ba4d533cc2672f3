package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the gateway's Prometheus series. Labels never carry content,
// keys or account names.
type Metrics struct {
	Requests      *prometheus.CounterVec   // model, provider, status
	Latency       *prometheus.HistogramVec // model, stream
	TTFB          *prometheus.HistogramVec // model
	UpstreamFails *prometheus.CounterVec   // provider, reason
	Failovers     *prometheus.CounterVec   // model
	Rejections    *prometheus.CounterVec   // status (402, 429, …), cause
	ActiveHolds   prometheus.Gauge
	Breaker       *prometheus.GaugeVec // provider, model, upstream (catalog index): 0 closed, 1 half-open, 2 open
}

// NewMetrics registers the series on reg (nil: a private registry).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "routefree_requests_total",
			Help: "Chat requests by model, upstream provider and HTTP status."}, []string{"model", "provider", "status"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "routefree_request_duration_seconds",
			Help: "Whole request time as the client sees it.", Buckets: buckets}, []string{"model", "stream"}),
		TTFB: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "routefree_upstream_ttfb_seconds",
			Help: "Time to the upstream's first byte.", Buckets: buckets}, []string{"model"}),
		UpstreamFails: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "routefree_upstream_failures_total",
			Help: "Failed upstream attempts by provider and reason."}, []string{"provider", "reason"}),
		Failovers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "routefree_failovers_total",
			Help: "Requests answered by an upstream other than the first."}, []string{"model"}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "routefree_rejections_total",
			Help: "Requests refused before any upstream call (402, 429, …) by cause."}, []string{"status", "cause"}),
		ActiveHolds: prometheus.NewGauge(prometheus.GaugeOpts{Name: "routefree_active_holds",
			Help: "Credit holds of requests in flight on this instance."}),
		Breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "routefree_breaker_state",
			Help: "Upstream circuit breaker: 0 closed, 1 half-open, 2 open. upstream is its position in the model's catalog upstreams."},
			// Breakers are per upstream key: the position, never the key,
			// gives each its own series.
			[]string{"provider", "model", "upstream"}),
	}
	reg.MustRegister(m.Requests, m.Latency, m.TTFB, m.UpstreamFails, m.Failovers, m.Rejections, m.ActiveHolds, m.Breaker)
	return m
}
