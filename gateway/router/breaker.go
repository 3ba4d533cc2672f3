package router

import (
	"sync"
	"time"
)

// Breaker cools down an upstream that keeps failing: after Threshold
// consecutive failures it opens for Cooldown, then lets one trial request
// through (half-open); a success closes it, a failure opens it again.
//
// The trial is one at a time for as long as it runs: a slow upstream may
// take the whole first-byte or unary wait to answer, far longer than the
// cooldown, and a second trial beside it would send more traffic to an
// upstream that is down. A trial that ends without an outcome (the client
// left, the request could not be sent) frees the upstream for the next
// one as it ends (Permit.End); TrialLimit bounds one whose end never
// comes.
type Breaker struct {
	Threshold int
	Cooldown  time.Duration
	// TrialLimit is the longest a trial keeps others out without ending
	// (default DefaultTrialLimit): longer than any attempt may wait.
	TrialLimit time.Duration

	mu        sync.Mutex
	failures  int
	openUntil time.Time
	trial     uint64 // the trial under way, 0 if none
	trials    uint64 // trials started, to tell one from the next
	trialAt   time.Time
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

// DefaultTrialLimit bounds a trial whose end is never reported: beyond
// the default unary wait (10 minutes) of any attempt.
const DefaultTrialLimit = 15 * time.Minute

// Permit is an attempt Allow let through. End it when the attempt is over,
// after reporting its outcome if it has one.
type Permit struct {
	b     *Breaker
	trial uint64 // the half-open trial this attempt is, 0 if none
}

// Trial reports whether the attempt is a half-open trial, the only kind
// whose End does anything.
func (p Permit) Trial() bool { return p.trial != 0 }

// End frees the upstream for another trial if this attempt was the trial
// and its outcome was not reported. Ending twice does no harm.
func (p Permit) End() {
	if p.trial == 0 {
		return
	}
	p.b.mu.Lock()
	if p.b.trial == p.trial {
		p.b.trial = 0
	}
	p.b.mu.Unlock()
}

// Allow reports whether a request may go to the upstream now; the permit
// is to be ended when the attempt is over.
func (b *Breaker) Allow(now time.Time) (Permit, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < b.Threshold {
		return Permit{}, true
	}
	if now.Before(b.until()) {
		return Permit{}, false
	}
	limit := b.TrialLimit
	if limit <= 0 {
		limit = DefaultTrialLimit
	}
	if b.trial != 0 && now.Before(b.trialAt.Add(limit)) {
		return Permit{}, false // one trial at a time
	}
	b.trials++
	b.trial, b.trialAt = b.trials, now
	return Permit{b: b, trial: b.trial}, true
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
	b.failures, b.trial = 0, 0
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
	b.trial = 0
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
