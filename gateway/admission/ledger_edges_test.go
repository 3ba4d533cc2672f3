package admission

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// defaultLedgers runs f against each implementation built with zero options
// but the clock, so the documented defaults (holds live 15 minutes, an
// applied cost is remembered 2 minutes) are what is tested.
func defaultLedgers(t *testing.T, f func(t *testing.T, l Ledger, clock *fakeClock)) {
	t.Run("memory", func(t *testing.T) {
		c := newFakeClock()
		f(t, NewMemoryLedger(LedgerOptions{Clock: c.now}), c)
	})
	t.Run("redis", func(t *testing.T) {
		c := newFakeClock()
		clients, prefix := redisClients(t, 1)
		f(t, redisLedgerOn(clients[0], prefix, LedgerOptions{Clock: c.now}, c), c)
	})
}

// TestLedgerDefaultHoldLifetime: a hold lives 15 minutes by default and is
// gone at its deadline; a hold taken later keeps its own, later deadline.
func TestLedgerDefaultHoldLifetime(t *testing.T) {
	defaultLedgers(t, func(t *testing.T, l Ledger, clock *fakeClock) {
		v := view("10", -1)
		mustOK(t, hold(t, l, "acct", "k", "first", v, "4"))
		clock.add(10 * time.Minute)
		mustOK(t, hold(t, l, "acct", "k", "second", v, "3"))
		clock.add(4*time.Minute + 59*time.Second)
		assertHeld(t, l, "acct", "7", 2)
		clock.add(time.Second) // the first hold's deadline
		assertHeld(t, l, "acct", "3", 1)
		clock.add(9*time.Minute + 59*time.Second)
		assertHeld(t, l, "acct", "3", 1)
		clock.add(time.Second)
		assertHeld(t, l, "acct", "0", 0)
	})
}

// TestLedgerDefaultSettledGrace: a settled cost counts for a view that has
// not applied it; once a view has applied it and 2 minutes have passed, it
// is forgotten, so even a stale view no longer counts it.
func TestLedgerDefaultSettledGrace(t *testing.T) {
	defaultLedgers(t, func(t *testing.T, l Ledger, clock *fakeClock) {
		mustOK(t, hold(t, l, "acct", "k", "r1", view("10", 6), "6"))
		if err := l.Settle(ctx, "acct", "k", "r1", d("5"), 7); err != nil {
			t.Fatal(err)
		}
		release := func(id string) {
			t.Helper()
			if err := l.Release(ctx, "acct", "k", id); err != nil {
				t.Fatal(err)
			}
		}
		// One minute later a view at v7 does not forget the cost yet: a
		// stale v6 view still counts it.
		clock.add(time.Minute)
		mustOK(t, hold(t, l, "acct", "k", "a", view("5", 7), "0"))
		release("a")
		mustRefuse(t, hold(t, l, "acct", "k", "b", view("10", 6), "5.000001"), CauseCredits)
		// Exactly at the grace, still remembered.
		clock.add(time.Minute)
		mustOK(t, hold(t, l, "acct", "k", "c", view("5", 7), "0"))
		release("c")
		mustRefuse(t, hold(t, l, "acct", "k", "d", view("10", 6), "5.000001"), CauseCredits)
		// Past the grace, a v7 view forgets it, and then nothing counts it.
		clock.add(time.Millisecond)
		mustOK(t, hold(t, l, "acct", "k", "e", view("5", 7), "0"))
		release("e")
		mustOK(t, hold(t, l, "acct", "k", "f", view("10", 6), "10"))
		release("f")
		assertHeld(t, l, "acct", "0", 0)

		// A cost no view has applied is never forgotten, however old.
		if err := l.Settle(ctx, "slow", "k", "s1", d("5"), 3); err != nil {
			t.Fatal(err)
		}
		clock.add(time.Hour)
		mustRefuse(t, hold(t, l, "slow", "k", "s2", view("10", 2), "5.000001"), CauseCredits)
		mustOK(t, hold(t, l, "slow", "k", "s3", view("5", 3), "5"))
	})
}

// TestLedgerKeyLimitBelowOneMicro: a key limit smaller than the ledger's
// unit still binds: nothing above zero fits.
func TestLedgerKeyLimitBelowOneMicro(t *testing.T) {
	ledgerImpls(t, 1, func(t *testing.T, ls []Ledger, _ *fakeClock) {
		v := AccountView{Balance: d("1000"), AppliedVersion: 1, KeyLimit: d("0.0000001")}
		mustRefuse(t, hold(t, ls[0], "acct", "k", "x", v, "0.000001"), CauseKeySpendLimit)
		assertHeld(t, ls[0], "acct", "0", 0)
	})
}

// TestLedgerKeyNamesWithTheSeparator: a key ID may not carry the ledger's
// separator anywhere, first character included.
func TestLedgerKeyNamesWithTheSeparator(t *testing.T) {
	ledgerImpls(t, 1, func(t *testing.T, ls []Ledger, _ *fakeClock) {
		l := ls[0]
		if _, err := l.Hold(ctx, "a", "|k", "r", view("1", 0), d("1")); !errors.Is(err, ErrBadInput) {
			t.Errorf("hold for key |k: %v", err)
		}
		if err := l.Settle(ctx, "a", "|k", "r", d("1"), 1); !errors.Is(err, ErrBadInput) {
			t.Errorf("settle for key |k: %v", err)
		}
		assertHeld(t, l, "a", "0", 0)
	})
}

// TestRedisLedgerAmountRange: the Redis ledger's script computes in
// doubles, so it takes figures up to 2^51 micro-NTD (a quarter of a
// double's exact range, leaving room for sums) and refuses one micro more.
func TestRedisLedgerAmountRange(t *testing.T) {
	c := newFakeClock()
	clients, prefix := redisClients(t, 1)
	l := NewRedisLedger(clients[0], prefix, LedgerOptions{Clock: c.now})
	limit := decimal.NewFromInt(1 << 51).Shift(-6) // NT$2,251,799,813.685248
	if _, err := l.Hold(ctx, "a", "k", "in", view(limit.String(), 0), d("1")); err != nil {
		t.Fatalf("balance of 2^51 micro: %v", err)
	}
	over := limit.Add(d("0.000001"))
	if _, err := l.Hold(ctx, "b", "k", "over", view(over.String(), 0), d("1")); !errors.Is(err, ErrAmountRange) {
		t.Fatalf("balance of 2^51+1 micro: %v", err)
	}
	if r, err := l.Hold(ctx, "c", "k", "low", view(limit.Neg().String(), 0), d("1")); err != nil || r.OK {
		t.Fatalf("balance of -2^51 micro: %+v %v, want a refusal for credits", r, err)
	}
	// A settled cost has the same bound.
	if err := l.Settle(ctx, "d", "k", "s1", limit, 1); err != nil {
		t.Fatalf("cost of 2^51 micro: %v", err)
	}
	if err := l.Settle(ctx, "d", "k", "s2", over, 2); !errors.Is(err, ErrAmountRange) {
		t.Fatalf("cost of 2^51+1 micro: %v", err)
	}
	if _, err := l.Hold(ctx, "c", "k", "neg", view(limit.Neg().Sub(d("0.000001")).String(), 0), d("1")); !errors.Is(err, ErrAmountRange) {
		t.Fatalf("balance of -(2^51+1) micro: %v", err)
	}
}
