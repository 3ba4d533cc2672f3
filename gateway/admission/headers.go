package admission

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// SetHeaders writes the x-ratelimit-* headers of every limited dimension
// and, when the request was refused, Retry-After in whole seconds (rounded
// up, at least 1). Resets are printed the way OpenAI does, rounded up:
// "17ms" below a second, else a Go duration in whole seconds ("6s", "1m0s").
func (d Decision) SetHeaders(h http.Header) {
	// Every request answers these: the keys are written canonical and the
	// six values share one backing array, rather than a slice each.
	var vals []string
	set := func(names *[3]string, w Window) {
		if w.Limit <= 0 {
			return
		}
		if vals == nil {
			vals = make([]string, 0, 6)
		}
		for i, v := range [3]string{strconv.FormatInt(w.Limit, 10), strconv.FormatInt(w.Remaining, 10), formatReset(w.Reset)} {
			vals = append(vals, v)
			h[names[i]] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	set(&requestHeaders, d.Requests)
	set(&tokenHeaders, d.Tokens)
	if !d.Allowed && !d.TooLarge {
		h.Set("Retry-After", strconv.FormatInt(RetryAfterSeconds(d.RetryAfter), 10))
	}
}

var (
	requestHeaders = [3]string{"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests"}
	tokenHeaders   = [3]string{"X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens"}
)

// RetryAfterSeconds rounds a wait up to whole seconds, at least 1.
func RetryAfterSeconds(w time.Duration) int64 {
	return max(int64(ceilTo(w, time.Second)/time.Second), 1)
}

// formatReset rounds up, to the millisecond below a second and to the
// second above: a client that waits what it reads must find the window
// back, so the header never says less than the real wait.
func formatReset(d time.Duration) string {
	if ms := ceilTo(d, time.Millisecond); ms < time.Second {
		return strconv.FormatInt(ms.Milliseconds(), 10) + "ms"
	}
	return ceilTo(d, time.Second).String()
}

// ceilTo rounds d up to a multiple of unit (0 and less read as 0).
func ceilTo(d, unit time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	q := d.Truncate(unit)
	if q < d && q <= math.MaxInt64-unit {
		q += unit
	}
	return q
}
