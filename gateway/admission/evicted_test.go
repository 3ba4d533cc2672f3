package admission

import (
	"testing"
	"time"
)

// evictHolds deletes the key that holds an account's holds, as Redis
// evicting it under memory pressure would (maxmemory with an eviction
// policy; the key has a TTL, so even the volatile-* policies may take it),
// while every other key, the epoch among them, stays.
func evictHolds(t *testing.T, l *RedisLedger, acct string) {
	t.Helper()
	if n, err := l.rdb.Del(ctx, l.keys(acct)[0]).Result(); err != nil || n != 1 {
		t.Fatalf("evict the holds of %s: %d %v", acct, n, err)
	}
}

// TestRedisLedgerNoticesItsEvictedHold: Redis evicted the key of an
// account's holds while instance A's request held NT$8 of NT$10. A's next
// hold on the account must not be admitted on the emptied key: A notices
// the key gone (it holds part of it), puts its hold back, and refuses NT$5
// for credits. The request then settles once.
func TestRedisLedgerNoticesItsEvictedHold(t *testing.T) {
	clients, prefix := redisClients(t, 1)
	a := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	mustOK(t, hold(t, a, "acct", "k", "r1", view("10", 1), "8"))
	evictHolds(t, a, "acct")

	mustRefuse(t, holdAfterRestore(t, a, "acct", "k", "r2", view("10", 1), "5"), CauseCredits)
	assertHeld(t, a, "acct", "8", 1)
	if err := a.Settle(ctx, "acct", "k", "r1", d("3"), 2); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, hold(t, a, "acct", "k", "r3", view("10", 1), "7.000001"), CauseCredits)
	mustOK(t, hold(t, a, "acct", "k", "r4", view("10", 1), "7"))
}

// TestRedisLedgerOtherInstancesWaitForAnEvictedHold: the same eviction,
// met by instance B, which holds nothing of the account and so cannot tell
// the key from one never written. A, whose hold it was, notices within its
// next check (epochEvery) without a request of its own, and B answers that the
// ledger is being restored, then refuses NT$5, rather than admit it beside
// A's running request.
func TestRedisLedgerOtherInstancesWaitForAnEvictedHold(t *testing.T) {
	clients, prefix := redisClients(t, 2)
	a := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	b := NewRedisLedger(clients[1], prefix, LedgerOptions{HoldTTL: time.Minute})
	mustOK(t, hold(t, a, "acct", "k", "r1", view("10", 1), "8"))
	assertHeld(t, b, "acct", "8", 1)
	evictHolds(t, a, "acct")

	time.Sleep(epochEvery + 500*time.Millisecond) // A's check
	r, restoring := holdWaitingRestore(t, b, "acct", "k", "r2", view("10", 1), "5")
	mustRefuse(t, r, CauseCredits)
	if restoring == 0 {
		t.Fatal("B admitted on the evicted key without waiting for A")
	}
	assertHeld(t, b, "acct", "8", 1)
}
