package server

import (
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestMetricsCacheCounts: every request is counted once under its route,
// method and code, from many goroutines and past the cache's bounds.
func TestMetricsCacheCounts(t *testing.T) {
	m := newMetrics()
	const methods, each = 3 * maxCountersPerRoute, 4
	var wg sync.WaitGroup
	for g := range each {
		wg.Go(func() {
			for i := range methods {
				r := httptest.NewRequest("GET", "/x", nil)
				r.Method = "M" + strconv.Itoa(i)
				status := 0 // never written: counted as 200
				if g%2 == 1 {
					status = 200
				}
				m.observe(r, status, time.Millisecond)
			}
		})
	}
	wg.Wait()

	mfs, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	var observed uint64
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "latch_http_requests_total":
				if labels["route"] != "other" || labels["code"] != "200" {
					t.Errorf("unexpected series %v", labels)
				}
				counts[labels["method"]] += s.GetCounter().GetValue()
			case "latch_http_request_duration_seconds":
				observed += s.GetHistogram().GetSampleCount()
			}
		}
	}
	for i := range methods {
		if got := counts["M"+strconv.Itoa(i)]; got != each {
			t.Errorf("method M%d counted %v times, want %d", i, got, each)
		}
	}
	if observed != methods*each {
		t.Errorf("%d durations observed, want %d", observed, methods*each)
	}
	v, _ := m.routes.Load("other")
	if n := len(*v.(*routeSeries).counters.Load()); n != maxCountersPerRoute {
		t.Errorf("%d counters cached for a route, want the bound %d", n, maxCountersPerRoute)
	}
}
