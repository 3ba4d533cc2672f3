package admission

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
)

// fakeClock is settable from the test and safe for concurrent readers.
type fakeClock struct{ ms atomic.Int64 }

func newFakeClock() *fakeClock           { c := &fakeClock{}; c.ms.Store(t0.UnixMilli()); return c }
func (c *fakeClock) now() time.Time      { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) add(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// ledgerImpls runs f against every implementation with n instances sharing
// state (the Redis ones through n clients), all reading clock.
func ledgerImpls(t *testing.T, n int, f func(t *testing.T, ls []Ledger, clock *fakeClock)) {
	opt := func(c *fakeClock) LedgerOptions {
		return LedgerOptions{HoldTTL: 15 * time.Minute, SettledGrace: 2 * time.Minute, Clock: c.now}
	}
	t.Run("memory", func(t *testing.T) {
		c := newFakeClock()
		m := NewMemoryLedger(opt(c))
		ls := make([]Ledger, n)
		for i := range ls {
			ls[i] = m
		}
		f(t, ls, c)
	})
	t.Run("redis", func(t *testing.T) {
		c := newFakeClock()
		clients, prefix := redisClients(t, n)
		ls := make([]Ledger, n)
		for i := range ls {
			ls[i] = redisLedgerOn(clients[i], prefix, opt(c), c)
		}
		f(t, ls, c)
	})
}

var ctx = context.Background()

// redisLedgerOn is a Redis ledger that reads c in place of Redis's clock.
func redisLedgerOn(rdb redis.UniversalClient, prefix string, o LedgerOptions, c *fakeClock) *RedisLedger {
	l := NewRedisLedger(rdb, prefix, o)
	l.redisClock = c.now
	return l
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func view(balance string, applied int64) AccountView {
	return AccountView{Balance: d(balance), AppliedVersion: applied}
}

func hold(t *testing.T, l Ledger, acct, key, id string, v AccountView, amount string) HoldResult {
	t.Helper()
	r, err := l.Hold(ctx, acct, key, id, v, d(amount))
	if err != nil {
		t.Fatalf("hold %s: %v", id, err)
	}
	return r
}

func mustOK(t *testing.T, r HoldResult) {
	t.Helper()
	if !r.OK {
		t.Fatalf("hold refused: %+v", r)
	}
}

func mustRefuse(t *testing.T, r HoldResult, cause string) {
	t.Helper()
	if r.OK || r.Cause != cause {
		t.Fatalf("want refusal %q, got %+v", cause, r)
	}
}

func assertHeld(t *testing.T, l Ledger, acct, want string, wantN int) {
	t.Helper()
	h, n, err := l.Held(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Equal(d(want)) || n != wantN {
		t.Fatalf("held %s ×%d, want %s ×%d", h, n, want, wantN)
	}
}

func TestLedgerExactRace(t *testing.T) {
	ledgerImpls(t, 2, func(t *testing.T, ls []Ledger, _ *fakeClock) {
		// 20 × 0.123457 exactly; 200 contenders over two instances.
		amount := d("0.123457")
		v := AccountView{Balance: amount.Mul(decimal.NewFromInt(20)), AppliedVersion: -1}
		var ok atomic.Int64
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		start := make(chan struct{})
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				id := fmt.Sprintf("req-%d", i)
				r, err := ls[i%len(ls)].Hold(ctx, "acct", "key", id, v, amount)
				if err != nil {
					t.Error(err)
					return
				}
				if r.OK {
					ok.Add(1)
					mu.Lock()
					won = append(won, id)
					mu.Unlock()
				} else if r.Cause != CauseCredits || r.Available.GreaterThanOrEqual(amount) {
					t.Errorf("bad refusal: %+v", r)
				}
			}(i)
		}
		close(start)
		wg.Wait()
		if ok.Load() != 20 {
			t.Fatalf("%d holds admitted, want exactly 20", ok.Load())
		}
		assertHeld(t, ls[0], "acct", v.Balance.String(), 20)
		for i, id := range won {
			if err := ls[i%len(ls)].Release(ctx, "acct", "key", id); err != nil {
				t.Fatal(err)
			}
		}
		assertHeld(t, ls[1], "acct", "0", 0)
	})
}

func TestLedgerSettledCountsUntilApplied(t *testing.T) {
	ledgerImpls(t, 2, func(t *testing.T, ls []Ledger, clock *fakeClock) {
		a, b := ls[0], ls[1]
		mustOK(t, hold(t, a, "acct", "k", "r1", view("10", 6), "6"))
		assertHeld(t, b, "acct", "6", 1)
		// r1 cost 5, its usage event got version 7; projections are at 6.
		if err := a.Settle(ctx, "acct", "k", "r1", d("5"), 7); err != nil {
			t.Fatal(err)
		}
		assertHeld(t, a, "acct", "0", 0)
		r := hold(t, b, "acct", "k", "r2", view("10", 6), "5.000001")
		mustRefuse(t, r, CauseCredits)
		if !r.Available.Equal(d("5")) || !r.Held.Equal(d("5")) || !r.Balance.Equal(d("10")) || !r.Required.Equal(d("5.000001")) {
			t.Fatalf("figures: %+v", r)
		}
		mustOK(t, hold(t, b, "acct", "k", "r2", view("10", 6), "5"))
		mustOK(t, hold(t, b, "acct", "k", "r2b", view("10", 6), "0")) // zero fits exactly
		if err := b.Release(ctx, "acct", "k", "r2"); err != nil {
			t.Fatal(err)
		}
		// A projection that applied v7 has the cost in its balance.
		r = hold(t, a, "acct", "k", "r3", view("5", 7), "5")
		mustOK(t, r)
		if !r.Available.Equal(d("5")) {
			t.Fatalf("after apply: %+v", r)
		}
		// A view read a moment earlier (still at v6) must still see the
		// cost: the v7 view's hold must not have forgotten it.
		mustRefuse(t, hold(t, b, "acct", "k", "r4", view("10", 6), "0.000001"), CauseCredits)
		for _, id := range []string{"r2b", "r3"} {
			if err := a.Release(ctx, "acct", "k", id); err != nil {
				t.Fatal(err)
			}
		}
		// After the grace, a v7 view forgets it; only then does a (by then
		// impossibly stale) v6 view stop counting it.
		clock.add(3 * time.Minute)
		mustOK(t, hold(t, a, "acct", "k", "r5", view("5", 7), "5"))
		mustOK(t, hold(t, b, "acct", "k", "r6", view("5", 7), "0"))
		for _, id := range []string{"r5", "r6"} {
			if err := b.Release(ctx, "acct", "k", id); err != nil {
				t.Fatal(err)
			}
		}
		assertHeld(t, a, "acct", "0", 0)
	})
}

func TestLedgerSettleOutOfOrderVersions(t *testing.T) {
	ledgerImpls(t, 1, func(t *testing.T, ls []Ledger, _ *fakeClock) {
		l := ls[0]
		for i, v := range []int64{12, 10, 11} { // concurrent settlements land out of order
			id := fmt.Sprint("s", i)
			mustOK(t, hold(t, l, "acct", "k", id, view("100", 9), "10"))
			if err := l.Settle(ctx, "acct", "k", id, d("1"), v); err != nil {
				t.Fatal(err)
			}
		}
		for applied, want := range map[int64]string{9: "97", 10: "98", 11: "99", 12: "100"} {
			r := hold(t, l, "acct", "k", "probe", view("100", applied), "1000")
			mustRefuse(t, r, CauseCredits)
			if !r.Available.Equal(d(want)) {
				t.Errorf("applied %d: available %s, want %s", applied, r.Available, want)
			}
		}
		assertHeld(t, l, "acct", "0", 0)
	})
}

func TestLedgerReleaseFrees(t *testing.T) {
	ledgerImpls(t, 1, func(t *testing.T, ls []Ledger, _ *fakeClock) {
		l := ls[0]
		v := view("3", -1)
		mustOK(t, hold(t, l, "acct", "k", "a", v, "3"))
		mustRefuse(t, hold(t, l, "acct", "k", "b", v, "0.01"), CauseCredits)
		if _, err := l.Hold(ctx, "acct", "k", "a", v, d("0")); !errors.Is(err, ErrDuplicateHold) {
			t.Fatalf("duplicate hold: %v", err)
		}
		if err := l.Release(ctx, "acct", "k", "a"); err != nil {
			t.Fatal(err)
		}
		assertHeld(t, l, "acct", "0", 0)
		if err := l.Release(ctx, "acct", "k", "a"); err != nil { // idempotent
			t.Fatal(err)
		}
		if err := l.Release(ctx, "nobody", "k", "zzz"); err != nil {
			t.Fatal(err)
		}
		mustOK(t, hold(t, l, "acct", "k", "b", v, "3"))
		if err := l.Settle(ctx, "acct", "k", "b", d("0"), 1); err != nil { // failed but settled at no cost
			t.Fatal(err)
		}
		assertHeld(t, l, "acct", "0", 0)
		mustOK(t, hold(t, l, "acct", "k", "c", v, "3"))
		if err := l.Release(ctx, "acct", "k", "c"); err != nil {
			t.Fatal(err)
		}
		assertHeld(t, l, "acct", "0", 0)
	})
}

func TestLedgerKeySpendLimit(t *testing.T) {
	ledgerImpls(t, 2, func(t *testing.T, ls []Ledger, _ *fakeClock) {
		a, b := ls[0], ls[1]
		v := AccountView{Balance: d("1000"), AppliedVersion: 2, KeySpent: d("0.4"), KeyLimit: d("1")}
		mustOK(t, hold(t, a, "acct", "k1", "x1", v, "0.5"))
		r := hold(t, b, "acct", "k1", "x2", v, "0.2")
		mustRefuse(t, r, CauseKeySpendLimit)
		if !r.Balance.Equal(d("0.6")) || !r.Held.Equal(d("0.5")) || !r.Available.Equal(d("0.1")) {
			t.Fatalf("key figures: %+v", r)
		}
		mustOK(t, hold(t, b, "acct", "k1", "x2", v, "0.1"))
		// Another key of the same account has its own spend and limit.
		v2 := AccountView{Balance: d("1000"), AppliedVersion: 2, KeyLimit: d("1")}
		mustOK(t, hold(t, b, "acct", "k2", "y1", v2, "0.9"))
		mustRefuse(t, hold(t, b, "acct", "k2", "y2", v2, "0.1000001"), CauseKeySpendLimit)
		// The settled cost counts against the key until applied.
		if err := a.Settle(ctx, "acct", "k1", "x1", d("0.3"), 3); err != nil {
			t.Fatal(err)
		}
		mustRefuse(t, hold(t, a, "acct", "k1", "x3", v, "0.3"), CauseKeySpendLimit)
		mustOK(t, hold(t, a, "acct", "k1", "x3", v, "0.2"))
		// Without a key limit only credit matters.
		mustOK(t, hold(t, a, "acct", "k1", "x4", view("1000", 2), "100"))
		for _, id := range []string{"x2", "x3", "x4", "y1"} {
			if err := b.Release(ctx, "acct", "", id); err != nil {
				t.Fatal(err)
			}
		}
		assertHeld(t, a, "acct", "0", 0)
	})
}

func TestLedgerPostpaidCreditLimit(t *testing.T) {
	ledgerImpls(t, 1, func(t *testing.T, ls []Ledger, _ *fakeClock) {
		l := ls[0]
		v := AccountView{Balance: d("-50"), CreditLimit: d("100"), AppliedVersion: 4}
		r := hold(t, l, "post", "k", "p1", v, "50")
		mustOK(t, r)
		if !r.Available.Equal(d("50")) {
			t.Fatalf("available: %+v", r)
		}
		mustRefuse(t, hold(t, l, "post", "k", "p2", v, "0.000001"), CauseCredits)
		// Prepaid and overdrawn: nothing fits, not even zero.
		mustRefuse(t, hold(t, l, "pre", "k", "q1", view("-0.01", 1), "0"), CauseCredits)
		if err := l.Settle(ctx, "post", "k", "p1", d("49.5"), 5); err != nil {
			t.Fatal(err)
		}
		mustOK(t, hold(t, l, "post", "k", "p3", v, "0.5"))
		if err := l.Release(ctx, "post", "k", "p3"); err != nil {
			t.Fatal(err)
		}
		assertHeld(t, l, "post", "0", 0)
		assertHeld(t, l, "pre", "0", 0)
	})
}

func TestLedgerRoundingNeverOptimistic(t *testing.T) {
	ledgerImpls(t, 1, func(t *testing.T, ls []Ledger, _ *fakeClock) {
		l := ls[0]
		// Balance 0.0000019 floors to 1 micro; a hold of 0.0000001 rounds up
		// to 1 micro: one fits, two do not.
		v := view("0.0000019", -1)
		mustOK(t, hold(t, l, "r", "k", "a", v, "0.0000001"))
		mustRefuse(t, hold(t, l, "r", "k", "b", v, "0.0000001"), CauseCredits)
		assertHeld(t, l, "r", "0.000001", 1)
		if err := l.Settle(ctx, "r", "k", "a", d("0.0000001"), 1); err != nil {
			t.Fatal(err)
		}
		mustRefuse(t, hold(t, l, "r", "k", "c", v, "0.0000001"), CauseCredits)
		assertHeld(t, l, "r", "0", 0)
	})
}

func TestLedgerHoldsExpire(t *testing.T) {
	ledgerImpls(t, 2, func(t *testing.T, ls []Ledger, clock *fakeClock) {
		v := view("10", -1)
		mustOK(t, hold(t, ls[0], "acct", "k", "lost", v, "10")) // its instance crashes
		clock.add(14 * time.Minute)
		mustRefuse(t, hold(t, ls[1], "acct", "k", "n1", v, "1"), CauseCredits)
		clock.add(2 * time.Minute)
		assertHeld(t, ls[1], "acct", "0", 0)
		mustOK(t, hold(t, ls[1], "acct", "k", "n2", v, "10"))
		// Settling an expired hold still records the cost.
		clock.add(16 * time.Minute)
		if err := ls[1].Settle(ctx, "acct", "k", "n2", d("4"), 1); err != nil {
			t.Fatal(err)
		}
		assertHeld(t, ls[0], "acct", "0", 0)
		r := hold(t, ls[0], "acct", "k", "n3", v, "7")
		mustRefuse(t, r, CauseCredits)
		if !r.Available.Equal(d("6")) {
			t.Fatalf("after expired settle: %+v", r)
		}
	})
}

func TestLedgerBadInput(t *testing.T) {
	ledgerImpls(t, 1, func(t *testing.T, ls []Ledger, _ *fakeClock) {
		l := ls[0]
		if _, err := l.Hold(ctx, "a", "k", "r", view("1", 0), d("-1")); !errors.Is(err, ErrBadInput) {
			t.Errorf("negative hold: %v", err)
		}
		if _, err := l.Hold(ctx, "a", "k|x", "r", view("1", 0), d("1")); !errors.Is(err, ErrBadInput) {
			t.Errorf("key with '|': %v", err)
		}
		if err := l.Settle(ctx, "a", "k", "r", d("-1"), 1); !errors.Is(err, ErrBadInput) {
			t.Errorf("negative cost: %v", err)
		}
		if _, err := l.Hold(ctx, "a", "k", "r", view("1e30", 0), d("1")); !errors.Is(err, ErrAmountRange) {
			t.Errorf("huge balance: %v", err)
		}
		assertHeld(t, l, "a", "0", 0)
	})
}

func TestToMicro(t *testing.T) {
	for _, c := range []struct {
		in       string
		up, down int64
	}{
		{"0", 0, 0},
		{"1", 1e6, 1e6},
		{"1.5", 1_500_000, 1_500_000},
		{"0.0000001", 1, 0},
		{"-0.0000001", 0, -1},
		{"-2.0000015", -2_000_001, -2_000_002},
		{"123456789.123456", 123456789123456, 123456789123456},
		{"0.000000000000000000001", 1, 0},
		{"1e3", 1e9, 1e9},
		{"9e12", 9e18, 9e18},                                        // the largest power-of-ten scale that fits
		{"9223372036854", 9223372036854000000, 9223372036854000000}, // the largest whole NTD that fits
		{"-9223372036854", -9223372036854000000, -9223372036854000000},
		{"1e-25", 1, 0},
		{"1.0000000", 1e6, 1e6}, // exact below the micro: no rounding either way
		{"-1.0000000", -1e6, -1e6},
		{"-1e-25", 0, -1},
		{"12345678901234567890.5e-10", 1234567890123457, 1234567890123456},
	} {
		up, err := toMicro(d(c.in), true)
		if err != nil || up != c.up {
			t.Errorf("ceil(%s) = %d, %v; want %d", c.in, up, err, c.up)
		}
		down, err := toMicro(d(c.in), false)
		if err != nil || down != c.down {
			t.Errorf("floor(%s) = %d, %v; want %d", c.in, down, err, c.down)
		}
	}
	if _, err := toMicro(d("1e20"), true); !errors.Is(err, ErrAmountRange) {
		t.Errorf("1e20: %v", err)
	}
}

// A request still running renews its hold, so a long answer (a unary
// request failing over, a stream of many minutes) keeps its credit held
// past HoldTTL; renewing a hold already settled or released brings
// nothing back.
func TestLedgerRenewKeepsAHold(t *testing.T) {
	ledgerImpls(t, 2, func(t *testing.T, ls []Ledger, clock *fakeClock) {
		v := view("10", -1)
		mustOK(t, hold(t, ls[0], "acct", "k", "long", v, "8"))
		for i := 0; i < 3; i++ { // 30 minutes, renewed every 10
			clock.add(10 * time.Minute)
			if ok, err := ls[0].Renew(ctx, "acct", "long"); err != nil || !ok {
				t.Fatalf("renew %d: %v %v", i, ok, err)
			}
		}
		mustRefuse(t, hold(t, ls[1], "acct", "k", "other", v, "3"), CauseCredits)
		assertHeld(t, ls[1], "acct", "8", 1)
		if err := ls[1].Release(ctx, "acct", "k", "long"); err != nil {
			t.Fatal(err)
		}
		if ok, err := ls[0].Renew(ctx, "acct", "long"); err != nil || ok {
			t.Fatalf("renew after release: %v %v", ok, err)
		}
		assertHeld(t, ls[1], "acct", "0", 0)
		// An expired hold is not brought back either.
		mustOK(t, hold(t, ls[0], "acct", "k", "lost", v, "5"))
		clock.add(16 * time.Minute)
		if ok, err := ls[0].Renew(ctx, "acct", "lost"); err != nil || ok {
			t.Fatalf("renew after expiry: %v %v", ok, err)
		}
		assertHeld(t, ls[1], "acct", "0", 0)
		if ls[0].HoldTTL() != 15*time.Minute {
			t.Fatalf("HoldTTL %s", ls[0].HoldTTL())
		}
	})
}
