package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// TestServeRefusesARedisThatMayEvict: a Redis with a memory limit and a
// policy that evicts keys (any but noeviction: the ledger's keys carry
// TTLs, so the volatile-* policies take them too) could drop an account's
// credit holds or unapplied costs and let it spend past its credit. serve
// refuses to start on one, naming the policy and the fix; without a limit,
// or with noeviction, it starts.
func TestServeRefusesARedisThatMayEvict(t *testing.T) {
	r := testenv.StartRedisServer(t, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru")
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	set := func(kv ...string) {
		t.Helper()
		for i := 0; i < len(kv); i += 2 {
			if err := rdb.ConfigSet(ctx, kv[i], kv[i+1]).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	up := fakeUpstream(t, providertest.Script{Text: "evict"})
	env := baseEnv(up)
	args := []string{"--data-dir", t.TempDir(), "--redis-url", "redis://" + r.Addr() + "/0", "--redis-prefix", "rf:"}
	refused := func(want ...string) {
		t.Helper()
		p, _ := launchServe(t, env, args...)
		select {
		case <-p.exited:
		case <-time.After(60 * time.Second):
			t.Fatal("serve on a Redis that may evict did not exit")
		}
		logs := p.logs.String() + p.out.String()
		for _, w := range want {
			if p.exitErr == nil || !strings.Contains(logs, w) {
				t.Fatalf("serve: exit %v, want %q in its output:\n%s", p.exitErr, w, tail(logs, 2048))
			}
		}
	}

	refused("maxmemory-policy allkeys-lru", "CONFIG SET maxmemory-policy noeviction")
	set("maxmemory-policy", "volatile-ttl")
	refused("maxmemory-policy volatile-ttl", "CONFIG SET maxmemory-policy noeviction")
	if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("the refused serves left %d keys in Redis (%v)", n, err)
	}

	set("maxmemory", "0") // no limit: nothing is evicted
	startServe(t, env, args...).stop(syscall.SIGTERM, 30*time.Second)
	set("maxmemory", "100mb", "maxmemory-policy", "noeviction")
	startServe(t, env, args...).stop(syscall.SIGTERM, 30*time.Second)
}

// TestServeNoticesRedisEvictingWhileItServes: the maxmemory-policy of a
// serve's Redis is changed at runtime and Redis evicts keys under memory
// pressure while the serve keeps a request's cost that its balances may
// not have applied. The serve notices, logs an error naming the cause,
// and serves on once the ledger's state is put back.
func TestServeNoticesRedisEvictingWhileItServes(t *testing.T) {
	r := testenv.StartRedisServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	up := fakeUpstream(t, providertest.Script{Text: "evicting"})
	env := baseEnv(up)
	store := []string{"--data-dir", t.TempDir()}
	key := prepareDemo(t, env, store, 100000, "")
	a := startServe(t, env, append(store, "--redis-url", "redis://"+r.Addr()+"/0", "--redis-prefix", "rf:")...)
	waitFor(t, 10*time.Second, func() bool { return chatStatus(a.base, key) == http.StatusOK })

	mem, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	used, _ := strconv.ParseInt(admission.InfoField(mem, "used_memory"), 10, 64)
	for _, kv := range [][2]string{{"maxmemory-policy", "volatile-lru"}, {"maxmemory", strconv.FormatInt(used+1<<20, 10)}} {
		if err := rdb.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	filler := strings.Repeat("x", 1024)
	for i := 0; ; i++ {
		pipe := rdb.Pipeline()
		for j := 0; j < 100; j++ {
			pipe.Set(ctx, "filler:"+strconv.Itoa(i*100+j), filler, time.Hour)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		stats, err := rdb.Info(ctx, "stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		if admission.InfoField(stats, "evicted_keys") != "0" {
			break
		}
		if i == 1000 {
			t.Fatal("Redis evicted nothing")
		}
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}

	waitFor(t, 10*time.Second, func() bool {
		l := a.logs.String()
		return strings.Contains(l, `"level":"ERROR"`) && strings.Contains(l, "Redis evicted keys while serving") &&
			strings.Contains(l, "evicted_keys") && strings.Contains(l, `"maxmemory_policy":"volatile-lru"`)
	})
	waitFor(t, 10*time.Second, func() bool { return chatStatus(a.base, key) == http.StatusOK })
	if code := a.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d", code)
	}
}
