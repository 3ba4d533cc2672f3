package admission

import (
	"testing"
	"time"
)

// A key that used its Starter minute and moves to Business gets Business's
// minute at once: its ten requests are ten of 100, not a minute's backlog
// at the new rate. Moving back down counts them at the lower rate again.
func TestLimiterPlanChangeTakesEffectAtOnce(t *testing.T) {
	limiterImpls(t, func(t *testing.T, rl RateLimiter) {
		for i := 0; i < 10; i++ {
			if d := admit(t, rl, "pc", starter, 1000, t0); !d.Allowed {
				t.Fatalf("request %d refused: %+v", i+1, d)
			}
		}
		if d := admit(t, rl, "pc", starter, 1000, t0); d.Allowed {
			t.Fatalf("11th on Starter admitted: %+v", d)
		}
		d := admit(t, rl, "pc", business, 1000, t0)
		if !d.Allowed {
			t.Fatalf("first request after the upgrade refused: %+v", d)
		}
		// 11 of 100 requests and 11,000 of 1,000,000 tokens used.
		if d.Requests.Remaining != 89 || d.Tokens.Remaining != 989_000 {
			t.Fatalf("after the upgrade: %+v", d)
		}
		// Back on Starter the 11 requests fill its minute.
		d = admit(t, rl, "pc", starter, 1000, t0.Add(time.Second))
		if d.Allowed || d.Reason != ReasonRPM || d.Requests.Remaining != 0 {
			t.Fatalf("after the downgrade: %+v", d)
		}
		// A settle under the new limit counts tokens at its rate: 1,000
		// of the 11,000 come back.
		settle(t, rl, "pc", business, 1000, 0, t0)
		d = admit(t, rl, "pc", business, 0, t0)
		if !d.Allowed || d.Tokens.Remaining != 990_000 {
			t.Fatalf("after a settle: %+v", d)
		}
	})
}

// A key that used more than a minute's tokens (a request that took more
// than its estimate) is told when its window is full again, not a minute:
// the reset is never sooner than the Retry-After of the same answer.
func TestLimiterResetBeyondAMinute(t *testing.T) {
	limiterImpls(t, func(t *testing.T, rl RateLimiter) {
		l := Limits{TPM: 1000}
		if d := admit(t, rl, "rb", l, 1000, t0); !d.Allowed {
			t.Fatalf("first request refused: %+v", d)
		}
		settle(t, rl, "rb", l, 1000, 3000, t0)
		d := admit(t, rl, "rb", l, 1, t0)
		if d.Allowed || d.Reason != ReasonTPM {
			t.Fatalf("want a tpm refusal, got %+v", d)
		}
		if d.Tokens.Reset != 3*time.Minute || d.Tokens.Remaining != 0 {
			t.Fatalf("tokens window %+v, want 0 left and a reset in 3m", d.Tokens)
		}
		if d.Tokens.Reset < d.RetryAfter {
			t.Fatalf("reset %v sooner than Retry-After %v", d.Tokens.Reset, d.RetryAfter)
		}
	})
}
