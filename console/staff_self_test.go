package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/routefree/routefree/commands"
)

// An admin revoking their own staff token was told nothing of signing
// themselves out and landed on the sign-in page unexplained, with the
// session left in the store. The confirmation now says so, and the
// session ends with a page that says why.
func TestRevokingOnesOwnStaffTokenSaysItSignsOneOut(t *testing.T) {
	e := newEnv(t, false)
	e.staffToken("admin") // another admin: the last one is never revoked
	b := e.browser()
	in := b.signInReturning(t, e.admin)
	tok, ok := e.views.StaffByHash(commands.HashKey(e.admin))
	if !ok {
		t.Fatal("no staff token of e.admin")
	}
	own := tok.ID
	path := "/console/staff/" + url.PathEscape(own) + "/revoke"
	step := stepPage(t, b, path, in.token)
	if !strings.Contains(visibleText(t, step), tr(langZH, "confirm.staff.self")) {
		t.Fatal("the confirmation does not say it signs the admin out")
	}
	resp, _ := b.post(path, formFields(t, step, path))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin?flash=staff.revoked.self" {
		t.Fatalf("confirmed: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, ok := e.deps.Auth.sessions.get(e.ctx, in.session); ok {
		t.Error("the session is still kept after its token was revoked")
	}
	_, page := b.get(resp.Header.Get("Location"))
	if !strings.Contains(visibleText(t, page), tr(langZH, "staff.revoked.self")) {
		t.Fatal("the sign-in page does not say the token was revoked")
	}
}
