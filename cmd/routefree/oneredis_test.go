package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// otherRedisDB is rurl with another database number: a keyspace of its
// own, as good as another Redis server to serves.
func otherRedisDB(t *testing.T, rurl string) string {
	t.Helper()
	u, err := url.Parse(rurl)
	if err != nil {
		t.Fatal(err)
	}
	if u.Path == "/1" {
		u.Path = "/2"
	} else {
		u.Path = "/1"
	}
	return u.String()
}

// TestServesOnOneStoreShareOneRedis: serves on one store must share one
// Redis and one --redis-prefix, and two stores must not share a prefix.
// A serve that disagrees is refused, naming the store, the Redis and the
// flag, and the running one serves on. A Redis that lost its keys (it
// keeps nothing on disk, and restarts) neither refuses a serve nor breaks
// the running ones.
func TestServesOnOneStoreShareOneRedis(t *testing.T) {
	for _, sc := range sharedStores() {
		t.Run(sc.name, func(t *testing.T) {
			up := fakeUpstream(t, providertest.Script{Text: "one redis"})
			env := baseEnv(up)
			store := sc.args(t)
			rurl, prefix := testenv.RedisURL(t)
			with := func(store []string, url, prefix string) []string {
				return append(append([]string{}, store...), "--redis-url", url, "--redis-prefix", prefix)
			}
			key := prepareDemo(t, env, store, 100000, "")
			refused := func(args []string, want ...string) {
				t.Helper()
				p, _ := launchServe(t, env, args...)
				select {
				case <-p.exited:
				case <-time.After(60 * time.Second):
					t.Fatal("serve that disagrees on Redis did not exit")
				}
				logs := p.logs.String() + p.out.String()
				for _, w := range want {
					if p.exitErr == nil || !strings.Contains(logs, w) {
						t.Fatalf("serve %v: exit %v, want %q in its output:\n%s", args, p.exitErr, w, tail(logs, 2048))
					}
				}
			}

			a := startServe(t, env, with(store, rurl, prefix)...)
			refused(with(store, rurl, prefix+"other:"), "--redis-prefix", "use another Redis")
			other := otherRedisDB(t, rurl)
			t.Cleanup(func() { dropPrefix(t, other, prefix) })
			refused(with(store, other, prefix), "--redis-url", "use another Redis")
			if st := keyStatus(a.base, key); st != http.StatusOK {
				t.Fatalf("the running serve after the refusals: key status %d", st)
			}

			// Redis lost every key of the prefix, as a restart does.
			opt, err := redis.ParseURL(rurl)
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewClient(opt)
			defer rdb.Close()
			ctx := context.Background()
			keys, err := rdb.Keys(ctx, prefix+"*").Result()
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) == 0 {
				t.Fatal("the serve put nothing under its prefix")
			}
			if err := rdb.Del(ctx, keys...).Err(); err != nil {
				t.Fatal(err)
			}
			b := startServe(t, env, with(store, rurl, prefix)...)
			for _, base := range []string{a.base, b.base} {
				waitFor(t, 5*time.Second, func() bool { return keyStatus(base, key) == http.StatusOK })
			}

			// Another store on the same prefix.
			store2 := sc.args(t)
			prepareDemo(t, env, store2, 100000, "")
			refused(with(store2, rurl, prefix), "another store", "--redis-prefix")
			// Once no serve of the first store runs, its prefix is free after
			// the holds it could have left expired; a prefix of its own is
			// free at once.
			c := startServe(t, env, with(store2, rurl, prefix+"second:")...)
			c.stop(syscall.SIGTERM, 30*time.Second)
			b.stop(syscall.SIGTERM, 30*time.Second)
			a.stop(syscall.SIGKILL, 30*time.Second)
			// With no serve left on the store (the last killed: its
			// records went with it), another Redis is the store's.
			d := startServe(t, env, with(store, other, prefix)...)
			if st := keyStatus(d.base, key); st != http.StatusOK {
				t.Fatalf("serve on another Redis once none ran: key status %d", st)
			}
			d.stop(syscall.SIGTERM, 30*time.Second)
		})
	}
}

// dropPrefix deletes the keys under prefix in the Redis at rurl.
func dropPrefix(t *testing.T, rurl, prefix string) {
	opt, err := redis.ParseURL(rurl)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err == nil && len(keys) > 0 {
		err = rdb.Del(ctx, keys...).Err()
	}
	if err != nil {
		t.Error(err)
	}
}
