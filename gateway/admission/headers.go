package admission

import (
	"net/http"
	"strconv"
	"time"
)

// SetHeaders writes the x-ratelimit-* headers of every limited dimension
// and, when the request was refused, Retry-After in whole seconds (rounded
// up, at least 1). Resets are printed the way OpenAI does: "17ms" below a
// second, else a Go duration in whole seconds ("6s", "1m0s").
func (d Decision) SetHeaders(h http.Header) {
	set := func(dim string, w Window) {
		if w.Limit <= 0 {
			return
		}
		h.Set("X-Ratelimit-Limit-"+dim, strconv.FormatInt(w.Limit, 10))
		h.Set("X-Ratelimit-Remaining-"+dim, strconv.FormatInt(w.Remaining, 10))
		h.Set("X-Ratelimit-Reset-"+dim, formatReset(w.Reset))
	}
	set("Requests", d.Requests)
	set("Tokens", d.Tokens)
	if !d.Allowed && !d.TooLarge {
		h.Set("Retry-After", strconv.FormatInt(RetryAfterSeconds(d.RetryAfter), 10))
	}
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least 1.
func RetryAfterSeconds(w time.Duration) int64 {
	s := int64((w + time.Second - 1) / time.Second)
	return max(s, 1)
}

func formatReset(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return d.Round(time.Second).String()
}
