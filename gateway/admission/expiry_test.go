package admission

import (
	"context"
	"fmt"
	"hash/maphash"
	"testing"
	"time"
)

// Abandoned state must go away by itself: in memory by sweeping, in Redis
// through key TTLs.

func TestMemoryLimiterForgetsIdleKeys(t *testing.T) {
	ml := NewMemoryLimiter()
	for i := 0; i < 3000; i++ {
		admit(t, ml, fmt.Sprint("idle-", i), starter, 10, t0)
	}
	if n := ml.size(); n != 3000 {
		t.Fatalf("%d keys tracked, want 3000", n)
	}
	// A minute later every window is full again; enough traffic on one key
	// per shard triggers each shard's sweep.
	later := t0.Add(time.Minute)
	busy := onePerShard(func(k string) int { return int(maphash.String(ml.seed, k) % limiterShards) }, limiterShards)
	for _, k := range busy {
		for i := 0; i < 1024; i++ {
			admit(t, ml, k, Limits{RPM: 1 << 40}, 0, later)
		}
	}
	if n := ml.size(); n > limiterShards { // the busy keys (at most) remain
		t.Fatalf("%d keys tracked after a minute idle", n)
	}
}

// onePerShard returns a key for each of n shards, so a test can drive
// every shard's periodic sweep.
func onePerShard(shardOf func(string) int, n int) []string {
	keys := make([]string, n)
	for found, i := 0, 0; found < n; i++ {
		k := fmt.Sprint("probe-", i)
		if s := shardOf(k); keys[s] == "" {
			keys[s] = k
			found++
		}
	}
	return keys
}

func (ml *MemoryLimiter) size() int {
	n := 0
	for i := range ml.shards {
		ml.shards[i].mu.Lock()
		n += len(ml.shards[i].m)
		ml.shards[i].mu.Unlock()
	}
	return n
}

func TestMemoryLedgerForgetsIdleAccounts(t *testing.T) {
	c := newFakeClock()
	l := NewMemoryLedger(LedgerOptions{Clock: c.now})
	for i := 0; i < 2000; i++ {
		acct := fmt.Sprint("a", i)
		mustOK(t, hold(t, l, acct, "k", "r", view("10", 0), "1"))
		if err := l.Settle(ctx, acct, "k", "r", d("1"), 1); err != nil {
			t.Fatal(err)
		}
	}
	c.add(l.opt.idleTTL() + time.Second)
	// Accounts never held leave no state.
	for _, k := range onePerShard(func(k string) int { return int(maphash.String(l.seed, k) % ledgerShards) }, ledgerShards) {
		for i := 0; i < 1024; i++ {
			if _, _, err := l.Held(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
	}
	n := 0
	for i := range l.shards {
		n += len(l.shards[i].m)
	}
	if n != 0 {
		t.Fatalf("%d idle accounts kept", n)
	}
}

func TestRedisKeysExpire(t *testing.T) {
	clients, prefix := redisClients(t, 1)
	rdb := clients[0]
	rl := NewRedisLimiter(rdb, prefix)
	admit(t, rl, "k", starter, 1000, time.Now())
	l := NewRedisLedger(rdb, prefix, LedgerOptions{})
	mustOK(t, hold(t, l, "acct", "k", "r1", view("10", 0), "1"))
	mustOK(t, hold(t, l, "acct", "k", "r2", view("10", 0), "1"))
	if err := l.Settle(ctx, "acct", "k", "r1", d("1"), 1); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 5 { // limiter state; holds, their deadlines, settled costs; the ledger's epoch
		t.Fatalf("keys %v", keys)
	}
	for _, k := range keys {
		if k == prefix+"l:epoch" {
			// One key for the prefix, kept: its going is how the
			// instances learn that Redis lost their state.
			if ttl, err := rdb.PTTL(context.Background(), k).Result(); err != nil || ttl != -1 {
				t.Errorf("%s: TTL %v %v, want none", k, ttl, err)
			}
			continue
		}
		ttl, err := rdb.PTTL(context.Background(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		limit := l.opt.idleTTL()
		if k == prefix+"rl:k" {
			limit = time.Minute + time.Second // at most the window plus a second
		}
		if ttl <= 0 || ttl > limit {
			t.Errorf("%s: TTL %v, want in (0, %v]", k, ttl, limit)
		}
	}
	if err := l.Release(ctx, "acct", "k", "r2"); err != nil {
		t.Fatal(err)
	}
	assertHeld(t, l, "acct", "0", 0)
}
