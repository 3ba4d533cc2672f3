package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// A management key past its expiry is told so by the account and key
// APIs, as the model endpoints tell it (README: refused from that instant
// on), rather than asked to sign in or for a management key it is.
func TestExpiredKeyIsToldItExpired(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_exp", "到期公司", domain.PlanStarter)
	until := testNow.Add(24 * time.Hour)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_exp", Name: "contractor", Management: true, ExpiresAt: &until})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	if code, body := e.call("GET", "/api/v1/keys", mgmt, nil); code != http.StatusOK {
		t.Fatalf("before its expiry: %d %s", code, body)
	}
	e.clock.mu.Lock()
	e.clock.t = until.Add(time.Minute)
	e.clock.mu.Unlock()
	want := "this API key expired at " + until.UTC().Format(time.RFC3339)
	for _, path := range []string{"/api/v1/keys", "/admin/api/accounts/acct_exp", "/admin/api/accounts/acct_exp/usage"} {
		code, body := e.call("GET", path, mgmt, nil)
		var msg struct{ Message string }
		if err := json.Unmarshal(body, &msg); code != http.StatusUnauthorized || err != nil || !strings.HasPrefix(msg.Message, want) {
			t.Errorf("%s: %d %s, want 401 %q", path, code, body, want)
		}
	}
	if code, body := e.call("GET", "/api/v1/keys", "sk-rf-unknown", nil); code != http.StatusUnauthorized || !strings.Contains(string(body), "invalid API key") {
		t.Errorf("an unknown key: %d %s", code, body)
	}
}

// Signing in to the console with a key that exists but may not act says
// why (revoked, disabled, expired), as the APIs do, where every refusal
// read "not valid"; a key that matches nothing still reads "not valid".
func TestSignInSaysWhyAKeyMayNotAct(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_why", "原因公司", domain.PlanStarter)
	until := testNow.Add(time.Hour)
	issue := func(name string, expires *time.Time) (string, string) {
		t.Helper()
		id, secret, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_why", Name: name, Management: true, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		return id, secret
	}
	revokedID, revoked := issue("revoked", nil)
	disabledID, disabled := issue("disabled", nil)
	_, expired := issue("expired", &until)
	if err := e.cmds.RevokeKey(e.ctx, revokedID); err != nil {
		t.Fatal(err)
	}
	if err := e.cmds.SetKeyDisabled(e.ctx, disabledID, true); err != nil {
		t.Fatal(err)
	}
	e.sync()
	e.clock.mu.Lock()
	e.clock.t = until.Add(time.Minute)
	e.clock.mu.Unlock()
	for _, c := range []struct{ secret, want string }{
		{revoked, "此金鑰已撤銷"},
		{disabled, "此金鑰已停用"},
		{expired, "此金鑰已於 " + until.In(twrules.Taipei).Format("2006-01-02 15:04") + " 到期"},
		{"sk-rf-matches-nothing", "權杖或金鑰無效"},
	} {
		b := e.browser()
		_, page := b.get("/console/signin")
		csrf := attrOf(t, page, "input", "id", "signin-csrf", "value")
		resp, body := b.post("/console/signin", url.Values{"csrf": {csrf}, "token": {c.secret}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, c.want) {
			t.Errorf("signing in with the %q key: %d, want 401 saying %q; page:\n%s", c.want, resp.StatusCode, c.want, elementText(t, body, "error"))
		}
		if b.cookie(sessionCookie) != "" {
			t.Errorf("signing in with the %q key started a session", c.want)
		}
	}
}
