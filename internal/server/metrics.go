package server

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series /metrics serves. Each handler gets its
// own registry (no globals), so several servers in one process, as in tests,
// never collide.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// The series of each route, and of each (route, method, code), looked
	// up once: WithLabelValues hashes the values and formats the code on
	// every call. At most maxCachedSeries are kept; the rest are looked up.
	routes sync.Map // route -> *routeSeries
	cached atomic.Int32
}

// maxCachedSeries bounds the series cache: routes are a fixed set, but the
// method of an unmatched request is whatever the client sent.
// maxCountersPerRoute keeps the list a request scans short.
const (
	maxCachedSeries     = 512
	maxCountersPerRoute = 16
)

// routeSeries are a route's duration histogram and request counters. The
// counters are a short list, read without a lock and replaced whole when
// one is added.
type routeSeries struct {
	duration prometheus.Observer
	mu       sync.Mutex // held while adding to counters
	counters atomic.Pointer[[]codeCounter]
}

// codeCounter is the request counter of one (method, code) of a route.
type codeCounter struct {
	method string
	status int
	c      prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latch_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "latch_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records one answered request. The route is the ServeMux pattern
// that matched ("POST /oauth/token"), never the raw path, so label values
// stay few whatever clients send.
func (m *metrics) observe(r *http.Request, status int, took time.Duration) {
	route := r.Pattern
	if route == "" || route == "/" {
		route = "other"
	}
	if status == 0 {
		status = http.StatusOK
	}
	rs := m.route(route)
	m.counter(rs, route, r.Method, status).Inc()
	rs.duration.Observe(took.Seconds())
}

// route returns the series of a route.
func (m *metrics) route(route string) *routeSeries {
	if v, ok := m.routes.Load(route); ok {
		return v.(*routeSeries)
	}
	rs := &routeSeries{duration: m.duration.WithLabelValues(route)}
	if m.cached.Load() < maxCachedSeries {
		if v, loaded := m.routes.LoadOrStore(route, rs); loaded {
			return v.(*routeSeries)
		}
		m.cached.Add(1)
	}
	return rs
}

// counter returns the request counter of one (route, method, code).
func (m *metrics) counter(rs *routeSeries, route, method string, status int) prometheus.Counter {
	find := func() prometheus.Counter {
		if l := rs.counters.Load(); l != nil {
			for _, cc := range *l {
				if cc.status == status && cc.method == method {
					return cc.c
				}
			}
		}
		return nil
	}
	if c := find(); c != nil {
		return c
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if c := find(); c != nil { // added meanwhile
		return c
	}
	c := m.requests.WithLabelValues(route, method, strconv.Itoa(status))
	var l []codeCounter
	if p := rs.counters.Load(); p != nil {
		l = *p
	}
	if len(l) < maxCountersPerRoute && m.cached.Load() < maxCachedSeries {
		l = append(l[:len(l):len(l)], codeCounter{method, status, c})
		rs.counters.Store(&l)
		m.cached.Add(1)
	}
	return c
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
