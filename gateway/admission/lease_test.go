package admission

import (
	"context"
	"testing"
	"time"
)

// With a short hold life, as serve gives the Redis ledger, a hold lives
// while the request that made it renews it, however long the request
// takes, and the holds of an instance that died (kill -9, a lost machine)
// stop locking the account's credit once their life lapses.
func TestRedisHoldsOfADeadInstanceLapseWithTheirLife(t *testing.T) {
	clients, prefix := redisClients(t, 2)
	const life = 400 * time.Millisecond
	a := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: life})
	b := NewRedisLedger(clients[1], prefix, LedgerOptions{HoldTTL: life})
	ctx := context.Background()
	view := AccountView{Balance: d("10"), AppliedVersion: -1}

	if r, err := a.Hold(ctx, "acct", "key_a", "req-a1", view, d("8")); err != nil || !r.OK {
		t.Fatalf("A's hold: %+v %v", r, err)
	}
	for i := 0; i < 9; i++ { // A's request runs on, renewing its hold
		time.Sleep(life / 3)
		if ok, err := a.Renew(ctx, "acct", "req-a1"); err != nil || !ok {
			t.Fatalf("renewal %d: %v %v", i, ok, err)
		}
	}
	if r, err := b.Hold(ctx, "acct", "key_b", "req-b1", view, d("5")); err != nil || r.OK {
		t.Fatalf("B held NT$5 of NT$10 while A holds NT$8: %+v %v", r, err)
	}
	if err := a.Release(ctx, "acct", "key_a", "req-a1"); err != nil {
		t.Fatal(err)
	}

	// A takes a hold and dies with it: nothing renews, settles or releases it.
	if r, err := a.Hold(ctx, "acct", "key_a", "req-a2", view, d("8")); err != nil || !r.OK {
		t.Fatalf("A's second hold: %+v %v", r, err)
	}
	deadline := time.Now().Add(3 * life)
	for {
		r, err := b.Hold(ctx, "acct", "key_b", "req-b2", view, d("5"))
		if err != nil {
			t.Fatal(err)
		}
		if r.OK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead instance's hold still locks the credit %s after it died: %+v", 3*life, r)
		}
		time.Sleep(life / 8)
	}
}
