package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// Revoking or disabling the key one is signed in with signs one out. The
// confirmation step says so first, and says when no other management key
// of the account would be left to sign in with; afterwards the sign-in
// page says why the session ended.
func TestRevokingTheSignedInKeySaysSo(t *testing.T) {
	e := newEnv(t, false)
	mgmtID, mgmt, child := managedAccount(e, "acct_self")
	b := e.browser()
	csrf := b.signIn(mgmt)
	step := func(action, keyID string) string {
		t.Helper()
		resp, page := b.post("/console/keys/"+keyID+"/"+action, url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d", action, keyID, resp.StatusCode)
		}
		return visibleText(t, page)
	}
	has := func(text, key string) bool { return strings.Contains(text, tr(langZH, key)) }

	// Another key: the usual note.
	if text := step("revoke", child); !has(text, "confirm.revokekey.note") || has(text, "confirm.key.self") {
		t.Fatalf("revoking another key: %s", text)
	}
	// One's own key, the account's only management key.
	for _, action := range []string{"revoke", "disable"} {
		if text := step(action, mgmtID); !has(text, "confirm.key.self") || !has(text, "confirm.key.lastmanager") {
			t.Fatalf("%s of the only management key, signed in with it: %s", action, text)
		}
	}
	// With a second management key, only that it signs one out.
	if _, _, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_self", Name: "spare", Management: true}); err != nil {
		t.Fatal(err)
	}
	e.sync()
	text := step("revoke", mgmtID)
	if !has(text, "confirm.key.self") || has(text, "confirm.key.lastmanager") {
		t.Fatalf("revoking one's own key beside a spare: %s", text)
	}

	v := formFields(t, stepPage(t, b, "/console/keys/"+mgmtID+"/revoke", csrf), "/console/keys/"+mgmtID+"/revoke")
	resp, _ := b.post("/console/keys/"+mgmtID+"/revoke", v)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin?flash=key.revoked.self" {
		t.Fatalf("confirmed: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := b.get(resp.Header.Get("Location"))
	if !strings.Contains(visibleText(t, page), tr(langZH, "key.revoked.self")) {
		t.Fatal("the sign-in page does not say the key was revoked")
	}
}

// stepPage posts a form without its confirmation and returns the step.
func stepPage(t *testing.T, b *browser, path, csrf string) string {
	t.Helper()
	_, page := b.post(path, url.Values{"csrf": {csrf}})
	return page
}

// Disabling the key one is signed in with ends the session for good: once
// the key is enabled again (by another management key or by staff), the
// old session cookie is still signed out, and the browser is told to
// forget it.
func TestDisablingTheSignedInKeyEndsTheSession(t *testing.T) {
	e := newEnv(t, false)
	mgmtID, mgmt, _ := managedAccount(e, "acct_selfoff")
	b := e.browser()
	in := b.signInReturning(t, mgmt)

	path := "/console/keys/" + mgmtID + "/disable"
	v := formFields(t, stepPage(t, b, path, in.token), path)
	resp, _ := b.post(path, v)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin?flash=key.disabled.self" {
		t.Fatalf("confirmed: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := b.cookie(sessionCookie); got != "" {
		t.Error("the answer leaves the session cookie in the browser")
	}
	if err := e.cmds.SetKeyDisabled(e.ctx, mgmtID, false); err != nil {
		t.Fatal(err)
	}
	e.sync()
	if _, ok := e.deps.Auth.sessions.get(e.ctx, in.session); ok {
		t.Error("the session is still kept after the key it signed in with was disabled")
	}
	replay := e.browser()
	u, _ := url.Parse(e.srv.URL)
	replay.jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: in.session}})
	if resp, _ := replay.get("/console/accounts/acct_selfoff"); resp.StatusCode == http.StatusOK {
		t.Fatal("the old session cookie signs in again once the key is enabled")
	}
}

// A key disabled by anyone (another management key, staff, the CLI) and
// later enabled again signed its old console sessions back in: a session
// outlives only the key's enabling it was signed in under.
func TestAKeyDisabledElsewhereEndsItsSessions(t *testing.T) {
	e := newEnv(t, false)
	mgmtID, mgmt, _ := managedAccount(e, "acct_offelse")
	b := e.browser()
	in := b.signInReturning(t, mgmt)
	if resp, _ := b.get("/console/accounts/acct_offelse"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in: %d", resp.StatusCode)
	}
	for _, disabled := range []bool{true, false} {
		if err := e.cmds.SetKeyDisabled(e.ctx, mgmtID, disabled); err != nil {
			t.Fatal(err)
		}
		e.sync()
	}
	if resp, _ := b.get("/console/accounts/acct_offelse"); resp.StatusCode == http.StatusOK {
		t.Fatal("a session signed in before its key was disabled works again once the key is enabled")
	}
	replay := e.browser()
	u, _ := url.Parse(e.srv.URL)
	replay.jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: in.session}})
	if resp, _ := replay.get("/console/accounts/acct_offelse"); resp.StatusCode == http.StatusOK {
		t.Fatal("the old session cookie signs in again")
	}
	// Signing in again with the enabled key works.
	again := e.browser()
	again.signInReturning(t, mgmt)
	if resp, _ := again.get("/console/accounts/acct_offelse"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signing in again after the key was enabled: %d", resp.StatusCode)
	}
}
