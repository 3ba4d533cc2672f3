package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
)

// POST /api/v1/keys past the account's cap of live keys is a 403 naming
// the cap and how to raise it, and creates nothing; deleting a key makes
// room.
func TestKeysAPIRefusesAKeyPastTheAccountsCap(t *testing.T) {
	e := buildWithDeps(t, false, true, func(_ *echo.Echo, d *Deps) { d.Commands.MaxKeysPerAccount = 3 })
	e.openAccount("acct_cap", "上限公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_cap", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	var made []string
	for range 2 {
		code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "k"})
		if code != http.StatusCreated {
			t.Fatalf("create: %d %s", code, b)
		}
		var out struct{ Data struct{ Hash string } }
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		made = append(made, out.Data.Hash)
	}
	code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "one too many"})
	// The gateway's error handler puts the message in OpenRouter's shape,
	// {"error": {"code": 403, "message": …}}, as every refusal's.
	var refusal struct{ Message string }
	if err := json.Unmarshal(b, &refusal); err != nil || code != http.StatusForbidden {
		t.Fatalf("a fourth key: %d %s, want 403", code, b)
	}
	for _, says := range []string{"3 live keys", "at most 3", "--max-keys-per-account"} {
		if !strings.Contains(refusal.Message, says) {
			t.Errorf("refusal %q does not say %q", refusal.Message, says)
		}
	}
	if code, b := e.call("DELETE", "/api/v1/keys/"+made[0], mgmt, nil); code != http.StatusOK {
		t.Fatalf("delete: %d %s", code, b)
	}
	if code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "in its place"}); code != http.StatusCreated {
		t.Fatalf("after a delete: %d %s", code, b)
	}
}

// A management key limited to NT$1,000 a month cannot make keys whose
// limits add up to more: the second NT$1,000 key is a 403 saying what is
// left, and so is a PATCH raising a key it made past it.
func TestKeysAPIBoundsTheSumOfAManagementKeysLimits(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_share", "分攤公司", domain.PlanStarter)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_share", Name: "contractor", Management: true,
		SpendLimit: mustDec("1000"), SpendPeriod: "monthly"})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()
	code, b := e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "a", "limit": 1000, "limit_reset": "monthly"})
	var first struct{ Data struct{ Hash string } }
	if code != http.StatusCreated || json.Unmarshal(b, &first) != nil {
		t.Fatalf("first key: %d %s", code, b)
	}
	code, b = e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "b", "limit": 1000, "limit_reset": "monthly"})
	if code != http.StatusForbidden || !strings.Contains(string(b), "NT$0.00 is left") {
		t.Fatalf("a second NT$1,000 key under a NT$1,000 management key: %d %s, want 403 saying nothing is left", code, b)
	}
	code, b = e.call("PATCH", "/api/v1/keys/"+first.Data.Hash, mgmt, map[string]any{"limit": 400})
	if code != http.StatusOK {
		t.Fatalf("lowering: %d %s", code, b)
	}
	code, b = e.call("POST", "/api/v1/keys", mgmt, map[string]any{"name": "b", "limit": 600, "limit_reset": "monthly"})
	if code != http.StatusCreated {
		t.Fatalf("a key within what is left: %d %s", code, b)
	}
	code, b = e.call("PATCH", "/api/v1/keys/"+first.Data.Hash, mgmt, map[string]any{"limit": 401})
	if code != http.StatusForbidden {
		t.Fatalf("raising past the share: %d %s, want 403", code, b)
	}
}
