package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// A limit with more than two decimal places (NT$0.001, shown as NT$0.00)
// is a 400 naming the limit, on OpenRouter's key API
// and the admin API alike; nothing is written.
func TestLimitsWithMoreThanCentsAreRefused(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_c", "分毫公司", domain.PlanStarter)
	e.openAccount("acct_p", "月結公司", domain.PlanBusiness)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_c", Name: "provisioning", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	keyID, _ := e.issueKey("acct_c")
	e.sync()
	cases := []struct {
		name, method, path, bearer string
		body                       map[string]any
		says                       string
	}{
		{"OpenRouter create", "POST", "/api/v1/keys", mgmt, map[string]any{"name": "k", "limit": 0.001}, "spending limit"},
		{"OpenRouter change", "PATCH", "/api/v1/keys/" + keyID, mgmt, map[string]any{"limit": 12.345}, "spending limit"},
		{"admin key", "POST", "/admin/api/accounts/acct_c/keys", e.admin, map[string]any{"name": "k", "spend_limit": "0.001"}, "spending limit"},
		{"admin credit limit", "POST", "/admin/api/accounts/acct_p/credit-limit", e.finance, map[string]any{"credit_limit": "5000.005"}, "credit limit"},
	}
	for _, c := range cases {
		code, b := e.call(c.method, c.path, c.bearer, c.body)
		// Served by `serve`, the gateway's error handler puts the message in
		// OpenRouter's error shape; here it is echo's own.
		var eb struct {
			Message string `json:"message"`
		}
		if code != http.StatusBadRequest || json.Unmarshal(b, &eb) != nil ||
			!strings.Contains(eb.Message, c.says+" has at most two decimal places") {
			t.Errorf("%s: %d %s", c.name, code, b)
		}
	}
	e.sync()
	for _, k := range e.models.Keys.ByAccount("acct_c") {
		if !k.SpendLimit.IsZero() {
			t.Errorf("key %s has a limit of %s", k.KeyID, k.SpendLimit)
		}
	}
}
