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
// and the soonest moment one of them takes requests again. That moment is
// known only when each of them is out until a known time: cooling down (its
// breaker open, until the end of the cooldown or the upstream's own later
// retry time) or rate limited with a Retry-After. One that failed without
// entering a cooldown may be tried again at once, and then no moment is
// told: the client's own backoff decides.
type rateLimits struct {
	limited, other int
	soonest        time.Time
	unknown        bool
}

func (r *rateLimits) add(limited bool, at time.Time) {
	if limited {
		r.limited++
	} else {
		r.other++
	}
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
// An attempt that opened the breaker counts with the cooldown it entered.
func (r *rateLimits) failed(t *router.Target, err error, now time.Time) {
	var ue *providers.UpstreamError
	if !errors.As(err, &ue) || ue.Status != http.StatusTooManyRequests {
		t.Breaker.Failure(now)
		r.add(false, t.Breaker.ReopensAt(now))
		return
	}
	var at time.Time
	if ue.RetryAfter > 0 {
		at = now.Add(ue.RetryAfter)
	}
	t.Breaker.RateLimited(now, at)
	if reopens := t.Breaker.ReopensAt(now); !reopens.IsZero() {
		at = reopens
	}
	r.add(true, at)
}

func (r *rateLimits) all() bool { return r.limited > 0 && r.other == 0 }

// retryAfter is the whole seconds, rounded up, until one of the upstreams
// takes requests again; 0 when that is not known.
func (r *rateLimits) retryAfter(now time.Time) int64 {
	if r.unknown || r.soonest.IsZero() {
		return 0
	}
	return admission.RetryAfterSeconds(r.soonest.Sub(now))
}

// answer gives a model's every-upstream-failed answer (a 503) what the
// upstreams' outcomes tell: a 429 when rate limits alone decided it, and
// the Retry-After when it is known.
func (r *rateLimits) answer(ae *APIError, model string, now time.Time) {
	if r.all() {
		ae.Status, ae.Reason, ae.Type = http.StatusTooManyRequests, reasonUpstreamsRateLimited, errorType(http.StatusTooManyRequests)
		ae.Metadata["limit"] = "upstream"
	}
	setRetryAfter(ae, model, r.retryAfter(now))
}

// setRetryAfter sets the Retry-After (metadata.retry_after_seconds, which
// writeAPIError sends as the header too) of a 429 or 503 for model's
// upstreams, and its message to match; secs 0 removes it.
func setRetryAfter(ae *APIError, model string, secs int64) {
	what := "failed or is cooling down"
	if ae.Reason == reasonUpstreamsRateLimited {
		what = "is rate limited"
	}
	if secs <= 0 {
		delete(ae.Metadata, "retry_after_seconds")
		ae.Message = fmt.Sprintf("every upstream for %s %s; try again shortly", model, what)
		return
	}
	ae.Metadata["retry_after_seconds"] = secs
	ae.Message = fmt.Sprintf("every upstream for %s %s; retry in %d s", model, what, secs)
}

// notOnlyRateLimited makes a fallback chain's 429 a 503 when an earlier
// model of the chain failed otherwise: rate limits mixed with an outage.
func notOnlyRateLimited(ae *APIError) {
	ae.Status, ae.Reason, ae.Type = http.StatusServiceUnavailable, "upstreams_failed", errorType(http.StatusServiceUnavailable)
	delete(ae.Metadata, "limit")
}
