package console

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// With Redis, sign-in failures count across instances: five on one and the
// sixth on another is refused, and the window slides there too.
func TestSignInThrottleSharedThroughRedis(t *testing.T) {
	e := newEnv(t, false)
	b := secondInstance(t, e)
	srvB, authB, rdb, prefix := b.srv, b.auth, b.rdb, b.prefix

	if got := failSignIns(t, e.browser(), 5); got != http.StatusUnauthorized {
		t.Fatalf("five failures on A: %d, want 401", got)
	}
	envB := *e
	envB.srv = srvB
	onB := envB.browser()
	tryB := func(secret string) int {
		_, page := onB.get("/console/signin")
		csrf := attrOf(t, page, "input", "id", "signin-csrf", "value")
		resp, _ := onB.post("/console/signin", url.Values{"csrf": {csrf}, "token": {secret}})
		return resp.StatusCode
	}
	if got := tryB(e.admin); got != http.StatusTooManyRequests {
		t.Fatalf("right token on B after five failures on A: %d, want 429", got)
	}
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("Redis keys %v (%v): want the one client's window", keys, err)
	}
	// A minute later the client may try again, on either instance.
	authB.signins.(*redisThrottle).now = func() time.Time { return time.Now().Add(61 * time.Second) }
	if got := tryB(e.admin); got != http.StatusSeeOther {
		t.Fatalf("after the window on B: %d, want 303", got)
	}
}

// Without Redis there is no count to check: sign-in refuses every attempt
// (503) rather than let guesses through unthrottled.
func TestSignInThrottleFailsClosedWithoutRedis(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	e := newEnv(t, false)
	e.deps.Auth.Share(rdb, "rf-test-down:")
	b := e.browser()
	for _, secret := range []string{"rf-staff-wrong-guess", e.admin} {
		_, page := b.get("/console/signin")
		csrf := attrOf(t, page, "input", "id", "signin-csrf", "value")
		resp, _ := b.post("/console/signin", url.Values{"csrf": {csrf}, "token": {secret}})
		if resp.StatusCode != http.StatusServiceUnavailable || b.cookie(sessionCookie) != "" {
			t.Fatalf("sign-in with Redis down: %d, want 503 and no session", resp.StatusCode)
		}
	}
}
