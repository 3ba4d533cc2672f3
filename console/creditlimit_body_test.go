package console

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// POST /admin/api/accounts/{id}/credit-limit with the limit left out (an
// empty object, null, a null limit) set it to 0, cutting a postpaid
// account's credit with one stray call. It is a 400 naming the field, and
// nothing is recorded; 0 is still the way to take the credit away.
func TestACreditLimitLeftOutIsRefused(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_b", "乙公司", domain.PlanBusiness)
	if code, body := e.call("POST", "/admin/api/accounts/acct_b/credit-limit", e.finance, map[string]any{"credit_limit": "5000"}); code != http.StatusOK {
		t.Fatalf("set: %d %s", code, body)
	}
	e.sync()
	before := len(e.allEvents())
	for _, body := range []string{`{}`, `null`, `{"credit_limit":null}`} {
		code, answer := e.send("POST", "/admin/api/accounts/acct_b/credit-limit", e.finance, strings.NewReader(body))
		if code != http.StatusBadRequest || !strings.Contains(string(answer), "credit_limit") {
			t.Errorf("%s: %d %s; want 400 naming credit_limit", body, code, answer)
		}
	}
	if after := e.allEvents(); len(after) != before {
		t.Fatalf("a refused credit limit recorded %s", after[len(after)-1].Type)
	}
	if a, _ := e.models.Balances.View("acct_b", "", time.Now()); !a.CreditLimit.Equal(mustDec("5000")) {
		t.Fatalf("credit limit %s after the refusals, want 5000", a.CreditLimit)
	}
	if code, body := e.call("POST", "/admin/api/accounts/acct_b/credit-limit", e.finance, map[string]any{"credit_limit": 0}); code != http.StatusOK {
		t.Fatalf("a limit of 0: %d %s", code, body)
	}
}
