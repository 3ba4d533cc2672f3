package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
)

// Every money field of the admin API takes an amount as the console's
// forms and the CLI do: digits, a decimal point and a minus sign, as a JSON
// string or number. 1e3, +100, "10." or " 10" are refused with 400 naming
// the field and what was sent, and nothing is recorded; before, the API
// read "1e3" as a NT$1,000 top-up.
func TestAPIAmountsArePlain(t *testing.T) {
	e := buildWithDeps(t, false, true, func(ech *echo.Echo, d *Deps) { withPayments(t, ech, d) })
	e.openAccount("acct_p", "甲公司", domain.PlanStarter)
	e.openAccount("acct_b", "乙公司", domain.PlanBusiness)
	_, mgmt, err := e.cmds.IssueKey(e.ctx, domain.KeyIssued{AccountID: "acct_p", Name: "owner", Management: true})
	if err != nil {
		t.Fatal(err)
	}
	e.sync()

	cases := []struct {
		who, path, field string
		body             map[string]any
	}{
		{e.finance, "/admin/api/accounts/acct_p/topups", "amount", map[string]any{"method": domain.MethodBankTransfer, "reference": "TX-9"}},
		{e.finance, "/admin/api/accounts/acct_p/adjustments", "amount", map[string]any{"reason": "補償"}},
		{e.finance, "/admin/api/accounts/acct_b/credit-limit", "credit_limit", map[string]any{}},
		{e.admin, "/admin/api/accounts", "credit_limit", map[string]any{"organisation": "丙公司", "plan": "business"}},
		{e.admin, "/admin/api/accounts/acct_b/plan", "volume_discount", map[string]any{"plan": "enterprise"}},
		{e.admin, "/admin/api/accounts/acct_p/keys", "spend_limit", map[string]any{"name": "app"}},
		{mgmt, "/admin/api/accounts/acct_p/keys", "spend_limit", map[string]any{"name": "app"}},
		{mgmt, "/admin/api/accounts/acct_p/payments", "amount", map[string]any{"method": "card", "confirm": true}},
	}
	sent := []string{`"1e3"`, `1e3`, `"+100"`, `"1E+2"`, `" 10"`, `"0x10"`, `"."`, `"-"`, `true`}
	before := len(e.allEvents())
	for _, c := range cases {
		for _, s := range sent {
			body := map[string]any{}
			for k, v := range c.body {
				body[k] = v
			}
			body[c.field] = json.RawMessage(s)
			code, answer := e.call("POST", c.path, c.who, body)
			if code != http.StatusBadRequest || !strings.Contains(string(answer), c.field+" must be an amount written plainly") {
				t.Errorf("%s %s=%s: %d %s, want 400 naming %s", c.path, c.field, s, code, answer, c.field)
			}
		}
	}
	if after := e.allEvents(); len(after) != before {
		t.Fatalf("refused amounts recorded %d events, the last %s", len(after)-before, after[len(after)-1].Type)
	}

	// Plain amounts, as strings or numbers, still go through.
	for _, c := range []struct {
		path string
		body map[string]any
		want int
	}{
		{"/admin/api/accounts/acct_p/topups", map[string]any{"amount": json.RawMessage(`"1000"`), "method": domain.MethodBankTransfer, "reference": "TX-1"}, 201},
		{"/admin/api/accounts/acct_p/topups", map[string]any{"amount": json.RawMessage(`250`), "method": domain.MethodBankTransfer, "reference": "TX-2"}, 201},
		{"/admin/api/accounts/acct_p/adjustments", map[string]any{"amount": json.RawMessage(`"-.5"`), "reason": "更正"}, 201},
	} {
		if code, answer := e.call("POST", c.path, e.finance, c.body); code != c.want {
			t.Errorf("%s %v: %d %s, want %d", c.path, c.body, code, answer, c.want)
		}
	}
	e.sync()
	if a, _ := e.models.Balances.View("acct_p", "", time.Now()); !a.Balance.Equal(mustDec("1249.5")) {
		t.Errorf("balance after NT$1,000 + NT$250 - NT$0.50 = %s, want 1249.5", a.Balance)
	}
}
