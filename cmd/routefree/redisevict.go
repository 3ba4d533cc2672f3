package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/gateway/admission"
)

// A Redis that may evict keys could drop what the credit ledger keeps
// there: an account's holds, their deadlines, its costs settled but not
// yet applied. Every key of the ledger's but its epoch carries a TTL, so
// the volatile-* policies may take them as well as the allkeys-* ones; and
// Redis keeps no sign of which keys it evicted. A serve therefore refuses
// to start on a Redis with a memory limit and any policy but noeviction,
// read from INFO memory (which a managed Redis answers where it refuses
// CONFIG GET). Evictions while it serves (the policy changed at runtime)
// are the ledger's to notice (admission.RedisLedger).

// awaitRedis waits up to redisStartWait for Redis to answer (one starting
// beside this serve, from one compose file), then checks its memory
// policy.
func awaitRedis(ctx context.Context, c *Config, rdb *redis.Client, log *slog.Logger) error {
	where := fmt.Sprintf("--redis-url %s", redactURL(c.RedisURL))
	mem, err := rdb.Info(ctx, "memory").Result()
	for deadline := time.Now().Add(redisStartWait); err != nil && ctx.Err() == nil && time.Now().Before(deadline); {
		log.Warn("waiting for Redis to answer", "redis", redactURL(c.RedisURL), "err", err)
		time.Sleep(time.Second)
		mem, err = rdb.Info(ctx, "memory").Result()
	}
	if err != nil {
		return fmt.Errorf("Redis (%s): %w", where, err)
	}
	limit, policy := admission.InfoField(mem, "maxmemory"), admission.InfoField(mem, "maxmemory_policy")
	switch {
	case limit == "" || policy == "":
		log.Warn("Redis does not tell its maxmemory and maxmemory-policy (INFO memory): should it evict keys, the credit ledger's among them, "+
			"an account could spend past its credit until the ledger notices; run it with maxmemory-policy noeviction", "redis", redactURL(c.RedisURL))
	case limit != "0" && policy != "noeviction":
		return fmt.Errorf("Redis (%s) runs with maxmemory %s and maxmemory-policy %s: once its memory is full it evicts keys, "+
			"the credit ledger's holds and unapplied costs among them (they carry TTLs, so the volatile-* policies take them too), "+
			"and an account could spend past its credit; run it with maxmemory-policy noeviction "+
			"(CONFIG SET maxmemory-policy noeviction, and in redis.conf or the managed service's parameters so that it lasts), "+
			"or without a maxmemory limit", where, orRaw(admission.InfoField(mem, "maxmemory_human"), limit), policy)
	}
	return nil
}

func orRaw(human, raw string) string {
	if human == "" {
		return raw
	}
	return human
}
