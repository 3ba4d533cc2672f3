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
	if now.Before(b.openUntil) {
		return false
	}
	if b.trial {
		return false // one trial at a time
	}
	b.trial = true
	return true
}

// Success closes the breaker.
func (b *Breaker) Success() {
	b.mu.Lock()
	b.failures, b.trial = 0, false
	b.mu.Unlock()
}

// Failure counts a failure and opens the breaker at the threshold.
func (b *Breaker) Failure(now time.Time) {
	b.mu.Lock()
	b.failures++
	b.trial = false
	if b.failures >= b.Threshold {
		b.openUntil = now.Add(b.Cooldown)
	}
	b.mu.Unlock()
}

// State reports the breaker's state at now.
func (b *Breaker) State(now time.Time) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.failures < b.Threshold:
		return Closed
	case now.Before(b.openUntil):
		return Open
	default:
		return HalfOpen
	}
}
