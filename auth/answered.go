package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisAnswered is AnsweredRequests in Redis, under keys starting with
// prefix: one key per request ID, set once, expiring with the request.
type RedisAnswered struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisAnswered returns the answered requests kept in rdb.
func NewRedisAnswered(rdb redis.UniversalClient, prefix string) *RedisAnswered {
	return &RedisAnswered{rdb: rdb, prefix: prefix}
}

// FirstUse implements AnsweredRequests.
func (r *RedisAnswered) FirstUse(ctx context.Context, id string, until time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(id))
	ttl := max(time.Until(until), time.Second)
	return r.rdb.SetNX(ctx, r.prefix+"sso:saml:answered:"+hex.EncodeToString(sum[:]), 1, ttl).Result()
}

var _ AnsweredRequests = (*RedisAnswered)(nil)
