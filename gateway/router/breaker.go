package router

import (
	"sync"
	"time"
)

// Breaker cools down an upstream that keeps failing: after Threshold
// consecutive failures it opens for Cooldown, then lets one trial request
// through (half-open); a success closes it, a failure opens it again.
type Breaker struct {
	Threshold int
	Cooldown  time.Duration

	mu        sync.Mutex
	failures  int
	openUntil time.Time
	trial     bool
	// trialAt is when the trial went out: an attempt whose outcome is
	// never reported (the client left, the request was not sendable)
	// must not keep the upstream out for good.
	trialAt time.Time
	// limited: every failure since the last success was a rate limit
	// (429); retryAt is the latest moment such an answer named for a retry.
	limited bool
	retryAt time.Time
}

// State names for metrics.
const (
	Closed   = "closed"
	Open     = "open"
	HalfOpen = "half_open"
)

// Allow reports whether a request may go to the upstream now.
func (b *Breaker) Allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < b.Threshold {
		return true
	}
	if now.Before(b.until()) {
		return false
	}
	if b.trial && now.Before(b.trialAt.Add(b.Cooldown)) {
		return false // one trial at a time
	}
	b.trial, b.trialAt = true, now
	return true
}

// until is when the breaker lets a trial through: the end of the cooldown,
// or the upstream's own later retry time when rate limits alone opened it
// (a request before it would be refused again). b.mu is held.
func (b *Breaker) until() time.Time {
	if b.limited && b.retryAt.After(b.openUntil) {
		return b.retryAt
	}
	return b.openUntil
}

// Success closes the breaker.
func (b *Breaker) Success() {
	b.mu.Lock()
	b.failures, b.trial = 0, false
	b.limited, b.retryAt = false, time.Time{}
	b.mu.Unlock()
}

// Failure counts a failure and opens the breaker at the threshold.
func (b *Breaker) Failure(now time.Time) { b.fail(now, false, time.Time{}) }

// RateLimited counts a rate-limit answer (429) as a failure; retryAt, when
// not zero, is when the upstream said it takes requests again.
func (b *Breaker) RateLimited(now, retryAt time.Time) { b.fail(now, true, retryAt) }

func (b *Breaker) fail(now time.Time, limited bool, retryAt time.Time) {
	b.mu.Lock()
	b.limited = limited && (b.failures == 0 || b.limited)
	if retryAt.After(b.retryAt) {
		b.retryAt = retryAt
	}
	b.failures++
	b.trial = false
	if b.failures >= b.Threshold {
		b.openUntil = now.Add(b.Cooldown)
	}
	b.mu.Unlock()
}

// Cooling describes an upstream that Allow keeps out: whether every
// failure that opened it was a rate limit, and when a request may reach it
// again (the end of the cooldown, or the upstream's own later retry time).
func (b *Breaker) Cooling() (rateLimited bool, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limited, b.until()
}

// ReopensAt reports when Allow lets a request through again: zero while
// it does now (closed, or past its cooldown), else the moment Cooling names.
func (b *Breaker) ReopensAt(now time.Time) time.Time {
	if b.State(now) != Open {
		return time.Time{}
	}
	_, until := b.Cooling()
	return until
}

// State reports the breaker's state at now.
func (b *Breaker) State(now time.Time) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.failures < b.Threshold:
		return Closed
	case now.Before(b.until()):
		return Open
	default:
		return HalfOpen
	}
}
