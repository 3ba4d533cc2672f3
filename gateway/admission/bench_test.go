package admission

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
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
