package admission

import (
	"context"
	"testing"
	"time"
)

// With a lease, a hold lives while the instance that made it runs, however
// long its request takes, and the holds of an instance that died (kill -9,
// a lost machine) stop locking the account's credit once their lease
// lapses, not after HoldTTL.
func TestRedisHoldsOfADeadInstanceLapseWithTheirLease(t *testing.T) {
	clients, prefix := redisClients(t, 2)
	const lease = 400 * time.Millisecond
	a := NewRedisLedger(clients[0], prefix, LedgerOptions{Lease: lease})
	b := NewRedisLedger(clients[1], prefix, LedgerOptions{Lease: lease})
	defer b.Close()
	ctx := context.Background()
	view := AccountView{Balance: d("10"), AppliedVersion: -1}

	if r, err := a.Hold(ctx, "acct", "key_a", "req-a1", view, d("8")); err != nil || !r.OK {
		t.Fatalf("A's hold: %+v %v", r, err)
	}
	time.Sleep(3 * lease) // A runs on: its hold outlives several leases
	if r, err := b.Hold(ctx, "acct", "key_b", "req-b1", view, d("5")); err != nil || r.OK {
		t.Fatalf("B held NT$5 of NT$10 while A holds NT$8: %+v %v", r, err)
	}
	if err := a.Release(ctx, "acct", "key_a", "req-a1"); err != nil {
		t.Fatal(err)
	}

	// A takes a hold and dies with it: nothing settles or releases it.
	if r, err := a.Hold(ctx, "acct", "key_a", "req-a2", view, d("8")); err != nil || !r.OK {
		t.Fatalf("A's second hold: %+v %v", r, err)
	}
	a.Close()
	deadline := time.Now().Add(3 * lease)
	for {
		r, err := b.Hold(ctx, "acct", "key_b", "req-b2", view, d("5"))
		if err != nil {
			t.Fatal(err)
		}
		if r.OK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead instance's hold still locks the credit %s after it died: %+v", 3*lease, r)
		}
		time.Sleep(lease / 8)
	}
}
