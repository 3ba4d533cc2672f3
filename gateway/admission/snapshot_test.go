package admission

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// snapshotPrefix copies every key of prefix (DUMP, with its TTL), as an
// RDB snapshot or a lagging replica would keep them.
func snapshotPrefix(t *testing.T, rdb redis.UniversalClient, prefix string) map[string][2]any {
	t.Helper()
	bg := context.Background()
	keys, err := rdb.Keys(bg, prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys under %s: %v %v", prefix, keys, err)
	}
	snap := make(map[string][2]any, len(keys))
	for _, k := range keys {
		v, err := rdb.Dump(bg, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		ttl, err := rdb.PTTL(bg, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl < 0 {
			ttl = 0 // no TTL
		}
		snap[k] = [2]any{v, ttl}
	}
	return snap
}

// restorePrefix puts the prefix back as snap had it: keys written since
// are gone, the others have their old value.
func restorePrefix(t *testing.T, rdb redis.UniversalClient, prefix string, snap map[string][2]any) {
	t.Helper()
	bg := context.Background()
	keys, err := rdb.Keys(bg, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if _, ok := snap[k]; !ok {
			if err := rdb.Del(bg, k).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for k, s := range snap {
		if err := rdb.RestoreReplace(bg, k, s[1].(time.Duration), s[0].(string)).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// toldInfo makes ledgers on prefix that take what INFO server would
// answer from info.
func toldInfo(prefix string, info *atomic.Value) func(redis.UniversalClient) *RedisLedger {
	return func(c redis.UniversalClient) *RedisLedger {
		l := NewRedisLedger(c, prefix, LedgerOptions{HoldTTL: time.Minute})
		l.redisInfo = func() string { return info.Load().(string) }
		return l
	}
}

func runID(t *testing.T, rdb redis.UniversalClient) string {
	t.Helper()
	info, err := rdb.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "run_id:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no run_id in %q", info)
	return ""
}

// TestRedisLedgerNoticesASnapshotRestored: Redis comes back from a
// snapshot taken while instance A held NT$4 of NT$10 (or a replica that
// lagged that much is promoted). Since then A settled that request at NT$2
// and took a hold of NT$5, leaving NT$3; the snapshot still has its epoch
// key, so the key alone shows no loss. The Redis server is another process
// then, with another run_id. A shared test server cannot be restarted, and
// nothing short of a new process changes its run_id (the RESTORE below
// keeps it, as checked), so the ledgers here are told what INFO server
// would answer.
// Instance B, and a C started after the restore, answer that the ledger is
// being restored rather than admit NT$5 on the old copy, and refuse it
// once A has put back what the snapshot lacks.
func TestRedisLedgerNoticesASnapshotRestored(t *testing.T) {
	clients, prefix := redisClients(t, 3)
	var info atomic.Value
	info.Store("run_id:aaaa\r\nuptime_in_seconds:3600\r\n")
	ledger := toldInfo(prefix, &info)
	a, b := ledger(clients[0]), ledger(clients[1])
	mustOK(t, hold(t, a, "acct", "k", "r1", view("10", 1), "4"))
	assertHeld(t, b, "acct", "4", 1)

	before := runID(t, clients[0])
	snap := snapshotPrefix(t, clients[0], prefix)
	if err := a.Settle(ctx, "acct", "k", "r1", d("2"), 2); err != nil {
		t.Fatal(err)
	}
	mustOK(t, hold(t, a, "acct", "k", "r2", view("10", 1), "5"))
	restorePrefix(t, clients[0], prefix, snap)
	if after := runID(t, clients[0]); after != before {
		t.Fatalf("run_id changed from %s to %s by a RESTORE", before, after)
	}
	info.Store("run_id:bbbb\r\nuptime_in_seconds:3600\r\n") // the server it came back on

	c := ledger(clients[2])
	if _, err := c.Hold(ctx, "acct", "k", "r3", view("10", 1), d("5")); !errors.Is(err, ErrLedgerRestoring) {
		t.Fatalf("an instance started after the restore: %v, want ErrLedgerRestoring", err)
	}
	r, restoring := holdWaitingRestore(t, b, "acct", "k", "r4", view("10", 1), "5")
	mustRefuse(t, r, CauseCredits)
	if restoring == 0 {
		t.Fatal("B admitted on the restored snapshot without waiting")
	}
	// NT$2 settled and NT$5 held, each counted once: NT$3 is left.
	mustRefuse(t, hold(t, b, "acct", "k", "r5", view("10", 1), "3.000001"), CauseCredits)
	mustOK(t, hold(t, c, "acct", "k", "r6", view("10", 1), "3"))
}

// TestRedisLedgerStartedAfterARestartWaits: Redis restarted empty while
// instance A held NT$8 of NT$10, and a serve started a moment later, before
// A noticed. Nothing of the prefix is left to tell it from a new one, but
// Redis itself started a second ago (INFO server, stood in for as above),
// so the new instance waits as the others do instead of admitting NT$5,
// and refuses it once A has put its hold back.
func TestRedisLedgerStartedAfterARestartWaits(t *testing.T) {
	clients, prefix := redisClients(t, 2)
	var info atomic.Value
	info.Store("run_id:aaaa\r\nuptime_in_seconds:3600\r\n")
	ledger := toldInfo(prefix, &info)
	a := ledger(clients[0])
	mustOK(t, hold(t, a, "acct", "k", "r1", view("10", 1), "8"))
	forgetPrefix(t, clients[0], prefix)
	info.Store("run_id:bbbb\r\nuptime_in_seconds:1\r\n")

	s := ledger(clients[1])
	if _, err := s.Hold(ctx, "acct", "k", "r2", view("10", 1), d("5")); !errors.Is(err, ErrLedgerRestoring) {
		t.Fatalf("an instance started after Redis restarted empty: %v, want ErrLedgerRestoring", err)
	}
	mustRefuse(t, holdAfterRestore(t, s, "acct", "k", "r3", view("10", 1), "5"), CauseCredits)
	mustOK(t, hold(t, s, "acct", "k", "r4", view("10", 1), "2"))
}

// TestRedisLedgerEpochNamesTheRedisProcess: without a stand-in the scripts
// read the run_id from Redis itself, and the epoch names it.
func TestRedisLedgerEpochNamesTheRedisProcess(t *testing.T) {
	clients, prefix := redisClients(t, 1)
	l := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	mustOK(t, hold(t, l, "acct", "k", "r1", view("10", 1), "1"))
	e, err := clients[0].Get(ctx, prefix+"l:epoch").Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := "@" + runID(t, clients[0]) + "|"; !strings.Contains(e, want) {
		t.Fatalf("epoch %q does not name the Redis process (%s)", e, want)
	}
}

// TestRedisLedgerStartedBesideRunningOnesWaits: the prefix's keys were
// deleted (a FLUSHALL, FLUSHDB or eviction on a Redis that kept running)
// while instance A held NT$8 of NT$10, and an instance started a moment
// later, before A noticed. Redis itself shows nothing: it kept running
// and the prefix looks new. Told that other instances run on the prefix
// (the store's record of its serves), the new one waits as they do
// instead of admitting NT$5, and refuses it once A has put its hold back.
// Without others running, a new prefix admits at once.
func TestRedisLedgerStartedBesideRunningOnesWaits(t *testing.T) {
	clients, prefix := redisClients(t, 2)
	a := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	mustOK(t, hold(t, a, "acct", "k", "r1", view("10", 1), "8"))
	forgetPrefix(t, clients[0], prefix)

	s := NewRedisLedger(clients[1], prefix, LedgerOptions{HoldTTL: time.Minute, OthersRunning: true})
	if _, err := s.Hold(ctx, "acct", "k", "r2", view("10", 1), d("5")); !errors.Is(err, ErrLedgerRestoring) {
		t.Fatalf("an instance started beside running ones after the prefix was emptied: %v, want ErrLedgerRestoring", err)
	}
	mustRefuse(t, holdAfterRestore(t, s, "acct", "k", "r3", view("10", 1), "5"), CauseCredits)
	mustOK(t, hold(t, s, "acct", "k", "r4", view("10", 1), "2"))

	fresh, freshPrefix := redisClients(t, 1)
	alone := NewRedisLedger(fresh[0], freshPrefix, LedgerOptions{HoldTTL: time.Minute, OthersRunning: false})
	mustOK(t, hold(t, alone, "acct", "k", "r1", view("10", 1), "5"))
}

// TestRedisLedgerJoinedWaitsAfterALoss: an instance that took the epoch
// as it started (Join) and finds it gone before its first hold knows the
// prefix lost its state rather than taking it for a new one, and waits
// for the others to put their holds back; the first Join of a new prefix
// does not wait.
func TestRedisLedgerJoinedWaitsAfterALoss(t *testing.T) {
	clients, prefix := redisClients(t, 2)
	a := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	s := NewRedisLedger(clients[1], prefix, LedgerOptions{HoldTTL: time.Minute})
	for _, l := range []*RedisLedger{s, a} {
		if err := l.Join(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mustOK(t, hold(t, a, "acct", "k", "r1", view("10", 1), "8"))
	forgetPrefix(t, clients[0], prefix)
	if _, err := s.Hold(ctx, "acct", "k", "r2", view("10", 1), d("5")); !errors.Is(err, ErrLedgerRestoring) {
		t.Fatalf("a joined instance after the prefix was emptied: %v, want ErrLedgerRestoring", err)
	}
	mustRefuse(t, holdAfterRestore(t, s, "acct", "k", "r3", view("10", 1), "5"), CauseCredits)
	mustOK(t, hold(t, s, "acct", "k", "r4", view("10", 1), "2"))
}
