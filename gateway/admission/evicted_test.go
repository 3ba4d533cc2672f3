package admission

import (
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/internal/testenv"
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

// evictUntil makes the Redis of c evict, as one whose maxmemory-policy was
// changed at runtime to volatile-lru would under memory pressure: a limit
// just above what it uses, then keys with a TTL written until gone (a key
// of the ledger's, which carry TTLs) has been evicted. The limit is lifted
// after, as an operator seeing the errors would.
func evictUntil(t *testing.T, c *redis.Client, gone string) {
	t.Helper()
	mem, err := c.Info(ctx, "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	used, _ := strconv.ParseInt(InfoField(mem, "used_memory"), 10, 64)
	for _, kv := range [][2]string{{"maxmemory-policy", "volatile-lru"}, {"maxmemory", strconv.FormatInt(used+1<<20, 10)}} {
		if err := c.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	filler := strings.Repeat("x", 1024)
	for i := 0; ; i++ {
		pipe := c.Pipeline()
		for j := 0; j < 100; j++ {
			pipe.Set(ctx, "filler:"+strconv.Itoa(i*100+j), filler, time.Hour)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Exists(ctx, gone).Result(); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			break
		}
		if i == 2000 {
			t.Fatalf("Redis did not evict %s", gone)
		}
	}
	if err := c.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
}

// TestRedisLedgerNoticesEvictedCosts: instance A's request spent NT$8 of
// an account's NT$10, settled but not yet applied by the balances, when
// Redis, its maxmemory-policy changed at runtime, evicted the key of the
// account's settled costs. A has no hold of the account left, so no key it
// expects is missing; Redis's count of evicted keys rising tells it. It
// treats the eviction as the loss of the prefix's state, with an error
// logged naming the cause: B answers that the ledger is being restored,
// then refuses NT$5 rather than let the account spend the NT$8 again.
func TestRedisLedgerNoticesEvictedCosts(t *testing.T) {
	r := testenv.StartRedisServer(t)
	const prefix = "rf:evict:"
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: r.Addr()})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	logs := &testenv.Buffer{}
	ca := newClient()
	a := NewRedisLedger(ca, prefix, LedgerOptions{HoldTTL: time.Minute, Log: slog.New(slog.NewTextHandler(logs, nil))})
	b := NewRedisLedger(newClient(), prefix, LedgerOptions{HoldTTL: time.Minute})
	mustOK(t, holdAfterRestore(t, a, "acct", "k", "r1", view("10", 1), "8"))
	if err := a.Settle(ctx, "acct", "k", "r1", d("8"), 2); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, holdAfterRestore(t, b, "acct", "k", "r0", view("10", 1), "5"), CauseCredits)

	evictUntil(t, ca, a.keys("acct")[2])
	// Until A looks (every epochEvery) B could still admit: wait for A to
	// notice the last eviction, or for a while if it never does.
	stats, err := ca.Info(ctx, "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	last := "-> " + InfoField(stats, "evicted_keys") + `"`
	for deadline := time.Now().Add(3 * time.Second); !strings.Contains(logs.String(), last) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	res, restoring := holdWaitingRestore(t, b, "acct", "k", "r2", view("10", 1), "5")
	if res.OK {
		t.Fatal("B admitted NT$5 on an account whose settled NT$8 Redis evicted")
	}
	mustRefuse(t, res, CauseCredits)
	if restoring == 0 {
		t.Fatal("B refused without the restore window")
	}
	mustOK(t, hold(t, b, "acct", "k", "r3", view("10", 1), "2"))
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "evicted_keys") {
		t.Fatalf("no error logged naming the evictions:\n%s", l)
	}
}

// TestRedisLedgerPutsBackCostsWhoseKeyAloneWasEvicted: Redis evicted the
// key of an account's settled costs and kept the key of its holds, which
// still marks the request settled. Once the loss is noticed, A puts its
// NT$8 back all the same, and B refuses NT$5.
func TestRedisLedgerPutsBackCostsWhoseKeyAloneWasEvicted(t *testing.T) {
	clients, prefix := redisClients(t, 2)
	a := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	b := NewRedisLedger(clients[1], prefix, LedgerOptions{HoldTTL: time.Minute})
	mustOK(t, hold(t, a, "acct", "k", "r1", view("10", 1), "8"))
	if err := a.Settle(ctx, "acct", "k", "r1", d("8"), 2); err != nil {
		t.Fatal(err)
	}
	k := a.keys("acct")
	if n, err := clients[0].Del(ctx, k[2]).Result(); err != nil || n != 1 {
		t.Fatalf("evict the costs of acct: %d %v", n, err)
	}
	if err := clients[0].Del(ctx, a.epochKey).Err(); err != nil { // the eviction noticed
		t.Fatal(err)
	}
	time.Sleep(epochEvery + 500*time.Millisecond) // A's check
	mustRefuse(t, holdAfterRestore(t, b, "acct", "k", "r2", view("10", 1), "5"), CauseCredits)
	mustOK(t, hold(t, b, "acct", "k", "r3", view("10", 1), "2"))
}

// TestRedisLedgerEvictedDeadlinesAreWrittenAgain: Redis evicted the key of
// an account's hold deadlines alone, while A held NT$1 and C, which then
// crashed, NT$6 for a second. Once the loss is noticed, A's restore writes
// every hold's deadline again from the key of the holds, so C's lapses on
// time rather than lock the account's credit until it goes idle.
func TestRedisLedgerEvictedDeadlinesAreWrittenAgain(t *testing.T) {
	clients, prefix := redisClients(t, 3)
	a := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	b := NewRedisLedger(clients[1], prefix, LedgerOptions{HoldTTL: time.Minute})
	c := NewRedisLedger(clients[2], prefix, LedgerOptions{HoldTTL: time.Second})
	mustOK(t, hold(t, a, "acct", "k", "r1", view("10", 1), "1"))
	mustOK(t, hold(t, c, "acct", "k", "r2", view("10", 1), "6"))
	_ = clients[2].Close() // C crashes
	k := a.keys("acct")
	if n, err := clients[0].Del(ctx, k[1]).Result(); err != nil || n != 1 {
		t.Fatalf("evict the deadlines of acct: %d %v", n, err)
	}
	if err := clients[0].Del(ctx, a.epochKey).Err(); err != nil { // the eviction noticed
		t.Fatal(err)
	}
	time.Sleep(epochEvery + 500*time.Millisecond) // A's check; C's hold has lapsed by now
	mustOK(t, holdAfterRestore(t, b, "acct", "k", "r3", view("10", 1), "9"))
	assertHeld(t, b, "acct", "10", 2)
}

// TestRedisLedgerEpochWithoutEvictionCountIsReplaced: an epoch written by
// a release whose epochs record no count of evicted keys cannot tell
// whether Redis evicted any since. An instance joining takes a new epoch
// with the restore window, as after a loss, rather than trust it.
func TestRedisLedgerEpochWithoutEvictionCountIsReplaced(t *testing.T) {
	clients, prefix := redisClients(t, 1)
	l := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	if err := clients[0].Set(ctx, l.epochKey, "0123456789abcdef@"+runID(t, clients[0])+"|0", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := l.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Hold(ctx, "acct", "k", "r1", view("10", 1), d("1")); !errors.Is(err, ErrLedgerRestoring) {
		t.Fatalf("hold beside an epoch without a count of evicted keys: %v, want ErrLedgerRestoring", err)
	}
	e, err := clients[0].Get(ctx, l.epochKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]+\.\d+@`).MatchString(e) {
		t.Fatalf("epoch %q records no count of evicted keys", e)
	}
}
