package console

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
)

// Every role reaches what it may and is refused the rest; customers see
// their own account only; revoked credentials stop at once.
func TestAPIRolesAndRefusals(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_a", "甲公司", domain.PlanStarter)
	e.openAccount("acct_b", "乙公司", domain.PlanBusiness)
	keyA, secretA := e.issueKey("acct_a")
	_, secretB := e.issueKey("acct_b")
	_, mgmtA, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_a", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	_, mgmtB, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_b", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	_, revokedKey := e.issueKey("acct_a")
	e.sync()
	var revokedKeyID string
	for _, k := range e.models.Keys.ByAccount("acct_a") {
		if k.KeyID != keyA && !k.Management {
			revokedKeyID = k.KeyID
		}
	}
	if err := e.cmds.RevokeKey(e.ctx, revokedKeyID); err != nil {
		t.Fatal(err)
	}
	revokedStaffID, revokedStaff, err := e.cmds.IssueStaffToken(e.ctx, "admin", "gone")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cmds.RevokeStaffToken(e.ctx, revokedStaffID); err != nil {
		t.Fatal(err)
	}
	e.sync()

	topup := map[string]any{"amount": "100", "method": domain.MethodBankTransfer, "reference": "TX-1"}
	cases := []struct {
		name, who, method, path string
		body                    any
		want                    int
	}{
		{"no credential", "", "GET", "/admin/api/accounts", nil, 401},
		{"revoked staff token", revokedStaff, "GET", "/admin/api/accounts", nil, 401},
		{"revoked api key: told so, as on the model endpoints", revokedKey, "GET", "/admin/api/accounts/acct_a", nil, 401},
		{"garbage bearer", "sk-rf-notakey", "GET", "/admin/api/accounts", nil, 401},
		{"auditor reads accounts", e.auditor, "GET", "/admin/api/accounts/acct_a", nil, 200},
		{"finance reads accounts", e.finance, "GET", "/admin/api/accounts", nil, 200},
		{"auditor may not open", e.auditor, "POST", "/admin/api/accounts", map[string]any{"organisation": "X"}, 403},
		{"finance may not open", e.finance, "POST", "/admin/api/accounts", map[string]any{"organisation": "X"}, 403},
		{"customer may not open", secretA, "POST", "/admin/api/accounts", map[string]any{"organisation": "X"}, 403},
		{"admin opens", e.admin, "POST", "/admin/api/accounts", map[string]any{"organisation": "丙公司", "tax_id": "04595257"}, 201},
		{"admin may not top up", e.admin, "POST", "/admin/api/accounts/acct_a/topups", topup, 403},
		{"auditor may not top up", e.auditor, "POST", "/admin/api/accounts/acct_a/topups", topup, 403},
		{"customer may not top up", secretA, "POST", "/admin/api/accounts/acct_a/topups", topup, 403},
		{"finance tops up", e.finance, "POST", "/admin/api/accounts/acct_a/topups", topup, 201},
		{"same reference again", e.finance, "POST", "/admin/api/accounts/acct_a/topups", topup, 200},
		{"same reference other amount", e.finance, "POST", "/admin/api/accounts/acct_a/topups", map[string]any{"amount": "5", "method": domain.MethodBankTransfer, "reference": "TX-1"}, 409},
		{"finance may not change plan", e.finance, "POST", "/admin/api/accounts/acct_b/plan", map[string]any{"plan": "enterprise"}, 403},
		{"admin may not set credit", e.admin, "POST", "/admin/api/accounts/acct_b/credit-limit", map[string]any{"credit_limit": "5000"}, 403},
		{"finance sets credit", e.finance, "POST", "/admin/api/accounts/acct_b/credit-limit", map[string]any{"credit_limit": "5000"}, 200},
		{"no credit on prepaid", e.finance, "POST", "/admin/api/accounts/acct_a/credit-limit", map[string]any{"credit_limit": "5000"}, 400},
		{"customer sees own", secretA, "GET", "/admin/api/accounts/acct_a", nil, 200},
		{"customer not another", secretA, "GET", "/admin/api/accounts/acct_b", nil, 404},
		{"customer not another's keys", secretA, "GET", "/admin/api/accounts/acct_b/keys", nil, 404},
		{"customer not another's usage", secretA, "GET", "/admin/api/accounts/acct_b/usage", nil, 404},
		{"customer not another's top-ups", secretA, "GET", "/admin/api/accounts/acct_b/topups", nil, 404},
		{"customer not another's invoices", secretA, "GET", "/admin/api/accounts/acct_b/invoices", nil, 404},
		{"customer no key for another", mgmtA, "POST", "/admin/api/accounts/acct_b/keys", map[string]any{"name": "x"}, 404},
		{"customer cannot revoke another's key", mgmtB, "POST", "/admin/api/keys/" + keyA + "/revoke", nil, 404},
		{"ordinary key issues no key", secretA, "POST", "/admin/api/accounts/acct_a/keys", map[string]any{"name": "x"}, 403},
		{"ordinary key revokes no key", secretB, "POST", "/admin/api/keys/" + keyA + "/revoke", nil, 403},
		{"finance may not issue keys", e.finance, "POST", "/admin/api/accounts/acct_a/keys", map[string]any{"name": "x"}, 403},
		{"auditor may not revoke keys", e.auditor, "POST", "/admin/api/keys/" + keyA + "/revoke", nil, 403},
		{"customer may not suspend", secretA, "POST", "/admin/api/accounts/acct_a/suspend", map[string]any{}, 403},
		{"finance may not publish prices", e.finance, "POST", "/admin/api/prices", map[string]any{"from_catalog": true}, 403},
		// The catalog's prices are in force already: publishing them again
		// changes nothing; a new price is published.
		{"admin publishes the prices in force", e.admin, "POST", "/admin/api/prices", map[string]any{"from_catalog": true}, 200},
		{"admin publishes prices", e.admin, "POST", "/admin/api/prices",
			map[string]any{"prices": map[string]any{e.cat.IDs()[0]: map[string]string{"input": "1.5", "output": "2.5"}}}, 201},
		{"finance may not list staff", e.finance, "GET", "/admin/api/staff/tokens", nil, 403},
		{"customer may not list staff", secretA, "GET", "/admin/api/staff/tokens", nil, 403},
		{"finance may not read the log", e.finance, "GET", "/admin/api/audit/events", nil, 403},
		{"customer may not read the log", secretA, "GET", "/admin/api/audit/events", nil, 403},
		{"auditor reads the log", e.auditor, "GET", "/admin/api/audit/events", nil, 200},
		{"auditor may not issue staff tokens", e.auditor, "POST", "/admin/api/staff/tokens", map[string]any{"role": "admin"}, 403},
		{"auditor may not change plans", e.auditor, "POST", "/admin/api/accounts/acct_b/plan", map[string]any{"plan": "starter"}, 403},
	}
	for _, c := range cases {
		got, body := e.call(c.method, c.path, c.who, c.body)
		if got != c.want {
			t.Errorf("%s: %s %s = %d, want %d (%s)", c.name, c.method, c.path, got, c.want, body)
		}
	}

	// The customer's account list holds their own account only.
	_, body := e.call("GET", "/admin/api/accounts", secretA, nil)
	var list struct {
		Data []AccountJSON `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 1 || list.Data[0].ID != "acct_a" {
		t.Fatalf("customer's account list = %+v", list.Data)
	}
	if !list.Data[0].Balance.Equal(mustDec("100")) {
		t.Errorf("balance after one top-up (and one duplicate) = %s, want 100", list.Data[0].Balance)
	}
}

func TestAPIOpenAccountChecksTaxID(t *testing.T) {
	e := newEnv(t, false)
	code, body := e.call("POST", "/admin/api/accounts", e.admin, map[string]any{"organisation": "壞公司", "tax_id": "12345678"})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "統一編號") {
		t.Fatalf("bad 統一編號: %d %s", code, body)
	}
	code, body = e.call("POST", "/admin/api/accounts", e.admin, map[string]any{"organisation": "好公司", "tax_id": "04595257",
		"address": "臺北市", "contact": "王小明", "plan": "business"})
	if code != http.StatusCreated {
		t.Fatalf("open: %d %s", code, body)
	}
	var out struct {
		Data AccountJSON `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if out.Data.TaxID != "04595257" || out.Data.Plan != domain.PlanBusiness || out.Data.Contact != "王小明" {
		t.Fatalf("opened account = %+v", out.Data)
	}
}

func TestAPIEnterpriseLimitsAndSuspend(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_e", "大企業", domain.PlanBusiness)
	id, secret := e.issueKey("acct_e")
	code, body := e.call("POST", "/admin/api/accounts/acct_e/plan", e.admin, map[string]any{"plan": "business", "rpm": 5000})
	if code != http.StatusBadRequest {
		t.Fatalf("custom RPM on business: %d %s", code, body)
	}
	code, body = e.call("POST", "/admin/api/accounts/acct_e/plan", e.admin, map[string]any{"plan": "enterprise", "rpm": 5000, "tpm": 9000000, "volume_discount": "0.15"})
	if code != http.StatusOK {
		t.Fatalf("enterprise: %d %s", code, body)
	}
	k := e.models.Keys.ByAccount("acct_e")[0]
	if k.KeyID != id || k.RPM != 5000 || k.TPM != 9000000 || k.Plan != domain.PlanEnterprise {
		t.Fatalf("key after plan change = %+v", k)
	}
	v, _ := e.models.Balances.View("acct_e", "", e.clock.Now())
	if !v.VolumeDiscount.Equal(mustDec("0.15")) {
		t.Fatalf("discount = %s", v.VolumeDiscount)
	}
	// Finance's credit limit survives a later plan change by admin.
	if code, body := e.call("POST", "/admin/api/accounts/acct_e/credit-limit", e.finance, map[string]any{"credit_limit": "20000"}); code != 200 {
		t.Fatalf("credit: %d %s", code, body)
	}
	if code, body := e.call("POST", "/admin/api/accounts/acct_e/plan", e.admin, map[string]any{"plan": "enterprise", "rpm": 6000}); code != 200 {
		t.Fatalf("plan: %d %s", code, body)
	}
	v, _ = e.models.Balances.View("acct_e", "", e.clock.Now())
	if !v.CreditLimit.Equal(mustDec("20000")) {
		t.Fatalf("credit limit after plan change = %s", v.CreditLimit)
	}
	// What the change leaves out keeps its value: the TPM and the discount
	// set before survive a change of the RPM alone.
	k = e.models.Keys.ByAccount("acct_e")[0]
	if k.RPM != 6000 || k.TPM != 9000000 || !v.VolumeDiscount.Equal(mustDec("0.15")) {
		t.Fatalf("after a change of RPM alone: RPM %d, TPM %d, discount %s", k.RPM, k.TPM, v.VolumeDiscount)
	}
	if code, body := e.call("POST", "/admin/api/accounts/acct_e/plan", e.admin, map[string]any{"tpm": 8000000}); code != 200 {
		t.Fatalf("plan left out: %d %s", code, body)
	}
	k = e.models.Keys.ByAccount("acct_e")[0]
	if k.Plan != domain.PlanEnterprise || k.RPM != 6000 || k.TPM != 8000000 {
		t.Fatalf("after a change of TPM alone: %+v", k)
	}
	if code, body := e.call("POST", "/admin/api/accounts/acct_e/suspend", e.admin, map[string]any{"reason": "unpaid"}); code != 200 {
		t.Fatalf("suspend: %d %s", code, body)
	}
	if k, _ := e.models.Keys.Lookup(hashOf(secret)); !k.Suspended {
		t.Fatal("the key of a suspended account is not suspended")
	}
}

var keyPattern = regexp.MustCompile(`sk-rf-[A-Za-z0-9]{40}`)

// A key appears in the response that creates it and in no later read: not
// the key list, the account, the audit log, the export or any page.
func TestKeyShownOnce(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_k", "金鑰公司", domain.PlanStarter)
	code, body := e.call("POST", "/admin/api/accounts/acct_k/keys", e.admin, map[string]any{"name": "prod", "models": []string{e.cat.IDs()[0]}, "spend_limit": "500", "spend_period": "daily", "management": true})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	var out struct {
		Data struct {
			KeyID string `json:"key_id"`
			Key   string `json:"key"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if !keyPattern.MatchString(out.Data.Key) || len(out.Data.Key) != len("sk-rf-")+40 {
		t.Fatalf("created key %q is not sk-rf- and 40 characters", out.Data.Key)
	}
	secret := out.Data.Key
	// The key works: as a bearer, it is its account's customer.
	if code, body := e.call("GET", "/admin/api/whoami", secret, nil); code != 200 || !strings.Contains(string(body), `"account_id":"acct_k"`) {
		t.Fatalf("whoami with the new key: %d %s", code, body)
	}
	// A customer's management key creates one too: shown once as well.
	code, body = e.call("POST", "/admin/api/accounts/acct_k/keys", secret, map[string]any{"name": "mine", "models": []string{e.cat.IDs()[0]}, "spend_limit": "100", "spend_period": "daily"})
	if code != http.StatusCreated {
		t.Fatalf("customer create: %d %s", code, body)
	}
	second := keyPattern.FindString(string(body))
	if second == "" || second == secret {
		t.Fatalf("second key %q", second)
	}
	reads := []string{"/admin/api/accounts/acct_k/keys", "/admin/api/accounts/acct_k", "/admin/api/accounts",
		"/admin/api/audit/events?limit=1000", "/admin/api/audit/export", "/admin/api/accounts/acct_k/usage", "/admin/api/staff/tokens"}
	for _, path := range reads {
		tok := e.admin
		if strings.HasPrefix(path, "/admin/api/audit") {
			tok = e.auditor
		}
		code, body := e.call("GET", path, tok, nil)
		if code != 200 {
			t.Errorf("GET %s: %d", path, code)
		}
		for _, k := range []string{secret, second} {
			if strings.Contains(string(body), k) || strings.Contains(string(body), k[len("sk-rf-")+6:]) {
				t.Errorf("GET %s shows a key after its creation", path)
			}
		}
		if keyPattern.Match(body) {
			t.Errorf("GET %s holds something shaped like a key", path)
		}
	}
	b := e.browser()
	b.signIn(e.admin)
	for _, path := range []string{"/console/accounts/acct_k", "/console/accounts", "/console/audit?limit=1000"} {
		if path == "/console/audit?limit=1000" {
			b = e.browser()
			b.signIn(e.auditor)
		}
		_, page := b.get(path)
		if keyPattern.MatchString(page) {
			t.Errorf("page %s shows a key", path)
		}
	}
	// Listed keys carry the prefix only, and the key's limits.
	_, body = e.call("GET", "/admin/api/accounts/acct_k/keys", e.admin, nil)
	var keys struct {
		Data []KeyJSON `json:"data"`
	}
	if err := json.Unmarshal(body, &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys.Data) != 2 {
		t.Fatalf("keys = %+v", keys.Data)
	}
	for _, k := range keys.Data {
		if k.KeyID == out.Data.KeyID && (k.Period == nil || *k.Period != "daily" || !k.SpendLimit.Equal(mustDec("500")) || len(k.Models) != 1 || !strings.HasPrefix(secret, strings.TrimSuffix(k.Prefix, "…"))) {
			t.Errorf("listed key = %+v", k)
		}
	}
	// Revoking stops the key at once.
	if code, body := e.call("POST", "/admin/api/keys/"+out.Data.KeyID+"/revoke", secret, nil); code != 200 {
		t.Fatalf("revoke own key: %d %s", code, body)
	}
	if code, body := e.call("GET", "/admin/api/accounts/acct_k", secret, nil); code != 401 || !strings.Contains(string(body), "revoked") {
		t.Fatalf("revoked key still reads: %d %s", code, body)
	}
}

func TestStaffTokensIssueRevoke(t *testing.T) {
	e := newEnv(t, false)
	code, body := e.call("POST", "/admin/api/staff/tokens", e.admin, map[string]any{"role": "finance", "name": "會計"})
	if code != http.StatusCreated {
		t.Fatalf("issue: %d %s", code, body)
	}
	var out struct {
		Data struct {
			TokenID string `json:"token_id"`
			Token   string `json:"token"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.call("POST", "/admin/api/accounts", out.Data.Token, map[string]any{"organisation": "x"}); code != 403 {
		t.Fatalf("finance token opens accounts: %d", code)
	}
	if code, body := e.call("GET", "/admin/api/whoami", out.Data.Token, nil); code != 200 || !strings.Contains(string(body), `"role":"finance"`) {
		t.Fatalf("whoami: %d %s", code, body)
	}
	// The store holds the hash, never the token.
	_, log := e.call("GET", "/admin/api/audit/events?type=staff.token_issued", e.auditor, nil)
	if strings.Contains(string(log), out.Data.Token) || !strings.Contains(string(log), hashOf(out.Data.Token)) {
		t.Fatal("the staff token event should hold the token's hash only")
	}
	b := e.browser()
	b.signIn(out.Data.Token)
	if resp, _ := b.get("/console/accounts"); resp.StatusCode != 200 {
		t.Fatalf("session before revocation: %d", resp.StatusCode)
	}
	if code, body := e.call("POST", "/admin/api/staff/tokens/"+out.Data.TokenID+"/revoke", e.admin, nil); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code, _ := e.call("GET", "/admin/api/accounts", out.Data.Token, nil); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
	if resp, _ := b.get("/console/accounts"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a session of a revoked token still works: %d", resp.StatusCode)
	}
	if code, _ := e.call("POST", "/admin/api/staff/tokens", e.admin, map[string]any{"role": "root"}); code != 400 {
		t.Fatalf("unknown role: %d", code)
	}
}

func TestBootstrap(t *testing.T) {
	e := newEnv(t, false)
	// The env's tokens exist: nothing printed, nothing issued.
	var out strings.Builder
	t.Setenv(AdminTokenEnv, "")
	if err := Bootstrap(e.ctx, e.deps, &out); err != nil || out.Len() != 0 {
		t.Fatalf("bootstrap with staff tokens: %v %q", err, out.String())
	}
	// ROUTEFREE_ADMIN_TOKEN becomes an admin token, once.
	t.Setenv(AdminTokenEnv, "rf-env-admin-token-0123456789abcdef")
	for i := 0; i < 2; i++ {
		if err := Bootstrap(e.ctx, e.deps, &out); err != nil {
			t.Fatal(err)
		}
	}
	if code, body := e.call("POST", "/admin/api/accounts", "rf-env-admin-token-0123456789abcdef", map[string]any{"organisation": "env"}); code != 201 {
		t.Fatalf("env admin token: %d %s", code, body)
	}
	n := 0
	for _, tk := range e.views.StaffTokens() {
		if tk.Name == AdminTokenEnv {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d tokens registered from the environment", n)
	}
}

func TestBootstrapFirstStart(t *testing.T) {
	fresh := newEnvNoStaff(t)
	t.Setenv(AdminTokenEnv, "")
	var out strings.Builder
	if err := Bootstrap(fresh.ctx, fresh.deps, &out); err != nil {
		t.Fatal(err)
	}
	tok := regexp.MustCompile(`rf-staff-[A-Za-z0-9]{40}`).FindString(out.String())
	if tok == "" {
		t.Fatalf("no token printed: %q", out.String())
	}
	if code, _ := fresh.call("GET", "/admin/api/staff/tokens", tok, nil); code != 200 {
		t.Fatalf("printed token is not an admin's: %d", code)
	}
	out.Reset()
	if err := Bootstrap(fresh.ctx, fresh.deps, &out); err != nil || out.Len() != 0 {
		t.Fatalf("second start printed %q (%v)", out.String(), err)
	}
}

func mustDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func hashOf(s string) string { return commands.HashKey(s) }

// A key without a spending limit has no limit period in the admin API
// either (null, as /api/v1/keys says), even one issued when an unlimited
// key still recorded the period a limit would take.
func TestAdminAPIKeyWithoutALimitHasNoPeriod(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_np", "無限公司", domain.PlanStarter)
	old, _, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_np", Name: "old", SpendPeriod: "monthly"})
	if err != nil {
		t.Fatal(err)
	}
	limited, _, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_np", Name: "capped", SpendLimit: decimal.NewFromInt(10), SpendPeriod: "weekly"})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	_, body := e.call("GET", "/admin/api/accounts/acct_np/keys", e.admin, nil)
	var keys struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &keys); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{old: nil, limited: "weekly"}
	for _, k := range keys.Data {
		id, _ := k["key_id"].(string)
		w, ok := want[id]
		if !ok {
			continue
		}
		delete(want, id)
		if p, has := k["spend_period"]; !has || p != w {
			t.Errorf("key %s: spend_period %v (present %v), want %v", id, p, has, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("not listed: %v in %s", want, body)
	}
}
