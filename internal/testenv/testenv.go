// Package testenv gives integration tests their service URLs and isolation:
// a test asks for PostgreSQL, Redis or KurrentDB, and skips with a clear
// message when its URL is unset, unless ROUTEFREE_REQUIRE_SERVICES=1 turns
// the skip into a failure (as CI does).
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

func need(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if r := os.Getenv("ROUTEFREE_REQUIRE_SERVICES"); r == "1" || r == "all" {
			t.Fatalf("%s is not set and ROUTEFREE_REQUIRE_SERVICES=1: this integration test must run", env)
		}
		t.Skipf("integration test skipped: set %s to run it", env)
	}
	return v
}

// Suffix returns a random lowercase suffix for schema names and key prefixes.
func Suffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// PostgresURL returns a connection URL whose search_path is a fresh schema
// that is dropped when the test ends. Every test gets its own.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := need(t, "ROUTEFREE_POSTGRES_URL")
	schema := "t_" + strings.ToLower(Suffix())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect %s: %v", base, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	return WithSearchPath(base, schema)
}

// WithSearchPath adds search_path=schema to a PostgreSQL URL.
func WithSearchPath(base, schema string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisURL returns the Redis URL and a key prefix unique to this test. The
// prefix's keys are deleted when the test ends (registered first, so it runs
// after the test's own cleanups).
func RedisURL(t testing.TB) (string, string) {
	t.Helper()
	url, prefix := need(t, "ROUTEFREE_REDIS_URL"), fmt.Sprintf("rftest:%s:", Suffix())
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("ROUTEFREE_REDIS_URL %q: %v", url, err)
	}
	t.Cleanup(func() {
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scan %s*: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := rdb.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("delete %s*: %v", prefix, err)
			}
		}
	})
	return url, prefix
}

// Redis returns a client of the Redis server, closed when the test ends,
// and a key prefix unique to this test (RedisURL).
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	url, prefix := RedisURL(t)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("ROUTEFREE_REDIS_URL %q: %v", url, err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb, prefix
}

// KurrentURL returns the KurrentDB connection string. No KurrentDB server
// can run on the CI machine (it needs Docker or .NET), so this skip becomes a
// failure only with ROUTEFREE_REQUIRE_SERVICES=all; the KurrentDB adapter's
// mapping is tested against an in-process gRPC fake everywhere.
func KurrentURL(t testing.TB) string {
	t.Helper()
	v := os.Getenv("ROUTEFREE_KURRENTDB_URL")
	if v == "" {
		if os.Getenv("ROUTEFREE_REQUIRE_SERVICES") == "all" {
			t.Fatalf("ROUTEFREE_KURRENTDB_URL is not set and ROUTEFREE_REQUIRE_SERVICES=all")
		}
		t.Skipf("integration test skipped: set ROUTEFREE_KURRENTDB_URL to run it against a real KurrentDB")
	}
	return v
}
