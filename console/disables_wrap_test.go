package console

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/routefree/routefree/internal/testenv"
)

// A console session signed in with a key ends when the key is disabled;
// the count of disables it compares was kept in 8 bits, so the 256th
// disable within a session's 12 hours brought the count back to the one
// at sign-in and revived a session that had ended. It ends for good, with
// sessions in memory and in Redis alike.
func TestAKeyDisabledPast256TimesStillEndsItsSessions(t *testing.T) {
	for _, shared := range []bool{false, true} {
		name := "memory"
		if shared {
			name = "redis"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, false)
			if shared {
				rdb, prefix := testenv.Redis(t)
				e.deps.Auth.Share(rdb, prefix)
			}
			mgmtID, mgmt, _ := managedAccount(e, "acct_wrap")
			b := e.browser()
			in := b.signInReturning(t, mgmt)
			if resp, _ := b.get("/console/accounts/acct_wrap"); resp.StatusCode != http.StatusOK {
				t.Fatalf("signed in: %d", resp.StatusCode)
			}
			for range 256 {
				for _, disabled := range []bool{true, false} {
					if err := e.cmds.SetKeyDisabled(e.ctx, mgmtID, disabled); err != nil {
						t.Fatal(err)
					}
				}
			}
			e.sync()
			if resp, _ := b.get("/console/accounts/acct_wrap"); resp.StatusCode == http.StatusOK {
				t.Fatal("a session signed in before 256 disables of its key works again")
			}
			replay := e.browser()
			u, _ := url.Parse(e.srv.URL)
			replay.jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: in.session}})
			if resp, _ := replay.get("/console/accounts/acct_wrap"); resp.StatusCode == http.StatusOK {
				t.Fatal("the old session cookie signs in again after 256 disables")
			}
			if k, ok := e.models.Keys.Lookup(hashOf(mgmt)); !ok || k.Disabled || int(k.Disables) != 256 {
				t.Fatalf("the key after 256 disables and enables: %+v", k)
			}
			again := e.browser()
			again.signInReturning(t, mgmt)
			if resp, _ := again.get("/console/accounts/acct_wrap"); resp.StatusCode != http.StatusOK {
				t.Fatalf("signing in again with the enabled key: %d", resp.StatusCode)
			}
		})
	}
}
