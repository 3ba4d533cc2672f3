package admission

import (
	"testing"
	"time"
)

// TestRedisLedgerHoldsOutliveAnInstanceClockBehind: two instances share
// one Redis ledger, the clock of one of them five minutes behind (NTP
// broken on one machine). The lagging instance's hold must still lock the
// account's credit for the other, whose clock is right: a hold's life is
// measured by Redis, not by the clock of the instance that took it.
func TestRedisLedgerHoldsOutliveAnInstanceClockBehind(t *testing.T) {
	clients, prefix := redisClients(t, 2)
	right := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	behind := NewRedisLedger(clients[1], prefix, LedgerOptions{HoldTTL: time.Minute,
		Clock: func() time.Time { return time.Now().Add(-5 * time.Minute) }})

	// The account has NT$10 of credit; the lagging instance holds all of it.
	mustOK(t, hold(t, behind, "acct", "k", "slow-1", view("10", 1), "10"))
	r := hold(t, right, "acct", "k", "fast-1", view("10", 1), "1")
	if r.OK {
		t.Fatalf("the instance with the right clock admitted NT$1 beside a live NT$10 hold on NT$10 of credit: %+v", r)
	}
	assertHeld(t, right, "acct", "10", 1)
	// The hold still renews and settles from the lagging instance.
	if ok, err := behind.Renew(ctx, "acct", "slow-1"); err != nil || !ok {
		t.Fatalf("renew from the lagging instance: %v %v", ok, err)
	}
	if err := behind.Settle(ctx, "acct", "k", "slow-1", d("4"), 2); err != nil {
		t.Fatal(err)
	}
	assertHeld(t, right, "acct", "0", 0)
	// Its cost counts for a view that has not applied it yet.
	mustRefuse(t, hold(t, right, "acct", "k", "fast-2", view("10", 1), "6.000001"), CauseCredits)
	mustOK(t, hold(t, right, "acct", "k", "fast-3", view("10", 1), "6"))
}
