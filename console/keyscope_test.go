package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/routefree/routefree/auth"
	"github.com/routefree/routefree/domain"
)

// issueKeyAs creates a key through the admin API as who and returns the
// status, the new key's ID and secret.
func (e *env) issueKeyAs(who, acct string, body map[string]any) (int, string, string) {
	e.t.Helper()
	code, b := e.call("POST", "/admin/api/accounts/"+acct+"/keys", who, body)
	var out struct {
		Data struct {
			KeyID string `json:"key_id"`
			Key   string `json:"key"`
		} `json:"data"`
	}
	_ = json.Unmarshal(b, &out)
	return code, out.Data.KeyID, out.Data.Key
}

// A customer's ordinary key, however restricted, neither issues nor revokes
// keys: not through the admin API, not signed in to the console.
func TestRestrictedKeyCannotManageKeys(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_r", "受限公司", domain.PlanStarter)
	model := e.cat.IDs()[0]
	code, restrictedID, restricted := e.issueKeyAs(e.admin, "acct_r", map[string]any{"name": "one model, NT$1 a day",
		"models": []string{model}, "spend_limit": "1", "spend_period": "daily"})
	if code != http.StatusCreated {
		t.Fatalf("admin issues the restricted key: %d", code)
	}
	siblingID, _ := e.issueKey("acct_r")

	for _, body := range []map[string]any{{"name": "unlimited"}, {"name": "same limits", "models": []string{model}, "spend_limit": "1", "spend_period": "daily"}} {
		if code, _, secret := e.issueKeyAs(restricted, "acct_r", body); code != http.StatusForbidden || secret != "" {
			t.Errorf("restricted key creates a key %v: %d", body, code)
		}
	}
	for _, id := range []string{siblingID, restrictedID} {
		if code, body := e.call("POST", "/admin/api/keys/"+id+"/revoke", restricted, nil); code != http.StatusForbidden {
			t.Errorf("restricted key revokes %s: %d %s", id, code, body)
		}
	}
	// Signed in to the console with the same key: the forms refuse too,
	// and the page offers none.
	b := e.browser()
	csrf := b.signIn(restricted)
	if resp, _ := b.post("/console/accounts/acct_r/keys", url.Values{"csrf": {csrf}, "name": {"via form"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("key form with an ordinary key's session: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/console/keys/"+siblingID+"/revoke", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("revoke form with an ordinary key's session: %d", resp.StatusCode)
	}
	if _, page := b.get("/console/accounts/acct_r"); len(elements(t, page, "form", "id")) > 0 && hasForm(t, page, "create-key") {
		t.Error("the account page offers an ordinary key the key form")
	}
	keys := e.models.Keys.ByAccount("acct_r")
	if len(keys) != 2 {
		t.Fatalf("the account has %d keys, want 2", len(keys))
	}
	for _, k := range keys {
		if k.Revoked {
			t.Errorf("key %s was revoked", k.KeyID)
		}
	}
}

func hasForm(t *testing.T, page, id string) bool {
	for _, f := range elements(t, page, "form", "id") {
		if f["id"] == id {
			return true
		}
	}
	return false
}

// A management key issues and revokes its account's keys within its own
// limits, and nothing beyond them.
func TestManagementKeyBoundedByItsLimits(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_m", "管理公司", domain.PlanStarter)
	e.openAccount("acct_o", "別家公司", domain.PlanStarter)
	ids := e.cat.IDs()
	m0, m1 := ids[0], ids[1]
	// Only admin (or a management key) issues management keys.
	if code, _, _ := e.issueKeyAs(e.finance, "acct_m", map[string]any{"name": "p", "management": true}); code != http.StatusForbidden {
		t.Fatalf("finance issues a management key: %d", code)
	}
	code, mgmtID, mgmt := e.issueKeyAs(e.admin, "acct_m", map[string]any{"name": "provisioning", "management": true,
		"models": []string{m0}, "spend_limit": "100", "spend_period": "daily"})
	if code != http.StatusCreated {
		t.Fatalf("admin issues a management key: %d", code)
	}
	if k := e.keyInfo("acct_m", mgmtID); !k.Management {
		t.Fatalf("the keys projection does not know the scope: %+v", k)
	}
	_, body := e.call("GET", "/admin/api/accounts/acct_m/keys", e.admin, nil)
	var listed struct{ Data []KeyJSON }
	if err := json.Unmarshal(body, &listed); err != nil || len(listed.Data) != 1 || !listed.Data[0].Management {
		t.Fatalf("listed keys %s", body)
	}

	beyond := []map[string]any{
		{"name": "every model", "spend_limit": "10", "spend_period": "daily"},
		{"name": "another model", "models": []string{m0, m1}, "spend_limit": "10", "spend_period": "daily"},
		{"name": "no limit", "models": []string{m0}},
		{"name": "more money", "models": []string{m0}, "spend_limit": "100.5", "spend_period": "daily"},
		{"name": "another period", "models": []string{m0}, "spend_limit": "10", "spend_period": "monthly"},
	}
	for _, b := range beyond {
		if code, _, secret := e.issueKeyAs(mgmt, "acct_m", b); code != http.StatusForbidden || secret != "" {
			t.Errorf("management key issues %v: %d", b["name"], code)
		}
	}
	if code, _, _ := e.issueKeyAs(mgmt, "acct_o", map[string]any{"name": "x", "models": []string{m0}, "spend_limit": "1", "spend_period": "daily"}); code != http.StatusNotFound {
		t.Errorf("management key issues a key for another account: %d", code)
	}
	code, childID, child := e.issueKeyAs(mgmt, "acct_m", map[string]any{"name": "within", "models": []string{m0}, "spend_limit": "40", "spend_period": "daily"})
	if code != http.StatusCreated || child == "" {
		t.Fatalf("management key issues a key within its limits: %d", code)
	}
	if k := e.keyInfo("acct_m", childID); k.Management || len(k.Models) != 1 || k.Models[0] != m0 || !k.SpendLimit.Equal(mustDec("40")) || k.SpendPeriod != "daily" {
		t.Fatalf("the issued key %+v", k)
	}
	// The child, an ordinary key, manages nothing.
	if code, _, _ := e.issueKeyAs(child, "acct_m", map[string]any{"name": "grandchild", "models": []string{m0}, "spend_limit": "1", "spend_period": "daily"}); code != http.StatusForbidden {
		t.Errorf("the issued ordinary key issues keys: %d", code)
	}
	// Revoking: keys within its limits, not the account's wider ones.
	wideID, _ := e.issueKey("acct_m")
	if code, _ := e.call("POST", "/admin/api/keys/"+wideID+"/revoke", mgmt, nil); code != http.StatusForbidden {
		t.Errorf("management key revokes a key wider than itself: %d", code)
	}
	if code, body := e.call("POST", "/admin/api/keys/"+childID+"/revoke", mgmt, nil); code != http.StatusOK {
		t.Errorf("management key revokes a key within its limits: %d %s", code, body)
	}
	if !e.keyInfo("acct_m", childID).Revoked || e.keyInfo("acct_m", wideID).Revoked {
		t.Error("the wrong keys are revoked")
	}
	// An admin's key form issues a management key with its checkbox.
	staff := e.browser()
	staffCSRF := staff.signIn(e.admin)
	if resp, _ := staff.post("/console/accounts/acct_o/keys", url.Values{"csrf": {staffCSRF}, "name": {"owner"}, "management": {"on"}}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("admin's key form: %d", resp.StatusCode)
	}
	if ks := e.models.Keys.ByAccount("acct_o"); len(ks) != 1 || !ks[0].Management {
		t.Fatalf("the admin's form did not issue a management key: %+v", ks)
	}
	// Signed in to the console, the owner's management key has the form.
	b := e.browser()
	csrf := b.signIn(mgmt)
	_, page := b.get("/console/accounts/acct_m")
	if !hasForm(t, page, "create-key") {
		t.Error("no key form for the management key's session")
	}
	if got := attrOf(t, page, "tr", "data-key", mgmtID, "data-management"); got != "true" {
		t.Errorf("the key list marks the management key %q", got)
	}
	if resp, _ := b.post("/console/accounts/acct_m/keys", url.Values{"csrf": {csrf}, "name": {"form"}, "models": {m0},
		"spend_limit": {"5"}, "spend_period": {"daily"}}); resp.StatusCode != http.StatusCreated {
		t.Errorf("key form within limits: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/console/accounts/acct_m/keys", url.Values{"csrf": {csrf}, "name": {"form"}, "spend_limit": {"5"},
		"spend_period": {"daily"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("key form beyond limits: %d", resp.StatusCode)
	}
}

func (e *env) keyInfo(acct, id string) KeyJSON {
	e.t.Helper()
	for _, k := range e.models.Keys.ByAccount(acct) {
		if k.KeyID == id {
			return keyJSON(k, time.Now())
		}
	}
	e.t.Fatalf("no key %s", id)
	return KeyJSON{}
}

// A person signed in by single sign-on acts as the account's owner: no key
// of theirs bounds the keys they issue or revoke.
func TestSignedInOwnerManagesKeysUnbounded(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_s", "單一登入公司", domain.PlanStarter)
	wideID, _ := e.issueKey("acct_s")
	m, err := auth.ParseMapping("", "tenant:s=acct_s")
	if err != nil {
		t.Fatal(err)
	}
	e.deps.Auth.sso = ssoMappings{"oidc": m}
	p, _ := m.Map("oidc:mei", auth.Claims{"tenant": {"s"}})
	sid, err := e.deps.Auth.sessions.create(context.Background(), "", credSSO, encodeSSO(p), 0)
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	u, _ := url.Parse(e.srv.URL)
	b.jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sid, Path: "/"}})
	_, page := b.get("/models")
	csrf := attrOf(t, page, "input", "name", "csrf", "value")

	if resp, body := b.post("/console/accounts/acct_s/keys", url.Values{"csrf": {csrf}, "name": {"unlimited"}}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the owner's key form: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := b.post("/console/keys/"+wideID+"/revoke", url.Values{"csrf": {csrf}, "confirm": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner revokes a key without limits: %d", resp.StatusCode)
	}
	e.sync()
	keys := e.models.Keys.ByAccount("acct_s")
	if len(keys) != 2 {
		t.Fatalf("the account has %d keys, want 2", len(keys))
	}
	for _, k := range keys {
		if k.KeyID == wideID && !k.Revoked || k.KeyID != wideID && (k.Revoked || len(k.Models) != 0 || !k.SpendLimit.IsZero()) {
			t.Errorf("key %+v", k)
		}
	}
}
