package admission

import (
	"context"
	"testing"
	"time"
)

// gcraCost is floor(n·60,000,000/limit) µs, zero for nothing or no limit,
// and capped at maxCostUS, where Lua's doubles stay exact.
func TestLimiterGCRACostKnownAnswers(t *testing.T) {
	for _, c := range []struct{ n, limit, want int64 }{
		{1, 10, 6_000_000},
		{3, 7, 25_714_285},
		{1, 60_000_000, 1},
		{1, 60_000_001, 0},
		{0, 10, 0},
		{-1, 10, 0},
		{1, 0, 0}, // no limit: the window never moves
		{1, -1, 0},
		{0, 0, 0},
		{1 << 42, 234_375, maxCostUS},         // exactly the cap
		{1<<42 - 1, 234_375, maxCostUS - 256}, // just under it
		{20_000_000_000, 1, maxCostUS},        // over the cap
		{400_000_000_000, 1, maxCostUS},       // n·period overflows 64 bits by exactly the limit
		{1 << 62, 3, maxCostUS},               // and by more
		{307_445_734_561, 1, maxCostUS},       // the first n whose n·period needs 65 bits
		{307_445_734_560, 1_000_000, 18_446_744_073_600}, // the last that does not, by a large limit
	} {
		if got := gcraCost(c.n, c.limit); got != c.want {
			t.Errorf("gcraCost(%d, %d) = %d, want %d", c.n, c.limit, got, c.want)
		}
	}
}

// A key whose request limit is lifted is never refused on requests, even
// when the clock stepped back and its old limit's window reaches more than
// a minute ahead.
func TestLimiterLiftedRequestLimitAfterTheClockSteppedBack(t *testing.T) {
	ml := NewMemoryLimiter()
	l := Limits{RPM: 1, TPM: 1000}
	if d := admit(t, ml, "k", l, 10, t0); !d.Allowed {
		t.Fatalf("first request refused: %+v", d)
	}
	// The request window is a minute ahead of t0; 30 s earlier it is 90 s
	// ahead, more than a window.
	back := t0.Add(-30 * time.Second)
	if d := admit(t, ml, "k", Limits{TPM: 1000}, 10, back); !d.Allowed || d.Requests != (Window{}) {
		t.Fatalf("no request limit, clock 30 s back: %+v", d)
	}
	if d := admit(t, ml, "k", l, 10, back); d.Allowed || d.Reason != ReasonRPM {
		t.Fatalf("with the limit again: %+v, want a refusal on requests", d)
	}
}

// A refusal on one dimension still reports the other's window as it
// stands, for the x-ratelimit-* headers of the 429.
func TestLimiterRefusalReportsBothWindows(t *testing.T) {
	l := Limits{RPM: 10, TPM: 100}
	limiterImpls(t, func(t *testing.T, rl RateLimiter) {
		if d := admit(t, rl, "k", l, 100, t0); !d.Allowed {
			t.Fatalf("first request refused: %+v", d)
		}
		// Tokens are spent for a minute; one request of ten is, for 6 s.
		d := admit(t, rl, "k", l, 50, t0)
		want := Decision{Reason: ReasonTPM, RetryAfter: 30 * time.Second,
			Requests: Window{Limit: 10, Remaining: 9, Reset: 6 * time.Second},
			Tokens:   Window{Limit: 100, Remaining: 0, Reset: time.Minute}}
		if d != want {
			t.Fatalf("refused on tokens: %+v, want %+v", d, want)
		}
	})
	limiterImpls(t, func(t *testing.T, rl RateLimiter) {
		l := Limits{RPM: 1, TPM: 100}
		admit(t, rl, "k", l, 10, t0)
		d := admit(t, rl, "k", l, 10, t0.Add(30*time.Second))
		want := Decision{Reason: ReasonRPM, RetryAfter: 30 * time.Second,
			Requests: Window{Limit: 1, Remaining: 0, Reset: 30 * time.Second},
			Tokens:   Window{Limit: 100, Remaining: 100, Reset: 0}}
		if d != want {
			t.Fatalf("refused on requests: %+v, want %+v", d, want)
		}
	})
}

// A key limited on one dimension only is held to it.
func TestLimiterOneDimensionOnly(t *testing.T) {
	limiterImpls(t, func(t *testing.T, rl RateLimiter) {
		tpm := Limits{TPM: 100}
		if d := admit(t, rl, "tokens", tpm, 100, t0); !d.Allowed || d.Requests != (Window{}) || d.Tokens.Remaining != 0 {
			t.Fatalf("a minute's tokens: %+v", d)
		}
		if d := admit(t, rl, "tokens", tpm, 1, t0); d.Allowed || d.Reason != ReasonTPM {
			t.Fatalf("one token more: %+v", d)
		}
		if d := admit(t, rl, "tokens", tpm, 101, t0.Add(time.Hour)); d.Allowed || !d.TooLarge {
			t.Fatalf("more than a minute's tokens: %+v", d)
		}
		rpm := Limits{RPM: 1}
		if d := admit(t, rl, "requests", rpm, 1_000_000, t0); !d.Allowed || d.Tokens != (Window{}) {
			t.Fatalf("first request: %+v", d)
		}
		if d := admit(t, rl, "requests", rpm, 0, t0); d.Allowed || d.Reason != ReasonRPM {
			t.Fatalf("second request: %+v", d)
		}
	})
}

// A key with no limits keeps no state, in memory or in Redis: a flood of
// unlimited keys costs nothing to remember.
func TestLimiterUnlimitedKeysKeepNoState(t *testing.T) {
	ctx := context.Background()
	ml := NewMemoryLimiter()
	for _, l := range []Limits{{}, {RPM: -1}, {TPM: -1}} {
		if d := admit(t, ml, "free", l, 100, t0); d != (Decision{Allowed: true}) {
			t.Fatalf("%+v: %+v", l, d)
		}
		settle(t, ml, "free", l, 100, 500, t0)
	}
	settle(t, ml, "free", Limits{RPM: 10}, 100, 500, t0)
	if n := len(ml.shard("free").m); n != 0 {
		t.Fatalf("the memory limiter keeps %d states for a key without limits", n)
	}

	c, prefix := redisClients(t, 1)
	rl := NewRedisLimiter(c[0], prefix)
	for _, l := range []Limits{{}, {RPM: -1}, {TPM: -1}} {
		if d := admit(t, rl, "free", l, 100, t0); d != (Decision{Allowed: true}) {
			t.Fatalf("%+v: %+v", l, d)
		}
		settle(t, rl, "free", l, 100, 500, t0)
	}
	settle(t, rl, "free", Limits{RPM: 10}, 100, 500, t0)
	if n, err := c[0].Exists(ctx, rl.key("free")...).Result(); err != nil || n != 0 {
		t.Fatalf("Redis holds %d keys for a key without limits (%v)", n, err)
	}
}

// The memory limiter's sweep runs once every 1,024 operations on a shard
// (or every len(map), if larger) and drops exactly the keys whose windows
// are full again, as a fresh key's are.
func TestLimiterSweepDropsOnlyFreshStates(t *testing.T) {
	now := t0.UnixMicro()
	sh := &limiterShard{m: map[string]gcraState{
		"stale":       {req: now - 1, tok: now - 1},
		"just full":   {req: now, tok: now},
		"requests on": {req: now + 1, tok: now - 5},
		"tokens on":   {req: now - 5, tok: now + 1},
	}}
	sh.ops = 1022
	sh.sweep(now) // the 1,023rd operation
	if len(sh.m) != 4 {
		t.Fatalf("swept before the 1,024th operation: %v", sh.m)
	}
	sh.sweep(now)
	_, on1 := sh.m["requests on"]
	_, on2 := sh.m["tokens on"]
	if len(sh.m) != 2 || !on1 || !on2 || sh.ops != 0 {
		t.Fatalf("after the 1,024th operation: %v, ops %d", sh.m, sh.ops)
	}

	// A shard holding more keys than 1,024 sweeps once per its size.
	big := &limiterShard{m: map[string]gcraState{"stale": {req: now - 1, tok: now - 1}}}
	for i := range 1099 {
		big.m[string(rune(0x4e00+i))] = gcraState{req: now + 1, tok: now + 1}
	}
	big.ops = 1098
	big.sweep(now) // 1,099 operations, 1,100 keys
	if len(big.m) != 1100 {
		t.Fatalf("swept after %d operations over %d keys", big.ops, len(big.m))
	}
	big.sweep(now)
	if _, ok := big.m["stale"]; ok || len(big.m) != 1099 || big.ops != 0 {
		t.Fatalf("no sweep after as many operations as keys: %d keys, ops %d", len(big.m), big.ops)
	}
}
