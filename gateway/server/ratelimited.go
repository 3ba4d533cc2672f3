package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/providers"
	"github.com/routefree/routefree/gateway/router"
)

// reasonUpstreamsRateLimited is the answer when upstream rate limits alone
// decided that no upstream served: a 429, as OpenRouter answers, so that
// clients back off and retry instead of treating it as an outage. A key's
// own limit is a 429 too; this one says metadata.limit "upstream" and names
// the provider.
const reasonUpstreamsRateLimited = "upstreams_rate_limited"

// rateLimits follows, over the upstreams that decided an outcome, whether
// every one was rate limited (answered 429, or is cooling down after 429s)
// and the soonest moment one of them takes requests again: known only when
// each of them named one (its Retry-After, or the end of its cooldown).
type rateLimits struct {
	limited, other int
	soonest        time.Time
	unknown        bool
}

func (r *rateLimits) add(limited bool, at time.Time) {
	if !limited {
		r.other++
		return
	}
	r.limited++
	if at.IsZero() {
		r.unknown = true
	} else if r.soonest.IsZero() || at.Before(r.soonest) {
		r.soonest = at
	}
}

// cooling records an upstream its breaker kept out.
func (r *rateLimits) cooling(t *router.Target) {
	r.add(t.Breaker.Cooling())
}

// failed records an upstream's failed attempt and counts it on its breaker.
func (r *rateLimits) failed(t *router.Target, err error, now time.Time) {
	var ue *providers.UpstreamError
	if !errors.As(err, &ue) || ue.Status != http.StatusTooManyRequests {
		t.Breaker.Failure(now)
		r.add(false, time.Time{})
		return
	}
	var at time.Time
	if ue.RetryAfter > 0 {
		at = now.Add(ue.RetryAfter)
	}
	t.Breaker.RateLimited(now, at)
	r.add(true, at)
}

func (r *rateLimits) all() bool { return r.limited > 0 && r.other == 0 }

// rateLimited turns a model's every-upstream-failed answer into the 429.
func (r *rateLimits) rateLimited(ae *APIError, model string, now time.Time) {
	ae.Status, ae.Reason, ae.Type = http.StatusTooManyRequests, reasonUpstreamsRateLimited, errorType(http.StatusTooManyRequests)
	ae.Metadata["limit"] = "upstream"
	ae.Message = fmt.Sprintf("every upstream for %s is rate limited; try again shortly", model)
	if !r.unknown && !r.soonest.IsZero() {
		secs := admission.RetryAfterSeconds(r.soonest.Sub(now))
		ae.Metadata["retry_after_seconds"] = secs
		ae.Message = fmt.Sprintf("every upstream for %s is rate limited; retry in %d s", model, secs)
	}
}

// notOnlyRateLimited makes a fallback chain's 429 a 503 when an earlier
// model of the chain failed otherwise: rate limits mixed with an outage.
func notOnlyRateLimited(ae *APIError, model string) {
	ae.Status, ae.Reason, ae.Type = http.StatusServiceUnavailable, "upstreams_failed", errorType(http.StatusServiceUnavailable)
	ae.Message = fmt.Sprintf("every upstream for %s failed or is cooling down; try again shortly", model)
	delete(ae.Metadata, "limit")
	delete(ae.Metadata, "retry_after_seconds")
}
