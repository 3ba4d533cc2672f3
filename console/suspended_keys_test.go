package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// suspendedMessage is what every refusal of a suspended account's key
// management says.
const suspendedMessage = "this account is suspended"

// wantSuspendedRefusal checks a 403 that says the account is suspended.
func wantSuspendedRefusal(t *testing.T, what string, code int, body []byte) {
	t.Helper()
	var e struct {
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	if code != http.StatusForbidden || !strings.Contains(e.Message+e.Error.Message, suspendedMessage) {
		t.Fatalf("%s: %d %s, want 403 saying %q", what, code, body, suspendedMessage)
	}
}

// While its account is suspended, a customer's management key may list its
// keys, disable, delete, rename them and lower their limits (lock things
// down), but neither issue a key, enable one, nor raise or lift a limit:
// a 403 saying the account is suspended, with nothing recorded. Staff are
// not held to it, and after the resumption the customer may again.
func TestSuspendedAccountKeysAPI(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, child := managedAccount(e, "acct_susp")
	disabledID, _, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_susp", Name: "idle", SpendLimit: decimal.NewFromInt(10), SpendPeriod: "monthly"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cmds.SetKeyDisabled(e.ctx, disabledID, true); err != nil {
		t.Fatal(err)
	}
	goneID, _, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_susp", Name: "old", SpendLimit: decimal.NewFromInt(10), SpendPeriod: "monthly"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cmds.SuspendAccount(e.ctx, "acct_susp", "unpaid invoice"); err != nil {
		t.Fatal(err)
	}
	e.sync()
	before := len(e.allEvents())

	for _, c := range []struct {
		what, method, path string
		body               map[string]any
	}{
		{"issue", "POST", "/api/v1/keys", map[string]any{"name": "new", "limit": 10, "limit_reset": "monthly"}},
		{"issue through the admin API", "POST", "/admin/api/accounts/acct_susp/keys", map[string]any{"name": "new", "spend_limit": "10", "spend_period": "monthly"}},
		{"raise a limit", "PATCH", "/api/v1/keys/" + child, map[string]any{"limit": 60}},
		{"lift a limit", "PATCH", "/api/v1/keys/" + child, map[string]any{"limit": nil}},
		{"a shorter period", "PATCH", "/api/v1/keys/" + child, map[string]any{"limit_reset": "daily"}},
		{"enable a key", "PATCH", "/api/v1/keys/" + disabledID, map[string]any{"disabled": false}},
		{"enable a key while lowering its limit", "PATCH", "/api/v1/keys/" + disabledID, map[string]any{"disabled": false, "limit": 5}},
	} {
		code, b := e.call(c.method, c.path, mgmt, c.body)
		wantSuspendedRefusal(t, c.what, code, b)
	}
	if n := len(e.allEvents()) - before; n != 0 {
		t.Fatalf("refused key management recorded %d events", n)
	}
	if k := e.key("acct_susp", child); !k.SpendLimit.Equal(decimal.NewFromInt(50)) || k.SpendPeriod != "monthly" {
		t.Fatalf("the child key changed: %+v", k)
	}
	if !e.key("acct_susp", disabledID).Disabled {
		t.Fatal("the disabled key was enabled")
	}

	// What locks things down still works.
	if code, b := e.call("GET", "/api/v1/keys?include_disabled=true", mgmt, nil); code != http.StatusOK || !strings.Contains(string(b), child) {
		t.Fatalf("list: %d %s", code, b)
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+child, mgmt, map[string]any{"limit": 20, "name": "app, capped"}); code != http.StatusOK {
		t.Fatalf("lower a limit and rename: %d %s", code, b)
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+child, mgmt, map[string]any{"limit": 20, "limit_reset": "monthly"}); code != http.StatusOK {
		t.Fatalf("the same terms again: %d %s", code, b)
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+child, mgmt, map[string]any{"disabled": true}); code != http.StatusOK || !e.key("acct_susp", child).Disabled {
		t.Fatalf("disable: %d %s", code, b)
	}
	if code, b := e.call("DELETE", "/api/v1/keys/"+goneID, mgmt, nil); code != http.StatusOK || !e.key("acct_susp", goneID).Revoked {
		t.Fatalf("delete: %d %s", code, b)
	}
	if k := e.key("acct_susp", child); !k.SpendLimit.Equal(decimal.NewFromInt(20)) || k.Name != "app, capped" {
		t.Fatalf("the child key after lowering: %+v", k)
	}

	// Staff act on a suspended account's keys as on any other.
	if code, b := e.call("POST", "/admin/api/accounts/acct_susp/keys", e.admin, map[string]any{"name": "by staff"}); code != http.StatusCreated {
		t.Fatalf("an admin issuing a key for a suspended account: %d %s", code, b)
	}

	// Resumed, the customer may again.
	if err := e.cmds.ResumeAccount(e.ctx, "acct_susp", "paid"); err != nil {
		t.Fatal(err)
	}
	e.sync()
	if code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "new", "limit": 10, "limit_reset": "monthly"}); code != http.StatusCreated {
		t.Fatalf("issue after the resumption: %d %s", code, b)
	}
	if code, b := e.call("PATCH", "/api/v1/keys/"+disabledID, mgmt, map[string]any{"disabled": false, "limit": 60}); code != http.StatusOK {
		t.Fatalf("enable and raise after the resumption: %d %s", code, b)
	}
}

// The console's customer pages hold to the same rule: the account page of
// a suspended account offers no new key and no Enable, says why, and the
// forms posted anyway are refused; disabling and revoking still work.
func TestSuspendedAccountKeysConsole(t *testing.T) {
	e := newEnv(t, false)
	_, mgmt, child := managedAccount(e, "acct_sc")
	if err := e.cmds.SetKeyDisabled(e.ctx, child, true); err != nil {
		t.Fatal(err)
	}
	other, _, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_sc", Name: "batch", SpendLimit: decimal.NewFromInt(30), SpendPeriod: "monthly"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cmds.SuspendAccount(e.ctx, "acct_sc", "unpaid invoice"); err != nil {
		t.Fatal(err)
	}
	e.sync()
	before := len(e.allEvents())
	b := e.browser()
	csrf := b.signIn(mgmt)
	acctPage := "/console/accounts/acct_sc"

	_, page := b.get(acctPage + "?lang=en")
	if strings.Contains(page, `id="create-key"`) || strings.Contains(page, `id="enable-`+child+`"`) {
		t.Fatal("a suspended account's page offers a new key or Enable")
	}
	if text := visibleText(t, page); !strings.Contains(text, "This account is suspended") {
		t.Fatalf("the page does not say why keys cannot be issued: %q", text)
	}
	for _, c := range []struct {
		what, path string
		form       url.Values
	}{
		{"issue", acctPage + "/keys", url.Values{"name": {"new"}, "spend_limit": {"10"}, "spend_period": {"monthly"}}},
		{"enable", "/console/keys/" + child + "/enable", url.Values{}},
		{"raise", "/console/keys/" + other, url.Values{"name": {"x"}, "spend_limit": {"60"}, "spend_period": {"monthly"}}},
	} {
		c.form.Set("csrf", csrf)
		resp, page := b.post(c.path, c.form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(visibleText(t, page), "This account is suspended") {
			t.Fatalf("%s: %d %q", c.what, resp.StatusCode, visibleText(t, page))
		}
	}
	if n := len(e.allEvents()) - before; n != 0 {
		t.Fatalf("refused forms recorded %d events", n)
	}
	if resp, _ := b.post("/console/keys/"+other+"/disable", url.Values{"csrf": {csrf}, "confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther || !e.key("acct_sc", other).Disabled {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/console/keys/"+child+"/revoke", url.Values{"csrf": {csrf}, "confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther || !e.key("acct_sc", child).Revoked {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}

	// Staff see the page as before.
	a := e.browser()
	a.signIn(e.admin)
	if _, page := a.get(acctPage); !strings.Contains(page, `id="create-key"`) {
		t.Fatal("an admin is not offered a new key on a suspended account")
	}
}
