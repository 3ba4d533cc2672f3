package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// With sessions in Redis, a browser signed in through one instance is
// signed in on another, signing out on either ends it on both, and Redis
// never holds the session ID itself.
func TestSessionsSharedThroughRedis(t *testing.T) {
	e := newEnv(t, false)
	b := secondInstance(t, e)
	srvB, rdb, prefix := b.srv, b.rdb, b.prefix

	in := e.browser().signInReturning(t, e.admin)
	sid, csrfToken := in.session, in.token
	onB := func(method, path string, form url.Values) int {
		req, _ := http.NewRequest(method, srvB.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
		c := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := onB("GET", "/console/accounts", nil); got != http.StatusOK {
		t.Fatalf("instance B with A's session: %d, want 200", got)
	}
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil || len(keys) != 1 || strings.Contains(keys[0], sid) {
		t.Fatalf("Redis keys %v (%v): want one, not naming the session ID", keys, err)
	}
	if got := onB("POST", "/console/signout", url.Values{"csrf": {csrfToken}}); got != http.StatusSeeOther {
		t.Fatalf("sign-out on B: %d", got)
	}
	if got := onB("GET", "/console/accounts", nil); got == http.StatusOK {
		t.Fatal("the session still works after signing out")
	}
	if _, ok := e.deps.Auth.sessions.get(context.Background(), sid); ok {
		t.Fatal("instance A still knows the session")
	}
}

type signedIn struct{ session, token string }

// signInReturning signs in and returns the session ID and its CSRF token.
func (b *browser) signInReturning(t *testing.T, secret string) signedIn {
	t.Helper()
	token := b.signIn(secret)
	return signedIn{session: b.cookie(sessionCookie), token: token}
}
