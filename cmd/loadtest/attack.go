package main

import (
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// result is what one closed-loop attack measured.
type result struct {
	rps      float64 // successful requests per second
	p50, p99 time.Duration
	requests uint64
	success  float64
	errors   []string
}

// attack runs n clients, each sending its next request as soon as the
// last one was answered (vegeta's closed loop: rate 0, n workers), for d.
func attack(url, key string, body []byte, n int, d time.Duration) result {
	if d <= 0 {
		return result{} // vegeta would attack for ever: -warmup 0 means none
	}
	hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + key}}
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: url, Body: body, Header: hdr})
	a := vegeta.NewAttacker(vegeta.Workers(uint64(n)), vegeta.MaxWorkers(uint64(n)),
		vegeta.Connections(n), vegeta.MaxConnections(n), vegeta.KeepAlive(true), vegeta.HTTP2(false),
		vegeta.Timeout(30*time.Second))
	var m vegeta.Metrics
	for r := range a.Attack(tr, vegeta.Rate{Freq: 0}, d, "load") {
		m.Add(r)
	}
	m.Close()
	errs := m.Errors
	if len(errs) > 3 {
		errs = errs[:3]
	}
	return result{rps: m.Throughput, p50: m.Latencies.P50, p99: m.Latencies.P99, requests: m.Requests, success: m.Success, errors: errs}
}
