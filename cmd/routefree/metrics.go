package main

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/router"
)

// meteredStore times every append. Group commit means one append waits for
// a whole batch, so its latency is what a request's billing step costs.
type meteredStore struct {
	eventstore.Store
	latency *prometheus.HistogramVec // result
	events  prometheus.Histogram
}

func newMeteredStore(s eventstore.Store, reg prometheus.Registerer) *meteredStore {
	m := &meteredStore{
		Store: s,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "routefree_event_append_seconds",
			Help:    "Time for one append to become durable (group commit included), by result: ok, conflict or error.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"result"}),
		events: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "routefree_event_append_events",
			Help:    "Events per append call.",
			Buckets: []float64{1, 2, 5, 10, 50, 100, 1000},
		}),
	}
	reg.MustRegister(m.latency, m.events)
	// The group commits themselves: their size is committed_events / commits.
	if stats := commitStats(s); stats != nil {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "routefree_eventstore_commits_total",
				Help: "Write transactions (group commits) of this instance."}, func() float64 { b, _ := stats(); return float64(b) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "routefree_eventstore_committed_events_total",
				Help: "Events written by this instance's group commits."}, func() float64 { _, e := stats(); return float64(e) }),
		)
	}
	return m
}

func commitStats(s eventstore.Store) func() (batches, events int64) {
	switch s := s.(type) {
	case *sqlite.Store:
		return func() (int64, int64) { st := s.Stats(); return int64(st.Batches), int64(st.Events) }
	case *postgres.Store:
		return func() (int64, int64) { st := s.Stats(); return int64(st.Batches), int64(st.Events) }
	}
	return nil
}

// ReadEvent passes lookups by event ID through when the store has them.
func (m *meteredStore) ReadEvent(ctx context.Context, id uuid.UUID) (eventstore.RecordedEvent, error) {
	if r, ok := m.Store.(eventstore.EventReader); ok {
		return r.ReadEvent(ctx, id)
	}
	return eventstore.RecordedEvent{}, eventstore.ErrEventNotFound
}

// ReadAllBackward and CountThrough pass reads from the history's end
// through when the store has them, so that the console's first view of the
// event log costs its page.
func (m *meteredStore) ReadAllBackward(ctx context.Context, before eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	if b, ok := m.Store.(eventstore.BackwardReader); ok {
		return b.ReadAllBackward(ctx, before, max)
	}
	return nil, eventstore.ErrNoBackwardRead
}

func (m *meteredStore) CountThrough(ctx context.Context, through eventstore.Position) (int, error) {
	if b, ok := m.Store.(eventstore.BackwardReader); ok {
		return b.CountThrough(ctx, through)
	}
	return 0, eventstore.ErrNoBackwardRead
}

// LastPosition passes the store's index read through when it has one, so
// that eventstore.Head need not read the history.
func (m *meteredStore) LastPosition(ctx context.Context) (eventstore.Position, error) {
	if h, ok := m.Store.(eventstore.HeadReader); ok {
		return h.LastPosition(ctx)
	}
	return eventstore.Position{}, eventstore.ErrNoLastPosition
}

func (m *meteredStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	start := time.Now()
	res, err := m.Store.Append(ctx, stream, expected, events...)
	result := "ok"
	switch {
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		result = "conflict"
	case err != nil:
		result = "error"
	}
	m.latency.WithLabelValues(result).Observe(time.Since(start).Seconds())
	m.events.Observe(float64(len(events)))
	return res, err
}

// gauges are refreshed every --metrics-interval by watch.
type gauges struct {
	lag     *prometheus.GaugeVec // projection
	storeUp prometheus.Gauge
	redisUp prometheus.Gauge
	ready   prometheus.Gauge
	// invoicingUp is 0 while invoicing has stopped, which /readyz reports
	// as degraded rather than not ready.
	invoicingUp prometheus.Gauge

	mu       sync.Mutex           // setReadiness runs from watch and from shutdown
	notReady *prometheus.GaugeVec // reason
	reasons  map[string]bool      // every reason given so far: set to 0 when not current
}

func newGauges(reg prometheus.Registerer, withRedis bool) *gauges {
	g := &gauges{
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "routefree_projection_lag_events",
			Help: "Events in the store that the projection (or invoicing) has not applied yet (capped at 10000)."}, []string{"projection"}),
		storeUp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "routefree_event_store_up",
			Help: "1 when the last read of the event store succeeded and appends are not failing (as /readyz judges them)."}),
		redisUp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "routefree_redis_up",
			Help: "1 when Redis answered the last ping (absent without --redis-url)."}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{Name: "routefree_ready",
			Help: "1 while the instance is ready to take traffic: when /readyz would answer 200."}),
		invoicingUp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "routefree_invoicing_up",
			Help: "0 while invoicing has stopped (on an event it cannot fold, say); /readyz names it as degraded."}),
		notReady: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "routefree_not_ready",
			Help: "1 for the reason /readyz gives for answering 503, 0 for the reasons it gave before."}, []string{"reason"}),
		reasons: map[string]bool{},
	}
	reg.MustRegister(g.lag, g.storeUp, g.ready, g.notReady, g.invoicingUp)
	if withRedis {
		reg.MustRegister(g.redisUp)
	}
	return g
}

// lagCap bounds the read that measures projection lag.
const lagCap = 10000

// watch refreshes the gauges until ctx ends.
func (in *instance) watch(ctx context.Context) {
	t := time.NewTicker(in.cfg.MetricsInterval)
	defer t.Stop()
	for {
		in.refreshGauges(ctx)
		in.checkHistory(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// setReadiness publishes readiness's answer: "" is ready.
func (g *gauges) setReadiness(reason string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ready.Set(b2f(reason == ""))
	for r := range g.reasons {
		g.notReady.WithLabelValues(r).Set(0)
	}
	if reason != "" {
		g.reasons[reason] = true
		g.notReady.WithLabelValues(reason).Set(1)
	}
}

// publishReadiness asks readiness, as /readyz does, and publishes its answer.
func (in *instance) publishReadiness(ctx context.Context) {
	reason, _ := in.readiness(ctx)
	in.gauges.setReadiness(reason)
}

func (in *instance) refreshGauges(ctx context.Context) {
	// Under readiness's own time limits, not the interval's: the gauges
	// give /readyz's answer, however short the interval.
	in.publishReadiness(ctx)
	in.gauges.invoicingUp.Set(b2f(in.invoices.Stalled() == nil))
	ctx, cancel := context.WithTimeout(ctx, in.cfg.MetricsInterval)
	defer cancel()
	g := in.gauges
	// Lag: read once from the slowest projection and count, for each, the
	// events past its own position.
	pos := in.runner.Positions()
	from := in.runner.Slowest()
	// Invoicing folds the same history on its own: its lag says when its
	// documents (and the first start's peak of memory) have caught up.
	inv := in.invoices.Position()
	if inv.Less(from) {
		from = inv
	}
	pos["invoicing"] = inv
	// Only the positions are kept: while the projections catch up with a
	// long history, lagCap whole events would be ten megabytes held on
	// top of the read models, once a second.
	var past []eventstore.Position
	var err error
	for len(past) < lagCap {
		var batch []eventstore.RecordedEvent
		batch, err = in.store.ReadAll(ctx, from, 1000)
		if err != nil || len(batch) == 0 {
			break
		}
		for i := range batch {
			past = append(past, batch[i].Position)
		}
		from = batch[len(batch)-1].Position
	}
	// Reads alone can succeed while every append fails (a full disk, the
	// write lock held): the store is up only if appends are not failing.
	// check is free unless an append has failed.
	g.storeUp.Set(b2f(err == nil && in.appends.check(ctx, in.raw) == nil))
	if err == nil {
		for name, p := range pos {
			n := 0
			for i := len(past) - 1; i >= 0 && p.Less(past[i]); i-- {
				n++
			}
			g.lag.WithLabelValues(name).Set(float64(n))
		}
	}
	if in.rdb != nil {
		g.redisUp.Set(b2f(in.rdb.Ping(ctx).Err() == nil))
	}
	in.refreshBreakers(time.Now())
}

// refreshBreakers publishes every upstream breaker's state.
func (in *instance) refreshBreakers(now time.Time) {
	for _, id := range in.cat.IDs() {
		targets, _ := in.router.Targets(id)
		for _, t := range targets {
			v := 0.0
			switch t.Breaker.State(now) {
			case router.HalfOpen:
				v = 1
			case router.Open:
				v = 2
			}
			in.metrics.Breaker.WithLabelValues(t.Provider, id, strconv.Itoa(t.Index)).Set(v)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
