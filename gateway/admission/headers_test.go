package admission

import (
	"math"
	"net/http"
	"testing"
	"time"
)

func TestSetHeaders(t *testing.T) {
	ml := NewMemoryLimiter()
	var d Decision
	for i := 0; i < 11; i++ {
		d = admit(t, ml, "h", starter, 1234, t0)
	}
	h := http.Header{}
	d.SetHeaders(h)
	want := map[string]string{
		"x-ratelimit-limit-requests":     "10",
		"x-ratelimit-remaining-requests": "0",
		"x-ratelimit-reset-requests":     "1m0s",
		"x-ratelimit-limit-tokens":       "100000",
		"x-ratelimit-remaining-tokens":   "87660",
		"x-ratelimit-reset-tokens":       "8s", // 12340 tokens' 7.404 s, rounded up
		"retry-after":                    "6",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(h) != len(want) {
		t.Errorf("headers %v", h)
	}
	// Unlimited dimensions and admitted requests write less.
	h = http.Header{}
	admit(t, ml, "u", Limits{RPM: 3}, 10, t0).SetHeaders(h)
	if len(h) != 3 || h.Get("x-ratelimit-remaining-requests") != "2" || h.Get("x-ratelimit-reset-requests") != "20s" {
		t.Errorf("rpm only: %v", h)
	}
	if got := formatReset(600 * time.Millisecond); got != "600ms" {
		t.Errorf("sub-second reset %q", got)
	}
	// Rounded up, never down: a client that waits what it reads finds the
	// window back. A whole second reads as seconds.
	for d, s := range map[time.Duration]string{0: "0ms", 1: "1ms", 600*time.Millisecond + 1: "601ms",
		999*time.Millisecond + 500*time.Microsecond: "1s", time.Second: "1s", 7400 * time.Millisecond: "8s",
		time.Minute + time.Microsecond: "1m1s", math.MaxInt64: "2562047h47m16s" /* no wrap-around */} {
		if got := formatReset(d); got != s {
			t.Errorf("formatReset(%v) = %q, want %q", d, got, s)
		}
	}
	for w, s := range map[time.Duration]int64{0: 1, time.Millisecond: 1, time.Second: 1, 5001 * time.Millisecond: 6} {
		if got := RetryAfterSeconds(w); got != s {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", w, got, s)
		}
	}
}
