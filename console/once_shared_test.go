package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/internal/testenv"
)

// instanceB is a second console beside an env's: its server and
// authenticator, and the Redis client and key prefix the two share.
type instanceB struct {
	srv    *httptest.Server
	auth   *Authenticator
	rdb    *redis.Client
	prefix string
}

// secondInstance starts another console on e's store and views, sharing
// its state with e's through Redis as two gateway instances do.
func secondInstance(t *testing.T, e *env) instanceB {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	e.deps.Auth.Share(rdb, prefix)
	authB := NewAuthenticator(e.views, e.models.Keys)
	authB.Share(rdb, prefix)
	depsB := e.deps
	depsB.Auth = authB
	echB := echo.New()
	if err := Register(echB, depsB); err != nil {
		t.Fatal(err)
	}
	srvB := httptest.NewServer(echB)
	t.Cleanup(srvB.Close)
	return instanceB{srv: srvB, auth: authB, rdb: rdb, prefix: prefix}
}

// postAt posts a form to another instance with the browser's cookies (a
// browser behind round-robin DNS, or one whose resend reached another
// instance).
func (b *browser) postAt(base, path string, form url.Values) *http.Response {
	b.e.t.Helper()
	resp, err := b.c.PostForm(base+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// A form sent again (a double click, a resend) makes nothing new even when
// the copy reaches another gateway instance than the first: the account,
// the API key and the staff token are each made once, and the copy leads
// where the first led.
func TestFormsSentAgainToAnotherInstanceMakeOnce(t *testing.T) {
	e := newEnv(t, false)
	other := secondInstance(t, e).srv.URL
	admin := e.browser()
	admin.signIn(e.staffToken(string(auth.Admin)))

	_, page := admin.get("/console/accounts")
	v := formFields(t, page, "/console/accounts")
	v.Set("organisation", "重送股份有限公司")
	v.Set("plan", string(domain.PlanStarter))
	before := countEvents(e, domain.TypeAccountOpened)
	first, _ := admin.post("/console/accounts", v)
	again := admin.postAt(other, "/console/accounts", v)
	if n := countEvents(e, domain.TypeAccountOpened) - before; n != 1 {
		t.Fatalf("the open-account form sent to two instances opened %d accounts", n)
	}
	to := strings.TrimSuffix(first.Header.Get("Location"), "?flash=account.opened")
	if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != to+"?flash=form.repeated" {
		t.Fatalf("the copy on the other instance: %d %s, want a redirect to %s", again.StatusCode, again.Header.Get("Location"), to)
	}

	_, page = admin.get("/console/staff")
	v = formFields(t, page, "/console/staff")
	v.Set("name", "審計員")
	v.Set("role", string(auth.Auditor))
	before = countEvents(e, domain.TypeStaffTokenIssued)
	if resp, _ := admin.post("/console/staff", v); resp.StatusCode != http.StatusCreated {
		t.Fatalf("staff token form: %d", resp.StatusCode)
	}
	again = admin.postAt(other, "/console/staff", v)
	if n := countEvents(e, domain.TypeStaffTokenIssued) - before; n != 1 {
		t.Fatalf("the staff token form sent to two instances issued %d tokens", n)
	}
	if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != "/console/staff?flash=staff.repeated" {
		t.Fatalf("the staff token form's copy on the other instance: %d %s", again.StatusCode, again.Header.Get("Location"))
	}

	_, mgmt, _ := managedAccount(e, "acct_resend")
	owner := e.browser()
	owner.signIn(mgmt)
	acctPage := "/console/accounts/acct_resend"
	_, page = owner.get(acctPage)
	v = formFields(t, page, acctPage+"/keys")
	v.Set("name", "批次工作")
	v.Set("spend_limit", "40")
	v.Set("spend_period", "monthly")
	before = countEvents(e, domain.TypeKeyIssued)
	if resp, _ := owner.post(acctPage+"/keys", v); resp.StatusCode != http.StatusCreated {
		t.Fatalf("key form: %d", resp.StatusCode)
	}
	again = owner.postAt(other, acctPage+"/keys", v)
	if n := countEvents(e, domain.TypeKeyIssued) - before; n != 1 {
		t.Fatalf("the key form sent to two instances issued %d keys", n)
	}
	if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != acctPage+"?flash=key.repeated" {
		t.Fatalf("the key form's copy on the other instance: %d %s", again.StatusCode, again.Header.Get("Location"))
	}
}

// A copy that reaches the other instance while the first still acts waits
// for its outcome: where it led, or, when it failed, its own turn to act.
func TestSharedFormCopyWaitsForTheActingOne(t *testing.T) {
	redisURL, prefix := testenv.RedisURL(t)
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	a, b := &redisOnce{rdb: rdb, prefix: prefix}, &redisOnce{rdb: rdb, prefix: prefix}
	ctx := context.Background()

	for _, outcome := range []string{"done", "fail"} {
		key := "/console/accounts\x00tok-" + outcome
		if _, act, err := a.begin(ctx, key); err != nil || !act {
			t.Fatalf("%s: the first copy may not act (%v)", outcome, err)
		}
		type answer struct {
			to  string
			act bool
			err error
		}
		second := make(chan answer, 1)
		go func() {
			to, act, err := b.begin(ctx, key)
			second <- answer{to, act, err}
		}()
		select {
		case got := <-second:
			t.Fatalf("%s: the copy did not wait for the acting one: %+v", outcome, got)
		case <-time.After(4 * onceWait):
		}
		if outcome == "done" {
			if err := a.done(ctx, key, "/console/accounts/acct_1"); err != nil {
				t.Fatal(err)
			}
		} else {
			a.fail(ctx, key)
		}
		got := <-second
		switch {
		case got.err != nil:
			t.Fatalf("%s: %v", outcome, got.err)
		case outcome == "done" && (got.act || got.to != "/console/accounts/acct_1"):
			t.Fatalf("after the first copy acted, the second got %+v", got)
		case outcome == "fail" && !got.act:
			t.Fatalf("after the first copy failed, the second may not act: %+v", got)
		}
	}
}
