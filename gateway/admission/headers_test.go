package admission

import (
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
		"x-ratelimit-reset-tokens":       "7s",
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
	if got := formatReset(time.Second); got != "1s" { // a whole second reads as seconds
		t.Errorf("one-second reset %q", got)
	}
	for w, s := range map[time.Duration]int64{0: 1, time.Millisecond: 1, time.Second: 1, 5001 * time.Millisecond: 6} {
		if got := RetryAfterSeconds(w); got != s {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", w, got, s)
		}
	}
}
