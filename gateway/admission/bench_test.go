package admission

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/internal/testenv"
)

// benchKeys are precomputed so the benchmark measures the limiter, not
// fmt.Sprint.
func benchKeys(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = fmt.Sprintf("key-%06d", i)
	}
	return ks
}

func benchAdmit(b *testing.B, rl RateLimiter) {
	keys := benchKeys(10_000)
	l := Limits{RPM: 1 << 40, TPM: 1 << 40} // never refuses: measure the admit path
	var next atomic.Int64
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			i++
			if _, err := rl.Admit(context.Background(), keys[i%len(keys)], l, 500, now); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMemoryAdmit(b *testing.B) { benchAdmit(b, NewMemoryLimiter()) }

func BenchmarkRedisAdmit(b *testing.B) {
	c, prefix := redisClients(b, 1)
	b.SetParallelism(8) // round trips dominate: keep several in flight
	benchAdmit(b, NewRedisLimiter(c[0], prefix))
}

// benchHold: each op is one Hold and one Release of the same request, over
// 1,000 accounts.
func benchHold(b *testing.B, l Ledger) {
	accts := benchKeys(1000)
	v := AccountView{Balance: decimal.NewFromInt(1_000_000), AppliedVersion: 10}
	amount := decimal.RequireFromString("0.25")
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := next.Add(1)
		ids := benchKeys(64)
		for i := range ids {
			ids[i] = fmt.Sprintf("w%d-%s", w, ids[i])
		}
		i := int(w) * 7919
		for pb.Next() {
			i++
			acct, id := accts[i%len(accts)], ids[i%len(ids)]
			r, err := l.Hold(context.Background(), acct, "key", id, v, amount)
			if err != nil || !r.OK {
				b.Errorf("hold: %+v %v", r, err)
				return
			}
			if err := l.Release(context.Background(), acct, "key", id); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMemoryHold(b *testing.B) { benchHold(b, NewMemoryLedger(LedgerOptions{})) }

func BenchmarkRedisHold(b *testing.B) {
	c, prefix := redisClients(b, 1)
	b.SetParallelism(8)
	benchHold(b, NewRedisLedger(c[0], prefix, LedgerOptions{}))
}

// BenchmarkRedisLedgerCheck measures what an instance's check of the
// epoch (every epochEvery while it holds anything) costs, against a Redis
// of its own so that nothing else counts in its figures: redis-µs/op is
// Redis's own time (INFO commandstats), which every instance's check
// takes from every other request. "check" is the whole script, evicted
// keys included, "check without evicted keys" the script without that
// look; "INFO stats" and "INFO server" the commands it calls.
func BenchmarkRedisLedgerCheck(b *testing.B) {
	r := testenv.StartRedisServer(b)
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	b.Cleanup(func() { _ = c.Close() })
	l := NewRedisLedger(c, "rf:bench:", LedgerOptions{HoldTTL: time.Minute})
	if err := l.Join(ctx); err != nil {
		b.Fatal(err)
	}
	l.mu.RLock()
	tok := l.epoch
	l.mu.RUnlock()
	keys := []string{l.keys("acct")[0], l.epochKey}
	if err := c.HSet(ctx, keys[0], "n", 1).Err(); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, cmd string
		run       func() error
	}{
		{"check", "evalsha", func() error { return checkScript.Run(ctx, c, keys, "", tok).Err() }},
		{"check without evicted keys", "evalsha", func() error { return checkHoldsScript.Run(ctx, c, keys, "", tok).Err() }},
		{"INFO stats", "info", func() error { return c.Info(ctx, "stats").Err() }},
		{"INFO server", "info", func() error { return c.Info(ctx, "server").Err() }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			calls0, usec0 := commandStats(b, c, bc.cmd)
			for b.Loop() {
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			calls, usec := commandStats(b, c, bc.cmd)
			if calls > calls0 {
				b.ReportMetric(float64(usec-usec0)/float64(calls-calls0), "redis-µs/op")
			}
		})
	}
}

// checkHoldsScript is checkScript without its look at evicted keys.
var checkHoldsScript = redis.NewScript(luaLedger + luaEpochCheck + `
for i = 1, #KEYS - 1 do
  if redis.call('EXISTS', KEYS[i]) == 0 then return lost(holdKeyGone) end
end
return 1`)

// commandStats is INFO commandstats' calls and µs spent for cmd.
func commandStats(b *testing.B, c *redis.Client, cmd string) (calls, usec int64) {
	b.Helper()
	s, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, kv := range strings.Split(InfoField(s, "cmdstat_"+cmd), ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "calls":
			calls, _ = strconv.ParseInt(v, 10, 64)
		case "usec":
			usec, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return calls, usec
}
