package admission

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	starter  = Limits{RPM: 10, TPM: 100_000}
	business = Limits{RPM: 100, TPM: 1_000_000}
	t0       = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
)

// limiterImpls runs f against every implementation; the Redis one skips
// when ROUTEFREE_REDIS_URL is unset.
func limiterImpls(t *testing.T, f func(t *testing.T, rl RateLimiter)) {
	t.Run("memory", func(t *testing.T) { f(t, NewMemoryLimiter()) })
	t.Run("redis", func(t *testing.T) {
		c, prefix := redisClients(t, 1)
		f(t, NewRedisLimiter(c[0], prefix))
	})
}

func admit(t *testing.T, rl RateLimiter, key string, l Limits, est int64, now time.Time) Decision {
	t.Helper()
	d, err := rl.Admit(context.Background(), key, l, est, now)
	if err != nil {
		t.Fatalf("admit: %v", err)
	}
	return d
}

func settle(t *testing.T, rl RateLimiter, key string, l Limits, est, actual int64, now time.Time) {
	t.Helper()
	if err := rl.Settle(context.Background(), key, l, est, actual, now); err != nil {
		t.Fatalf("settle: %v", err)
	}
}

func TestLimiterStarterEleventhRefused(t *testing.T) {
	limiterImpls(t, func(t *testing.T, rl RateLimiter) {
		// A burst of ten within one second: GCRA refills one request every
		// 6s, so the 11th, still inside the minute, must wait.
		for i := 0; i < 10; i++ {
			now := t0.Add(time.Duration(i) * 100 * time.Millisecond)
			d := admit(t, rl, "k1", starter, 100, now)
			if !d.Allowed {
				t.Fatalf("request %d refused: %+v", i+1, d)
			}
		}
		now := t0.Add(time.Second)
		d := admit(t, rl, "k1", starter, 100, now)
		if d.Allowed || d.Reason != ReasonRPM || d.RetryAfter <= 0 {
			t.Fatalf("11th: want refused on rpm with Retry-After, got %+v", d)
		}
		// The first slot frees 6s after t0: 5s from now.
		if d.RetryAfter != 5*time.Second {
			t.Fatalf("Retry-After %v, want 5s", d.RetryAfter)
		}
		// Retrying a microsecond early fails, at Retry-After succeeds.
		if d := admit(t, rl, "k1", starter, 100, now.Add(d.RetryAfter-time.Microsecond)); d.Allowed {
			t.Fatalf("admitted before Retry-After: %+v", d)
		}
		if d := admit(t, rl, "k1", starter, 100, now.Add(d.RetryAfter)); !d.Allowed {
			t.Fatalf("refused at Retry-After: %+v", d)
		}
	})
}

func TestLimiterHeaders(t *testing.T) {
	limiterImpls(t, func(t *testing.T, rl RateLimiter) {
		d := admit(t, rl, "h", starter, 1000, t0)
		want := Decision{Allowed: true,
			Requests: Window{Limit: 10, Remaining: 9, Reset: 6 * time.Second},
			// 1,000 of 100,000 tokens: 0.6s to refill.
			Tokens: Window{Limit: 100_000, Remaining: 99_000, Reset: 600 * time.Millisecond}}
		if d != want {
			t.Fatalf("first: got %+v want %+v", d, want)
		}
		for i := 0; i < 9; i++ {
			d = admit(t, rl, "h", starter, 1000, t0)
		}
		if !d.Allowed || d.Requests.Remaining != 0 || d.Requests.Reset != time.Minute ||
			d.Tokens.Remaining != 90_000 || d.Tokens.Reset != 6*time.Second {
			t.Fatalf("tenth: %+v", d)
		}
		d = admit(t, rl, "h", starter, 1000, t0)
		if d.Allowed || d.RetryAfter != 6*time.Second || d.Requests.Remaining != 0 || d.Tokens.Remaining != 90_000 {
			t.Fatalf("eleventh at once: %+v", d)
		}
		// 15s later the backlog is 45s; one more request leaves 51s: 1 remains.
		d = admit(t, rl, "h", starter, 0, t0.Add(15*time.Second))
		if !d.Allowed || d.Requests.Remaining != 1 || d.Requests.Reset != 51*time.Second {
			t.Fatalf("after 15s: %+v", d)
		}
		// An unlimited dimension reports Limit 0.
		d = admit(t, rl, "u", Limits{RPM: 5}, 1e9, t0)
		if !d.Allowed || d.Tokens != (Window{}) || d.Requests.Remaining != 4 {
			t.Fatalf("unlimited tokens: %+v", d)
		}
	})
}

func TestLimiterTPM(t *testing.T) {
	limiterImpls(t, func(t *testing.T, rl RateLimiter) {
		l := Limits{RPM: 1000, TPM: 10_000}
		// Admission takes the estimate; the next one must fit on top of it.
		if d := admit(t, rl, "a", l, 6000, t0); !d.Allowed || d.Tokens.Remaining != 4000 {
			t.Fatalf("first: %+v", d)
		}
		d := admit(t, rl, "a", l, 5000, t0)
		if d.Allowed || d.Reason != ReasonTPM || d.RetryAfter != 6*time.Second {
			t.Fatalf("over TPM: %+v", d)
		}
		// Actual below the estimate gives back: 6000 → 2000 leaves 8000.
		settle(t, rl, "a", l, 6000, 2000, t0)
		if d := admit(t, rl, "a", l, 5000, t0); !d.Allowed || d.Tokens.Remaining != 3000 {
			t.Fatalf("after give-back: %+v", d)
		}
		// Actual above consumes more: 5000 → 8000 puts 10,000 in use.
		settle(t, rl, "a", l, 5000, 8000, t0)
		d = admit(t, rl, "a", l, 1, t0)
		if d.Allowed || d.Reason != ReasonTPM || d.Tokens.Remaining != 0 || d.Tokens.Reset != time.Minute {
			t.Fatalf("after over-use: %+v", d)
		}
		// Going over the limit pushes the window beyond one minute.
		settle(t, rl, "a", l, 0, 5000, t0)
		if d := admit(t, rl, "a", l, 0, t0.Add(29*time.Second)); d.Allowed || d.RetryAfter != time.Second {
			t.Fatalf("over-use debt: %+v", d)
		}
		// An estimate beyond the whole TPM never fits.
		if d := admit(t, rl, "b", l, 10_001, t0); d.Allowed || !d.TooLarge || d.Reason != ReasonTPM {
			t.Fatalf("too large: %+v", d)
		}
		// Refusal took nothing: the request dimension is intact.
		if d := admit(t, rl, "b", l, 10_000, t0); !d.Allowed || d.Requests.Remaining != 999 || d.Tokens.Remaining != 0 {
			t.Fatalf("after too large: %+v", d)
		}
	})
}

func TestLimiterBothOrNeither(t *testing.T) {
	limiterImpls(t, func(t *testing.T, rl RateLimiter) {
		l := Limits{RPM: 2, TPM: 100}
		admit(t, rl, "x", l, 90, t0)
		// Refused on tokens: the request must not be counted.
		if d := admit(t, rl, "x", l, 20, t0); d.Allowed || d.Reason != ReasonTPM {
			t.Fatalf("want tpm refusal: %+v", d)
		}
		if d := admit(t, rl, "x", l, 10, t0); !d.Allowed || d.Requests.Remaining != 0 {
			t.Fatalf("second request: %+v", d)
		}
		// Refused on requests: the tokens must not be counted.
		if d := admit(t, rl, "x", l, 0, t0); d.Allowed || d.Reason != ReasonRPM || d.Tokens.Remaining != 0 {
			t.Fatalf("want rpm refusal: %+v", d)
		}
	})
}

func TestLimiterKeysIndependent(t *testing.T) {
	limiterImpls(t, func(t *testing.T, rl RateLimiter) {
		for i := 0; i < 10; i++ {
			admit(t, rl, "one", starter, 10, t0)
		}
		if d := admit(t, rl, "one", starter, 10, t0); d.Allowed {
			t.Fatal("key one should be exhausted")
		}
		d := admit(t, rl, "two", starter, 10, t0)
		if !d.Allowed || d.Requests.Remaining != 9 {
			t.Fatalf("key two affected by key one: %+v", d)
		}
		// A minute later key one is whole again.
		if d := admit(t, rl, "one", starter, 10, t0.Add(time.Minute)); !d.Allowed || d.Requests.Remaining != 9 {
			t.Fatalf("key one after a minute: %+v", d)
		}
		// Unlimited limits always pass.
		for i := 0; i < 50; i++ {
			if d := admit(t, rl, "free", Limits{}, 1e6, t0); !d.Allowed {
				t.Fatal("unlimited refused")
			}
		}
	})
}

// countAdmitted fires workers goroutines per limiter at the same instant and
// counts admissions.
func countAdmitted(t *testing.T, lims []RateLimiter, workers int, l Limits, est int64) int64 {
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	now := time.Now()
	for _, rl := range lims {
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				d, err := rl.Admit(context.Background(), "shared", l, est, now)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					ok.Add(1)
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	return ok.Load()
}

func TestLimiterConcurrentNeverExceeds(t *testing.T) {
	check := func(t *testing.T, lims []RateLimiter) {
		if n := countAdmitted(t, lims, 50, starter, 10); n != 10 {
			t.Errorf("rpm: admitted %d, want exactly 10", n)
		}
	}
	checkTPM := func(t *testing.T, lims []RateLimiter) {
		if n := countAdmitted(t, lims, 50, Limits{RPM: 1000, TPM: 1000}, 100); n != 10 {
			t.Errorf("tpm: admitted %d, want exactly 10", n)
		}
	}
	t.Run("memory", func(t *testing.T) {
		m := NewMemoryLimiter()
		check(t, []RateLimiter{m, m})
		checkTPM(t, []RateLimiter{NewMemoryLimiter()})
	})
	t.Run("redis", func(t *testing.T) {
		c, prefix := redisClients(t, 2)
		check(t, []RateLimiter{NewRedisLimiter(c[0], prefix+"a:"), NewRedisLimiter(c[1], prefix+"a:")})
		checkTPM(t, []RateLimiter{NewRedisLimiter(c[0], prefix+"b:"), NewRedisLimiter(c[1], prefix+"b:")})
	})
}
