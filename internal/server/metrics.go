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

	// The series of each (route, method, code) and route, looked up once:
	// WithLabelValues hashes the values and formats the code on every
	// call. At most maxCachedSeries are kept; the rest are looked up.
	counters  sync.Map // seriesKey -> prometheus.Counter
	observers sync.Map // route -> prometheus.Observer
	cached    atomic.Int32
}

// maxCachedSeries bounds the series cache: routes are a fixed set, but the
// method of an unmatched request is whatever the client sent.
const maxCachedSeries = 512

type seriesKey struct {
	route, method string
	status        int
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
	m.counter(route, r.Method, status).Inc()
	m.observer(route).Observe(took.Seconds())
}

// counter returns the request counter of one (route, method, code).
func (m *metrics) counter(route, method string, status int) prometheus.Counter {
	return cachedSeries(m, &m.counters, seriesKey{route, method, status}, func() prometheus.Counter {
		return m.requests.WithLabelValues(route, method, strconv.Itoa(status))
	})
}

// observer returns the duration histogram of a route.
func (m *metrics) observer(route string) prometheus.Observer {
	return cachedSeries(m, &m.observers, route, func() prometheus.Observer {
		return m.duration.WithLabelValues(route)
	})
}

// cachedSeries returns cache's series for k, looking it up with lookup and
// keeping it while fewer than maxCachedSeries are kept.
func cachedSeries[K comparable, V any](m *metrics, cache *sync.Map, k K, lookup func() V) V {
	if v, ok := cache.Load(k); ok {
		return v.(V)
	}
	v := lookup()
	if m.cached.Load() < maxCachedSeries {
		if _, loaded := cache.LoadOrStore(k, v); !loaded {
			m.cached.Add(1)
		}
	}
	return v
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
