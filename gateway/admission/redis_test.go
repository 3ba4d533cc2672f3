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
		for _, c := range clients {
			_ = c.Close()
		}
	})
	return clients, prefix
}
