package admission

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const limiterShards = 256

// MemoryLimiter is the one-process RateLimiter: keys spread over sharded
// mutexes, so callers on different keys rarely contend.
type MemoryLimiter struct {
	seed   maphash.Seed
	shards [limiterShards]limiterShard
}

type limiterShard struct {
	mu  sync.Mutex
	m   map[string]gcraState
	ops int
	_   [40]byte // keep shards on separate cache lines
}

// NewMemoryLimiter returns an empty in-memory limiter.
func NewMemoryLimiter() *MemoryLimiter {
	ml := &MemoryLimiter{seed: maphash.MakeSeed()}
	for i := range ml.shards {
		ml.shards[i].m = make(map[string]gcraState)
	}
	return ml
}

func (ml *MemoryLimiter) shard(key string) *limiterShard {
	return &ml.shards[maphash.String(ml.seed, key)%limiterShards]
}

// Admit implements RateLimiter.
func (ml *MemoryLimiter) Admit(_ context.Context, key string, l Limits, estTokens int64, now time.Time) (Decision, error) {
	if l.RPM <= 0 && l.TPM <= 0 {
		return Decision{Allowed: true}, nil
	}
	n := now.UnixMicro()
	sh := ml.shard(key)
	sh.mu.Lock()
	st := sh.m[key]
	out, wait, br, bt := st.admit(l, max(estTokens, 0), n)
	if out == outAllowed {
		sh.m[key] = st
	}
	sh.sweep(n)
	sh.mu.Unlock()
	return decision(l, out, wait, br, bt), nil
}

// Settle implements RateLimiter.
func (ml *MemoryLimiter) Settle(_ context.Context, key string, l Limits, estTokens, actualTokens int64, now time.Time) error {
	if l.TPM <= 0 || estTokens == actualTokens {
		return nil
	}
	n := now.UnixMicro()
	sh := ml.shard(key)
	sh.mu.Lock()
	st := sh.m[key]
	st.settle(l.TPM, estTokens, actualTokens, n)
	sh.m[key] = st
	sh.mu.Unlock()
	return nil
}

// sweep drops keys whose windows are full again (state equal to a fresh
// key's), every so often: amortised O(1) per call.
func (sh *limiterShard) sweep(now int64) {
	sh.ops++
	if sh.ops < 1024 || sh.ops < len(sh.m) {
		return
	}
	sh.ops = 0
	for k, st := range sh.m {
		if st.req <= now && st.tok <= now {
			delete(sh.m, k)
		}
	}
}
