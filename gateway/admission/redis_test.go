package admission

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/internal/testenv"
)

// redisClients returns n independent clients (as n gateway instances would
// have) and this test's key prefix; the prefix's keys are deleted at the end.
func redisClients(t testing.TB, n int) ([]redis.UniversalClient, string) {
	t.Helper()
	url, prefix := testenv.RedisURL(t)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	clients := make([]redis.UniversalClient, n)
	for i := range clients {
		clients[i] = redis.NewClient(opt)
	}
	if err := clients[0].Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis ping: %v", err)
	}
	t.Cleanup(func() {
		cleanupPrefix(t, clients[0], prefix)
		for _, c := range clients {
			_ = c.Close()
		}
	})
	return clients, prefix
}

func cleanupPrefix(t testing.TB, c redis.UniversalClient, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s*: %v", prefix, err)
		return
	}
	if len(keys) > 0 {
		if err := c.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("del: %v", err)
		}
	}
}
